#include "tlbkit/maint/gather.hpp"

#include <algorithm>

namespace tlbkit::maint {

Gather::Gather(const AddressSpace& space, const arch::CpuFeatures& features, const Policy& policy,
               Executor& executor, pt::TableMemory& memory, PageSink* pages)
    : space_(space),
      features_(features),
      policy_(policy),
      executor_(executor),
      memory_(memory),
      page_sink_(pages) {}

// A destructor has no one to report to: when this finish() fails, what the
// Gather holds is leaked (finish() frees nothing then), which is the safe
// outcome for memory a TLB may still reach. A Gather that holds nothing (its
// owner has called finish()) is left as it is: finish() would run no plan and
// free nothing.
Gather::~Gather() {
  const bool holds_nothing = ranges_.empty() && coverage_ == Coverage::exact && exec_ == ExecGain::no &&
                             clean_.empty() && retired_.empty() && held_.empty();
  if (!holds_nothing) (void)finish();
}

void Gather::note_clean(PhysAddr pa, std::uint64_t size) {
  if (!clean_.empty()) {
    PhysRange& last = clean_.back();
    if (last.pa + last.size == pa) {
      last.size += size;
      return;
    }
  }
  if (clean_.full() && !flush().ok()) {
    // The early finish ran nothing and the list is still full: widen the
    // last range to cover this one too (it must not be lost; cleaning
    // memory that needs none only costs time).
    PhysRange& last = clean_.back();
    const PhysAddr lo = std::min(last.pa, pa);
    const PhysAddr hi = std::max(last.pa + last.size, pa + size);
    last = PhysRange{lo, hi - lo};
    return;
  }
  clean_.push_back(PhysRange{pa, size});
}

void Gather::invalidate_now(const Change& change) {
  const PendingRange range{change.va, change.size, change.level, change.entry, change.beneath};
  Pending now;
  now.ranges = std::span<const PendingRange>(&range, 1);
  now.exec = change.exec;
  const Status ran = run(now);
  if (!ran.ok()) {
    // The old entries may still be cached when the engine writes the new
    // descriptor: the break-before-make sequence is broken, and the next
    // finish() says so. Until then the range stays pending, so the next plan
    // that runs invalidates it.
    defer_error(ran.error());
    Change pending = change;
    pending.kind = ChangeKind::unmap;  // needs invalidation whatever it was
    pending.cmo = CacheMaintenance::none;
    record(pending);
  }
  // Cleaning may wait for the batch: the memory is not reused before it.
  if (change.cmo == CacheMaintenance::clean_invalidate) note_clean(change.output, change.size);
}

void Gather::retire_table(PhysAddr table, unsigned pages) {
  if (retired_.full() && !flush().ok()) {
    // Nowhere to hold it and no plan could run: never free it.
    ++tables_leaked_;
    defer_error(Error{Errc::out_of_range,
                      "a retired table could not be held (the early flush failed): it was leaked, not freed"});
    return;
  }
  retired_.push_back(Retired{table, pages});
}

Status Gather::free_after_flush(PhysAddr pa, std::uint64_t size) {
  constexpr std::uint64_t kPage = 4096;
  if (page_sink_ == nullptr) return Error{Errc::invalid_argument, "this gather has no page sink to release pages to"};
  if (size == 0 || size % kPage != 0 || pa % kPage != 0) {
    return Error{Errc::invalid_argument, "pages to free must be whole, aligned 4 KiB pages"};
  }
  if (!held_.empty()) {
    PhysRange& last = held_.back();
    if (last.pa + last.size == pa) {
      last.size += size;
      return ok_status();
    }
  }
  if (held_.full()) {
    const Status flushed = flush();
    if (!flushed.ok()) return flushed;
  }
  held_.push_back(PhysRange{pa, size});
  return ok_status();
}

void Gather::start_overflow() {
  close_open_range();
  overflow_ = Extent{};
  for (const PendingRange& r : ranges_.items()) {
    Change c;
    c.va = r.va;
    c.size = r.size;
    c.level = r.level;
    c.entry = r.entry;
    extend_overflow(c);
  }
}

bool Gather::continues_call(const CallSpan& call) const {
  if (call.kind != call_.kind) return false;
  if (call.kind == CallKind::reclaim) return true;  // one reclaimer's batch: any ranges
  return call.start <= call_.end && call_.start <= call.end;
}

void Gather::note_call(const CallSpan& call) {
  if (!call_noted_) {
    call_ = call;
    call_noted_ = true;
    return;
  }
  if (call_.kind == CallKind::unknown) return;
  if (!continues_call(call)) {
    call_ = CallSpan{};  // changes of several calls
    return;
  }
  call_.start = std::min(call_.start, call.start);
  call_.end = std::max(call_.end, call.end);
}

Pending Gather::pending() const {
  close_open_range();
  Pending p;
  p.ranges = ranges_.items();
  p.coverage = coverage_;
  p.exec = exec_;
  p.clean = clean_.items();
  // A teardown is no overflow: it covers the whole space whatever was seen.
  if (coverage_ == Coverage::everything && whole_space_ == WholeSpace::until_flush) p.overflowed = overflow_;
  p.call = call_;
  return p;
}

Status Gather::run(const Pending& pending) {
  Plan plan;
  if (!policy_.plan(pending, space_, features_, plan).ok()) {
    // The precise plan did not fit: invalidate the whole address space.
    plan.clear();
    Pending everything = pending;
    everything.coverage = Coverage::everything;
    everything.ranges = {};
    everything.overflowed = Extent{};
    const Status wide = policy_.plan(everything, space_, features_, plan);
    if (!wide.ok()) return wide;
  }
  if (plan.empty()) return ok_status();
  executor_.execute(plan);
  ++plans_executed_;
  return ok_status();
}

// Flattened: flush(), pending() and run() inline into the call a batch ends with.
[[gnu::flatten]] Status Gather::finish() {
  const Status flushed = flush();
  if (!flushed.ok()) return flushed;
  whole_space_ = WholeSpace::until_flush;
  coverage_ = Coverage::exact;
  const Status deferred = deferred_error_;
  deferred_error_ = ok_status();
  return deferred;
}

Status Gather::flush() {
  const Pending work = pending();
  if (!work.empty() || !retired_.empty() || !held_.empty()) {
    // Retired tables without a recorded change cannot happen with the
    // engine (each unhook is recorded), but freeing still waits for a plan.
    const Status ran = run(work);
    if (!ran.ok()) return ran;  // nothing ran: everything stays held
  }
  for (const Retired& r : retired_.items()) {
    memory_.free(r.table, r.pages);
    ++tables_freed_;
  }
  for (const PhysRange& r : held_.items()) {
    page_sink_->release(r.pa, r.size);
    pages_released_ += r.size / 4096;
  }
  retired_.clear();
  held_.clear();
  ranges_.clear();
  open_end_ = kNoOpenRange;
  clean_.clear();
  coverage_ = whole_space_ == WholeSpace::until_finish ? Coverage::everything : Coverage::exact;
  overflow_ = Extent{};
  call_ = CallSpan{};
  call_noted_ = false;
  exec_ = ExecGain::no;
  return ok_status();
}

}  // namespace tlbkit::maint
