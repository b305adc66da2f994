// Range checks and the arithmetic of what a range covers. Engine-internal.
#pragma once

#include <cstdint>

#include "tlbkit/arch/granule.hpp"
#include "walker.hpp"

namespace tlbkit::pt::detail {

inline constexpr std::uint64_t kPageMask = 0xfff;
inline constexpr std::uint64_t kOutputLimit = std::uint64_t{1} << 48;

// An input range [start, end) that passed check_range().
struct Range {
  VirtAddr start;
  VirtAddr end;
  bool covers(const Slot& slot) const { return start <= slot.va && slot.end() <= end; }
  bool covers(VirtAddr va, std::uint64_t size) const { return start <= va && va + size <= end; }
};

// # Errors
// misaligned: va or size not 4 KiB aligned, or size 0.
// out_of_range: the range does not fit in the input space.
inline Result<Range> check_range(const Geometry& geometry, VirtAddr va, std::uint64_t size) {
  if (size == 0) return Error{Errc::misaligned, "size must be a non-zero multiple of 4 KiB"};
  if ((va & kPageMask) != 0) return Error{Errc::misaligned, "address must be 4 KiB aligned"};
  if ((size & kPageMask) != 0) return Error{Errc::misaligned, "size must be a multiple of 4 KiB"};
  const std::uint64_t limit = geometry.input_size();
  if (va >= limit || size > limit - va) {
    return Error{Errc::out_of_range, "range leaves the table's input address space"};
  }
  return Range{va, va + size};
}

// Tables needed to split a block at `level` over [va, va + size) so that no
// leaf crosses the edges of `range` and none above `finest_level` remains in
// it. Fully covered children all need the same, so only edges are counted
// one by one.
template <class NeedsSplit>
unsigned tables_for_subtree(unsigned level, VirtAddr va, std::uint64_t size, const Range& range,
                            const NeedsSplit& needs_split) {
  if (!needs_split(level, va, size)) return 0;
  unsigned tables = 1;
  if (level + 1 > arch::kMaxLevel) return tables;
  const std::uint64_t child = size / arch::kEntriesPerTable;
  const VirtAddr lo = range.start > va ? range.start : va;
  const VirtAddr hi = range.end < va + size ? range.end : va + size;
  VirtAddr first = lo & ~(child - 1);
  VirtAddr last = (hi - 1) & ~(child - 1);
  if (!range.covers(first, child)) {
    tables += tables_for_subtree(level + 1, first, child, range, needs_split);
    if (first == last) return tables;
    first += child;
  }
  if (!range.covers(last, child)) {
    tables += tables_for_subtree(level + 1, last, child, range, needs_split);
    if (first == last) return tables;
    last -= child;
  }
  if (first <= last) {
    const std::uint64_t interior = (last - first) / child + 1;
    tables += static_cast<unsigned>(interior) *
              tables_for_subtree(level + 1, first, child, range, needs_split);
  }
  return tables;
}

}  // namespace tlbkit::pt::detail
