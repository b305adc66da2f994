// The VMAs of one address space: non-overlapping ranges with their rights
// and mapping flags, split and joined as the memory calls say.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "tlbkit/trace/event.hpp"

namespace tlbkit::replay {

struct Vma {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  trace::Prot prot = trace::Prot::none;
  trace::MapFlags flags = trace::MapFlags::none;
};

class VmaMap {
 public:
  // The VMA holding `address`, or nullptr.
  const Vma* find(std::uint64_t address) const;
  // Adds `vma`. Precondition: nothing of it is mapped (remove() first).
  void insert(const Vma& vma);
  // Removes [start, end), cutting VMAs that cross its edges.
  void remove(std::uint64_t start, std::uint64_t end);
  // Gives the parts of VMAs inside [start, end) the rights `prot`.
  void protect(std::uint64_t start, std::uint64_t end, trace::Prot prot);
  // The parts of VMAs inside [start, end), in address order.
  std::vector<Vma> within(std::uint64_t start, std::uint64_t end) const;
  bool empty() const { return by_start_.empty(); }
  std::size_t size() const { return by_start_.size(); }

 private:
  // Cuts the VMA crossing `at` (if any) in two at `at`.
  void cut(std::uint64_t at);
  std::map<std::uint64_t, Vma> by_start_;
};

}  // namespace tlbkit::replay
