#include "tlbkit/percpu/deferred_flush.hpp"

#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::percpu {

using maint::GlobalEntries;

namespace {

using arch::Instr;

enum class Reach : std::uint8_t { this_pe, inner_shareable };

// The op that removes every entry of `space` from one PE or from all.
Result<arch::Op> whole_space_tlbi(const AddressSpace& space, Reach reach) {
  const bool broadcast = reach == Reach::inner_shareable;
  switch (space.regime) {
    case arch::Regime::el1_stage1:
      // ASIDE1 spares global entries; only VMALLE1 reaches them.
      if (space.global == GlobalEntries::present) {
        return arch::make_op(broadcast ? Instr::vmalle1is : Instr::vmalle1);
      }
      return arch::encode_asid(broadcast ? Instr::aside1is : Instr::aside1, arch::Asid{space.asid});
    case arch::Regime::el2_stage1: return arch::make_op(broadcast ? Instr::alle2is : Instr::alle2);
    case arch::Regime::stage2:
      // Combined stage 1+2 entries too: VMALLS12E1, as KVM does for a
      // whole-VMID flush.
      return arch::make_op(broadcast ? Instr::vmalls12e1is : Instr::vmalls12e1);
  }
  return Error{Errc::invalid_argument, "unknown regime"};
}

// DSB ISHST (the table writes reach the walkers) then the broadcast TLBI.
Status append_broadcast_issue(const AddressSpace& space, Plan& plan) {
  Status s = plan.append(arch::make_op(Instr::dsb_ishst));
  if (!s.ok()) return s;
  return plan.append(whole_space_tlbi(space, Reach::inner_shareable));
}

// A CPU's catch-up. DSB ISH first: the table writes it must see were made
// by other CPUs and observed through the generation; a full DSB orders them
// (barriers are cumulative) before the TLBI. DSB NSH completes a local TLBI;
// ISB so this PE's own next translations use the clean TLB.
Status append_local_catch_up(const AddressSpace& space, Plan& plan) {
  Status s = plan.append(arch::make_op(Instr::dsb_ish));
  if (s.ok()) s = plan.append(whole_space_tlbi(space, Reach::this_pe));
  if (s.ok()) s = plan.append(arch::make_op(Instr::dsb_nsh));
  if (s.ok()) s = plan.append(arch::make_op(Instr::isb));
  return s;
}

constexpr std::uint64_t cpu_bit(unsigned cpu) { return std::uint64_t{1} << cpu; }

constexpr Error no_such_cpu() { return Error{Errc::out_of_range, "CPU index beyond kMaxFlushCpus"}; }

}  // namespace

// Memory ordering of activate() and defer(): a store-buffering (Dekker)
// pair. defer() writes `requested_` then reads `active_cpus_`; activate()
// writes `active_cpus_` then reads `requested_`. All four accesses are
// seq_cst, so they sit in one total order: if defer()'s bump comes first,
// activate()'s later read sees the new generation and the CPU flushes
// locally before it translates; if activate()'s bit comes first, defer()'s
// later read sees the CPU and the ticket waits for a flush. Release/acquire
// is not enough: each read may be satisfied before the other side's write
// is visible (a store-load reordering that arm64 and x86 both allow), and
// then the CPU runs with a stale entry while the ticket says the page may
// be reused. That is the missing barrier between inc_mm_tlb_gen() and the
// mm_cpumask() read in Linux x86's batched-unmap path (docs/KNOWN-BUGS.md,
// bug 5). A seq_cst RMW followed by a seq_cst load is enough on both
// architectures: on arm64 the RMW releases (LDADDAL, or an LDAXR/STLXR loop)
// and the load is an LDAR, which the Armv8 memory model does not let pass
// an earlier release; on x86 the RMW is a LOCK-prefixed instruction, a full
// barrier. An explicit seq_cst fence between a plain store and load would do
// too, but ThreadSanitizer does not support fences.

Result<CatchUp> DeferredFlush::activate(unsigned cpu, const AddressSpace& space,
                                        Executor& executor) {
  if (cpu >= kMaxFlushCpus) return no_such_cpu();
  active_cpus_.fetch_or(cpu_bit(cpu), std::memory_order_seq_cst);
  const std::uint64_t requested = requested_.load(std::memory_order_seq_cst);
  if (caught_up_[cpu].load(std::memory_order_relaxed) >= requested) return CatchUp::none;
  Plan plan;
  const Status s = append_local_catch_up(space, plan);
  if (!s.ok()) return s.error();
  executor.execute(plan);
  caught_up_[cpu].store(requested, std::memory_order_relaxed);
  return CatchUp::local_flush;
}

