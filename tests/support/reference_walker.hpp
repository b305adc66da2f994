// An independent reader of translation tables for tests. It knows the 4 KiB
// granule VMSAv8-64 format from first principles (not from the engine's
// Geometry or arch::kind_of): 9 index bits per level, level L entries map
// 2^(12 + 9 * (3 - L)) bytes, descriptor bit 0 = valid, bit 1 = table (levels
// 0-2) or page (level 3) versus block (levels 1-2 only), OA in bits [47:12],
// leaf attributes in bits [11:2] and [63:50].
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/fake_memory.hpp"

namespace tlbkit::test {

using arch::VirtAddr;

// Bit layout, restated here so the walker does not lean on the engine.
inline constexpr Descriptor kWalkValid = 1;
inline constexpr Descriptor kWalkTypeBit = 2;
inline constexpr Descriptor kWalkOaMask = 0x0000'ffff'ffff'f000;    // OA[47:12]
inline constexpr Descriptor kWalkLeafAttrMask = 0xfffc'0000'0000'0ffc;  // [63:50], [11:2]
inline constexpr Descriptor kWalkRes0Mask = 0x0003'0000'0000'0000;  // [49:48] with 48-bit OA
inline constexpr Descriptor kWalkContiguousBit = Descriptor{1} << 52;

// The shape of a tree, computed from the input size and the start level.
struct WalkGeometry {
  unsigned input_bits = 48;
  unsigned start_level = 0;

  // Stage 1: the walk starts at the lowest level whose table covers the
  // whole input space.
  static WalkGeometry stage1(unsigned va_bits);
  // Stage 2: explicit start level; the root may be several tables.
  static WalkGeometry stage2(unsigned ipa_bits, unsigned start_level);
  // Stage 2 from VTCR_EL2 (4 KiB granule only): T0SZ [5:0], SL0 [7:6].
  static WalkGeometry from_vtcr(std::uint64_t vtcr);

  static constexpr unsigned shift(unsigned level) { return 12 + 9 * (3 - level); }
  static constexpr std::uint64_t level_size(unsigned level) { return std::uint64_t{1} << shift(level); }
  std::uint64_t input_size() const { return std::uint64_t{1} << input_bits; }
  // Entries at the start level (all concatenated root tables together).
  unsigned root_entries() const { return 1u << (input_bits - shift(start_level)); }
  unsigned root_pages() const { return root_entries() > 512 ? root_entries() / 512 : 1; }
  // Input range one table at `level` covers (for the start level: the space).
  std::uint64_t table_span(unsigned level) const {
    return level == start_level ? input_size() : level_size(level) * 512;
  }
};

// One table of the tree as read from memory.
struct TableImage {
  unsigned level = 0;
  VirtAddr va = 0;   // first input address the table covers
  PhysAddr pa = 0;   // its (first) page
  std::vector<Descriptor> entries;  // 512, or root_entries() for the root
  friend bool operator==(const TableImage&, const TableImage&) = default;
};

// A maximal run of input addresses translated to consecutive output
// addresses with the same leaf attribute bits.
struct Run {
  VirtAddr va = 0;
  PhysAddr pa = 0;
  Descriptor attributes = 0;  // leaf bits [11:2] and [63:50]
  std::uint64_t size = 0;
  friend bool operator==(const Run&, const Run&) = default;
};
std::ostream& operator<<(std::ostream& os, const Run& run);
std::string to_string(const std::vector<Run>& runs);

// A valid block or page.
struct Leaf {
  unsigned level = 0;
  VirtAddr va = 0;
  Descriptor descriptor = 0;
  std::uint64_t size() const { return WalkGeometry::level_size(level); }
  PhysAddr output() const { return descriptor & kWalkOaMask; }
};

// A slot: the descriptor at `level` whose range starts at `va`.
using SlotKey = std::pair<unsigned, VirtAddr>;

// What the structural checks allow.
struct WalkRules {
  // Leaf attribute bits the regime defines; any other attribute bit set in a
  // leaf is a problem. Default: everything.
  Descriptor leaf_attribute_mask = kWalkLeafAttrMask;
  // Whether an invalid descriptor must be all zero (the engine writes 0).
  bool invalid_must_be_zero = true;
};

// Everything reachable from a root, plus the problems the walk found.
class Snapshot {
 public:
  // A tree with nothing reachable (what is left after release()).
  static Snapshot empty(const WalkGeometry& geometry) {
    Snapshot s;
    s.geometry_ = geometry;
    return s;
  }
  const WalkGeometry& geometry() const { return geometry_; }
  PhysAddr root() const { return root_; }
  // Reachable tables keyed by (level, first input address).
  const std::map<SlotKey, TableImage>& tables() const { return tables_; }
  // Every reachable table page (each page of a concatenated root).
  const std::set<PhysAddr>& table_pages() const { return table_pages_; }
  // Every reachable slot (valid or not) and its descriptor.
  std::map<SlotKey, Descriptor> slots() const;
  // The descriptor of a reachable slot; nullopt when no reachable table holds
  // it. `va` is any address inside the slot.
  std::optional<Descriptor> slot(unsigned level, VirtAddr va) const;
  // Every valid leaf, in input-address order.
  const std::vector<Leaf>& leaves() const { return leaves_; }
  // Every valid leaf overlapping [lo, hi), in input-address order.
  std::vector<Leaf> leaves_overlapping(VirtAddr lo, VirtAddr hi) const;
  // The leaf translating `va`, if any.
  std::optional<Leaf> leaf_at(VirtAddr va) const;
  // The effective translation as maximal runs, sorted by input address.
  std::vector<Run> runs() const;
  // Structural problems: blocks at the wrong level, misplaced or unallocated
  // tables, a table reachable twice, empty non-root tables, bad leaf bits.
  const std::vector<std::string>& problems() const { return problems_; }
  // Number of reachable slots (valid or not).
  std::uint64_t slot_count() const;

  // Same reachable tables at the same places with the same contents.
  friend bool operator==(const Snapshot& a, const Snapshot& b) {
    return a.root_ == b.root_ && a.tables_ == b.tables_;
  }
  // The first few differing slots, for messages.
  std::string diff(const Snapshot& other, std::size_t max_lines = 12) const;

 private:
  friend Snapshot take_snapshot(const FakeMemory&, PhysAddr, const WalkGeometry&, const WalkRules&);
  WalkGeometry geometry_;
  PhysAddr root_ = 0;
  std::map<SlotKey, TableImage> tables_;
  std::set<PhysAddr> table_pages_;
  std::vector<Leaf> leaves_;
  std::vector<std::string> problems_;
};

Snapshot take_snapshot(const FakeMemory& memory, PhysAddr root, const WalkGeometry& geometry,
                       const WalkRules& rules = {});

// Reads the descriptor at (`level`, `va`) by walking from the root through
// memory as it is now; nullopt when the walk stops above `level` (invalid
// entry, leaf, or an unreadable table).
std::optional<Descriptor> read_slot(const FakeMemory& memory, PhysAddr root,
                                    const WalkGeometry& geometry, unsigned level, VirtAddr va);

std::string hex(std::uint64_t value);

}  // namespace tlbkit::test
