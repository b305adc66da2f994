// The built-in scenarios. Each function builds one; addresses are chosen so
// that the plans can be derived by hand (tests/workload does exactly that).
// Output addresses are made up and lie below sim::PhysicalMemory's default
// table pool (0x8000_0000), so data and tables never share a page.
#include <string>
#include <utility>

#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::workload {
namespace {

using arch::Execute;
using pt::BlockMappings;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t kPage = 4 * KiB;

// ---- typed attribute sets -----------------------------------------------------

// Stage 1, EL1&0: a user (EL0) page of a process, tagged with its ASID.
arch::s1::Attributes user(arch::s1::Access access, Execute el0) {
  arch::s1::Attributes a;
  a.access = access;
  a.el0_execute = el0;
  a.el1_execute = Execute::never;
  a.scope = arch::s1::Scope::non_global;
  return a;
}
arch::s1::Attributes user_rw() { return user(arch::s1::Access::all_rw, Execute::never); }
arch::s1::Attributes user_ro() { return user(arch::s1::Access::all_ro, Execute::never); }
arch::s1::Attributes user_rx() { return user(arch::s1::Access::all_ro, Execute::allowed); }

// Stage 1, EL1&0: a kernel page, global (nG = 0).
arch::s1::Attributes kernel(arch::s1::Access access) {
  arch::s1::Attributes a;
  a.access = access;
  a.scope = arch::s1::Scope::global;
  return a;
}

// Stage 1, EL2: AttrIndx 0 = Normal write-back, 1 = Device-nGnRE (MAIR_EL2).
arch::el2::Attributes hyp(std::uint8_t mair_index) {
  arch::el2::Attributes a;
  a.mair_index = mair_index;
  return a;
}

// Stage 2: guest RAM, Normal write-back (MemAttr 0b1111 without FWB).
arch::s2::Attributes guest_ram(arch::s2::Access access) {
  arch::s2::Attributes a;
  a.memattr = 0xf;
  a.access = access;
  a.execute = arch::s2::Execute::all;
  return a;
}

maint::AddressSpace el1_space(std::uint16_t asid, maint::GlobalEntries global) {
  maint::AddressSpace s;
  s.regime = arch::Regime::el1_stage1;
  s.asid = asid;
  s.global = global;
  return s;
}

maint::AddressSpace el2_space() {
  maint::AddressSpace s;
  s.regime = arch::Regime::el2_stage1;
  return s;
}

maint::AddressSpace stage2_space(std::uint16_t vmid) {
  maint::AddressSpace s;
  s.regime = arch::Regime::stage2;
  s.vmid = vmid;
  return s;
}

GeometrySpec stage1(unsigned va_bits) { return GeometrySpec{arch::Stage::stage1, va_bits, 0}; }
GeometrySpec stage2(unsigned ipa_bits, unsigned start_level) {
  return GeometrySpec{arch::Stage::stage2, ipa_bits, start_level};
}

// ---- scenarios ----------------------------------------------------------------

Scenario relro_mprotect() {
  Scenario s;
  s.name = "relro-mprotect";
  s.description =
      "glibc ld.so: after relocation, mprotect(PROT_READ) of the RELRO part of the data segment "
      "(_dl_protect_relro)";
  s.geometry = stage1(48);
  s.space = el1_space(0x21, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{
      "execve: map the ELF segments",
      {Step::map(0x40'0000, 64 * KiB, 0x4000'0000, user_rx(), BlockMappings::allowed, "text segment, r-x"),
       Step::map(0x41'0000, 16 * KiB, 0x4001'0000, user_rw(), BlockMappings::allowed,
                 "data segment, rw- (.data.rel.ro, .got, .data)")}});
  s.batches.push_back(Batch{"ld.so: _dl_protect_relro",
                            {Step::protect(0x41'0000, 12 * KiB, user_ro(), "mprotect(PROT_READ) of RELRO")}});
  return s;
}

Scenario madvise_dontneed_page() {
  Scenario s;
  s.name = "madvise-dontneed-page";
  s.description =
      "anonymous memory given back: MADV_DONTNEED of one 4 KiB page (zap_pte_range), then page "
      "reclaim unmapping 34 scattered pages under one batched flush (try_to_unmap, TTU_BATCH_FLUSH)";
  s.geometry = stage1(48);
  s.space = el1_space(5, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{"page faults: 512 KiB of anonymous memory",
                            {Step::map(0x1000'0000, 512 * KiB, 0x4010'0000, user_rw(), BlockMappings::forbidden,
                                       "anonymous rw- mapping, faulted in 4 KiB pages")}});
  s.batches.push_back(
      Batch{"madvise(MADV_DONTNEED)", {Step::unmap(0x1000'0000, kPage, "zap the first page")}});
  Batch reclaim{"kswapd: shrink_folio_list, one batched flush", {}};
  for (unsigned i = 0; i < 34; ++i) {
    reclaim.steps.push_back(Step::unmap(0x1000'2000 + i * 2 * kPage, kPage, "try_to_unmap of a cold page"));
  }
  s.batches.push_back(std::move(reclaim));
  return s;
}

Scenario munmap_threshold_edge() {
  Scenario s;
  s.name = "munmap-threshold-edge";
  s.description =
      "glibc free() of mmap'd malloc chunks (>= M_MMAP_THRESHOLD): munmap of 128 KiB (32 pages, "
      "at the per-page limit) and of 132 KiB (33 pages, just above it)";
  s.geometry = stage1(48);
  s.space = el1_space(0x30, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{
      "malloc: two large chunks and the heap",
      {Step::map(0x2000'0000, 128 * KiB, 0x4020'0000, user_rw(), BlockMappings::allowed, "chunk A, 128 KiB"),
       Step::map(0x2002'0000, 132 * KiB, 0x4030'0000, user_rw(), BlockMappings::allowed, "chunk B, 132 KiB"),
       Step::map(0x2010'0000, 64 * KiB, 0x4040'0000, user_rw(), BlockMappings::allowed,
                 "heap pages sharing the PTE table")}});
  s.batches.push_back(Batch{"free(A)", {Step::unmap(0x2000'0000, 128 * KiB, "munmap of chunk A")}});
  s.batches.push_back(Batch{"free(B)", {Step::unmap(0x2002'0000, 132 * KiB, "munmap of chunk B")}});
  return s;
}

Scenario munmap_2m_pte_table() {
  Scenario s;
  s.name = "munmap-2m-4k-pages";
  s.description =
      "munmap of a 2 MiB region mapped in 4 KiB pages: every PTE goes, and the emptied PTE table "
      "is freed after the flush (free_pgtables in the same mmu_gather)";
  s.geometry = stage1(48);
  s.space = el1_space(0x31, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{
      "mmap + page faults",
      {Step::map(0x7f00'0020'0000, 2 * MiB, 0x4060'0000, user_rw(), BlockMappings::forbidden,
                 "2 MiB anonymous region, faulted in 4 KiB pages"),
       Step::map(0x7f00'0040'0000, 64 * KiB, 0x4080'0000, user_rw(), BlockMappings::allowed,
                 "neighbouring thread stack (keeps the PMD table alive)")}});
  s.batches.push_back(Batch{"munmap", {Step::unmap(0x7f00'0020'0000, 2 * MiB, "munmap of the 2 MiB region")}});
  return s;
}

Scenario thp_split_mprotect() {
  Scenario s;
  s.name = "thp-split-mprotect";
  s.description =
      "mprotect(PROT_READ) of one 4 KiB page inside a transparent huge page: the 2 MiB block is "
      "split into a PTE table with break-before-make (__split_huge_pmd)";
  s.geometry = stage1(48);
  s.space = el1_space(0x40, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{"THP fault",
                            {Step::map(0x4000'0000, 2 * MiB, 0x40a0'0000, user_rw(), BlockMappings::allowed,
                                       "2 MiB anonymous huge page (PMD block)")}});
  s.batches.push_back(
      Batch{"mprotect", {Step::protect(0x4000'5000, kPage, user_ro(), "mprotect(PROT_READ) of page 5")}});
  return s;
}

Scenario khugepaged_collapse() {
  Scenario s;
  s.name = "khugepaged-collapse";
  s.description =
      "khugepaged / MADV_COLLAPSE of 512 physically contiguous 4 KiB pages into one 2 MiB block: "
      "table -> block needs break-before-make (pmdp_collapse_flush), then the PTE table is freed";
  s.geometry = stage1(48);
  s.space = el1_space(0x41, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{"page faults",
                            {Step::map(0x6000'0000, 2 * MiB, 0x40c0'0000, user_rw(), BlockMappings::forbidden,
                                       "2 MiB of anonymous memory in 4 KiB pages")}});
  s.batches.push_back(Batch{"collapse_huge_page", {Step::promote(0x6000'0000, 2, "PTE table -> PMD block")}});
  return s;
}

Scenario fork_cow() {
  Scenario s;
  s.name = "fork-cow-wrprotect";
  s.description =
      "fork(): copy_page_range write-protects the parent's private writable memory for "
      "copy-on-write across three VMAs (a THP block, heap, stack), one flush for all";
  s.geometry = stage1(48);
  s.space = el1_space(0x50, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{
      "the parent's memory",
      {Step::map(0x5560'0000, 2 * MiB, 0x40e0'0000, user_rw(), BlockMappings::allowed, "THP-backed buffer"),
       Step::map(0x5580'0000, 64 * KiB, 0x4100'0000, user_rw(), BlockMappings::allowed, "heap, 16 pages"),
       Step::map(0x7ff0'0000, 32 * KiB, 0x4110'0000, user_rw(), BlockMappings::allowed, "stack, 8 pages")}});
  s.batches.push_back(Batch{
      "dup_mmap: one flush for the whole mm",
      {Step::protect(0x5560'0000, 2 * MiB, user_ro(), "write-protect the THP (huge_pmd_wrprotect)"),
       Step::protect(0x5580'0000, 64 * KiB, user_ro(), "write-protect the heap"),
       Step::protect(0x7ff0'0000, 32 * KiB, user_ro(), "write-protect the stack")}});
  return s;
}

Scenario jit_w_xor_x() {
  Scenario s;
  s.name = "jit-w-xor-x";
  s.description =
      "JIT compiler with W^X (V8, LuaJIT): mprotect of a freshly written 16 KiB code buffer from "
      "RW to RX; execute is gained, so the I-cache is invalidated too";
  s.geometry = stage1(48);
  s.space = el1_space(0x2a, maint::GlobalEntries::absent);
  s.batches.push_back(Batch{"mmap the code buffer",
                            {Step::map(0x7000'0000, 16 * KiB, 0x4120'0000, user_rw(), BlockMappings::allowed,
                                       "code buffer, rw- while the compiler writes it")}});
  s.batches.push_back(
      Batch{"mprotect(PROT_READ | PROT_EXEC)", {Step::protect(0x7000'0000, 16 * KiB, user_rx(), "flip to r-x")}});
  return s;
}

Scenario unikernel_global() {
  Scenario s;
  s.name = "unikernel-global-39bit";
  s.description =
      "single-address-space kernel (39-bit VA, global kernel mappings, as in a unikernel or "
      "RTOS): set_memory_ro of 32 pages, then vunmap of 64 pages, where ASIDE1IS would spare "
      "global entries";
  s.geometry = stage1(39);
  s.space = el1_space(0, maint::GlobalEntries::present);
  s.batches.push_back(Batch{"vmap",
                            {Step::map(0x8000'0000, 256 * KiB, 0x4130'0000, kernel(arch::s1::Access::el1_rw),
                                       BlockMappings::allowed, "256 KiB kernel buffer, global")}});
  s.batches.push_back(Batch{"set_memory_ro",
                            {Step::protect(0x8000'0000, 128 * KiB, kernel(arch::s1::Access::el1_ro),
                                           "first 128 KiB read-only")}});
  s.batches.push_back(Batch{"vunmap", {Step::unmap(0x8000'0000, 256 * KiB, "the whole buffer")}});
  return s;
}

Scenario el2_device_remap() {
  Scenario s;
  s.name = "el2-memtype-bbm";
  s.description =
      "hypervisor at EL2 (no VHE) remaps one page of its own memory from Normal write-back to "
      "Device-nGnRE: a memory-type change needs break-before-make; then it unmaps a 1 MiB region "
      "donated back to the host";
  s.geometry = stage1(48);
  s.space = el2_space();
  s.batches.push_back(Batch{
      "hyp mappings",
      {Step::map(0xc000'0000, 16 * KiB, 0x4140'0000, hyp(0), BlockMappings::allowed, "hyp buffer, Normal WB"),
       Step::map(0xc010'0000, 1 * MiB, 0x4150'0000, hyp(0), BlockMappings::allowed, "donated region")}});
  s.batches.push_back(Batch{
      "change memory type", {Step::protect(0xc000'1000, kPage, hyp(1), "page 1 -> Device-nGnRE (MAIR index 1)")}});
  s.batches.push_back(Batch{"unmap donated memory", {Step::unmap(0xc010'0000, 1 * MiB, "1 MiB = 256 pages")}});
  return s;
}

Scenario kvm_s2_unmap_block() {
  Scenario s;
  s.name = "kvm-s2-unmap-block";
  s.description =
      "KVM stage-2 unmap of a 2 MiB block (memslot removed, balloon inflated): IPAS2LE1IS, then "
      "VMALLE1IS for the combined stage 1+2 entries, and without FWB a DC CIVAC per line of the "
      "block (40-bit IPA, two concatenated root tables)";
  s.geometry = stage2(40, 1);
  s.space = stage2_space(7);
  s.batches.push_back(Batch{"guest RAM faults",
                            {Step::map(0x8000'0000, 4 * MiB, 0x4200'0000, guest_ram(arch::s2::Access::rw),
                                       BlockMappings::allowed, "4 MiB of guest RAM in 2 MiB blocks")}});
  s.batches.push_back(
      Batch{"kvm_pgtable_stage2_unmap", {Step::unmap(0x8000'0000, 2 * MiB, "the first 2 MiB block")}});
  return s;
}

Scenario kvm_dirty_log() {
  Scenario s;
  s.name = "kvm-dirty-log-eager-split";
  s.description =
      "KVM enables dirty logging on a 4 MiB memslot: eager page splitting "
      "(KVM_CAP_ARM_EAGER_SPLIT_CHUNK_SIZE) of its 2 MiB blocks, then write-protect of all 1024 "
      "pages (48-bit IPA, start level 0)";
  s.geometry = stage2(48, 0);
  s.space = stage2_space(3);
  s.batches.push_back(Batch{"guest RAM faults",
                            {Step::map(0x1'0000'0000, 4 * MiB, 0x4300'0000, guest_ram(arch::s2::Access::rw),
                                       BlockMappings::allowed, "4 MiB memslot in 2 MiB blocks")}});
  s.batches.push_back(Batch{"kvm_mmu_split_huge_pages",
                            {Step::split(0x1'0000'0000, 4 * MiB, 3, "split every block down to 4 KiB pages")}});
  s.batches.push_back(Batch{"kvm_mmu_wp_memory_region",
                            {Step::protect(0x1'0000'0000, 4 * MiB, guest_ram(arch::s2::Access::ro),
                                           "write-protect the memslot")}});
  return s;
}

}  // namespace

std::vector<Scenario> builtin_suite() {
  std::vector<Scenario> suite;
  suite.push_back(relro_mprotect());
  suite.push_back(madvise_dontneed_page());
  suite.push_back(munmap_threshold_edge());
  suite.push_back(munmap_2m_pte_table());
  suite.push_back(thp_split_mprotect());
  suite.push_back(khugepaged_collapse());
  suite.push_back(fork_cow());
  suite.push_back(jit_w_xor_x());
  suite.push_back(unikernel_global());
  suite.push_back(el2_device_remap());
  suite.push_back(kvm_s2_unmap_block());
  suite.push_back(kvm_dirty_log());
  return suite;
}

}  // namespace tlbkit::workload
