// What a maintenance policy sees and promises: the gathered invalidation
// work of one address space in, a plan out.
#pragma once

#include <cstdint>
#include <span>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/arch/regime.hpp"
#include "tlbkit/plan/plan.hpp"
#include "tlbkit/pt/change.hpp"

namespace tlbkit::maint {

// The words of the layers below that every policy speaks.
using arch::ChangeKind;
using arch::ExecGain;
using arch::Op;
using arch::PhysAddr;
using arch::VirtAddr;
using pt::Beneath;
using pt::CacheMaintenance;
using pt::Change;
using pt::ChangeSink;
using pt::EntryKind;

enum class GlobalEntries : std::uint8_t { absent, present };

// Which PEs may hold the space's translations, as its kernel tracks them:
// the PEs that loaded the space's context (its ASID or VMID) since it got
// it (Linux x86's mm_cpumask, FreeBSD's pm_active). Sound only when the
// tables are walked with TTBR.CnP = 0: with Common not Private, one PE's
// TLB may serve another's walks.
enum class Holders : std::uint8_t {
  any_pe,           // unknown, or other PEs too: the maintenance must be broadcast
  issuing_pe_only,  // no PE but the one that runs the plan: local ops suffice
};
struct Reach {
  static constexpr std::uint16_t kEveryPe = 0xFFFF;
  Holders holders = Holders::any_pe;
  // How many PEs may hold entries (an over-wide invalidation costs refills
  // on each); kEveryPe when unknown: the whole domain.
  std::uint16_t pes = kEveryPe;
  friend constexpr bool operator==(const Reach&, const Reach&) = default;
};

// The address space a batch of changes belongs to. Stage-2 and EL1 ops act
// on the current VMID: the executor runs with `vmid` loaded.
struct AddressSpace {
  arch::Regime regime = arch::Regime::el1_stage1;
  std::uint16_t asid = 0;  // EL1&0 stage 1 only
  std::uint16_t vmid = 0;
  // Whether the space holds global (nG = 0) stage-1 entries: an ASID-wide
  // invalidation does not remove those.
  GlobalEntries global = GlobalEntries::absent;
  // Data-cache maintenance works on virtual addresses: the executing
  // regime's address of physical page P is P + linear_map_offset.
  std::uint64_t linear_map_offset = 0;
  // Where its translations may be cached; the default (any PE) is always
  // correct.
  Reach reach;
};

// Physical memory to clean and invalidate from the data caches.
struct PhysRange {
  PhysAddr pa = 0;
  std::uint64_t size = 0;
  friend constexpr bool operator==(const PhysRange&, const PhysRange&) = default;
};

// Input addresses whose cached entries must go, with what may be cached.
struct PendingRange {
  VirtAddr va = 0;
  std::uint64_t size = 0;
  std::uint8_t level = 0;  // level of the changed descriptors
  EntryKind entry = EntryKind::leaf;
  // Table entries: whether only their walk-cache entries are owed (every
  // translation below was reported in a range of its own; pt::Beneath).
  Beneath beneath = Beneath::unseen;
  friend constexpr bool operator==(const PendingRange&, const PendingRange&) = default;
};

// Whether the ranges list everything, or overflowed so that everything in
// the address space must be treated as changed.
enum class Coverage : std::uint8_t { exact, everything };

// Where the changes of an overflowed batch lie (Coverage::everything when
// the list of ranges was full, not a whole-space teardown): the smallest
// input range holding every change recorded, and the levels of the
// descriptors that changed. Linux's mmu_gather keeps exactly this (a
// bounding box and the cleared_* levels) and flushes by it.
struct Extent {
  VirtAddr start = 0;
  VirtAddr end = 0;               // start == end: nothing known (a teardown, or no overflow)
  std::uint8_t leaf_levels = 0;   // bit L: a leaf descriptor at level L changed
  std::uint8_t table_levels = 0;  // bit L: a table descriptor at level L changed
  bool empty() const { return start == end; }
  friend constexpr bool operator==(const Extent&, const Extent&) = default;
};

// The kernel call whose changes a batch holds, as the kernel noted it
// (Gather::note_call): Linux up to 5.x flushes an mprotect's whole
// requested range, not only what changed; Linux's page reclaim flushes per
// page (5.4) or defers its TLBIs to one DSB for the batch (6.5+).
enum class CallKind : std::uint8_t {
  unknown,  // not noted, or the batch holds changes of several calls
  unmap,    // munmap, madvise(DONTNEED), a replacing mmap: entries cleared
  protect,  // mprotect: entries' permissions changed
  // Page reclaim (try_to_unmap of the pages present in a range, frames
  // freed after the flush): entries cleared. Reclaim calls gathered in one
  // batch stay one reclaim call, whatever their ranges: a reclaimer defers
  // all its pages to one flush. A policy that does not model reclaim treats
  // it as it treated unnoted batches (unknown).
  reclaim,
};
struct CallSpan {
  CallKind kind = CallKind::unknown;
  VirtAddr start = 0;  // the input range the call named (within one VMA
  VirtAddr end = 0;    // when the policy flushes per VMA)
  friend constexpr bool operator==(const CallSpan&, const CallSpan&) = default;
};

// Where the system a policy models runs the maintenance a kernel call
// gathered.
enum class FlushPoint : std::uint8_t {
  per_call,  // once, when the call's table changes are done (a syscall, a fault, a pmap call)
  per_vma,   // also at the end of each VMA the call changed: Linux's mmu_gather (tlb_end_vma)
};

// The invalidation work gathered from one or more operations.
struct Pending {
  std::span<const PendingRange> ranges;
  Coverage coverage = Coverage::exact;
  ExecGain exec = ExecGain::no;  // I-cache maintenance is due
  // Memory that must be cleaned and invalidated (DC CIVAC per line) after
  // the invalidation completes and before it is reused.
  std::span<const PhysRange> clean;
  // With Coverage::everything from an overflow: where the changes lie.
  Extent overflowed;
  // The call that made the changes, when the kernel said.
  CallSpan call;

  bool needs_invalidation() const { return coverage == Coverage::everything || !ranges.empty(); }
  bool empty() const { return !needs_invalidation() && exec == ExecGain::no && clean.empty(); }
  bool tables_changed() const {
    for (const PendingRange& r : ranges) {
      if (r.entry == EntryKind::table) return true;
    }
    return false;
  }
};

class Policy {
 public:
  // Appends to `plan` the operations that make `pending` safe on a CPU with
  // `features`: when the plan has run, no TLB of any PE holds an entry for a
  // pending range of `space`, the memory in `pending.clean` has been cleaned
  // and invalidated to the point of coherency after that, and with exec
  // gained the instruction caches hold nothing stale. The plan runs on one
  // PE; a policy may rely on `space.reach` (when it says only that PE may
  // hold entries, local operations suffice) or ignore it and broadcast.
  // # Errors
  // out_of_range: the plan has no room (the plan is then partial: discard it).
  virtual Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                      Plan& plan) const = 0;

  // Where the kernel should end a batch and ask for its plan: per call
  // unless the modelled system flushes more often.
  virtual FlushPoint flush_point() const { return FlushPoint::per_call; }

 protected:
  ~Policy() = default;
};

}  // namespace tlbkit::maint
