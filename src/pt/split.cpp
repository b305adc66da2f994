// Table::split: break blocks down until none in the range exceeds a level.
#include "split_edit.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::pt {
namespace {

using detail::Descend;
using detail::Slot;

class SplitWriter {
 public:
  SplitWriter(const detail::SplitRule& rule, detail::Editor& editor) : rule_(rule), editor_(editor) {}

  Descend leaf(const Slot& slot) {
    if (!rule_.needs_split(slot)) return Descend::no;
    editor_.split_block(slot, rule_);
    return Descend::no;
  }
  Descend table_pre(const Slot&) { return Descend::yes; }
  void table_post(const Slot&) {}

 private:
  const detail::SplitRule& rule_;
  detail::Editor& editor_;
};

}  // namespace

Status Table::split(VirtAddr va, std::uint64_t size, unsigned level, ChangeSink& sink) {
  const Result<detail::Range> range = detail::check_range(geometry_, va, size);
  if (!range.ok()) return range.error();
  if (level < 1 || level > arch::kMaxLevel) {
    return Error{Errc::invalid_argument, "split level must be 1, 2 or 3"};
  }
  const detail::Tree tree{geometry_, *memory_, root_};
  const detail::SplitRule rule{*range, level, detail::LeafAction::keep};
  return detail::split_and_edit(tree, regime_, options_, rule, sink,
                                [&](detail::Editor& editor) { return SplitWriter(rule, editor); });
}

}  // namespace tlbkit::pt
