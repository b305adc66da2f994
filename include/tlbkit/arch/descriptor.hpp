// The bit layout of a VMSAv8-64 translation table descriptor (4 KiB granule,
// 48-bit output addresses), common to every regime.
#pragma once

#include <cstdint>

#include "tlbkit/arch/granule.hpp"

namespace tlbkit::arch {

using Descriptor = std::uint64_t;

inline constexpr Descriptor kInvalidDescriptor = 0;
inline constexpr Descriptor kValidBit = 1u << 0;
inline constexpr Descriptor kTypeBit = 1u << 1;  // table (levels 0-2) or page (level 3)
inline constexpr Descriptor kOutputAddressMask = 0x0000'ffff'ffff'f000;  // OA[47:12]
// Lower [11:2] and upper [63:50] attribute fields of a block or page.
inline constexpr Descriptor kLeafAttributeMask = 0xfffc'0000'0000'0ffc;
// Table descriptor attributes: NSTable, APTable, XNTable/UXNTable, PXNTable.
inline constexpr Descriptor kTableAttributeMask = 0xf800'0000'0000'0000;

// What a descriptor is, given the level it sits at.
enum class DescriptorKind : std::uint8_t { invalid, table, block, page };

constexpr DescriptorKind kind_of(Descriptor d, unsigned level) {
  if ((d & kValidBit) == 0) return DescriptorKind::invalid;
  const bool type = (d & kTypeBit) != 0;
  if (level == kMaxLevel) return type ? DescriptorKind::page : DescriptorKind::invalid;
  if (type) return DescriptorKind::table;
  // A block at level 0 is not allowed with 4 KiB and 48-bit OA: it faults.
  return level == 0 ? DescriptorKind::invalid : DescriptorKind::block;
}

constexpr bool is_valid(Descriptor d, unsigned level) {
  return kind_of(d, level) != DescriptorKind::invalid;
}
constexpr bool is_table(Descriptor d, unsigned level) {
  return kind_of(d, level) == DescriptorKind::table;
}
constexpr bool is_leaf(Descriptor d, unsigned level) {
  const DescriptorKind k = kind_of(d, level);
  return k == DescriptorKind::block || k == DescriptorKind::page;
}

// Output address of a leaf (block: low bits below the block size are zero by
// construction) or the next-level table address of a table descriptor.
constexpr PhysAddr output_address(Descriptor d) { return d & kOutputAddressMask; }

// A table descriptor pointing at `table`, with no table attributes.
constexpr Descriptor make_table_descriptor(PhysAddr table) {
  return (table & kOutputAddressMask) | kTypeBit | kValidBit;
}

// A leaf at `level` mapping `pa` with the leaf attribute bits `attrs`.
// Precondition: pa aligned to the level's size; attrs within kLeafAttributeMask.
constexpr Descriptor make_leaf_descriptor(PhysAddr pa, Descriptor attrs, unsigned level) {
  const Descriptor type = level == kMaxLevel ? kTypeBit : 0;
  return (pa & kOutputAddressMask) | (attrs & kLeafAttributeMask) | type | kValidBit;
}

// The leaf attribute bits of a block or page.
constexpr Descriptor leaf_attributes(Descriptor d) { return d & kLeafAttributeMask; }

}  // namespace tlbkit::arch
