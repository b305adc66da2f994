// Table::protect: split blocks at the edges, rewrite the leaves inside.
#include "split_edit.hpp"
#include "table_checks.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::pt {
namespace {

using detail::Descend;
using detail::Slot;

class ProtectWriter {
 public:
  ProtectWriter(const detail::SplitRule& rule, detail::Editor& editor, AttributeChange change)
      : rule_(rule), editor_(editor), change_(change) {}

  Descend leaf(const Slot& slot) {
    if (!arch::is_valid(slot.old, slot.level)) return Descend::no;
    if (rule_.needs_split(slot)) {
      editor_.split_block(slot, rule_);
      return Descend::no;
    }
    const Descriptor new_desc = (slot.old & ~change_.clear) | change_.set;
    // The output address never changes here, so descriptors that agree
    // outside it (the common case: a run of alike pages) change alike.
    const Descriptor key = slot.old & ~arch::kOutputAddressMask;
    if (!memo_valid_ || key != memo_key_ || slot.level != memo_level_) {
      memo_ = detail::transition(editor_.regime(), slot.level, slot.old, new_desc);
      memo_key_ = key;
      memo_level_ = slot.level;
      memo_valid_ = true;
    }
    editor_.update(slot, slot.old, new_desc, memo_);
    return Descend::no;
  }
  Descend table_pre(const Slot&) { return Descend::yes; }
  void table_post(const Slot&) {}

 private:
  const detail::SplitRule& rule_;
  detail::Editor& editor_;
  AttributeChange change_;
  bool memo_valid_ = false;
  Descriptor memo_key_ = 0;
  unsigned memo_level_ = 0;
  detail::Transition memo_;
};

}  // namespace

Status Table::protect(VirtAddr va, std::uint64_t size, AttributeChange change, ChangeSink& sink) {
  const Result<detail::Range> range = detail::check_range(geometry_, va, size);
  if (!range.ok()) return range.error();
  const Status clear_ok = detail::check_attribute_bits(regime_, change.clear & ~arch::kContiguousBit);
  if (!clear_ok.ok()) return clear_ok;
  const Status set_ok = detail::check_attribute_bits(regime_, change.set);
  if (!set_ok.ok()) return set_ok;

  const detail::Tree tree{geometry_, *memory_, root_};
  const detail::SplitRule rule{*range, 0, detail::LeafAction::modify, change.clear, change.set};
  return detail::split_and_edit(tree, regime_, options_, rule, sink,
                                [&](detail::Editor& editor) { return ProtectWriter(rule, editor, change); });
}

}  // namespace tlbkit::pt
