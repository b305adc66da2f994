#include "tlbkit/maint/gather.hpp"

namespace tlbkit::maint {

Gather::Gather(const AddressSpace& space, const arch::CpuFeatures& features, const Policy& policy,
               exec::Executor& executor, pt::TableMemory& memory)
    : space_(space), features_(features), policy_(policy), executor_(executor), memory_(memory) {}

Gather::~Gather() { (void)finish(); }

void Gather::note_clean(PhysAddr pa, std::uint64_t size) {
  if (clean_count_ > 0) {
    PhysRange& last = clean_[clean_count_ - 1];
    if (last.pa + last.size == pa) {
      last.size += size;
      return;
    }
  }
  if (clean_count_ == kMaxCleanRanges) (void)finish();
  clean_[clean_count_++] = PhysRange{pa, size};
}

void Gather::record(const Change& change) {
  if (change.exec == ExecGain::yes) exec_ = ExecGain::yes;
  if (change.cmo == CacheMaintenance::clean_invalidate) note_clean(change.output, change.size);
  if (!arch::needs_invalidation(change.kind) || coverage_ == Coverage::everything) return;
  if (range_count_ > 0) {
    PendingRange& last = ranges_[range_count_ - 1];
    if (last.level == change.level && last.entry == change.entry && last.va + last.size == change.va) {
      last.size += change.size;
      return;
    }
  }
  if (range_count_ == kMaxRanges) {
    coverage_ = Coverage::everything;
    return;
  }
  ranges_[range_count_++] = PendingRange{change.va, change.size, change.level, change.entry};
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
  if (retired_count_ == kMaxRetired) (void)finish();
  retired_[retired_count_++] = Retired{table, pages};
}

Pending Gather::pending() const {
  Pending p;
  p.ranges = std::span<const PendingRange>(ranges_.data(), range_count_);
  p.coverage = coverage_;
  p.exec = exec_;
  p.clean = std::span<const PhysRange>(clean_.data(), clean_count_);
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
  if (!work.empty() || retired_count_ > 0) {
    // Retired tables without a recorded change cannot happen with the
    // engine (each unhook is recorded), but freeing still waits for a plan.
    run(work);
  }
  for (std::size_t i = 0; i < retired_count_; ++i) {
    memory_.free(retired_[i].table, retired_[i].pages);
    ++tables_freed_;
  }
  retired_count_ = 0;
  range_count_ = 0;
  clean_count_ = 0;
  coverage_ = Coverage::exact;
  exec_ = ExecGain::no;
  return ok_status();
}

}  // namespace tlbkit::maint
