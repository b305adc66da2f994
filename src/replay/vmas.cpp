#include "vmas.hpp"

#include <algorithm>

namespace tlbkit::replay {

const Vma* VmaMap::find(std::uint64_t address) const {
  auto it = by_start_.upper_bound(address);
  if (it == by_start_.begin()) return nullptr;
  --it;
  return address < it->second.end ? &it->second : nullptr;
}

void VmaMap::insert(const Vma& vma) { by_start_[vma.start] = vma; }

void VmaMap::cut(std::uint64_t at) {
  auto it = by_start_.upper_bound(at);
  if (it == by_start_.begin()) return;
  --it;
  Vma& v = it->second;
  if (v.start >= at || v.end <= at) return;
  Vma upper = v;
  upper.start = at;
  v.end = at;
  by_start_[at] = upper;
}

void VmaMap::remove(std::uint64_t start, std::uint64_t end) {
  cut(start);
  cut(end);
  by_start_.erase(by_start_.lower_bound(start), by_start_.lower_bound(end));
}

void VmaMap::protect(std::uint64_t start, std::uint64_t end, trace::Prot prot) {
  cut(start);
  cut(end);
  for (auto it = by_start_.lower_bound(start); it != by_start_.end() && it->first < end; ++it) {
    it->second.prot = prot;
  }
}

std::vector<Vma> VmaMap::within(std::uint64_t start, std::uint64_t end) const {
  std::vector<Vma> out;
  auto it = by_start_.upper_bound(start);
  if (it != by_start_.begin()) --it;
  for (; it != by_start_.end() && it->first < end; ++it) {
    Vma v = it->second;
    if (v.end <= start) continue;
    v.start = std::max(v.start, start);
    v.end = std::min(v.end, end);
    out.push_back(v);
  }
  return out;
}

}  // namespace tlbkit::replay
