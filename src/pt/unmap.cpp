// Table::unmap: split blocks at the edges, clear leaves, retire empty tables.
#include "split_edit.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::pt {
namespace {

using detail::Descend;
using detail::Slot;

bool table_is_empty(TableMemory& memory, const Slot& slot) {
  const Descriptor* entries = memory.descriptors(arch::output_address(slot.old));
  for (unsigned i = 0; i < arch::kEntriesPerTable; ++i) {
    if (arch::is_valid(detail::read_entry(&entries[i]), slot.level + 1)) return false;
  }
  return true;
}

class UnmapWriter {
 public:
  UnmapWriter(const detail::SplitRule& rule, detail::Editor& editor) : rule_(rule), editor_(editor) {}

  Descend leaf(const Slot& slot) {
    if (!arch::is_valid(slot.old, slot.level)) return Descend::no;
    if (rule_.needs_split(slot)) {
      editor_.split_block(slot, rule_);
      return Descend::no;
    }
    editor_.clear(slot);
    return Descend::no;
  }
  Descend table_pre(const Slot& slot) {
    // A table wholly inside the range goes as one: unhooking it removes
    // every translation below it.
    if (rule_.range.covers(slot) && !editor_.unmap_reports_each_leaf()) {
      editor_.unhook_table(slot, pt::Beneath::unseen);
      return Descend::no;
    }
    return Descend::yes;
  }
  // A table this unmap emptied (or found empty): every entry it held was
  // cleared here, each with its own record, so the table entry's record owes
  // only the walk-cache entry.
  void table_post(const Slot& slot) {
    if (table_is_empty(editor_.tree().memory, slot)) editor_.unhook_table(slot, pt::Beneath::reported);
  }

 private:
  const detail::SplitRule& rule_;
  detail::Editor& editor_;
};

}  // namespace

Status Table::unmap(VirtAddr va, std::uint64_t size, ChangeSink& sink) {
  const Result<detail::Range> range = detail::check_range(geometry_, va, size);
  if (!range.ok()) return range.error();
  const detail::Tree tree{geometry_, *memory_, root_};
  const detail::SplitRule rule{*range, 0, detail::LeafAction::clear};
  return detail::split_and_edit(tree, regime_, options_, rule, sink,
                                [&](detail::Editor& editor) { return UnmapWriter(rule, editor); });
}

}  // namespace tlbkit::pt
