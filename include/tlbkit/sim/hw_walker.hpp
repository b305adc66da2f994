// The simulated CPU's table walker: one stage (stage 1 of EL1&0 or EL2, or
// stage 2) over simulated memory, the way the hardware walks — not the
// library's walker. Two-stage translation is composed by the machine, which
// translates stage-1 table addresses through stage 2 itself.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "tlbkit/sim/tlb_entry.hpp"

namespace tlbkit::sim {

// Reads one descriptor of a table for the walker: `table` is the table's
// address as the walk names it (a PA; for stage 1 under stage 2 an IPA that
// the reader translates). nullopt: the table cannot be read (a stage-2
// fault on the table address, or memory that is not live).
class TableReader {
 public:
  virtual std::optional<Descriptor> read(PhysAddr table, unsigned index) = 0;

 protected:
  ~TableReader() = default;
};

// Where a walk starts: the root (level = geometry.start_level(), table =
// the root's address) or a table found in a walk cache.
struct WalkStart {
  unsigned level = 0;
  PhysAddr table = 0;
};

// One descriptor the walk read.
struct WalkStep {
  unsigned level = 0;
  PhysAddr table = 0;      // the table's address as the walk names it
  unsigned index = 0;
  Descriptor descriptor = 0;
};

enum class WalkOutcome : std::uint8_t {
  translated,      // a valid block or page descriptor was found
  invalid,         // an invalid descriptor (translation fault) at fault_level
  unreadable,      // the reader could not read a table (fault_level = its level)
  bad_descriptor,  // a block where none is allowed, or a reserved encoding
};

struct Walk {
  WalkOutcome outcome = WalkOutcome::invalid;
  unsigned fault_level = 0;
  // The descriptors read, in order (at most 4 for a 4 KiB granule).
  std::array<WalkStep, 4> steps{};
  unsigned step_count = 0;
  // translated: the leaf and what it maps.
  unsigned level = 0;        // the leaf's level
  VirtAddr input = 0;        // first input address of the leaf's range
  std::uint64_t size = 0;    // the leaf's size
  PhysAddr output = 0;       // output address of `input` (the leaf's OA)
  Descriptor leaf = 0;
  std::uint8_t permissions = 0;  // arch::permissions(regime, level, leaf)
  bool global = true;            // stage 1 EL1&0: nG == 0; stage 2 / EL2: true
};

// Walks `geometry` (regime `regime`) for `input` from `start`.
// Precondition: input < geometry.input_size(); start.level in
// [geometry.start_level(), 3].
Walk walk(arch::Regime regime, const arch::Geometry& geometry, VirtAddr input, WalkStart start,
          TableReader& reader);

}  // namespace tlbkit::sim
