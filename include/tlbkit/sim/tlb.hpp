// One simulated TLB structure (an L1 instruction or data TLB, a unified L2,
// or a walk cache): sets x ways of TlbEntry with LRU replacement, and the
// matching of every TLBI kind (docs/ARCHITECTURE-FACTS.md section 2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tlbkit/sim/tlb_entry.hpp"
#include "tlbkit/sim/weakening.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::sim {

// sets * ways entries; sets a power of two (1 = fully associative).
// An entry of `size` bytes at `input` lives in set
// (input >> log2(size)) & (sets - 1): its own size's unit number, so blocks
// and walk entries spread over the sets as pages do.
struct TlbGeometry {
  unsigned sets = 1;
  unsigned ways = 48;
  friend constexpr bool operator==(const TlbGeometry&, const TlbGeometry&) = default;
};

// What a PE looks up: an input address in its current context.
struct LookupKey {
  arch::Regime regime = arch::Regime::el1_stage1;
  EntryStage stage = EntryStage::stage1;
  CachedKind kind = CachedKind::leaf;
  std::uint16_t vmid = 0;
  std::uint16_t asid = 0;  // matched by non-global entries only
  VirtAddr input = 0;
  // Walk-cache lookups: the level of the table descriptor wanted (the
  // deepest cached one is found by asking from level 2 upwards).
  std::uint8_t level = 0;
};

// The TLBI context of the PE where a TLBI takes effect: TLBIs of the EL1&0
// regime act on the current VMID (VTTBR_EL2.VMID) of the issuing PE.
struct TlbiContext {
  std::uint16_t vmid = 0;
  // Tests only (none: the architecture): the matching weakenings among
  // them (leaf-only ops dropping walk entries, TTL, ASID, VMID or nG
  // ignored) relax what tlbi_removes matches; the others are the Machine's.
  Weakenings weakenings{};
};

// Whether the TLBI `op` (decoded, see arch::decode) removes `entry` when it
// takes effect in `context`. Follows docs/ARCHITECTURE-FACTS.md section 2:
// - by-VA ops remove entries whose range contains the address (a block is
//   retired by any address inside it), of the operand's ASID or global, of
//   the context's VMID, stage-1 and combined entries; non-"L" forms also
//   walk-cache entries covering it (walk entries count as non-global); a
//   combined leaf smaller than its stage-1 leaf (a stage-1 block fractured
//   by stage-2 pages) is retired by any address of the stage-1 block, and a
//   TTL hint names its stage-1 level;
// - the "L" (leaf-only) forms may spare walk-cache entries: the model
//   spares them (the strict reading catches plans that rely on them);
// - a TTL hint names the level of the entry to remove: entries at any other
//   level are spared (a wrong hint removes nothing, known bug 10 in docs/KNOWN-BUGS.md);
// - range ops remove what a by-VA op of every page of the range would;
// - ASIDE1: non-global stage-1/combined entries of that ASID and VMID;
//   VMALLE1: every stage-1/combined entry of the VMID; VMALLS12E1: also its
//   stage-2 entries; IPAS2E1 (and range, L forms): stage-2 entries of that
//   IPA only, never combined ones; ALLE1: every EL1&0 entry of any VMID;
//   the EL2 ops: only el2_stage1 entries.
// Barriers and cache ops remove nothing. context.weakenings (tests only)
// relax these rules, each as weakening.hpp says.
bool tlbi_removes(const arch::DecodedOp& op, const TlbiContext& context, const TlbEntry& entry);

class Tlb {
 public:
  // Precondition: geometry.sets is a power of two; sets and ways > 0.
  explicit Tlb(TlbGeometry geometry);

  // The entry matching `key` (same regime, stage, kind, VMID; ASID or
  // global; covering key.input; for walk entries the same level), or
  // nullptr. A hit makes the entry the most recently used of its set.
  // VMIDs are not compared for el2_stage1 entries, ASIDs only for
  // el1_stage1 stage-1/combined entries (walk entries are never global).
  // When several entries match (a conflict: a global and a non-global
  // entry, or a block and a page overlapping), the one in the lowest slot
  // (set-major, then way) is returned, as a scan in for_each order would.
  // Expected O(1) on the hit path for 4 KiB entries: this is the simulator's
  // hottest call (see bench/sim_bench.cpp).
  // The pointer is valid until the next insert, invalidate or clear.
  const TlbEntry* lookup(const LookupKey& key);

