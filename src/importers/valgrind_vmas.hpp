// The VMAs the valgrind importer knows of: what the log's memory calls
// made, and what it implied itself for memory nobody mapped in the log.
// Non-overlapping [start, end) ranges of whole pages with their rights.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <vector>

#include "tlbkit/trace/event.hpp"

namespace tlbkit::importers::valgrind {

struct KnownVma {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  trace::Prot prot = trace::Prot::none;
  bool implied = false;  // no call of the log made it
};

class KnownVmas {
 public:
  // The VMA holding `address`, or nullptr.
  const KnownVma* find(std::uint64_t address) const {
    auto it = by_start_.upper_bound(address);
    if (it == by_start_.begin()) return nullptr;
    --it;
    return address < it->second.end ? &it->second : nullptr;
  }

  // The largest range around `address` (which no VMA holds) inside
  // [lo, hi) that no VMA overlaps.
  void free_around(std::uint64_t address, std::uint64_t& lo, std::uint64_t& hi) const {
    auto next = by_start_.upper_bound(address);
    if (next != by_start_.end() && next->first < hi) hi = next->first;
    if (next != by_start_.begin()) {
      const KnownVma& before = std::prev(next)->second;
      if (before.end > lo) lo = before.end;
    }
  }

  // Replaces whatever lies in [vma.start, vma.end) by `vma`.
  void map(const KnownVma& vma) {
    unmap(vma.start, vma.end);
    by_start_[vma.start] = vma;
  }

  // Removes [start, end), cutting VMAs that cross its edges.
  void unmap(std::uint64_t start, std::uint64_t end) {
    if (start >= end) return;
    cut(start);
    cut(end);
    by_start_.erase(by_start_.lower_bound(start), by_start_.lower_bound(end));
  }

  // Gives the parts of VMAs inside [start, end) the rights `prot`.
  void protect(std::uint64_t start, std::uint64_t end, trace::Prot prot) {
    if (start >= end) return;
    cut(start);
    cut(end);
    for (auto it = by_start_.lower_bound(start); it != by_start_.end() && it->first < end; ++it) {
      it->second.prot = prot;
    }
  }

  // The parts of VMAs inside [start, end), in address order.
  std::vector<KnownVma> within(std::uint64_t start, std::uint64_t end) const {
    std::vector<KnownVma> out;
    if (start >= end) return out;
    auto it = by_start_.upper_bound(start);
    if (it != by_start_.begin() && std::prev(it)->second.end > start) --it;
    for (; it != by_start_.end() && it->first < end; ++it) {
      KnownVma piece = it->second;
      if (piece.start < start) piece.start = start;
      if (piece.end > end) piece.end = end;
      out.push_back(piece);
    }
    return out;
  }

  // The ranges inside [start, end) that no VMA holds, in address order.
  std::vector<KnownVma> gaps(std::uint64_t start, std::uint64_t end) const {
    std::vector<KnownVma> out;
    std::uint64_t at = start;
    for (const KnownVma& piece : within(start, end)) {
      if (piece.start > at) out.push_back(KnownVma{at, piece.start, trace::Prot::none, false});
      at = piece.end;
    }
    if (at < end) out.push_back(KnownVma{at, end, trace::Prot::none, false});
    return out;
  }

  std::size_t size() const { return by_start_.size(); }

 private:
  // Cuts the VMA crossing `at` (if any) in two at `at`.
  void cut(std::uint64_t at) {
    auto it = by_start_.upper_bound(at);
    if (it == by_start_.begin()) return;
    --it;
    KnownVma& vma = it->second;
    if (vma.start >= at || vma.end <= at) return;
    KnownVma upper = vma;
    upper.start = at;
    vma.end = at;
    by_start_[at] = upper;
  }

  std::map<std::uint64_t, KnownVma> by_start_;
};

}  // namespace tlbkit::importers::valgrind
