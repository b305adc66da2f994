// The one generic walker behind every table operation (engine-internal).
//
// It visits the descriptor slots of [start, end) top down. For each slot that
// is not a table descriptor it calls the visitor's leaf(); when that returns
// Descend::yes (the visitor installed a table there: map, split) it descends
// into the new table. For each table descriptor it calls table_pre(),
// descends when that says so, then table_post().
#pragma once

#include <algorithm>
#include <cstdint>

#include "tlbkit/arch/descriptor.hpp"
#include "tlbkit/arch/granule.hpp"
#include "tlbkit/pt/table_memory.hpp"

namespace tlbkit::pt::detail {

using arch::Geometry;
using arch::VirtAddr;

// Reads a descriptor that hardware (AF/DBM updates) or other walkers may
// access concurrently.
inline Descriptor read_entry(const Descriptor* entry) { return __atomic_load_n(entry, __ATOMIC_RELAXED); }

// Writes a live descriptor with one 64-bit release store, so that every
// earlier write (a new table's contents) is visible before it.
inline void write_entry(Descriptor* entry, Descriptor value) {
  __atomic_store_n(entry, value, __ATOMIC_RELEASE);
}

// One descriptor slot as the walker presents it.
struct Slot {
  unsigned level;
  VirtAddr va;          // first input address the slot maps
  std::uint64_t size;   // bytes one entry at this level maps
  Descriptor* entry;
  Descriptor old;       // value read before the visitor ran
  VirtAddr end() const { return va + size; }
};

enum class Descend : std::uint8_t { no, yes };

// Where a tree lives.
struct Tree {
  const Geometry& geometry;
  TableMemory& memory;
  PhysAddr root;
};

template <class Visitor>
void walk_table(const Tree& tree, PhysAddr table, unsigned level, VirtAddr table_va, VirtAddr start,
                VirtAddr end, Visitor& visitor) {
  Descriptor* entries = tree.memory.descriptors(table);
  const unsigned shift = tree.geometry.level_shift(level);
  const std::uint64_t size = std::uint64_t{1} << shift;
  const unsigned first = static_cast<unsigned>((start - table_va) >> shift);
  const unsigned last = static_cast<unsigned>((end - 1 - table_va) >> shift);
  for (unsigned i = first; i <= last; ++i) {
    Slot slot{level, table_va + (std::uint64_t{i} << shift), size, &entries[i], read_entry(&entries[i])};
    const VirtAddr sub_start = std::max(start, slot.va);
    const VirtAddr sub_end = std::min(end, slot.end());
    if (arch::is_table(slot.old, level)) {
      if (visitor.table_pre(slot) == Descend::no) continue;
    } else {
      if (visitor.leaf(slot) == Descend::no) continue;
      slot.old = read_entry(slot.entry);
    }
    walk_table(tree, arch::output_address(slot.old), level + 1, slot.va, sub_start, sub_end, visitor);
    slot.old = read_entry(slot.entry);
    visitor.table_post(slot);
  }
}

// Walks [start, end) of the whole tree. Precondition: start < end <= the
// input space size. Concatenated stage-2 root tables are walked page by page.
template <class Visitor>
void walk_range(const Tree& tree, VirtAddr start, VirtAddr end, Visitor& visitor) {
  const unsigned level = tree.geometry.start_level();
  const std::uint64_t page_span = std::uint64_t{arch::kEntriesPerTable} << tree.geometry.level_shift(level);
  for (VirtAddr page_va = start & ~(page_span - 1); page_va < end; page_va += page_span) {
    const PhysAddr page = tree.root + (page_va / page_span) * arch::granule_size(arch::Granule::k4K);
    walk_table(tree, page, level, page_va, std::max(start, page_va), std::min(end, page_va + page_span),
               visitor);
    if (page_va + page_span < page_va) break;  // wrapped at the top of a 64-bit space
  }
}

}  // namespace tlbkit::pt::detail
