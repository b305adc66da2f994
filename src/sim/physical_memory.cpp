#include "tlbkit/sim/physical_memory.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace tlbkit::sim {
namespace {

bool power_of_two(std::uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

std::uint64_t align_up(std::uint64_t v, std::uint64_t alignment) {
  return (v + alignment - 1) & ~(alignment - 1);
}

}  // namespace

const char* misuse_kind_name(MisuseKind kind) {
  switch (kind) {
    case MisuseKind::bad_page_count: return "bad page count";
    case MisuseKind::double_free: return "double free";
    case MisuseKind::unknown_free: return "free of an unknown allocation";
    case MisuseKind::bad_access: return "access to a page that is not live";
  }
  return "?";
}

std::string describe(const Misuse& misuse) {
  char buf[160];
  if (misuse.kind == MisuseKind::bad_access) {
    std::snprintf(buf, sizeof buf, "%s: %#llx", misuse_kind_name(misuse.kind),
                  static_cast<unsigned long long>(misuse.address));
  } else {
    std::snprintf(buf, sizeof buf, "%s: %#llx (%u page%s)", misuse_kind_name(misuse.kind),
                  static_cast<unsigned long long>(misuse.address), misuse.pages,
                  misuse.pages == 1 ? "" : "s");
  }
  return buf;
}

PhysicalMemory::PhysicalMemory(PhysAddr base, std::uint64_t pages) : base_(base), capacity_pages_(pages) {}

void PhysicalMemory::note(MisuseKind kind, PhysAddr address, unsigned pages) {
  misuses_.push_back(Misuse{kind, address, pages});
}

std::optional<PhysAddr> PhysicalMemory::lowest_free_run(std::uint64_t bytes) const {
  PhysAddr candidate = align_up(base_, bytes);
  for (const auto& [start, allocation] : live_) {
    if (candidate + bytes <= start) break;
    const PhysAddr end = start + allocation.pages * kPageSize;
    if (end > candidate) candidate = align_up(end, bytes);
  }
  if (candidate + bytes > base_ + capacity_pages_ * kPageSize) return std::nullopt;
  return candidate;
}

Result<PhysAddr> PhysicalMemory::allocate(unsigned pages) {
  if (!power_of_two(pages)) {
    note(MisuseKind::bad_page_count, 0, pages);
    ++counters_.failed_allocations;
    return Error{Errc::invalid_argument, "physical memory: page count must be a power of two"};
  }
  const std::uint64_t bytes = std::uint64_t{pages} * kPageSize;
  const std::optional<PhysAddr> run = lowest_free_run(bytes);
  if (!run) {
    ++counters_.failed_allocations;
    return Error{Errc::no_memory, "physical memory: no free run of that size"};
  }
  // Pages handed out again can no longer be double-freed under their old name.
  auto it = freed_.lower_bound(*run);
  if (it != freed_.begin()) --it;
  while (it != freed_.end() && it->first < *run + bytes) {
    const bool overlaps = it->first + it->second * kPageSize > *run;
    it = overlaps ? freed_.erase(it) : std::next(it);
  }
  ++generation_;
  Allocation& a = live_[*run];
  a.pages = pages;
  a.words.assign(static_cast<std::size_t>(pages) * kEntries, 0);
  ++counters_.allocations;
  counters_.allocated_pages += pages;
  counters_.live_pages += pages;
  if (counters_.live_pages > counters_.peak_live_pages) counters_.peak_live_pages = counters_.live_pages;
  if (observer_ != nullptr) observer_->after_allocate(*run, pages);
  return *run;
}

void PhysicalMemory::free(PhysAddr table, unsigned pages) {
  const auto it = live_.find(table);
  if (it == live_.end()) {
    note(freed_.count(table) != 0 ? MisuseKind::double_free : MisuseKind::unknown_free, table, pages);
    return;
  }
  if (it->second.pages != pages) {
    note(MisuseKind::bad_page_count, table, pages);
    return;
  }
  if (observer_ != nullptr) observer_->before_free(table, pages);
  ++generation_;
  freed_[table] = pages;
  live_.erase(it);
  ++counters_.frees;
  counters_.freed_pages += pages;
  counters_.live_pages -= pages;
}

template <class Self>
auto* PhysicalMemory::find(Self& self, PhysAddr page, std::size_t& offset) {
  using Found = decltype(&self.live_.begin()->second);
  if (page % kPageSize != 0) return Found{nullptr};
  auto it = self.live_.upper_bound(page);
  if (it == self.live_.begin()) return Found{nullptr};
  --it;
  if (page >= it->first + it->second.pages * kPageSize) return Found{nullptr};
  offset = static_cast<std::size_t>((page - it->first) / kPageSize) * kEntries;
  return &it->second;
}

Descriptor* PhysicalMemory::descriptors(PhysAddr table) {
  std::size_t offset = 0;
  Allocation* a = find(*this, table, offset);
  if (a == nullptr) {
    note(MisuseKind::bad_access, table, 0);
    scratch_.assign(kEntries, 0);
    return scratch_.data();
  }
  ++generation_;
  if (touched_.empty() || touched_.back() != table) touched_.push_back(table);
  return a->words.data() + offset;
}

std::vector<PhysAddr> PhysicalMemory::take_touched() {
  std::vector<PhysAddr> pages = std::move(touched_);
  touched_.clear();
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  return pages;
}

const Descriptor* PhysicalMemory::peek(PhysAddr page) const {
  std::size_t offset = 0;
  const Allocation* a = find(*this, page, offset);
  return a == nullptr ? nullptr : a->words.data() + offset;
}

std::optional<unsigned> PhysicalMemory::allocation_pages(PhysAddr base) const {
  const auto it = live_.find(base);
  if (it == live_.end()) return std::nullopt;
  return it->second.pages;
}

}  // namespace tlbkit::sim
