// Data memory of the replayed programs: 4 KiB frames and 2 MiB blocks at
// made-up physical addresses above the table pool, reference counted
// (a copy-on-write page is shared by the spaces that mapped it) and reused
// last-freed first, as a kernel's page allocator would hand a hot page
// out again (which is what makes a stale translation to a freed page
// dangerous). Deterministic.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "tlbkit/arch/granule.hpp"

namespace tlbkit::replay {

using arch::PhysAddr;

inline constexpr std::uint64_t kPage = 0x1000;
inline constexpr std::uint64_t kBlock = 0x20'0000;

class Frames {
 public:
  // Where data memory starts; far from the table pool (sim::PhysicalMemory)
  // and within a 48-bit output address.
  static constexpr PhysAddr kBase = 0x10'0000'0000;
  // The shared zero page (read faults of anonymous memory map it).
  static constexpr PhysAddr kZeroPage = kBase - kPage;

  // A fresh frame of `size` (kPage or kBlock) with one reference.
  PhysAddr allocate(std::uint64_t size);
  // One more reference to the allocation starting at `base`.
  void add_reference(PhysAddr base, unsigned count = 1);
  // Drops one reference; true when it was the last (the caller then frees
  // the frame once no TLB can reach it: Gather::free_after_flush).
  bool drop_reference(PhysAddr base);
  std::uint64_t references(PhysAddr base) const;
  // The frame is free again (after the flush). Its size is the allocation's.
  void free(PhysAddr base);
  // Frees every allocation starting in [pa, pa + size) (a Gather hands
  // adjacent frames back as one range).
  void free_range(PhysAddr pa, std::uint64_t size);

  std::uint64_t live_frames() const { return live_.size(); }
  std::uint64_t size_of(PhysAddr base) const;

 private:
  struct Live {
    std::uint64_t size = 0;
    std::uint64_t references = 0;
  };
  std::map<PhysAddr, Live> live_;
  std::vector<PhysAddr> free_pages_;
  std::vector<PhysAddr> free_blocks_;
  PhysAddr next_page_ = kBase;
  // Blocks come from their own 2 MiB-aligned region above the pages'.
  PhysAddr next_block_ = kBase + (std::uint64_t{1} << 40);
};

}  // namespace tlbkit::replay
