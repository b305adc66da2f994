// The simulated machine: N PEs, each with its TLBs, translating accesses by
// walking the tables in simulated physical memory, executing maintenance
// plans (a TLBI is pending until the issuing PE's DSB), checking what the
// architecture forbids and counting what everything costs.
//
// Contexts: stage 1 only, stage 2 only, or stage 1 under stage 2 (EL1&0):
// then every stage-1 table address is an IPA translated through stage 2,
// and so is the stage-1 output; the PE caches stage-2 entries, stage-2
// walk entries, stage-1 walk entries holding IPAs and combined VA -> PA
// leaves (see tlb_entry.hpp). A fault in either stage is not cached.
//
// Checkers (each violation names the PE, the address, the stale and current
// translations, the operation and the event index):
// 1. visibility: after end_operation() an access served by a translation
//    that differs from the current tables (another output, or more access
//    than the tables now grant; with two stages: than both stages now
//    give) is a violation; stricter stale permissions are not (they give a
//    spurious fault, which is allowed);
// 2. break-before-make: a descriptor rewritten from one valid value to
//    another that differs in output, size, memory type or nG 1->0 while a
//    PE holds an entry filled from the old value (with FEAT_BBM level 2,
//    block <-> table changes are allowed); a combined entry holds both its
//    stage-1 leaf and the stage-2 leaf of its output;
// 3. use-after-free: a table page or data page released while a TLB entry
//    of any PE still references it (a walk entry pointing at the table —
//    for a stage-1 walk entry under stage 2, the table page its IPA
//    translated to when filled — a leaf entry translating to the page;
//    stage-2 and combined leaves count for data pages only, since a guest
//    frees its table pages without leaving the memory stage 2 gives it).
//
// Table writes are observed at sync points (every access, every op
// executed, begin/end of an operation): writes made during an operation on
// PE w stay invisible to the walkers of other PEs until w executes a DSB
// (that is what DSB ISHST before a TLBI is for: known bug 13 in docs/KNOWN-BUGS.md).
//
// Deterministic: equal calls give equal results, counters and violations.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "tlbkit/sim/hw_walker.hpp"
#include "tlbkit/sim/physical_memory.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/sim/timeline.hpp"
#include "tlbkit/sim/tlb.hpp"
#include "tlbkit/sim/weakening.hpp"
#include "tlbkit/plan/executor.hpp"
#include "tlbkit/maint/gather.hpp"

