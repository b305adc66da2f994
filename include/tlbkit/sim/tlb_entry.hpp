// What a simulated TLB holds: one cached translation (leaf) or one cached
// table descriptor (walk-cache entry), with every tag the architecture
// matches TLBIs against (docs/ARCHITECTURE-FACTS.md section 2), and what the checkers need
// to know about where it came from.
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
//   stage2:   IPA -> PA of one VMID (the stage-2-only entries IPAS2* hit),
//             whether filled by a stage-2-only context or by the stage-2
//             walks of a two-stage translation; walk entries are stage-2
//             table descriptors (output: the next stage-2 table's PA);
//   combined: EL1&0 with stage 1 under stage 2 (what VMALLE1, VAE1 and
//             VMALLS12E1 hit, IPAS2* spare): leaves VA -> PA through both
//             stages; walk entries are stage-1 table descriptors read under
//             stage 2, whose output is the next stage-1 table's IPA.
enum class EntryStage : std::uint8_t { stage1, stage2, combined };

// A translation (block or page descriptor) or a walk-cache entry (a table
// descriptor: the next-level table's address for an input range).
enum class CachedKind : std::uint8_t { leaf, walk };

// A combined leaf is VA -> PA for `size` bytes: the smaller of the stage-1
// leaf and the stage-2 leaf that translated its output IPA (a stage-1 block
// over stage-2 pages is cached in page-sized pieces, "fractured"); its
// `level` is the stage-1 leaf's (the level a TTL hint of VAE1 names), its
// permissions the intersection of both stages', ASID and nG come from
// stage 1, the VMID from the context. It remembers both leaf descriptors
// it was filled from (descriptor*: stage 1, s2_descriptor*: stage 2), so
// that a rewrite of either counts as held for break-before-make and makes
// its removal a needed one. The stage-2 descriptors that translated the
// stage-1 table addresses are not remembered: the walk cached them as
// stage-2 entries of their own.
struct TlbEntry {
  arch::Regime regime = arch::Regime::el1_stage1;  // el1_stage1 (stage1/combined), el2_stage1, stage2
  EntryStage stage = EntryStage::stage1;
  CachedKind kind = CachedKind::leaf;
  std::uint8_t level = 3;   // level of the descriptor it was filled from (combined: the stage-1 one)
  std::uint16_t vmid = 0;   // EL1&0 entries (stage1, stage2, combined)
  std::uint16_t asid = 0;   // EL1&0 stage1/combined entries that are not global
  bool global = false;      // EL1&0 leaf with nG = 0 (walk entries are never global); all EL2 entries
  VirtAddr input = 0;       // first input address covered, aligned to size
  std::uint64_t size = 0;   // input bytes covered: leaf = block/page size; walk = what the table maps
  // leaf: output (PA) for `input`; walk: the next-level table's address as
  // the descriptor names it (a PA, except for combined walk entries: an IPA).
  PhysAddr output = 0;
  // The descriptor it was filled from (combined: the stage-1 leaf or table
  // descriptor) and the PA where it lives (under stage 2: the PA its IPA
  // translated to at fill time).
  Descriptor descriptor = 0;
  PhysAddr descriptor_pa = 0;
  std::uint8_t permissions = 0;  // leaf: arch::Permission bits granted (both stages combined)
  std::uint64_t filled_at = 0;   // event index of the fill
  // The walk that filled it read a descriptor another PE had already
  // rewritten but not yet made visible (no DSB since the write).
  bool from_unpublished = false;
  // Combined leaves only (0 otherwise): the level of the stage-2 leaf that
  // translated the stage-1 output IPA, the descriptor and its PA.
  std::uint8_t s2_level = 0;
  Descriptor s2_descriptor = 0;
  PhysAddr s2_descriptor_pa = 0;
  // Walk entries: the PA of the next-level table page at fill time (for
  // the use-after-free checker). Equal to `output` except for combined
  // walk entries, whose output is an IPA: the architecture lets a walk
  // cache hold the table's stage-2 translation too, so the page it pointed
  // at when filled is the one it may still read.
  PhysAddr table_pa = 0;

  // Whether [input, input + size) contains `address`.
  constexpr bool covers(VirtAddr address) const { return address - input < size; }
  friend constexpr bool operator==(const TlbEntry&, const TlbEntry&) = default;
};

}  // namespace tlbkit::sim
