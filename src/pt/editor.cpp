#include "editor.hpp"

namespace tlbkit::pt::detail {
namespace {

using arch::ChangeKind;
using arch::kEntriesPerTable;

EntryKind entry_kind(Descriptor d, unsigned level) {
  return arch::is_table(d, level) ? EntryKind::table : EntryKind::leaf;
}

std::uint8_t level_byte(unsigned level) { return static_cast<std::uint8_t>(level); }

}  // namespace

Transition transition(Regime regime, unsigned level, Descriptor old_desc, Descriptor new_desc) {
  Transition t;
  t.kind = arch::classify(regime, level, old_desc, new_desc);
  t.rule = arch::update_rule(regime, level, old_desc, new_desc);
  t.exec = arch::exec_gain(regime, level, old_desc, new_desc);
  return t;
}

void Editor::update(const Slot& slot, Descriptor new_desc) {
  const Descriptor old_desc = read_entry(slot.entry);
  update(slot, old_desc, new_desc, transition(regime_, slot.level, old_desc, new_desc));
}

void Editor::update_other(const Slot& slot, Descriptor old_desc, Descriptor new_desc, const Transition& t) {
  if (!t.kind) {
    if (old_desc != new_desc) write_entry(slot.entry, new_desc);  // invisible to hardware
    return;
  }
  // Break-before-make: invalid -> invalidate (complete) -> new.
  write_entry(slot.entry, arch::kInvalidDescriptor);
  emitter_.invalidate_now(slot.va, slot.size,
                          {level_byte(slot.level), entry_kind(old_desc, slot.level), ChangeKind::replace, t.exec},
                          arch::output_address(old_desc));
  write_entry(slot.entry, new_desc);
}

void Editor::replace_live(const Slot& slot, Descriptor new_desc, Preserving preserving, ExecGain exec,
                          pt::CacheMaintenance cmo) {
  const Descriptor old_desc = read_entry(slot.entry);
  const ChangeClass what{level_byte(slot.level), entry_kind(old_desc, slot.level), ChangeKind::replace, exec, cmo};
  if (preserving == Preserving::yes && bbm_ == arch::BbmLevel::level2) {
    // FEAT_BBM level 2: a size-only change may skip the invalid step; the
    // old entry still has to be invalidated, which may wait for the batch.
    write_entry(slot.entry, new_desc);
    emitter_.record(slot.va, slot.size, what, arch::output_address(old_desc));
    return;
  }
  write_entry(slot.entry, arch::kInvalidDescriptor);
  emitter_.invalidate_now(slot.va, slot.size, what, arch::output_address(old_desc));
  write_entry(slot.entry, new_desc);
}

pt::CacheMaintenance Editor::cmo_for(Descriptor old_desc) const {
  if (regime_ != Regime::stage2 || fwb_ == arch::s2::Fwb::enabled) return pt::CacheMaintenance::none;
  const auto memattr = static_cast<std::uint8_t>((old_desc & arch::s2::kMemAttrMask) >> 2);
  return arch::s2::is_cacheable(memattr, fwb_) ? pt::CacheMaintenance::clean_invalidate
                                               : pt::CacheMaintenance::none;
}

void Editor::clear(const Slot& slot, pt::Beneath beneath) {
  const Descriptor old_desc = read_entry(slot.entry);
  write_entry(slot.entry, arch::kInvalidDescriptor);
  const EntryKind entry = entry_kind(old_desc, slot.level);
  const pt::CacheMaintenance cmo = entry == EntryKind::leaf ? cmo_for(old_desc) : pt::CacheMaintenance::none;
  if (entry == EntryKind::leaf) beneath = pt::Beneath::unseen;
  emitter_.record(slot.va, slot.size,
                  {level_byte(slot.level), entry, ChangeKind::unmap, ExecGain::no, cmo, beneath},
                  arch::output_address(old_desc));
}

void Editor::make_leaf(const Slot& slot, Descriptor leaf, ExecGain exec) {
  write_entry(slot.entry, leaf);
  emitter_.record(slot.va, slot.size, {level_byte(slot.level), EntryKind::leaf, ChangeKind::map, exec},
                  arch::output_address(leaf));
}

void Editor::publish_table(const Slot& slot, PhysAddr table) {
  write_entry(slot.entry, arch::make_table_descriptor(table));
  emitter_.record(slot.va, slot.size, {level_byte(slot.level), EntryKind::table, ChangeKind::map, ExecGain::no},
                  table);
}

void Editor::install_table(const Slot& slot) {
  const PhysAddr table = reserve_.take();
  Descriptor* entries = tree_.memory.descriptors(table);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) entries[i] = arch::kInvalidDescriptor;
  publish_table(slot, table);
}

void Editor::install_leaf_table(const Slot& slot, PhysAddr pa, Descriptor attributes, ExecGain exec) {
  const PhysAddr table = reserve_.take();
  Descriptor* entries = tree_.memory.descriptors(table);
  const unsigned child_level = slot.level + 1;
  const std::uint64_t child_size = slot.size / kEntriesPerTable;
  const Descriptor first = arch::make_leaf_descriptor(pa, attributes, child_level);
  // Private until published: plain stores. The leaves differ only in OA.
  for (unsigned i = 0; i < kEntriesPerTable; ++i) entries[i] = first + i * child_size;
  publish_table(slot, table);
  report_new_entries(slot, pa, exec);
}