namespace tlbkit::sim {

// The translation state of one PE (TTBR/VTTBR, TCR/VTCR, ASID, VMID).
struct PeContext {
  arch::Regime regime = arch::Regime::el1_stage1;  // el1_stage1 or el2_stage1
  std::uint16_t asid = 0;  // EL1&0
  std::uint16_t vmid = 0;  // EL1&0 (also tags stage-1-only entries)
  // Stage 1: none = stage 1 off (input addresses are IPAs, EL1&0 only).
  std::optional<arch::Geometry> stage1;
  PhysAddr stage1_root = 0;  // an IPA when stage 2 is on
  // Stage 2 (EL1&0 only): none = off.
  std::optional<arch::Geometry> stage2;
  PhysAddr stage2_root = 0;
};

enum class AccessKind : std::uint8_t { read, write, fetch };
enum class Privilege : std::uint8_t { el1, el0 };

enum class AccessOutcome : std::uint8_t { ok, translation_fault, permission_fault };
enum class ServedBy : std::uint8_t { l1, l2, walk };

struct Access {
  AccessOutcome outcome = AccessOutcome::ok;
  ServedBy served_by = ServedBy::walk;
  PhysAddr pa = 0;  // ok and permission_fault: where the translation points
};

// stale_instruction: a PE fetched from memory the kernel had written new
// contents into (Machine::contents_written) before its instruction cache
// was invalidated since (IC IALLU on it, IC IALLUIS or IC IVAU by any PE).
enum class ViolationKind : std::uint8_t { stale_translation, break_before_make, use_after_free, stale_instruction };
const char* violation_kind_name(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::stale_translation;
  unsigned pe = 0;
  VirtAddr va = 0;                    // the input address concerned (0 when unknown)
  std::optional<TlbEntry> stale;      // the cached entry at fault
  std::optional<TlbEntry> current;    // what the tables say now (nullopt: unmapped)
  std::string operation;              // the operation label (begin_operation) or "-"
  std::uint64_t event = 0;            // event index when it was found
  std::string message;                // one line for people
};

// What the simulation counted. Cycles per the profile.
struct SimCounters {
  std::uint64_t accesses = 0;
  std::uint64_t l1_hits = 0;
  std::uint64_t l2_hits = 0;
  // Walks, walk-cache hits and descriptor reads count every walk: a
  // two-stage translation counts its stage-1 walk and each stage-2 walk it
  // makes (up to 4 + 4 x 5 = 24 reads for 4 + 4 levels, all missing).
  std::uint64_t walks = 0;
  std::uint64_t walk_cache_hits = 0;  // walks that started below the root from a walk entry
  std::uint64_t descriptor_reads = 0;
  std::uint64_t translation_faults = 0;
  std::uint64_t permission_faults = 0;
  // Refills: a walk that refilled a translation an invalidation removed
  // (stage-2 entries filled by a nested walk included).
  std::uint64_t refills_needed = 0;      // the removed entry was stale
  std::uint64_t refills_collateral = 0;  // the removed entry was still correct
  std::uint64_t plans = 0;
  std::uint64_t tlbi_local = 0;
  std::uint64_t tlbi_broadcast = 0;  // issued, counting erratum repeats
  std::uint64_t dsb = 0;
  std::uint64_t dsb_broadcast_waits = 0;  // DSBs that waited for broadcast maintenance
  std::uint64_t isb = 0;
  std::uint64_t ic = 0;
  std::uint64_t dc = 0;
  std::uint64_t entries_invalidated = 0;
  std::uint64_t maintenance_cycles = 0;
  std::uint64_t translation_cycles = 0;  // L2 hits and walks
  std::uint64_t refill_cycles_needed = 0;
  std::uint64_t refill_cycles_collateral = 0;
  std::uint64_t dropped_ops = 0;  // left out by MachineOptions::drop (not counted above)
  friend bool operator==(const SimCounters&, const SimCounters&) = default;
};

// Fault injection, to show on a workload of one's own that the checkers
// catch a missing instruction: every `every`-th TLBI (or DSB) of the plans
// the machine executes is left out (counted, 1-based, across the run:
// every = 1 drops them all). Ops issued one by one (Machine::issue) are
// never dropped. None: the real machine.
struct DropInjection {
  enum class Kind : std::uint8_t { none, tlbi, dsb } kind = Kind::none;
  std::uint64_t every = 1;
  friend constexpr bool operator==(const DropInjection&, const DropInjection&) = default;
};

// How plans are executed.
// - as_planned: every op of every plan, as the policy wrote it.
// - bound: the cache-aware lower bound (docs/SIMULATOR.md): a plan with
//   broadcast TLBIs is replaced by what no policy can do better than: the
//   issuing PE's DSB ISHST (its table writes must be seen), then each PE
//   that holds entries no correct policy may leave (may_stay: a leaf whose
//   use checker 1 would flag, a walk entry no longer leading to its table)
//   removes exactly those with one local TLBI and one local DSB, and no PE
//   removes anything else (stricter stale permissions stay);
//   the plan's data-cache maintenance runs as written, and its
//   instruction-cache maintenance is free (every PE's I-cache made current:
//   no policy pays less). Plans without broadcast TLBIs (local flushes after
//   an id rollover or a spurious fault, the same under every policy) run as
//   written, their I-cache ops free likewise.
enum class Execution : std::uint8_t { as_planned, bound };

struct MachineOptions {
  unsigned pes = 0;  // 0: the profile's
  arch::BbmLevel bbm = arch::BbmLevel::level0;
  // Off: no visibility check on accesses (the measured hit path).
  enum class Visibility : std::uint8_t { checked, unchecked } visibility = Visibility::checked;
  // Tests only: rules of the model switched off (weakening.hpp), to show
  // that a test fails without each. None: the real machine.
  Weakenings weakenings{};
  DropInjection drop{};
  // Receives the machine's events per PE (timeline.hpp); must outlive the
  // machine. None: nothing is recorded and nothing is spent on it.
  TimelineSink* timeline = nullptr;
  Execution execution = Execution::as_planned;
};

class Machine final : public MemoryObserver, public maint::PageSink {
 public:
  // Watches `memory` (registers itself as its observer) until destroyed.
  Machine(PhysicalMemory& memory, const Profile& profile, MachineOptions options = {});
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;
  ~Machine();

