// A change record: one run of descriptors that really changed, as the table
// engine reports it to whoever owns the TLB maintenance.
#pragma once

#include <cstdint>

#include "tlbkit/arch/granule.hpp"
#include "tlbkit/arch/regime.hpp"

namespace tlbkit::pt {

using arch::ChangeKind;
using arch::ExecGain;
using arch::PhysAddr;
using arch::VirtAddr;

// What the TLBs may hold for the changed slot: a translation (leaf: block or
// page) or a walk-cache entry (table descriptor). For a map the new entry's
// type; otherwise the old one's, since that is what may be cached.
enum class EntryKind : std::uint8_t { leaf, table };

// Whether the memory a change stops translating to must be cleaned and
// invalidated from the data caches (DC CIVAC per line) before it is reused:
// stage-2 unmap or replacement of cacheable memory without FEAT_S2FWB.
enum class CacheMaintenance : std::uint8_t { none, clean_invalidate };

// For the record of a table entry that was unmapped: what the records say
// about the translations below it.
// - unseen: the table went whole (an unmap covering its span unhooks it
//   without visiting its entries): any address under it may still be
//   cached, so the maintenance must reach every page of the span.
// - reported: the table was emptied entry by entry and every entry that was
//   valid has a record of its own (a leaf, or a lower table's record); what
//   this record adds is only the walk-cache entry of the table descriptor,
//   which one non-leaf invalidation at any address of each slot removes
//   (FreeBSD's pmap_unwire_l3, Zircon's FlushEntry of a freed page table,
//   KVM's per-entry flush of a freed table: one op per table).
// Leaves, maps and every other kind: unseen.
enum class Beneath : std::uint8_t { unseen, reported };

// A run of adjacent descriptor slots at one level that changed the same way.
// [va, va + size) is the input-address range the slots map; for a table
// entry it covers every translation below it.
//
// What the engine reports, for one operation:
// - every live slot whose descriptor changed: one record, kind as
//   arch::classify(old, new); a break-before-make comes through
//   ChangeSink::invalidate_now() instead of record();
// - every valid slot of a table the operation created (map, or a block
//   rebuilt as a table by a split): one map record with its final value;
// - slots of a table it retired: nothing required (the record of the table
//   entry above covers them); an unmap record is allowed; when every valid
//   slot of the retired table has one, the table entry's record may say
//   Beneath::reported;
// - nothing for a write that changes nothing.
// For leaves the run is physically contiguous too: it maps (old side for
// unmap and replace) [va, va + size) to [output, output + size).
// `exec` is yes exactly when some address of the slot may execute afterwards
// where it could not before (per address, so a split or a promotion of
// executable memory gains nothing; a map record of a table entry says no,
// its leaves carry their own).
struct Change {
  VirtAddr va = 0;
  std::uint64_t size = 0;
  std::uint8_t level = 0;
  EntryKind entry = EntryKind::leaf;
  ChangeKind kind = ChangeKind::map;
  ExecGain exec = ExecGain::no;
  PhysAddr output = 0;  // output (old for unmap/replace, else new) of the first slot
  CacheMaintenance cmo = CacheMaintenance::none;
  Beneath beneath = Beneath::unseen;
  friend constexpr bool operator==(const Change&, const Change&) = default;
};

// Receives what a table operation did. Implemented by maint::Gather and by
// test recorders. The table engine calls it while it works; none of the
// calls may fail.
class ChangeSink {
 public:
  // A change whose invalidation (if any) may wait until the caller finishes
  // the batch.
  virtual void record(const Change& change) = 0;

  // Break-before-make: the slots of `change` were just written invalid in a
  // live table and their old entries must be invalidated, with completion,
  // before this call returns; the engine writes the new descriptor after.
  virtual void invalidate_now(const Change& change) = 0;

  // A table the operation unhooked: `pages` pages from one
  // TableMemory::allocate (more than one only for a concatenated stage-2
  // root). It may still be walked through stale walk-cache entries: free it
  // (and only then) after the maintenance that covers its range completed.
  virtual void retire_table(PhysAddr table, unsigned pages) = 0;

 protected:
  ~ChangeSink() = default;
};

}  // namespace tlbkit::pt
