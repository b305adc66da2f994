// Internal to src/sim (not public): what the files of sim::Machine share.
// A PE's state (Machine::Pe), the readers a walk reads descriptors through
// (Machine::Reader, Machine::NestedReader), what a walk walks (WalkTarget)
// and the lookup-key helpers more than one file needs.
//
//   machine.cpp      construction, contexts, observing table writes, reports
//   translation.cpp  the access path, walks, two-stage walks, the truth
//   checkers.cpp     visibility, break-before-make, use-after-free
//   maintenance.cpp  TLBIs and barriers, plans, refill bookkeeping, PeExecutor
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "tlbkit/sim/machine.hpp"

namespace tlbkit::sim {

namespace detail {

using arch::Regime;

constexpr std::uint64_t kPage = PhysicalMemory::kPageSize;

// The cached translation a refill replaces: same tags, same range.
using RefillKey = std::tuple<Regime, EntryStage, std::uint16_t, std::uint16_t, bool, VirtAddr, std::uint64_t>;

// A combined leaf: it also holds the stage-2 leaf of its output.
inline bool holds_stage2_leaf(const TlbEntry& e) {
  return e.stage == EntryStage::combined && e.kind == CachedKind::leaf;
}

// Checker 1's verdict (Machine::check_visibility): whether serving input
// address `va` from cached translation `used` is a stale translation when
// the tables translate it as `now` (nullopt: they map nothing): another
// output, or more access than `now` grants. Stricter permissions are not
// (they give a spurious fault, which is allowed).
// Precondition: `used` and `now` (when there is one) cover `va`.
inline bool stale_use(const TlbEntry& used, VirtAddr va, const std::optional<TlbEntry>& now) {
  if (!now) return true;
  const bool same_output = used.output + (va - used.input) == now->output + (va - now->input);
  const bool more_access = (used.permissions & ~now->permissions) != 0;
  return !same_output || more_access;
}

struct PendingTlbi {
  arch::DecodedOp op;
  bool broadcast = false;
  std::uint64_t issued_at = 0;
};

struct WalkTarget {
  Regime regime;
  EntryStage stage;
  const arch::Geometry* geometry;
  PhysAddr root;
};

// What a PE's accesses look up and walk first: stage 1 (combined entries
// when stage 2 is on too), or stage 2 alone.
inline WalkTarget target_of(const PeContext& ctx) {
  if (ctx.stage1) {
    return {ctx.regime, ctx.stage2 ? EntryStage::combined : EntryStage::stage1, &*ctx.stage1, ctx.stage1_root};
  }
  return {Regime::stage2, EntryStage::stage2, &*ctx.stage2, ctx.stage2_root};
}

inline WalkTarget stage2_target(const PeContext& ctx) {
  return {Regime::stage2, EntryStage::stage2, &*ctx.stage2, ctx.stage2_root};
}

inline LookupKey key_of(const PeContext& ctx, const WalkTarget& t, CachedKind kind, VirtAddr input, unsigned level) {
  LookupKey k;
  k.regime = t.regime;
  k.stage = t.stage;
  k.kind = kind;
  k.vmid = t.regime == Regime::el2_stage1 ? 0 : ctx.vmid;
  k.asid = t.regime == Regime::el1_stage1 ? ctx.asid : 0;
  k.input = input;
  k.level = static_cast<std::uint8_t>(level);
  return k;
}

inline LookupKey leaf_key_of(const PeContext& ctx) { return key_of(ctx, target_of(ctx), CachedKind::leaf, 0, 0); }

}  // namespace detail

// Runs plans on one PE (execute: maintenance.cpp).
class Machine::PeExecutor final : public Executor {
 public:
  PeExecutor(Machine& machine, unsigned pe) : machine_(machine), pe_(pe) {}
  void execute(const Plan& plan) override;

 private:
  Machine& machine_;
  unsigned pe_;
};

struct Machine::Pe {
  explicit Pe(const Profile& p) : l1i(p.l1i), l1d(p.l1d), l2(p.l2) {}
  std::optional<PeContext> context;
  // The context's leaf lookup key, input 0: built once per set_context, so
  // the access path only sets the input (a key assembled field by field
  // just before Tlb::lookup reads it whole stalls store forwarding).
  LookupKey leaf_key;
  Tlb l1i;
  Tlb l1d;
  Tlb l2;
  std::vector<detail::PendingTlbi> pending;
  // Leaf entries an invalidation removed, and whether they were stale.
  std::map<detail::RefillKey, bool> removed;
  // The PE's own clock for the timeline (cycles it spent).
  std::uint64_t clock = 0;
  // The instruction-cache checker: the code epoch of the PE's latest
  // whole-cache invalidation, and the pages already reported stale (with
  // the epoch reported, so each stale write is reported once per PE).
  std::uint64_t icache_synced = 0;
  std::unordered_map<PhysAddr, std::uint64_t> icache_reported;
  // L1 hits already verified (by the visibility checker, or with it off),
  // direct-mapped by page, one table per L1: an access that finds its page
  // here, with the L1's version and the memory's generation unchanged, is
  // the same hit with the same verdict, so only the LRU touch, the counters
  // and the permission check remain. Cleared by set_context.
  struct VerifiedHit {
    std::uint64_t page = ~std::uint64_t{0};
    std::uint64_t l1_version = 0;
    std::uint64_t generation = 0;
    std::uint64_t pa_minus_va = 0;  // the entry's output - input: pa = va + this (mod 2^64)
    std::uint32_t slot = 0;
    std::uint8_t permissions = 0;
    // Fetches: the code epoch (Machine::code_epoch_) at which the page's
    // instructions were last found fresh: a fetch at the same epoch needs
    // no instruction-cache check.
    std::uint64_t code_epoch = 0;
  };
  static constexpr std::size_t kVerifiedHits = 64;
  std::array<VerifiedHit, kVerifiedHits> verified_d{};
  std::array<VerifiedHit, kVerifiedHits> verified_i{};

