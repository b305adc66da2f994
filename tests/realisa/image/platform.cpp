#include "platform.hpp"

#include "console.hpp"
#include "sysreg.hpp"
#include "trap.hpp"

extern "C" char __image_end[];

namespace realisa {
namespace {

using tlbkit::arch::BbmLevel;
using tlbkit::arch::Presence;

unsigned field(std::uint64_t reg, unsigned shift) { return static_cast<unsigned>(reg >> shift) & 0xf; }

// The table pool: 4 MiB, 1024 pages.
constexpr unsigned kPoolPages = 1024;
// Aligned for the largest run allocate() hands out (a concatenated
// stage-2 root of up to 16 pages is aligned to its size).
alignas(16 * 4096) unsigned char g_pool[kPoolPages * kPage];
bool g_used[kPoolPages];
constexpr std::uint64_t kPoison = 0xdead00000000dead & ~std::uint64_t{1};  // bit 0 clear: invalid

// Frames: from the first 2 MiB boundary 2 MiB above the image's end to
// the end of RAM.
PhysAddr g_next_frame = 0;

}  // namespace

tlbkit::arch::CpuFeatures read_features(unsigned processing_elements) {
  tlbkit::arch::CpuFeatures f;
  const std::uint64_t isar0 = sysreg::read_id_aa64isar0_el1();
  const std::uint64_t mmfr0 = sysreg::read_id_aa64mmfr0_el1();
  const std::uint64_t mmfr1 = sysreg::read_id_aa64mmfr1_el1();
  const std::uint64_t mmfr2 = sysreg::read_id_aa64mmfr2_el1();
  f.tlbi_range = field(isar0, 56) == 2 ? Presence::present : Presence::absent;
  f.ttl = field(mmfr2, 48) != 0 ? Presence::present : Presence::absent;
  const unsigned bbm = field(mmfr2, 52);
  f.bbm = bbm >= 2 ? BbmLevel::level2 : bbm == 1 ? BbmLevel::level1 : BbmLevel::level0;
  f.asid_bits = field(mmfr0, 4) == 2 ? 16 : 8;
  f.vmid_bits = field(mmfr1, 4) == 2 ? 16 : 8;
  f.processing_elements = processing_elements;
  f.dcache_line = 4u << field(sysreg::read_ctr_el0(), 16);
  return f;
}

void print_features(const tlbkit::arch::CpuFeatures& f) {
  console::print("features");
  console::print_field("tlbi_range", f.tlbi_range == Presence::present);
  console::print_field("ttl", f.ttl == Presence::present);
  console::print_field("bbm", static_cast<unsigned>(f.bbm));
  console::print_field("fwb", f.fwb == Presence::present);
  console::print_field("asid_bits", f.asid_bits);
  console::print_field("vmid_bits", f.vmid_bits);
  console::print_field("pes", f.processing_elements);
  console::print("\n");
}

tlbkit::Result<PhysAddr> PoolTableMemory::allocate(unsigned pages) {
  for (unsigned first = 0; first + pages <= kPoolPages; first += pages) {
    bool free_run = true;
    for (unsigned i = 0; i < pages && free_run; ++i) free_run = !g_used[first + i];
    if (!free_run) continue;
    for (unsigned i = 0; i < pages; ++i) g_used[first + i] = true;
    in_use_ += pages;
    return reinterpret_cast<PhysAddr>(&g_pool[first * kPage]);
  }
  return tlbkit::Error{tlbkit::Errc::no_memory, "table pool exhausted"};
}

void PoolTableMemory::free(PhysAddr table, unsigned pages) {
  const auto first = static_cast<unsigned>((table - reinterpret_cast<PhysAddr>(g_pool)) / kPage);
  auto* words = reinterpret_cast<std::uint64_t*>(table);
  for (std::uint64_t i = 0; i < pages * kPage / 8; ++i) words[i] = kPoison;
  for (unsigned i = 0; i < pages; ++i) g_used[first + i] = false;
  in_use_ -= pages;
}

tlbkit::arch::Descriptor* PoolTableMemory::descriptors(PhysAddr table) {
  return reinterpret_cast<tlbkit::arch::Descriptor*>(table);
}

PoolTableMemory& table_memory() {
  static PoolTableMemory memory;
  return memory;
}

std::uint64_t frame_word(PhysAddr page) { return 0xf4a3e00000000000 | (page >> 12); }

PhysAddr allocate_frames(std::uint64_t size, std::uint64_t align) {
  if (g_next_frame == 0) {
    g_next_frame = (reinterpret_cast<PhysAddr>(__image_end) + kBlock + kBlock - 1) & ~(kBlock - 1);
  }
  const PhysAddr pa = (g_next_frame + align - 1) & ~(align - 1);
  if (pa + size > kRamBase + kRamSize) {
    console::print("FATAL: out of data frames\n");
    console::exit(70);
  }
  g_next_frame = pa + size;
  for (PhysAddr page = pa; page < pa + size; page += kPage) {
    *reinterpret_cast<volatile std::uint64_t*>(page) = frame_word(page);
  }
  return pa;
}

void free_all_frames() { g_next_frame = 0; }

tlbkit::Status map_harness(tlbkit::pt::Table& table, tlbkit::arch::s2::Fwb fwb) {
  struct NoMaintenance final : tlbkit::pt::ChangeSink {
    // The table is not live yet: nothing to invalidate.
    void record(const tlbkit::pt::Change&) override {}
    void invalidate_now(const tlbkit::pt::Change&) override {}
    void retire_table(PhysAddr, unsigned) override {}
  } sink;
  using tlbkit::arch::Regime;
  switch (table.regime()) {
    case Regime::el1_stage1: {
      tlbkit::arch::s1::Attributes normal{.mair_index = kMairNormal, .el1_execute = tlbkit::arch::Execute::allowed};
      tlbkit::arch::s1::Attributes device{.mair_index = kMairDevice};
      if (auto s = table.map(kRamBase, kRamBase, kRamSize, normal, sink); !s.ok()) return s;
      return table.map(kUartBase, kUartBase, kPage, device, sink);
    }
    case Regime::el2_stage1: {
      tlbkit::arch::el2::Attributes normal{.mair_index = kMairNormal, .execute = tlbkit::arch::Execute::allowed};
      tlbkit::arch::el2::Attributes device{.mair_index = kMairDevice};
      if (auto s = table.map(kRamBase, kRamBase, kRamSize, normal, sink); !s.ok()) return s;
      return table.map(kUartBase, kUartBase, kPage, device, sink);
    }
    case Regime::stage2: {
      namespace s2 = tlbkit::arch::s2;
      s2::Attributes normal{.memattr = s2::encode_memory_type(s2::MemoryType::normal_write_back, fwb).value(),
                            .execute = s2::Execute::all};
      return table.map(kRamBase, kRamBase, kRamSize, normal, sink);
    }
  }
  return tlbkit::Error{tlbkit::Errc::invalid_argument, "unknown regime"};
}

namespace {

// TCR fields for a 48-bit, 4 KiB-granule, inner-shareable write-back walk.
constexpr std::uint64_t kT0sz48 = 16;
constexpr std::uint64_t kWalkAttributes = (1ull << 8) | (1ull << 10) | (3ull << 12);  // IRGN0, ORGN0, SH0
constexpr std::uint64_t kSctlrM = 1, kSctlrC = 1ull << 2, kSctlrI = 1ull << 12;
constexpr std::uint64_t kSctlrEl1Res1 = 0x30d00800;
constexpr std::uint64_t kSctlrEl2Res1 = 0x30c50830;

std::uint64_t physical_address_size() { return sysreg::read_id_aa64mmfr0_el1() & 0x7; }

}  // namespace

tlbkit::arch::Geometry va48_geometry() {
  return tlbkit::arch::Geometry::stage1(tlbkit::arch::Granule::k4K, static_cast<unsigned>(64 - kT0sz48)).value();
}

void enable_el1_mmu(PhysAddr root, std::uint16_t asid, const tlbkit::arch::CpuFeatures& f) {
  sysreg::write_mair_el1(kMairValue);
  const std::uint64_t as16 = f.asid_bits == 16 ? (1ull << 36) : 0;
  // EPD1: no walks through TTBR1; IPS: what the CPU supports.
  sysreg::write_tcr_el1(kT0sz48 | kWalkAttributes | (1ull << 23) | (physical_address_size() << 32) | as16);
  sysreg::write_ttbr0_el1(root | (std::uint64_t{asid} << 48));
  sysreg::isb();
  __asm__ volatile("tlbi vmalle1\n dsb nsh\n isb" : : : "memory");
  sysreg::write_sctlr_el1(kSctlrEl1Res1 | kSctlrM | kSctlrC | kSctlrI);
  sysreg::isb();
}

void switch_el1_space(PhysAddr root, std::uint16_t asid) {
  sysreg::write_ttbr0_el1(root | (std::uint64_t{asid} << 48));
  sysreg::isb();
}

void enable_el2_mmu(PhysAddr root) {
  sysreg::write_mair_el2(kMairValue);
  // TCR_EL2 (E2H = 0): RES1 bits 31 and 23, PS at 18:16.
  sysreg::write_tcr_el2(kT0sz48 | kWalkAttributes | (physical_address_size() << 16) | (1ull << 31) | (1ull << 23));
  sysreg::write_ttbr0_el2(root);
  sysreg::isb();
  __asm__ volatile("tlbi alle2\n dsb nsh\n isb" : : : "memory");
  sysreg::write_sctlr_el2(kSctlrEl2Res1 | kSctlrM | kSctlrC | kSctlrI);
  sysreg::isb();
}

std::int64_t start_pe(unsigned index) {
  register std::uint64_t x0 __asm__("x0") = 0xc4000003;  // CPU_ON, SMC64/HVC64
  register std::uint64_t x1 __asm__("x1") = index;        // MPIDR: Aff0 = index on virt
  register std::uint64_t x2 __asm__("x2") = reinterpret_cast<std::uint64_t>(&realisa_secondary_entry);
  register std::uint64_t x3 __asm__("x3") = index;
  __asm__ volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
  return static_cast<std::int64_t>(x0);
}

}  // namespace realisa
