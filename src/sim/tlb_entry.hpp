// What a simulated TLB holds: one cached translation (leaf) or one cached
// table descriptor (walk-cache entry), with every tag the architecture
// matches TLBIs against (REFERENCE.md section 2).
#pragma once

#include <cstdint>

#include "tlbkit/arch/descriptor.hpp"
#include "tlbkit/arch/granule.hpp"
#include "tlbkit/arch/regime.hpp"

namespace tlbkit::sim {

using arch::Descriptor;
using arch::PhysAddr;
using arch::VirtAddr;

// Which translation an entry caches.
//   stage1:   EL1&0 VA -> PA with stage 2 off (VMID still tags it), or the
//             EL2 regime VA -> PA (regime el2_stage1);
//   stage2:   IPA -> PA of one VMID (the stage-2-only entries IPAS2* hit);
//   combined: EL1&0 VA -> PA through both stages (what VMALLE1, VAE1 and
//             VMALLS12E1 hit, IPAS2* spare).
enum class EntryStage : std::uint8_t { stage1, stage2, combined };

// A translation (block or page descriptor) or a walk-cache entry (a table
// descriptor: the next-level table's address for an input range).
enum class CachedKind : std::uint8_t { leaf, walk };

struct TlbEntry {
  arch::Regime regime = arch::Regime::el1_stage1;  // el1_stage1 (stage1/combined), el2_stage1, stage2
  EntryStage stage = EntryStage::stage1;
  CachedKind kind = CachedKind::leaf;
  std::uint8_t level = 3;   // level of the descriptor it was filled from
  std::uint16_t vmid = 0;   // EL1&0 entries (stage1, stage2, combined)
  std::uint16_t asid = 0;   // EL1&0 stage1/combined entries that are not global
  bool global = false;      // EL1&0 leaf with nG = 0 (walk entries are never global); all EL2 entries
  VirtAddr input = 0;       // first input address covered, aligned to size
  std::uint64_t size = 0;   // input bytes covered: leaf = block/page size; walk = what the table maps
  PhysAddr output = 0;      // leaf: output base for `input`; walk: the next-level table's address
  Descriptor descriptor = 0;   // the descriptor it was filled from (leaf: the last stage's leaf)
  PhysAddr descriptor_pa = 0;  // where that descriptor lives (physical)
  std::uint8_t permissions = 0;  // leaf: arch::Permission bits granted (both stages combined)
  std::uint64_t filled_at = 0;   // event index of the fill
  // The walk that filled it read a descriptor another PE had already
  // rewritten but not yet made visible (no DSB since the write).
  bool from_unpublished = false;

  // Whether [input, input + size) contains `address`.
  constexpr bool covers(VirtAddr address) const { return address - input < size; }
  friend constexpr bool operator==(const TlbEntry&, const TlbEntry&) = default;
};

}  // namespace tlbkit::sim
