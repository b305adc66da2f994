// Per-CPU request slots: TLB maintenance staged by the CPU that changed the
// tables and run by that same CPU at its next boundary (return from a trap,
// a syscall epilogue, a vCPU exit), merged so one boundary pays for many
// changes.
//
// Why per CPU (docs/KNOWN-BUGS.md, bug 3): the HVF-based Linux-binary
// runner (background doc) first staged requests in one guest-wide slot.
// vCPU B's syscall epilogue could then drain the request vCPU A had staged
// before A returned to EL0; A found its slot empty, returned, and used the
// stale translation until B's broadcast TLBI caught up. The fix there was a
// per-vCPU thread-local slot that only its own thread reads, clears or
// drains; this type is that design with a fixed capacity.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tlbkit/core/error.hpp"
#include "tlbkit/arch/features.hpp"
#include "tlbkit/plan/executor.hpp"
#include "tlbkit/pt/change.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::percpu {

using maint::AddressSpace;
using maint::Change;
using maint::Coverage;
using maint::ExecGain;
using maint::Pending;
using maint::PendingRange;
using maint::PhysRange;
using maint::Policy;

// Distinct ranges one slot keeps before it gives up and asks for everything.
inline constexpr std::size_t kSlotRanges = 8;
// Distinct physical ranges awaiting data-cache maintenance one slot keeps.
// Cleaning cannot widen to "everything", so a full list refuses the change.
inline constexpr std::size_t kSlotCleanRanges = 8;

// The merged invalidation work one CPU staged: sorted, non-touching ranges
// per (level, entry kind, what is owed beneath a table), or "everything"
// after an overflow; whether some change gained execute permission (I-cache
// maintenance due); and the memory to clean and invalidate from the data
// caches (sorted, merged).
// Thread safety: a value; no sharing.
class StagedRequest {
 public:
  // The request as a Policy takes it. The span points into this object.
  Pending pending() const;

  std::span<const PendingRange> ranges() const { return {ranges_.data(), count_}; }
  Coverage coverage() const { return coverage_; }
  ExecGain exec() const { return exec_; }
  std::span<const PhysRange> clean() const { return {clean_.data(), clean_count_}; }
  // Nothing to do: no range, no overflow, no execute gain, nothing to clean.
  bool empty() const { return pending().empty(); }

 private:
  friend class RequestSlot;

  // Adds `range` (nothing when its size is 0), merging it with every range
  // of the same level, entry kind and beneath it overlaps or abuts; when no
  // room is left the request becomes "everything".
  void add(const PendingRange& range);

  // Adds `range` (nothing when its size is 0) to the clean list, merged
  // with what it overlaps or abuts.
  // # Errors
  // out_of_range: it merges with nothing and the list is full; unchanged.
  Status add_clean(const PhysRange& range);

  std::array<PendingRange, kSlotRanges> ranges_{};
  std::size_t count_ = 0;
  Coverage coverage_ = Coverage::exact;
  ExecGain exec_ = ExecGain::no;
  std::array<PhysRange, kSlotCleanRanges> clean_{};
  std::size_t clean_count_ = 0;
};

// One CPU's slot.
// Thread safety: owned by one CPU. stage() and drain() run only on that CPU
// and never concurrently with each other (a kernel disables preemption, or
// interrupts if a handler may stage, around them). No atomics: ownership,
// not synchronisation, is what keeps other CPUs out.
class RequestSlot {
 public:
  // Stages what `change` needs: its range if it needs invalidation
  // (arch::needs_invalidation), its exec gain, and its output memory when
  // it asks for data-cache maintenance. A map or relax with neither stages
  // nothing. Too many ranges widen to everything.
  // # Errors
  // out_of_range: the change needs cleaning and the clean list is full;
  // nothing of it is staged. Drain and run the slot now (this CPU may cross
  // its boundary early), then stage the change again.
  Status stage(const Change& change);

  // Stages one range (ignored when size is 0) and an exec gain.
  void stage(const PendingRange& range, ExecGain exec);

  // Stages "invalidate everything in the address space".
  void stage_everything(ExecGain exec);

  // Returns the staged request and empties this slot (only this one).
  StagedRequest drain();

  // The staged request, left in place.
  const StagedRequest& peek() const { return request_; }

 private:
  StagedRequest request_;
};

// One slot per CPU for one address space (one guest's stage 1 in an
// HVF-style runner, one VM's stage 2 in a hypervisor).
// Thread safety: stage(cpu, ...) and drain(cpu) for different CPUs may run
// concurrently; for one CPU they must run on that CPU, one at a time (see
// RequestSlot). The slots sit on separate cache lines.
template <std::size_t kCpus>
class RequestSlots {
  static_assert(kCpus > 0, "at least one CPU");

 public:
  static constexpr std::size_t cpus() { return kCpus; }

  // Called by CPU `cpu` after it changed the tables (it will reach a
  // boundary before its next use of the changed addresses).
  // # Errors
  // out_of_range: cpu >= kCpus, or the clean list is full (see
  // RequestSlot::stage); nothing staged.
  Status stage(unsigned cpu, const Change& change) {
    if (cpu >= kCpus) return Error{Errc::out_of_range, "no such CPU"};
    return slots_[cpu].slot.stage(change);
  }

  // As stage(cpu, change) for "everything in the address space".
  Status stage_everything(unsigned cpu, ExecGain exec) {
    if (cpu >= kCpus) return Error{Errc::out_of_range, "no such CPU"};
    slots_[cpu].slot.stage_everything(exec);
    return ok_status();
  }

  // Called by CPU `cpu` at its boundary: returns what it staged, merged,
  // and clears its slot only. Run the result on this same CPU
  // (run_staged_request) before it next uses the changed addresses.
  // # Errors
  // out_of_range: cpu >= kCpus.
  Result<StagedRequest> drain(unsigned cpu) {
    if (cpu >= kCpus) return Error{Errc::out_of_range, "no such CPU"};
    return slots_[cpu].slot.drain();
  }

  // What CPU `cpu` has staged (tests, statistics). Same thread rule as drain.
  // Precondition: cpu < kCpus.
  const StagedRequest& peek(unsigned cpu) const { return slots_[cpu].slot.peek(); }

 private:
  // One cache line per slot: CPUs stage and drain in parallel without
  // sharing lines.
  struct alignas(64) PerCpu {
    RequestSlot slot;
  };
  std::array<PerCpu, kCpus> slots_{};
};

// Turns a drained request into a plan with `policy` and runs it on the
// draining CPU's `executor`. When the precise plan does not fit, the whole
// address space is invalidated instead (as Gather does). Nothing runs for an
// empty request.
// # Errors
// The policy's error when even the address-space-wide plan cannot be built;
// nothing was executed then.
Status run_staged_request(const StagedRequest& request, const AddressSpace& space,
                          const arch::CpuFeatures& features, const Policy& policy,
                          Executor& executor);

}  // namespace tlbkit::percpu
