// The machine the image runs on (QEMU virt): its memory layout, the CPU's
// features as its ID registers give them, table memory, data frames, the
// harness's own identity mapping and turning the MMU on.
#pragma once

#include <cstdint>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/pt/table.hpp"

namespace realisa {

using tlbkit::arch::PhysAddr;
using tlbkit::arch::VirtAddr;

inline constexpr PhysAddr kRamBase = 0x40000000;
inline constexpr std::uint64_t kRamSize = 256ull << 20;  // -m 256M
inline constexpr PhysAddr kUartBase = 0x09000000;
inline constexpr std::uint64_t kPage = 4096;
inline constexpr std::uint64_t kBlock = 2ull << 20;

// The MAIR indices the harness programs: 0 normal write-back, 1 device.
inline constexpr std::uint8_t kMairNormal = 0;
inline constexpr std::uint8_t kMairDevice = 1;
inline constexpr std::uint64_t kMairValue = 0xff | (0x00ull << 8);

// The CPU's maintenance features, read from its ID registers
// (ID_AA64ISAR0_EL1.TLB, ID_AA64MMFR2_EL1.TTL and BBM, ASID and VMID bits,
// CTR_EL0.DminLine). FWB is reported absent: the EL2 lane decides it.
tlbkit::arch::CpuFeatures read_features(unsigned processing_elements);
void print_features(const tlbkit::arch::CpuFeatures& f);

// Table pages from a static pool, identity mapped (PA == pointer). Freed
// pages are filled with a poison that is not a valid descriptor.
class PoolTableMemory final : public tlbkit::pt::TableMemory {
 public:
  tlbkit::Result<PhysAddr> allocate(unsigned pages) override;
  void free(PhysAddr table, unsigned pages) override;
  tlbkit::arch::Descriptor* descriptors(PhysAddr table) override;
  unsigned pages_in_use() const { return in_use_; }

 private:
  unsigned in_use_ = 0;
};
PoolTableMemory& table_memory();

// Data frames above the image: each 4 KiB page's first word is
// frame_word(pa), so a read through a translation shows which page it
// reached. Bump allocated; reused only after free_all_frames().
std::uint64_t frame_word(PhysAddr page);
// `size` bytes aligned to `align`, each page stamped.
PhysAddr allocate_frames(std::uint64_t size, std::uint64_t align);
// Takes every frame back: called between scenarios, once no table maps
// them and no TLB can hold a translation to them.
void free_all_frames();

// Maps the harness (all RAM, normal memory, global, executable at EL1/EL2)
// and the UART (device) identity into `table`, whose regime is EL1&0
// stage 1, EL2 stage 1 or stage 2 (RAM only, its memory type encoded for
// `fwb`).
tlbkit::Status map_harness(tlbkit::pt::Table& table,
                           tlbkit::arch::s2::Fwb fwb = tlbkit::arch::s2::Fwb::disabled);

// The geometry of every stage-1 table the harness loads: 48-bit VA, 4 KiB
// granule (the T0SZ the enable functions below program).
tlbkit::arch::Geometry va48_geometry();

// MMU on for EL1&0 with TTBR0 = root and `asid`; 48-bit VA, 4 KiB granule.
void enable_el1_mmu(PhysAddr root, std::uint16_t asid, const tlbkit::arch::CpuFeatures& f);
// Loads TTBR0_EL1 with another space (no TLBI: entries are ASID-tagged).
void switch_el1_space(PhysAddr root, std::uint16_t asid);
// MMU on for EL2 (no E2H) with TTBR0_EL2 = root; 48-bit VA.
void enable_el2_mmu(PhysAddr root);

// PSCI CPU_ON through HVC (QEMU virt without EL2 or EL3 emulated): starts
// PE `index` at realisa_secondary_entry. Returns the PSCI status (0: on).
std::int64_t start_pe(unsigned index);

}  // namespace realisa
