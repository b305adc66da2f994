// Which blocks an operation must split, how the split block must look, and
// how many tables that takes (the prepare step of unmap, protect and split).
// Engine-internal.
#pragma once

#include "range.hpp"
#include "walker.hpp"

namespace tlbkit::pt::detail {

// What the operation does to the leaves wholly inside its range.
enum class LeafAction : std::uint8_t {
  keep,    // split: translations stay
  clear,   // unmap
  modify,  // protect: (leaf & ~clear) | set
};

// The blocks an operation splits and what the leaves of the rebuilt subtree
// become. A block is split when it overlaps the range and is larger than
// `finest_level` allows (0: no size limit), or when unmap or protect must
// cut it at an edge of the range and would change it at all.
struct SplitRule {
  Range range;
  unsigned finest_level = 0;
  LeafAction action = LeafAction::keep;
  Descriptor clear = 0;
  Descriptor set = 0;

  // The final value of a leaf wholly inside the range.
  Descriptor rewrite(Descriptor leaf) const {
    switch (action) {
      case LeafAction::keep: return leaf;
      case LeafAction::clear: return arch::kInvalidDescriptor;
      case LeafAction::modify: return (leaf & ~clear) | set;
    }
    return leaf;
  }

  // Whether a block at `level` over [va, va + size) must become a table.
  // A split keeps translations, so only size matters to it; unmap and
  // protect must also cut blocks at the range's edges.
  bool needs_split(unsigned level, VirtAddr va, std::uint64_t size) const {
    if (level == arch::kMaxLevel) return false;
    if (va >= range.end || va + size <= range.start) return false;
    if (level < finest_level) return true;
    return action != LeafAction::keep && !range.covers(va, size);
  }

  bool needs_split(const Slot& slot) const {
    if (arch::kind_of(slot.old, slot.level) != arch::DescriptorKind::block) return false;
    if (!needs_split(slot.level, slot.va, slot.size)) return false;
    // A protect that leaves this block's attributes as they are needs no split.
    return !(action == LeafAction::modify && finest_level == 0 && rewrite(slot.old) == slot.old);
  }
};

// Counts the tables the splits of a range will take.
class SplitPlanner {
 public:
  explicit SplitPlanner(const SplitRule& rule) : rule_(rule) {}

  Descend leaf(const Slot& slot) {
    if (rule_.needs_split(slot)) {
      auto needs = [this](unsigned level, VirtAddr va, std::uint64_t size) {
        return rule_.needs_split(level, va, size);
      };
      tables_ += tables_for_subtree(slot.level, slot.va, slot.size, rule_.range, needs);
    }
    return Descend::no;
  }
  // Below a table wholly inside the range only blocks above the finest
  // level can need a split; none can when its entries are that fine already.
  Descend table_pre(const Slot& slot) {
    const bool fine_enough = slot.level + 1 >= rule_.finest_level;
    return rule_.range.covers(slot) && fine_enough ? Descend::no : Descend::yes;
  }
  void table_post(const Slot&) {}

  unsigned tables() const { return tables_; }

 private:
  const SplitRule& rule_;
  unsigned tables_ = 0;
};

}  // namespace tlbkit::pt::detail
