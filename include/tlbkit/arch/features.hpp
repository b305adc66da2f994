// The CPU features that decide which maintenance is legal and cheapest.
#pragma once

#include <cstdint>

namespace tlbkit::arch {

// FEAT_BBM support level (ID_AA64MMFR2_EL1.BBM).
enum class BbmLevel : std::uint8_t { level0, level1, level2 };

enum class Presence : std::uint8_t { absent, present };

struct CpuFeatures {
  Presence tlbi_range = Presence::absent;  // FEAT_TLBIRANGE (ID_AA64ISAR0_EL1.TLB == 2)
  Presence ttl = Presence::absent;         // FEAT_TTL (ID_AA64MMFR2_EL1.TTL)
  BbmLevel bbm = BbmLevel::level0;         // ID_AA64MMFR2_EL1.BBM
  Presence fwb = Presence::absent;         // FEAT_S2FWB in use (HCR_EL2.FWB = 1)
  unsigned asid_bits = 16;                 // 8 or 16 (ID_AA64MMFR0_EL1.ASIDBits)
  unsigned vmid_bits = 16;                 // 8 or 16 (ID_AA64MMFR1_EL1.VMIDBits)
  unsigned processing_elements = 1;        // PEs in the Inner Shareable domain
  unsigned dcache_line = 64;               // bytes (CTR_EL0.DminLine)
  friend constexpr bool operator==(const CpuFeatures&, const CpuFeatures&) = default;
};

}  // namespace tlbkit::arch