Status DeferredFlush::deactivate(unsigned cpu) {
  if (cpu >= kMaxFlushCpus) return no_such_cpu();
  active_cpus_.fetch_and(~cpu_bit(cpu), std::memory_order_seq_cst);
  return ok_status();
}

FlushTicket DeferredFlush::defer() {
  // Both seq_cst: see the note above activate(). The RMW also releases the
  // caller's table writes to whoever reads this generation.
  const std::uint64_t generation = requested_.fetch_add(1, std::memory_order_seq_cst) + 1;
  if (active_cpus_.load(std::memory_order_seq_cst) == 0) {
    // No CPU translates with the space; each one flushes locally in
    // activate() before it does again (x86 Linux's lazy-TLB rule).
    return FlushTicket{0};
  }
  return FlushTicket{generation};
}

Result<FlushInProgress> DeferredFlush::start_flush(unsigned cpu, const AddressSpace& space,
                                                   Executor& executor) {
  if (cpu >= kMaxFlushCpus) return no_such_cpu();
  // Snapshot first: every change with a ticket up to `generation` wrote its
  // tables before its bump, so the TLBIs issued below come after those
  // writes. Later requests are not covered and stay pending (no lost
  // flush, bug 4).
  const std::uint64_t generation = requested_.load(std::memory_order_seq_cst);
  FlushInProgress started{generation, cpu, FlushReach::none};
  if (generation <= completed_.load(std::memory_order_acquire)) return started;
  // A CPU inactive now either catches up at its next activate() or, if it
  // activates after this read, sees at least `generation` there.
  if (active_cpus_.load(std::memory_order_seq_cst) == 0) return started;
  Plan plan;
  const Status s = append_broadcast_issue(space, plan);
  if (!s.ok()) return s.error();
  executor.execute(plan);
  started.reach = FlushReach::inner_shareable;
  return started;
}

Status DeferredFlush::finish_flush(const FlushInProgress& started, unsigned cpu,
                                   const AddressSpace& space, Executor& executor) {
  if (cpu >= kMaxFlushCpus) return no_such_cpu();
  if (started.reach == FlushReach::inner_shareable) {
    Plan plan;
    if (cpu != started.issuer) {
      // The TLBIs are in flight on the issuer; this PE's DSB does not wait
      // for them (bug 8). Issue them here so this PE's DSB completes them.
      const Status s = append_broadcast_issue(space, plan);
      if (!s.ok()) return s;
    }
    const Status s = plan.append(arch::make_op(Instr::dsb_ish));
    if (!s.ok()) return s;
    executor.execute(plan);
  }
  publish(started.generation);
  return ok_status();
}

Status DeferredFlush::flush(unsigned cpu, const AddressSpace& space, Executor& executor) {
  const Result<FlushInProgress> started = start_flush(cpu, space, executor);
  if (!started.ok()) return started.error();
  return finish_flush(*started, cpu, space, executor);
}

void DeferredFlush::publish(std::uint64_t generation) {
  // Monotonic maximum: a slower flusher with an older snapshot must not
  // move the completed generation back.
  std::uint64_t current = completed_.load(std::memory_order_relaxed);
  while (current < generation &&
         !completed_.compare_exchange_weak(current, generation, std::memory_order_release,
                                           std::memory_order_relaxed)) {
  }
}

Status DeferredFreeList::retire(FlushTicket ticket, arch::PhysAddr page) {
  if (count_ == storage_.size()) return Error{Errc::no_memory, "deferred free list is full"};
  storage_[count_++] = RetiredPage{ticket, page};
  return ok_status();
}

std::size_t DeferredFreeList::release_completed(const DeferredFlush& flush, PageReleaser& releaser) {
  std::size_t kept = 0;
  std::size_t released = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (flush.is_complete(storage_[i].ticket)) {
      releaser.release(storage_[i].page);
      ++released;
    } else {
      storage_[kept++] = storage_[i];
    }
  }
  count_ = kept;
  return released;
}

}  // namespace tlbkit::percpu
