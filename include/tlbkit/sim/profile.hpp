// Named hardware profiles: how many PEs, how big their TLBs are, and what
// each kind of maintenance and translation work costs in cycles. Sources
// and assumptions: docs/SIMULATOR.md (docs/ARCHITECTURE-FACTS.md section 7).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "tlbkit/sim/tlb.hpp"

namespace tlbkit::sim {

struct Profile {
  std::string_view name;
  std::string_view summary;
  unsigned pes = 8;  // PEs in the Inner Shareable domain (1..64)

  // TLB hierarchy per PE. Walk-cache and stage-2 entries live in the L2
  // (as on Cortex-A76: "L2 holds walk-cache and stage-2 entries").
  TlbGeometry l1i{1, 48};
  TlbGeometry l1d{1, 48};
  TlbGeometry l2{256, 5};

  // Translation, cycles.
  std::uint64_t l2_hit = 0;           // an L1 miss served by the L2
  std::uint64_t descriptor_read = 0;  // one descriptor read by a walk

  // Maintenance, cycles.
  std::uint64_t tlbi_local = 0;         // a TLBI without IS
  std::uint64_t tlbi_broadcast = 0;     // issuing an IS TLBI (by VA, range or wide)
  std::uint64_t dsb_local = 0;          // a DSB with no broadcast maintenance to wait for
  std::uint64_t dsb_broadcast_base = 0; // a DSB completing broadcast maintenance ...
  std::uint64_t dsb_per_pe = 0;         // ... plus this per PE of the domain
  std::uint64_t isb = 0;
  std::uint64_t ic_broadcast = 0;       // IC IALLUIS
  std::uint64_t dc_line = 0;            // one DC CIVAC
  // Paid once per plan executed: the host traps to an EL1 shim to run it
  // (HVF-style runners; 0 elsewhere).
  std::uint64_t request_round_trip = 0;
  // What the kernel on these cores runs with (trace replay): the ASID and
  // VMID widths (ID_AA64MMFR0_EL1.ASIDBits, ID_AA64MMFR1_EL1.VMIDBits: 8 or
  // 16) and whether anonymous memory in huge-page eligible VMAs is backed
  // by 2 MiB blocks (transparent huge pages).
  unsigned asid_bits = 16;
  unsigned vmid_bits = 16;
  enum class HugePages : std::uint8_t { off, on } transparent_huge_pages = HugePages::on;

  // Every broadcast TLBI;DSB pair is issued this many times (1 normally;
  // 2 on cores with the repeat-TLBI erratum, CVE-2025-10263).
  unsigned tlbi_repeat = 1;

  // Cycles of one DSB that completes broadcast maintenance on `pes` PEs.
  constexpr std::uint64_t dsb_broadcast(unsigned pe_count) const {
    return dsb_broadcast_base + dsb_per_pe * pe_count;
  }
};

// Every built-in profile: mobile-8, server-64, hvf-shim, erratum-repeat-tlbi.
std::span<const Profile> profiles();

// The profile called `name`, or nullptr.
const Profile* find_profile(std::string_view name);

}  // namespace tlbkit::sim
