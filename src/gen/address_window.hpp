// The free addresses of a window [low, high): ranges handed out first fit
// from the top (Linux's top-down mmap layout) or from the bottom (vmalloc),
// and given back to be handed out again (the reuse of a freed range is
// what makes a missed invalidation visible).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "layout.hpp"

namespace tlbkit::gen {

enum class FirstFit : std::uint8_t { from_top, from_bottom };

class AddressWindow {
 public:
  AddressWindow(std::uint64_t low, std::uint64_t high, FirstFit order);

  // The start of a free range of `length` bytes aligned to `align` (a power
  // of two), now taken; nullopt when no free range fits.
  std::optional<std::uint64_t> take(std::uint64_t length, std::uint64_t align = kPage);

  // Frees [addr, addr + length). Precondition: it was taken and is not free.
  void give_back(std::uint64_t addr, std::uint64_t length);

 private:
  std::map<std::uint64_t, std::uint64_t> free_;  // start -> end of each free range
  FirstFit order_;
};

}  // namespace tlbkit::gen
