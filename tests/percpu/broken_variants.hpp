// Deliberately broken variants of the concurrency building blocks, for the
// race tests only. Each reproduces one known bug (docs/KNOWN-BUGS.md)
// with the same interface the real type offers, so one scenario runs
// against both: the broken one must fail it, the real one must pass.
// Single-threaded: the tests drive the interleaving step by step.
#pragma once

#include <cstdint>

#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/plan/executor.hpp"
#include "tlbkit/percpu/deferred_flush.hpp"
#include "tlbkit/plan/plan.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/percpu/request_slots.hpp"

namespace tlbkit::test {

using maint::AddressSpace;
using percpu::CatchUp;
using percpu::FlushInProgress;
using percpu::FlushReach;
using percpu::FlushTicket;

// DSB ISHST; TLBI ASIDE1IS <asid> (the broken variants only serve EL1&0
// stage 1 without global entries).
inline void append_issue(const AddressSpace& space, Plan& plan) {
  (void)plan.append(arch::make_op(arch::Instr::dsb_ishst));
  (void)plan.append(arch::encode_asid(arch::Instr::aside1is, arch::Asid{space.asid}));
}

inline void append_dsb_ish(Plan& plan) { (void)plan.append(arch::make_op(arch::Instr::dsb_ish)); }

// Bug 3: one request slot shared by every vCPU (the HVF runner before its
// per-vCPU TLS slot). Any vCPU's drain takes whatever anyone staged.
class SharedSlotForTest {
 public:
  Status stage(unsigned /*cpu*/, const pt::Change& change) { return slot_.stage(change); }
  Result<percpu::StagedRequest> drain(unsigned /*cpu*/) { return slot_.drain(); }

 private:
  percpu::RequestSlot slot_;
};

// Bug 4: a "flush required" flag, cleared after the flush (x86 Linux
// try_to_unmap_flush() as described in the deferred-flush thread). A
// request made between the flush and the clear is lost; is_complete() then
// reports its page free to reuse.
class FlagFlushForTest {
 public:
  Result<CatchUp> activate(unsigned, const AddressSpace&, Executor&) { return CatchUp::none; }
  FlushTicket defer() {
    flush_required_ = true;
    return FlushTicket{1};
  }
  bool is_complete(FlushTicket) const { return !flush_required_; }
  Status flush(unsigned, const AddressSpace& space, Executor& executor) {
    if (!flush_required_) return ok_status();
    Plan plan;
    append_issue(space, plan);
    append_dsb_ish(plan);
    executor.execute(plan);
    flush_required_ = false;  // BUG: clears a request made during the flush
    return ok_status();
  }

 private:
  bool flush_required_ = false;
};

// Bug 5: defer() without the barrier between the generation bump and the
// read of the active-CPU set. What the missing barrier allows is modelled
// by splitting defer() into its two halves and letting the test run the
// read first: the load is satisfied before the bump is visible. activate()
// is the real one's logic.
class UnorderedDeferForTest {
 public:
  Result<CatchUp> activate(unsigned cpu, const AddressSpace& space, Executor& executor) {
    active_ |= std::uint64_t{1} << cpu;
    if (caught_up_[cpu] >= requested_) return CatchUp::none;
    Plan plan;
    (void)plan.append(arch::make_op(arch::Instr::dsb_ish));
    (void)plan.append(arch::encode_asid(arch::Instr::aside1, arch::Asid{space.asid}));
    (void)plan.append(arch::make_op(arch::Instr::dsb_nsh));
    (void)plan.append(arch::make_op(arch::Instr::isb));
    executor.execute(plan);
    caught_up_[cpu] = requested_;
    return CatchUp::local_flush;
  }
  Status deactivate(unsigned cpu) {
    active_ &= ~(std::uint64_t{1} << cpu);
    return ok_status();
  }
  // First half as the hardware may perform it: the read of the active set.
  std::uint64_t read_active_cpus() const { return active_; }
  // Second half: the bump, with the active set read earlier.
  FlushTicket bump(std::uint64_t active_seen) {
    ++requested_;
    return active_seen == 0 ? FlushTicket{0} : FlushTicket{requested_};
  }
  bool is_complete(FlushTicket t) const { return t.generation <= completed_; }

 private:
  std::uint64_t requested_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t active_ = 0;
  std::uint64_t caught_up_[64] = {};
};

// Bug 8: completion taken from a DSB on whatever PE the flushing thread
// runs on when it finishes (the thread migrated after issuing the TLBIs on
// another PE). finish_flush() publishes after its own DSB even though the
// TLBIs were issued elsewhere.
class DsbElsewhereFlushForTest {
 public:
  Result<CatchUp> activate(unsigned, const AddressSpace&, Executor&) { return CatchUp::none; }
  FlushTicket defer() { return FlushTicket{++requested_}; }
  Result<FlushInProgress> start_flush(unsigned cpu, const AddressSpace& space, Executor& executor) {
    Plan plan;
    append_issue(space, plan);
    executor.execute(plan);
    return FlushInProgress{requested_, cpu, FlushReach::inner_shareable};
  }
  Status finish_flush(const FlushInProgress& started, unsigned, const AddressSpace&,
                      Executor& executor) {
    Plan plan;
    append_dsb_ish(plan);  // BUG: on this PE, which may not be the issuer
    executor.execute(plan);
    if (started.generation > completed_) completed_ = started.generation;
    return ok_status();
  }
  bool is_complete(FlushTicket t) const { return t.generation <= completed_; }

 private:
  std::uint64_t requested_ = 0;
  std::uint64_t completed_ = 0;
};

}  // namespace tlbkit::test
