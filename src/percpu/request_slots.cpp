#include "tlbkit/percpu/request_slots.hpp"

namespace tlbkit::percpu {

using maint::VirtAddr;
using maint::EntryKind;
using maint::CacheMaintenance;

namespace {

// Last byte of a range (size > 0), so ranges ending at 2^64 do not wrap.
constexpr VirtAddr last_byte(const PendingRange& r) { return r.va + (r.size - 1); }

constexpr bool same_kind(const PendingRange& a, const PendingRange& b) {
  return a.level == b.level && a.entry == b.entry && a.beneath == b.beneath;
}

// Whether the union of a and b is one contiguous range.
constexpr bool overlap_or_abut(const PendingRange& a, const PendingRange& b) {
  const VirtAddr a_last = last_byte(a);
  const VirtAddr b_last = last_byte(b);
  if (a.va <= b_last && b.va <= a_last) return true;
  if (a_last != ~VirtAddr{0} && a_last + 1 == b.va) return true;
  return b_last != ~VirtAddr{0} && b_last + 1 == a.va;
}

constexpr PendingRange merged(const PendingRange& a, const PendingRange& b) {
  const VirtAddr first = a.va < b.va ? a.va : b.va;
  const VirtAddr a_last = last_byte(a);
  const VirtAddr b_last = last_byte(b);
  const VirtAddr last = a_last > b_last ? a_last : b_last;
  return PendingRange{first, last - first + 1, a.level, a.entry, a.beneath};
}

// Physical ranges: the same rules, through the same code, as one-level
// virtual ranges.
constexpr PendingRange as_range(const PhysRange& r) { return PendingRange{r.pa, r.size, 0, EntryKind::leaf}; }
constexpr PhysRange as_phys(const PendingRange& r) { return PhysRange{r.va, r.size}; }

}  // namespace

Pending StagedRequest::pending() const {
  Pending p;
  p.ranges = ranges();
  p.coverage = coverage_;
  p.exec = exec_;
  p.clean = clean();
  return p;
}

Status StagedRequest::add_clean(const PhysRange& range) {
  if (range.size == 0) return ok_status();
  PendingRange grown = as_range(range);
  // Find what it absorbs first, so a refusal leaves the list unchanged.
  bool absorbs_any = false;
  for (std::size_t i = 0; i < clean_count_; ++i) {
    if (overlap_or_abut(as_range(clean_[i]), grown)) absorbs_any = true;
  }
  if (!absorbs_any && clean_count_ == kSlotCleanRanges) {
    return Error{Errc::out_of_range, "request slot: clean list full, drain and run it first"};
  }
  for (std::size_t i = 0; i < clean_count_;) {
    if (overlap_or_abut(as_range(clean_[i]), grown)) {
      grown = merged(as_range(clean_[i]), grown);
      for (std::size_t j = i + 1; j < clean_count_; ++j) clean_[j - 1] = clean_[j];
      --clean_count_;
      i = 0;
    } else {
      ++i;
    }
  }
  std::size_t at = clean_count_;
  while (at > 0 && clean_[at - 1].pa > grown.va) {
    clean_[at] = clean_[at - 1];
    --at;
  }
  clean_[at] = as_phys(grown);
  ++clean_count_;
  return ok_status();
}

void StagedRequest::add(const PendingRange& range) {
  if (coverage_ == Coverage::everything || range.size == 0) return;
  // Absorb every range the new one touches; the result may then touch
  // another, so repeat until nothing changes. Ranges stay sorted by va.
  PendingRange grown = range;
  for (std::size_t i = 0; i < count_;) {
    if (same_kind(ranges_[i], grown) && overlap_or_abut(ranges_[i], grown)) {
      grown = merged(ranges_[i], grown);
      for (std::size_t j = i + 1; j < count_; ++j) ranges_[j - 1] = ranges_[j];
      --count_;
      i = 0;
    } else {
      ++i;
    }
  }
  if (count_ == kSlotRanges) {
    // Overflow: the HVF runner and Gather both widen to the whole address
    // space rather than drop anything.
    coverage_ = Coverage::everything;
    count_ = 0;
    return;
  }
  std::size_t at = count_;
  while (at > 0 && ranges_[at - 1].va > grown.va) {
    ranges_[at] = ranges_[at - 1];
    --at;
  }
  ranges_[at] = grown;
  ++count_;
}

Status RequestSlot::stage(const Change& change) {
  if (change.cmo == CacheMaintenance::clean_invalidate) {
    const Status s = request_.add_clean(PhysRange{change.output, change.size});
    if (!s.ok()) return s;
  }
  if (change.exec == ExecGain::yes) request_.exec_ = ExecGain::yes;
  if (arch::needs_invalidation(change.kind)) {
    request_.add(PendingRange{change.va, change.size, change.level, change.entry, change.beneath});
  }
  return ok_status();
}

void RequestSlot::stage(const PendingRange& range, ExecGain exec) {
  if (exec == ExecGain::yes) request_.exec_ = ExecGain::yes;
  request_.add(range);
}

void RequestSlot::stage_everything(ExecGain exec) {
  if (exec == ExecGain::yes) request_.exec_ = ExecGain::yes;
  request_.coverage_ = Coverage::everything;
  request_.count_ = 0;
}

StagedRequest RequestSlot::drain() {
  const StagedRequest out = request_;
  request_ = StagedRequest{};
  return out;
}

Status run_staged_request(const StagedRequest& request, const AddressSpace& space,
                          const arch::CpuFeatures& features, const Policy& policy,
                          Executor& executor) {
  const Pending pending = request.pending();
  if (pending.empty()) return ok_status();
  Plan plan;
  if (!policy.plan(pending, space, features, plan).ok()) {
    plan.clear();
    Pending everything = pending;
    everything.coverage = Coverage::everything;
    everything.ranges = {};
    const Status wide = policy.plan(everything, space, features, plan);
    if (!wide.ok()) return wide;
  }
  if (!plan.empty()) executor.execute(plan);
  return ok_status();
}

}  // namespace tlbkit::percpu
