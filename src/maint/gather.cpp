#include "tlbkit/maint/gather.hpp"

namespace tlbkit::maint {

Gather::Gather(const AddressSpace& space, const arch::CpuFeatures& features, const Policy& policy,
               exec::Executor& executor, pt::TableMemory& memory)
    : space_(space), features_(features), policy_(policy), executor_(executor), memory_(memory) {}

Gather::~Gather() { (void)finish(); }

void Gather::note_clean(PhysAddr pa, std::uint64_t size) {
  if (!clean_.empty()) {
    PhysRange& last = clean_.back();
    if (last.pa + last.size == pa) {
      last.size += size;
      return;
    }
  }
  if (clean_.full()) (void)finish();
  clean_.push_back(PhysRange{pa, size});
}

void Gather::invalidate_now(const Change& change) {
  const PendingRange range{change.va, change.size, change.level, change.entry};
  Pending now;
  now.ranges = std::span<const PendingRange>(&range, 1);
  now.exec = change.exec;
  run(now);
  // Cleaning may wait for the batch: the memory is not reused before it.
  if (change.cmo == CacheMaintenance::clean_invalidate) note_clean(change.output, change.size);
}

void Gather::retire_table(PhysAddr table, unsigned pages) {
  if (retired_.full()) (void)finish();
  retired_.push_back(Retired{table, pages});
}

Pending Gather::pending() const {
  close_open_range();
  Pending p;
  p.ranges = ranges_.items();
  p.coverage = coverage_;
  p.exec = exec_;
  p.clean = clean_.items();
  return p;
}

void Gather::run(const Pending& pending) {
  Plan plan;
  if (!policy_.plan(pending, space_, features_, plan).ok()) {
    // The precise plan did not fit: invalidate the whole address space.
    plan.clear();
    Pending everything = pending;
    everything.coverage = Coverage::everything;
    everything.ranges = {};
    (void)policy_.plan(everything, space_, features_, plan);
  }
  if (plan.empty()) return;
  executor_.execute(plan);
  ++plans_executed_;
}

Status Gather::finish() {
  const Pending work = pending();
  if (!work.empty() || !retired_.empty()) {
    // Retired tables without a recorded change cannot happen with the
    // engine (each unhook is recorded), but freeing still waits for a plan.
    run(work);
  }
  for (const Retired& r : retired_.items()) {
    memory_.free(r.table, r.pages);
    ++tables_freed_;
  }
  retired_.clear();
  ranges_.clear();
  clean_.clear();
  coverage_ = Coverage::exact;
  exec_ = ExecGain::no;
  return ok_status();
}

}  // namespace tlbkit::maint
