// What the planner believes maintenance costs, in integer cycles (the core
// uses no floating point; equal input gives equal plans on any machine).
#pragma once

#include <cstdint>

namespace tlbkit::maint {

// Calibration (docs/ARCHITECTURE-FACTS.md section 7, Zhenyu Ye's FPGA numbers, unit not
// stated, read as cycles): a per-page TLBI loop costs about 10055 + 529 per
// page (32 pages 26983, 512 pages 280932); one range op about 11100 flat, so
// about 1045 to issue beside the closing DSB. How the DSB grows with PEs is
// assumed (broadcast completion waits for every PE).
//
// The refill figures are measured on the simulator (docs/ARCHITECTURE-FACTS.md
// section 7): a refill costs 40-60 cycles on
// mobile-8 (one descriptor read behind walk-cache hits), and a space-wide
// invalidation made 3 to 22 entries of the space be fetched again, all PEs
// together, over the generated suite and the shipped real traces; 16 per
// PE that may hold the space's entries is above every one of them. The
// simulator measures; this only ranks candidate plans.
struct CostModel {
  std::uint64_t tlbi_local = 40;           // issue a non-broadcast TLBI (assumed)
  std::uint64_t tlbi_broadcast = 529;      // issue a broadcast by-VA TLBI (published)
  std::uint64_t tlbi_range = 1045;         // issue a broadcast range TLBI (published)
  std::uint64_t tlbi_wide = 1045;          // issue ASIDE1IS / VMALLE1IS / VMALLS12E1IS (assumed as a range op)
  std::uint64_t dsb_base = 6055;           // DSB ISH after broadcasts, fixed part (assumed split)
  std::uint64_t dsb_per_pe = 500;          // ... and per PE of the domain (assumed: 8 PEs give the published 10055)
  std::uint64_t dsb_store = 100;           // DSB ISHST (assumed)
  std::uint64_t dsb_local = 100;           // DSB NSH completing local TLBIs (assumed)
  std::uint64_t isb = 20;                  // (assumed)
  std::uint64_t refill = 46;               // one TLB refill (a walk with walk-cache hits; measured)
  std::uint64_t resident_per_space = 16;   // translations of one space a holding PE reuses after a flush (measured)
  std::uint64_t resident_total = 1280;     // translations cached per PE, all spaces (Cortex-A76 L2 size)
  std::uint64_t cached_per_1024_pages = 256;  // of pages near a change, how many (per 1024) a PE caches (assumed)
  std::uint64_t dc_civac_line = 20;        // one DC CIVAC (assumed)
  std::uint64_t ic_invalidate_all = 2000;  // IC IALLUIS + DSB + ISB (assumed)
};

}  // namespace tlbkit::maint