  unsigned pes() const { return static_cast<unsigned>(pes_.size()); }

  // Sets `pe`'s translation context (a context switch: nothing is
  // invalidated, entries are tagged). With both stages, stage1_root is an
  // IPA: when stage 2 does not map it, accesses take a translation fault.
  // # Errors
  // out_of_range: no such PE. invalid_argument: no stage at all, stage 2
  // for the EL2 regime, a geometry of the wrong stage, or (both stages) a
  // stage-1 root IPA beyond the stage-2 input range. unsupported (both
  // stages): a stage-2 root that is not a live table page of the memory
  // (a walk there would be an external abort, which is not modelled).
  // On error the PE's context is unchanged.
  Status set_context(unsigned pe, const PeContext& context);

  // One access by `pe` like the CPU makes it: L1, L2, walk caches, walk
  // (with two stages a nested walk: each stage-1 table address and the
  // output IPA through the L2's stage-2 entries or a stage-2 walk); only
  // valid translations are cached.
  // # Errors
  // out_of_range: no such PE, or `va` beyond the input range.
  // invalid_argument: the PE has no context.
  Result<Access> access(unsigned pe, VirtAddr va, AccessKind kind, Privilege privilege = Privilege::el1);

  // Runs every op of `plan` on `pe`, in order (TLBIs pend until `pe`'s DSB).
  // # Errors
  // out_of_range: no such PE.
  Status execute(unsigned pe, const Plan& plan);
  // One op on `pe` (for tests that interleave PEs op by op).
  Status issue(unsigned pe, const arch::Op& op);

  // An Executor that runs plans on `pe` (what a Gather is given).
  // Precondition: pe < pes().
  Executor& executor(unsigned pe);

  // Brackets a table operation made by `pe`: its writes are invisible to
  // other PEs' walkers until its next DSB; after end_operation() the
  // visibility checker holds every access to the current tables.
  void begin_operation(unsigned pe, std::string label);
  void end_operation();

  // maint::PageSink: data memory released by its owner; a TLB entry still
  // translating to it is a use-after-free.
  void release(PhysAddr pa, std::uint64_t size) override;

  // The kernel wrote new contents into [pa, pa + size) (a page it filled or
  // copied). Any PE's instruction cache may still hold the old contents
  // (it caches by physical address, whatever the translation): a fetch by a
  // PE from there is a stale_instruction violation until the PE's
  // instruction cache was invalidated after this call: by IC IALLU on that
  // PE, IC IALLUIS on any PE, or IC IVAU of the page on any PE. An IC op
  // takes effect when issued (its completing DSB is not waited for). Data
  // writes by accesses are not counted: keeping the instruction cache
  // coherent with user-written code is the program's own job (IC IVAU).
  void contents_written(PhysAddr pa, std::uint64_t size);

