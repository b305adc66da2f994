// The descriptor edits every table operation is made of, each one reporting
// its change record. Engine-internal.
#pragma once

#include "change_emitter.hpp"
#include "reserve.hpp"
#include "splitting.hpp"
#include "tlbkit/arch/features.hpp"
#include "tlbkit/arch/regime.hpp"
#include "tlbkit/pt/table.hpp"
#include "walker.hpp"

namespace tlbkit::pt::detail {

using arch::Regime;

// What rewriting one valid descriptor into another means: the change kind
// (none when nothing visible changes), how it must be written, and whether
// execute permission is gained.
struct Transition {
  std::optional<arch::ChangeKind> kind;
  arch::UpdateRule rule = arch::UpdateRule::in_place;
  arch::ExecGain exec = arch::ExecGain::no;
};

Transition transition(Regime regime, unsigned level, Descriptor old_desc, Descriptor new_desc);

class Editor {
 public:
  Editor(const Tree& tree, Regime regime, const TableOptions& options, Reserve& reserve, ChangeSink& sink)
      : tree_(tree), regime_(regime), bbm_(options.bbm), fwb_(options.fwb), reserve_(reserve), emitter_(sink) {}

  const Tree& tree() const { return tree_; }

  // Whether an unmap must report every leaf it removes (stage 2 without FWB:
  // each cacheable page needs data-cache maintenance) instead of dropping a
  // covered table whole.
  bool unmap_reports_each_leaf() const {
    return regime_ == Regime::stage2 && fwb_ == arch::s2::Fwb::disabled;
  }
  Regime regime() const { return regime_; }

  // Rewrites a live slot to `new_desc`: in place when the regime allows,
  // else break-before-make (invalid, maintenance now, new). Reports the
  // change; a write that changes nothing is skipped and not reported.
  void update(const Slot& slot, Descriptor new_desc);

  // As update(), with the transition already known (callers that rewrite
  // many alike descriptors classify once). The in-place path is inline: it
  // runs once per descriptor of a protect.
  void update(const Slot& slot, Descriptor old_desc, Descriptor new_desc, const Transition& t) {
    if (t.kind && t.rule == arch::UpdateRule::in_place) {
      write_entry(slot.entry, new_desc);
      const EntryKind old_entry = arch::is_table(old_desc, slot.level) ? EntryKind::table : EntryKind::leaf;
      emitter_.record(slot.va, slot.size, {static_cast<std::uint8_t>(slot.level), old_entry, *t.kind, t.exec},
                      arch::output_address(old_desc));
      return;
    }
    update_other(slot, old_desc, new_desc, t);
  }

  // Writes invalid into a valid slot and reports the unmap; `beneath` is
  // what the record of a table entry says (see pt::Beneath; ignored for a
  // leaf).
  void clear(const Slot& slot, pt::Beneath beneath = pt::Beneath::unseen);

  // Puts a new, empty table into an invalid slot (from the reserve).
  void install_table(const Slot& slot);

  // Puts a new table into an invalid slot whose 512 entries are leaves
  // mapping from `pa` with `attributes`, all written before it is published.
  void install_leaf_table(const Slot& slot, PhysAddr pa, Descriptor attributes, arch::ExecGain exec);

  // Replaces the block in `slot` by a subtree built privately from the
  // reserve in its final shape: blocks split as `rule` says, leaves inside
  // the range rewritten. One break-before-make of the block publishes it
  // (FEAT_BBM level 2 skips the invalid step when every translation stays).
  // Every valid new entry is reported as a map.
  void split_block(const Slot& slot, const SplitRule& rule);

  // Replaces the table in `slot` by `block`, retiring the whole subtree.
  void collapse_table(const Slot& slot, Descriptor block);

  // Writes invalid into a slot holding a table and retires the table and
  // every table below it. Their entries are left as they are: once the
  // maintenance for the slot's whole range has completed nothing can reach
  // them. `beneath`: reported when the caller has just cleared every valid
  // entry of the table, each with its own record (see pt::Beneath).
  void unhook_table(const Slot& slot, pt::Beneath beneath);

  // A new leaf in an invalid slot; `exec` as arch::exec_gain(invalid, leaf).
  void make_leaf(const Slot& slot, Descriptor leaf, arch::ExecGain exec);

 private:
  void update_other(const Slot& slot, Descriptor old_desc, Descriptor new_desc, const Transition& t);
  void publish_table(const Slot& slot, PhysAddr table);
  void report_new_entries(const Slot& parent, PhysAddr pa, arch::ExecGain exec);
  arch::ExecGain exec_gained_against(Descriptor block_attributes, unsigned level, Descriptor new_desc);

  // exec_gained_against() memo: runs of alike leaves of one block ask the
  // same question. Keyed by the new leaf's attributes, its level and the
  // split block's attributes (all three decide the answer).
  Descriptor exec_memo_key_ = 0;
  unsigned exec_memo_level_ = 0;
  Descriptor exec_memo_block_ = 0;
  bool exec_memo_valid_ = false;
  arch::ExecGain exec_memo_ = arch::ExecGain::no;
  // Writes `new_desc` over a live slot whose translations it keeps (or, with
  // `exec`, extends): break-before-make unless FEAT_BBM level 2 allows the
  // size change in place.
  enum class Preserving : std::uint8_t { no, yes };
  void replace_live(const Slot& slot, Descriptor new_desc, Preserving preserving, arch::ExecGain exec,
                    pt::CacheMaintenance cmo);
  PhysAddr build_subtree(unsigned level, VirtAddr va, PhysAddr pa, Descriptor attributes, const SplitRule& rule,
                         Preserving& preserving);
  void report_subtree(PhysAddr table, unsigned level, VirtAddr va, Descriptor block_attributes);
  void retire_subtree(PhysAddr table, unsigned level);

  const Tree& tree_;
  // Data-cache maintenance owed when `old_desc` stops translating.
  pt::CacheMaintenance cmo_for(Descriptor old_desc) const;

  Regime regime_;
  arch::BbmLevel bbm_;
  arch::s2::Fwb fwb_;
  Reserve& reserve_;
  ChangeEmitter emitter_;
};

}  // namespace tlbkit::pt::detail
