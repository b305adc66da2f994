#include "tlbkit/percpu/asid_allocator.hpp"

#include <bit>

namespace tlbkit::percpu {
namespace {

using arch::Instr;
using arch::Op;

constexpr std::array<Op, 4> kAsidLocalFlush{{
    {Instr::dsb_nsh, 0}, {Instr::vmalle1, 0}, {Instr::dsb_nsh, 0}, {Instr::isb, 0}}};
constexpr std::array<Op, 4> kVmidLocalFlush{{
    {Instr::dsb_nsh, 0}, {Instr::alle1, 0}, {Instr::dsb_nsh, 0}, {Instr::isb, 0}}};

}  // namespace

std::span<const Op> local_flush_ops(IdKind kind) {
  return kind == IdKind::vmid ? std::span<const Op>(kVmidLocalFlush)
                              : std::span<const Op>(kAsidLocalFlush);
}

Status append_local_flush(IdKind kind, Plan& plan) {
  for (const Op& op : local_flush_ops(kind)) {
    const Status s = plan.append(op);
    if (!s.ok()) return s;
  }
  return ok_status();
}

IdAllocatorCore::IdAllocatorCore(IdWidth width, IdKind kind, std::span<PerCpuIds> cpus)
    : width_(width),
      kind_(kind),
      cpus_(cpus),
      generation_(std::uint64_t{1} << static_cast<unsigned>(width)) {
  set(kNoId);
}

Result<SwitchResult> IdAllocatorCore::switch_to(unsigned cpu, IdContext& context) {
  if (cpu >= cpus_.size()) return Error{Errc::out_of_range, "no such CPU"};
  if (cpus_.size() >= usable_ids()) {
    return Error{Errc::unsupported, "more CPUs than ids to reserve at rollover"};
  }
  PerCpuIds& me = cpus_[cpu];

  // Fast path, lock-free: the context's id is of the current generation and
  // this CPU's active slot is not 0. All relaxed, as in Linux: the
  // compare-exchange on the slot is ordered against a rollover's exchange
  // on that same slot (RMWs on one location are totally ordered), so either
  // - the rollover's exchange came first: the slot is 0, the
  //   compare-exchange fails and we take the lock, which synchronises with
  //   the rollover (new generation, flush pending); or
  // - ours came first: the rollover reads our id from the slot and keeps
  //   it reserved for this CPU, so no one else gets it in the new
  //   generation, and this CPU flushes at its next switch.
  // A stale read of the generation or of the context only sends us to the
  // slow path. The slot-is-0 test is the fix for "replacing an active slot
  // that is already 0" (docs/ARCHITECTURE-FACTS.md section 6): a 0 slot means a rollover
  // happened since this CPU last switched; writing our old-generation id
  // into it would resurrect that id after the rollover had decided what to
  // reserve.
  std::uint64_t context_id = context.value.load(std::memory_order_relaxed);
  std::uint64_t old_active = me.active.load(std::memory_order_relaxed);
  if (old_active != 0 &&
      same_generation(context_id, generation_.load(std::memory_order_relaxed)) &&
      me.active.compare_exchange_strong(old_active, context_id, std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {
    return SwitchResult{id_of(context_id), context_id, LocalFlush::none};
  }
  return switch_slow(me, context);
}

SwitchResult IdAllocatorCore::switch_slow(PerCpuIds& me, IdContext& context) {
  SpinLockGuard guard(lock_);
  std::uint64_t context_id = context.value.load(std::memory_order_relaxed);
  if (!same_generation(context_id, generation_.load(std::memory_order_relaxed))) {
    context_id = new_context_id(context_id);
    context.value.store(context_id, std::memory_order_relaxed);
  }
  const LocalFlush flush = me.flush_pending ? LocalFlush::all_ids : LocalFlush::none;
  me.flush_pending = false;
  me.active.store(context_id, std::memory_order_relaxed);
  return SwitchResult{id_of(context_id), context_id, flush};
}

// Under the lock. A context of an older generation (or none: 0) gets an id
// of the current one: its old id if some CPU kept it reserved or it is
// still free, else the next free id, rolling over when there is none.
std::uint64_t IdAllocatorCore::new_context_id(std::uint64_t old_context_id) {
  std::uint64_t generation_bits = generation_.load(std::memory_order_relaxed);
  if (old_context_id != 0) {
    const std::uint32_t old_id = id_of(old_context_id);
    const std::uint64_t renewed = generation_bits | old_id;
    // Running on some CPU across a rollover: keep the id it runs with, so
    // broadcast TLBIs for the space keep reaching those entries.
    if (update_reserved(old_context_id, renewed)) return renewed;
    // Free in the new generation: keep it (no need to touch a new id).
    if (!test_and_set(old_id)) return renewed;
  }
  std::uint32_t id = find_free_from(next_search_);
  if (id == kNoId) {
    generation_bits = roll_over();
    id = find_free_from(1);  // at least one: more ids than CPUs
  }
  set(id);
  next_search_ = id;
  return generation_bits | id;
}

// Under the lock. Every CPU that kept `old_context_id` reserved now keeps
// the same id in the current generation.
bool IdAllocatorCore::update_reserved(std::uint64_t old_context_id, std::uint64_t new_context_id) {
  bool hit = false;
  for (PerCpuIds& cpu : cpus_) {
    if (cpu.reserved == old_context_id) {
      cpu.reserved = new_context_id;
      hit = true;
    }
  }
  return hit;
}

// Under the lock. Starts a new generation: only the ids CPUs are running
// stay taken (reserved for them), and every CPU must flush locally before
// its next id. Returns the new generation << bits.
std::uint64_t IdAllocatorCore::roll_over() {
  const std::uint64_t step = std::uint64_t{1} << bits();
  const std::uint64_t generation_bits =
      generation_.fetch_add(step, std::memory_order_relaxed) + step;
  taken_.fill(0);
  set(kNoId);
  for (PerCpuIds& cpu : cpus_) {
    std::uint64_t running = cpu.active.exchange(0, std::memory_order_relaxed);
    // Slot already 0: this CPU has not switched since an earlier rollover
    // and still runs the id reserved for it then. Keep that one; taking
    // the 0 would free an id in use (the Linux fix for this race).
    if (running == 0) running = cpu.reserved;
    set(id_of(running));
    cpu.reserved = running;
    cpu.flush_pending = true;
  }
  return generation_bits;
}

// Under the lock. The lowest free id in [first, 2^bits), or kNoId.
std::uint32_t IdAllocatorCore::find_free_from(std::uint32_t first) const {
  const std::uint32_t end = usable_ids() + 1;
  for (std::uint32_t id = first; id < end;) {
    const std::uint64_t word = taken_[id / 64];
    const std::uint64_t free_here = ~word >> (id % 64);
    if (free_here != 0) {
      const std::uint32_t found = id + static_cast<std::uint32_t>(std::countr_zero(free_here));
      return found < end ? found : kNoId;
    }
    id = (id / 64 + 1) * 64;
  }
  return kNoId;
}

bool IdAllocatorCore::test_and_set(std::uint32_t id) {
  const std::uint64_t bit = std::uint64_t{1} << (id % 64);
  const bool was = (taken_[id / 64] & bit) != 0;
  taken_[id / 64] |= bit;
  return was;
}

void IdAllocatorCore::set(std::uint32_t id) { taken_[id / 64] |= std::uint64_t{1} << (id % 64); }

}  // namespace tlbkit::percpu