  // The L1 an access of `kind` looks up.
  Tlb& l1_for(AccessKind kind) { return kind == AccessKind::fetch ? l1i : l1d; }
  // The slot of `va` in the verified hits of `kind` (matching or not).
  VerifiedHit& verified_slot(AccessKind kind, VirtAddr va) {
    return (kind == AccessKind::fetch ? verified_i : verified_d)[(va >> 12) % kVerifiedHits];
  }
  // Whether `v`, the slot of `va`, still stands: the same page, and neither
  // the L1 (`l1`) nor the memory (`generation`) changed since it was made.
  static bool still_verified(const VerifiedHit& v, const Tlb& l1, VirtAddr va, std::uint64_t generation) {
    return v.page == va >> 12 && v.l1_version == l1.version() && v.generation == generation;
  }
  std::uint64_t input_size = 0;  // of the context's first stage: the access range
  std::unique_ptr<PeExecutor> executor;
};

// Reads descriptors for one PE's walks: the live tables for the PE of the
// open operation (and for the truth), the published ones for the others.
class Machine::Reader final : public TableReader {
 public:
  Reader(Machine& machine, std::optional<unsigned> pe) : machine_(machine), pe_(pe) {}
  std::optional<Descriptor> read(PhysAddr table, unsigned index) override {
    const PhysAddr at = table + std::uint64_t{index} * sizeof(Descriptor);
    const PhysAddr page = at & ~(detail::kPage - 1);
    const Descriptor* words = machine_.memory_.peek(page);
    if (words == nullptr) return std::nullopt;
    ++reads;
    const std::size_t slot = static_cast<std::size_t>((at - page) / sizeof(Descriptor));
    if (pe_ && machine_.writer_ && *pe_ != *machine_.writer_) {
      const auto it = machine_.published_.find(page);
      if (it != machine_.published_.end()) {
        if (it->second[slot] != words[slot]) read_unpublished = true;
        return it->second[slot];
      }
    }
    return words[slot];
  }
  std::uint64_t reads = 0;
  bool read_unpublished = false;  // some read saw an old value

 private:
  Machine& machine_;
  std::optional<unsigned> pe_;  // nullopt: the truth
};

// Per nested walk: the reads of stage-2 walks already counted as refills
// of their own (not counted again for the combined entry).
struct Machine::WalkTally {
  std::uint64_t refilled_reads = 0;
};

// Reads stage-1 tables under stage 2: each descriptor's IPA goes through
// stage 2 first (the PE's stage-2 entries and walks, or for the truth the
// tables alone), then `base` reads it at its PA. Records the PA of every
// descriptor read, in order: pas[i] is where walk step i was read.
class Machine::NestedReader final : public TableReader {
 public:
  NestedReader(Machine& machine, const PeContext& ctx, Reader& base, std::optional<unsigned> pe, WalkTally* tally)
      : machine_(machine), ctx_(ctx), base_(base), pe_(pe), tally_(tally) {}

  std::optional<Descriptor> read(PhysAddr table, unsigned index) override {
    if (count == pas.size()) return std::nullopt;  // never: a walk reads at most 4
    const VirtAddr ipa = table + std::uint64_t{index} * sizeof(Descriptor);
    const std::optional<TlbEntry> s2 = pe_ ? machine_.stage2_for_walk(*pe_, ctx_, ipa, base_, *tally_)
                                           : machine_.stage2_truth(ctx_, ipa, base_);
    if (!s2) return std::nullopt;
    const PhysAddr pa = s2->output + (ipa - s2->input);
    const std::optional<Descriptor> d = base_.read(pa, 0);
    if (d) pas[count++] = pa;
    return d;
  }

  std::array<PhysAddr, 4> pas{};
  unsigned count = 0;

 private:
  Machine& machine_;
  const PeContext& ctx_;
  Reader& base_;
  std::optional<unsigned> pe_;  // nullopt: the truth
  WalkTally* tally_;
};

}  // namespace tlbkit::sim