void Editor::report_new_entries(const Slot& parent, PhysAddr pa, ExecGain exec) {
  emitter_.record(parent.va, parent.size, {level_byte(parent.level + 1), EntryKind::leaf, ChangeKind::map, exec},
                  pa);
}

PhysAddr Editor::build_subtree(unsigned level, VirtAddr va, PhysAddr pa, Descriptor attributes,
                               const SplitRule& rule, Preserving& preserving) {
  const PhysAddr table = reserve_.take();
  Descriptor* entries = tree_.memory.descriptors(table);
  const std::uint64_t size = tree_.geometry.level_size(level);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    const VirtAddr child_va = va + i * size;
    const PhysAddr child_pa = pa + i * size;
    if (rule.needs_split(level, child_va, size)) {
      const PhysAddr child = build_subtree(level + 1, child_va, child_pa, attributes, rule, preserving);
      entries[i] = arch::make_table_descriptor(child);
      continue;
    }
    Descriptor leaf = arch::make_leaf_descriptor(child_pa, attributes, level);
    if (rule.range.covers(child_va, size)) {
      const Descriptor rewritten = rule.rewrite(leaf);
      if (rewritten != leaf) preserving = Preserving::no;
      leaf = rewritten;
    }
    entries[i] = leaf;
  }
  return table;
}

ExecGain Editor::exec_gained_against(Descriptor block_attributes, unsigned level, Descriptor new_desc) {
  // The answer depends on the new leaf's attributes, its level and the
  // block it came from: one operation may split several blocks whose new
  // leaves look alike but whose old rights differ.
  const Descriptor key = new_desc & ~arch::kOutputAddressMask;
  if (!exec_memo_valid_ || key != exec_memo_key_ || level != exec_memo_level_ ||
      block_attributes != exec_memo_block_) {
    const Descriptor before = arch::make_leaf_descriptor(arch::output_address(new_desc), block_attributes, level);
    exec_memo_ = arch::exec_gain(regime_, level, before, new_desc);
    exec_memo_key_ = key;
    exec_memo_level_ = level;
    exec_memo_block_ = block_attributes;
    exec_memo_valid_ = true;
  }
  return exec_memo_;
}

void Editor::report_subtree(PhysAddr table, unsigned level, VirtAddr va, Descriptor block_attributes) {
  const Descriptor* entries = tree_.memory.descriptors(table);
  const std::uint64_t size = tree_.geometry.level_size(level);
  for (unsigned i = 0; i < kEntriesPerTable; ++i) {
    const Descriptor d = entries[i];
    const VirtAddr child_va = va + i * size;
    if (arch::is_table(d, level)) {
      emitter_.record(child_va, size, {level_byte(level), EntryKind::table, ChangeKind::map, ExecGain::no},
                      arch::output_address(d));
      report_subtree(arch::output_address(d), level + 1, child_va, block_attributes);
    } else if (arch::is_valid(d, level)) {
      emitter_.record(child_va, size,
                      {level_byte(level), EntryKind::leaf, ChangeKind::map, exec_gained_against(block_attributes, level, d)},
                      arch::output_address(d));
    }
  }
}

void Editor::split_block(const Slot& slot, const SplitRule& rule) {
  const Descriptor block = read_entry(slot.entry);
  const Descriptor attributes = arch::leaf_attributes(block);
  Preserving preserving = Preserving::yes;
  const PhysAddr table =
      build_subtree(slot.level + 1, slot.va, arch::output_address(block), attributes, rule, preserving);
  // Does any translation gain execute? The new leaves answer it one by one
  // in report_subtree(); the block's own record carries the union.
  ExecGain exec = ExecGain::no;
  if (rule.action == LeafAction::modify) {
    const Descriptor rewritten = rule.rewrite(block);
    exec = arch::exec_gain(regime_, slot.level, block, rewritten);
  }
  // Part of the block stops translating: like KVM, clean the whole block
  // (its record covers it) rather than report the holes one by one.
  const pt::CacheMaintenance cmo =
      rule.action == LeafAction::clear ? cmo_for(block) : pt::CacheMaintenance::none;
  replace_live(slot, arch::make_table_descriptor(table), preserving, exec, cmo);
  report_subtree(table, slot.level + 1, slot.va, attributes);
}

void Editor::retire_subtree(PhysAddr table, unsigned level) {
  const Descriptor* entries = tree_.memory.descriptors(table);
  if (level < arch::kMaxLevel) {
    for (unsigned i = 0; i < kEntriesPerTable; ++i) {
      const Descriptor d = read_entry(&entries[i]);
      if (arch::is_table(d, level)) retire_subtree(arch::output_address(d), level + 1);
    }
  }
  emitter_.retire_table(table, 1);
}

void Editor::collapse_table(const Slot& slot, Descriptor block) {
  const Descriptor old_desc = read_entry(slot.entry);
  replace_live(slot, block, Preserving::yes, ExecGain::no, pt::CacheMaintenance::none);
  retire_subtree(arch::output_address(old_desc), slot.level + 1);
}

void Editor::unhook_table(const Slot& slot, pt::Beneath beneath) {
  const Descriptor old_desc = read_entry(slot.entry);
  clear(slot, beneath);
  retire_subtree(arch::output_address(old_desc), slot.level + 1);
}

}  // namespace tlbkit::pt::detail
