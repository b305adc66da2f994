// The simulated CPU's walker for one stage, 4 KiB granule. It decodes the
// descriptor bits itself (bits[1:0] and the OA field) rather than going
// through arch::kind_of, so that reserved encodings stay distinguishable from
// invalid ones, and it shares nothing with the library's walker.
#include "tlbkit/sim/hw_walker.hpp"

#include "tlbkit/arch/attributes.hpp"

namespace tlbkit::sim {
namespace {

// What the hardware makes of one descriptor at one level.
enum class Decoded : std::uint8_t {
  invalid,   // bit 0 clear: translation fault
  reserved,  // 0b01 at level 3, or a block at a level that allows none
  table,     // 0b11 at levels 0-2: descend
  leaf,      // 0b01 block at an allowed level, or 0b11 page at level 3
};

// Decodes `d` read at `level` of `geometry`.
Decoded decode(Descriptor d, unsigned level, const arch::Geometry& geometry) {
  if ((d & arch::kValidBit) == 0) return Decoded::invalid;
  const bool type_bit = (d & arch::kTypeBit) != 0;
  if (level == arch::kMaxLevel) return type_bit ? Decoded::leaf : Decoded::reserved;
  if (type_bit) return Decoded::table;
  return geometry.block_allowed(level) ? Decoded::leaf : Decoded::reserved;
}

// Whether the walk's preconditions hold (input inside the space, start level
// between the geometry's start level and the last level).
bool preconditions_hold(const arch::Geometry& geometry, VirtAddr input, WalkStart start) {
  return input < geometry.input_size() && start.level >= geometry.start_level() &&
         start.level <= arch::kMaxLevel;
}

// Ends `walk` with a fault of `outcome` at `level`.
Walk& fail(Walk& walk, WalkOutcome outcome, unsigned level) {
  walk.outcome = outcome;
  walk.fault_level = level;
  return walk;
}

// Ends `walk` with the leaf `d` found at `level` for `input`.
Walk& translate(Walk& walk, arch::Regime regime, const arch::Geometry& geometry, VirtAddr input,
                unsigned level, Descriptor d) {
  const std::uint64_t size = geometry.level_size(level);
  walk.outcome = WalkOutcome::translated;
  walk.level = level;
  walk.input = input & ~(size - 1);
  walk.size = size;
  // A block's OA field is OA[47:level_shift]; the bits below are RES0 and
  // are not part of the output address.
  walk.output = arch::output_address(d) & ~(size - 1);
  walk.leaf = d;
  walk.permissions = arch::permissions(regime, level, d);
  walk.global = regime != arch::Regime::el1_stage1 || (d & arch::kNgBit) == 0;
  return walk;
}

}  // namespace

Walk walk(arch::Regime regime, const arch::Geometry& geometry, VirtAddr input, WalkStart start,
          TableReader& reader) {
  Walk result;
  if (!preconditions_hold(geometry, input, start)) {
    return fail(result, WalkOutcome::bad_descriptor, start.level);
  }
  PhysAddr table = start.table;
  for (unsigned level = start.level; level <= arch::kMaxLevel; ++level) {
    const unsigned index = geometry.index(input, level);
    const std::optional<Descriptor> read = reader.read(table, index);
    if (!read) return fail(result, WalkOutcome::unreadable, level);
    const Descriptor d = *read;
    result.steps[result.step_count++] = WalkStep{level, table, index, d};
    switch (decode(d, level, geometry)) {
      case Decoded::invalid: return fail(result, WalkOutcome::invalid, level);
      case Decoded::reserved: return fail(result, WalkOutcome::bad_descriptor, level);
      case Decoded::leaf: return translate(result, regime, geometry, input, level, d);
      case Decoded::table: table = arch::output_address(d); break;
    }
  }
  // Unreachable: level 3 never decodes as a table.
  return fail(result, WalkOutcome::bad_descriptor, arch::kMaxLevel);
}

}  // namespace tlbkit::sim
