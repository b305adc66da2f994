#include "frames.hpp"

namespace tlbkit::replay {

PhysAddr Frames::allocate(std::uint64_t size) {
  std::vector<PhysAddr>& free_list = size == kBlock ? free_blocks_ : free_pages_;
  PhysAddr base;
  if (!free_list.empty()) {
    base = free_list.back();
    free_list.pop_back();
  } else if (size == kBlock) {
    base = next_block_;
    next_block_ += kBlock;
  } else {
    base = next_page_;
    next_page_ += kPage;
  }
  live_[base] = Live{size, 1};
  return base;
}

void Frames::add_reference(PhysAddr base, unsigned count) {
  if (base == kZeroPage) return;
  live_[base].references += count;
}

bool Frames::drop_reference(PhysAddr base) {
  if (base == kZeroPage) return false;
  const auto it = live_.find(base);
  if (it == live_.end() || it->second.references == 0) return false;
  return --it->second.references == 0;
}

std::uint64_t Frames::references(PhysAddr base) const {
  if (base == kZeroPage) return ~std::uint64_t{0};
  const auto it = live_.find(base);
  return it == live_.end() ? 0 : it->second.references;
}

std::uint64_t Frames::size_of(PhysAddr base) const {
  const auto it = live_.find(base);
  return it == live_.end() ? 0 : it->second.size;
}

void Frames::free(PhysAddr base) {
  const auto it = live_.find(base);
  if (it == live_.end()) return;
  (it->second.size == kBlock ? free_blocks_ : free_pages_).push_back(base);
  live_.erase(it);
}

void Frames::free_range(PhysAddr pa, std::uint64_t size) {
  for (auto it = live_.lower_bound(pa); it != live_.end() && it->first < pa + size;) {
    const PhysAddr base = it->first;
    ++it;
    free(base);
  }
}

}  // namespace tlbkit::replay