  // The slot of the entry the last successful lookup() returned.
  std::uint32_t last_hit_slot() const { return last_hit_; }
  // What lookup() does on a hit of the entry in `slot`, without the
  // search: it becomes the most recently used of its set. For a caller
  // that knows (by version()) that the same lookup would find that slot.
  void touch(std::uint32_t slot) { last_used_[slot] = ++clock_; }
  // Moves on every change of the contents (insert, invalidate, removal,
  // clear): equal versions, equal contents.
  std::uint64_t version() const { return version_; }

  // Inserts `entry` in its set (see TlbGeometry). An entry with the same
  // tags and range (regime, stage, kind, level, VMID, global, ASID when
  // compared, input, size) is replaced in place and nothing is evicted;
  // otherwise the lowest free way is used, or the least recently used way
  // is evicted and returned. The entry becomes the most recently used.
  // Precondition: entry.size is a power of two and entry.input is aligned
  // to it.
  std::optional<TlbEntry> insert(const TlbEntry& entry);

  // Removes every entry `op` removes in `context`; appends each removed
  // entry to `removed` (in for_each order) when it is not null. Returns how
  // many were removed.
  std::size_t invalidate(const arch::DecodedOp& op, const TlbiContext& context,
                         std::vector<TlbEntry>* removed = nullptr);

  // Removes every entry for which `remove(const TlbEntry&)` is true (in
  // for_each order), appending each to `removed`. Returns how many.
  template <class F>
  std::size_t remove_if(F&& remove, std::vector<TlbEntry>& removed) {
    std::size_t count = 0;
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i].valid || !remove(slots_[i].entry)) continue;
      removed.push_back(slots_[i].entry);
      remove_slot(i);
      ++count;
    }
    return count;
  }

  // Calls f(const TlbEntry&) for every entry (order: deterministic).
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.valid) f(s.entry);
    }
  }

  std::size_t size() const;
  TlbGeometry geometry() const { return geometry_; }
  void clear();

 private:
  struct Slot {
    TlbEntry entry;
    bool valid = false;
  };
  // One bucket of the open-addressing (linear probing) index over the valid
  // slots. It holds the whole lookup key of its entry, so a probe verifies
  // a candidate without reading the slot.
  struct Bucket {
    std::uint64_t unit = 0;  // input >> log2(size)
    std::uint64_t word = 0;  // packed tags (see tlb.cpp), the ASID in 63:48 when compared
    std::uint32_t slot_plus_one = 0;  // 0: empty
    std::uint16_t asid_care = 0;      // 0xffff: the ASID is compared; 0: it is not
  };
  static constexpr unsigned kSizeClasses = 64;  // log2 of an entry size

  std::uint32_t home_of(std::uint64_t unit, std::uint64_t word) const;
  std::uint32_t probe(VirtAddr input, std::uint64_t word, unsigned log2_size) const;
  std::uint32_t probe_all_sizes(VirtAddr input, std::uint64_t word) const;
  std::uint32_t set_of(const TlbEntry& entry) const;
  std::optional<std::uint32_t> same_tags_slot(const TlbEntry& entry) const;
  std::uint32_t victim_way(std::uint32_t set) const;
  std::size_t conflicts_with(const Bucket& bucket, std::uint32_t skip) const;
  void fill_slot(std::uint32_t slot, const TlbEntry& entry);
  void remove_slot(std::uint32_t slot);
  void index_insert(const TlbEntry& entry, std::uint32_t slot);
  void index_erase(const TlbEntry& entry, std::uint32_t slot);

  TlbGeometry geometry_;
  std::vector<Slot> slots_;  // set-major: set s, way w at s * ways + w
  // Per slot, when it was last used (the LRU order); apart from the slots
  // so that a touch writes a small dense array.
  std::vector<std::uint64_t> last_used_;
  std::uint64_t clock_ = 0;
  std::uint64_t version_ = 0;
  std::uint32_t last_hit_ = 0;
  std::size_t valid_count_ = 0;
  std::vector<Bucket> index_;  // power-of-two size, at least 4 buckets per slot
  std::uint32_t index_mask_ = 0;
  unsigned index_shift_ = 0;  // 64 - log2(index_.size()): home = hash >> shift
  // Pairs of valid entries that one lookup could both match (a global and
  // a non-global entry of one page, ...). While there are none, a probe
  // stops at its first match.
  std::size_t conflict_pairs_ = 0;
  // Bit s set: some valid entry has size 2^s (lookups probe each such size).
  std::uint64_t sizes_present_ = 0;
  std::array<std::uint32_t, kSizeClasses> size_counts_{};
};

}  // namespace tlbkit::sim