  const std::vector<Violation>& violations() const { return violations_; }
  const SimCounters& counters() const { return counters_; }
  std::uint64_t events() const { return event_; }
  const Profile& profile() const { return profile_; }
  // What `pe`'s TLBs hold now, L1I, L1D then L2 (for tests and tools).
  std::vector<TlbEntry> entries(unsigned pe) const;

  // MemoryObserver (called by PhysicalMemory).
  void before_free(PhysAddr base, unsigned pages) override;
  void after_allocate(PhysAddr base, unsigned pages) override;

 private:
  // access() whole: everything but the verified L1 hit that access()
  // answers itself (kept apart so that answer saves no registers).
  [[gnu::noinline]] Result<Access> access_in_full(unsigned pe, VirtAddr va, AccessKind kind, Privilege privilege);
  struct Pe;
  class PeExecutor;
  class Reader;
  class NestedReader;
  struct Translation;
  struct WalkTally;

  void sync();
  void publish();
  // issue() after sync(): what execute() runs for each op of a plan.
  Status issue_synced(unsigned pe, const arch::Op& op);
  std::optional<Translation> translate_truth(const PeContext& ctx, VirtAddr va);
  // An access's translation once its L1 `l1` missed `key`: the L2, else a
  // walk (which fills the L2 and `l1`). nullopt: a translation fault.
  std::optional<Translation> translate_past_l1(unsigned pe, VirtAddr va, Tlb& l1, const LookupKey& key,
                                               ServedBy& served);
  std::optional<Translation> walk_two_stages(unsigned pe, const PeContext& ctx, VirtAddr va, Tlb& l1);
  // The stage-2 leaf for `ipa` during a walk of `pe`: its L2's stage-2
  // entries, else a stage-2 walk (counted and cached). nullopt: a fault.
  std::optional<TlbEntry> stage2_for_walk(unsigned pe, const PeContext& ctx, VirtAddr ipa, Reader& reader,
                                          WalkTally& tally);
  // The stage-2 leaf for `ipa` as the tables say (nothing cached or counted).
  std::optional<TlbEntry> stage2_truth(const PeContext& ctx, VirtAddr ipa, Reader& reader);
  // Checker 1 for an access served by `used` (call only outside an
  // operation, with visibility checked).
  void check_visibility(unsigned pe, VirtAddr va, const TlbEntry& used);
  // The instruction-cache checker for a fetch by `pe` of `va` from `pa`
  // (call only when the PE's instruction cache is behind code_epoch_).
  void check_fetch(unsigned pe, VirtAddr va, PhysAddr pa);
  // An IC op by `pe` took effect (IC IVAU: of the page at `va`).
  void note_icache_invalidate(unsigned pe, const arch::Op& op);
  struct DescriptorWrite {
    PhysAddr at;
    Descriptor old_value;
    Descriptor new_value;
  };
  // Break-before-make: `writes` (in address order) against every entry.
  void check_descriptor_changes(const std::vector<DescriptorWrite>& writes);
  // Use-after-free: entries still referencing [base, base + size). A table
  // page is referenced by walk entries pointing at it (and by stage-1-only
  // leaves translating into it); a data page by every leaf translating
  // into it.
  enum class Released : std::uint8_t { table_page, data_page };
  void check_release(PhysAddr base, std::uint64_t size, Released released);
  // An invalidation removed `entry` from `pe`: its refill will count as
  // needed when its descriptors changed, or `unjustified` (the bound removes
  // only entries no correct policy may leave), else as collateral.
  enum class Removed : std::uint8_t { judged, unjustified };
  void note_removed(unsigned pe, const TlbEntry& entry, Removed removed = Removed::judged);
  // Whether the fill was a refill (counted).
  bool note_fill(unsigned pe, const TlbEntry& entry, std::uint64_t walk_cycles);
  void report(ViolationKind kind, unsigned pe, VirtAddr va, std::optional<TlbEntry> stale,
              std::optional<TlbEntry> current, std::string message);

