#include "address_window.hpp"

#include <iterator>

namespace tlbkit::gen {

AddressWindow::AddressWindow(std::uint64_t low, std::uint64_t high, FirstFit order) : order_(order) {
  if (low < high) free_[low] = high;
}

std::optional<std::uint64_t> AddressWindow::take(std::uint64_t length, std::uint64_t align) {
  const auto carve = [&](std::map<std::uint64_t, std::uint64_t>::iterator it, std::uint64_t at) {
    const std::uint64_t start = it->first;
    const std::uint64_t end = it->second;
    free_.erase(it);
    if (start < at) free_[start] = at;
    if (at + length < end) free_[at + length] = end;
    return at;
  };
  if (order_ == FirstFit::from_top) {
    for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
      if (it->second - it->first < length) continue;
      const std::uint64_t at = (it->second - length) & ~(align - 1);
      if (at >= it->first) return carve(std::prev(it.base()), at);
    }
    return std::nullopt;
  }
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    const std::uint64_t at = (it->first + align - 1) & ~(align - 1);
    if (at >= it->first && at <= it->second && it->second - at >= length) return carve(it, at);
  }
  return std::nullopt;
}

void AddressWindow::give_back(std::uint64_t addr, std::uint64_t length) {
  std::uint64_t start = addr;
  std::uint64_t end = addr + length;
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first == end) {
    end = next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    const auto before = std::prev(next);
    if (before->second == start) {
      start = before->first;
      free_.erase(before);
    }
  }
  free_[start] = end;
}

}  // namespace tlbkit::gen