  // Whether DropInjection leaves `op` out of the plan being executed.
  bool injected_drop(const arch::Op& op);
  // Execution::bound: an instruction-cache op is free and makes every PE's
  // instruction cache current.
  void make_icaches_current();
  // Execution::bound: the plan's replacement (see Execution).
  Status execute_bound(unsigned pe, const Plan& plan);
  // Whether a correct policy may leave `e` cached, in the latest context
  // of its tags (a global entry: in some context of its VMID): a leaf whose
  // every use checker 1 would pass (same output, no more access than the
  // tables grant; stricter permissions are allowed), a walk entry whose
  // level of a fresh walk still leads to the same table (a combined one: at
  // the same PA).
  bool may_stay(const TlbEntry& e);
  bool may_stay_in(const PeContext& ctx, const TlbEntry& e);
  // issue_synced() with the op's cycles put on the PE's timeline clock.
  Status issue_timed(unsigned pe, const arch::Op& op);
  // Puts `cycles` on the PE's clock as one event of `kind`.
  void timeline_event(unsigned pe, TimelineKind kind, std::uint64_t cycles, std::string_view name,
                      std::uint64_t address);

  PhysicalMemory& memory_;
  Profile profile_;
  MachineOptions options_;
  std::uint64_t drop_candidates_ = 0;  // TLBIs or DSBs of plans seen so far
  // Every context a PE was given, by (regime, VMID, ASID): the latest one
  // of each (Execution::bound finds an entry's tables through it).
  std::map<std::tuple<arch::Regime, std::uint16_t, std::uint16_t>, PeContext> contexts_;
  std::vector<std::unique_ptr<Pe>> pes_;
  // Table pages as the other PEs' walkers see them (the last published
  // values), keyed by page.
  std::map<PhysAddr, std::vector<Descriptor>> published_;
  // Pages the engine was handed during the open operation (or since the
  // last sync outside one): compared with published_ at every sync (a
  // writer may keep a page's pointer for the whole operation).
  std::set<PhysAddr> watched_;
  // Pages whose live content differs from published_ (writes of the open
  // operation not yet made visible by its PE's DSB).
  std::set<PhysAddr> unpublished_;
  std::optional<unsigned> writer_;  // the PE of the open operation
  std::string operation_ = "-";
  bool operation_open_ = false;
  std::vector<Violation> violations_;
  // The instruction-cache checker: contents_written() numbers each write
  // (code_epoch_) and keeps, per 4 KiB page, the number of its latest one;
  // a PE's instruction cache is behind a page when the page's number is
  // above the epoch of the PE's latest IC IALLU / IALLUIS (Pe::icache_synced).
  std::uint64_t code_epoch_ = 0;
  std::unordered_map<PhysAddr, std::uint64_t> code_written_;
  SimCounters counters_;
  std::uint64_t event_ = 0;

  // What the tables say now, per context and page, for the visibility
  // checker: valid while memory_.generation() equals truth_generation_ and
  // no context was set since (then it is emptied). Only looked up, never
  // iterated, so results stay deterministic.
  struct TruthKey {
    PhysAddr stage1_root = 0;
    PhysAddr stage2_root = 0;
    std::uint64_t page = 0;  // input address >> 12
    std::uint16_t asid = 0;
    std::uint16_t vmid = 0;
    std::uint8_t stages = 0;  // bit 0: stage 1 on, bit 1: stage 2 on
    arch::Regime regime = arch::Regime::el1_stage1;
    friend bool operator==(const TruthKey&, const TruthKey&) = default;
  };
  struct TruthHash {
    std::size_t operator()(const TruthKey& k) const;
  };
  std::unordered_map<TruthKey, std::optional<TlbEntry>, TruthHash> truth_;
  std::uint64_t truth_generation_ = 0;
  // The current translation of `va` for `ctx` (nullopt: none), from truth_.
  const std::optional<TlbEntry>& current_truth(const PeContext& ctx, VirtAddr va);
};

}  // namespace tlbkit::sim
