#include "tlbkit/baselines/registry.hpp"

#include <array>

#include "tlbkit/baselines/elfuse.hpp"
#include "tlbkit/baselines/linux.hpp"
#include "tlbkit/baselines/kvm.hpp"
#include "tlbkit/baselines/freebsd.hpp"
#include "tlbkit/baselines/hafnium.hpp"
#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/baselines/zircon.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/maint/simple_policy.hpp"

namespace tlbkit::baselines {
namespace {

const maint::Planner kPlanner{};
const maint::SimplePolicy kSimple{};
const LinuxPolicy kLinux5_4{LinuxPolicy::Version::v5_4};
const LinuxPolicy kLinux6_17{LinuxPolicy::Version::v6_17};
const baselines::KvmPolicy kKvm65{baselines::KvmPolicy::Version::v6_5};
const baselines::KvmPolicy kKvm612{baselines::KvmPolicy::Version::v6_12};
const baselines::FreeBsdPolicy kFreeBsd6631b58{baselines::FreeBsdPolicy::Version::d37254_era};
const baselines::FreeBsdPolicy kFreeBsd7dc22c8{baselines::FreeBsdPolicy::Version::current};
const ElfusePolicy kElfuse059fb2b{ElfusePolicy::Version::v059fb2b};
const ElfusePolicy kElfuseE13ade1{ElfusePolicy::Version::ve13ade1};
const ElfusePolicy kElfuse9fc96f7{ElfusePolicy::Version::v9fc96f7};
const ElfusePolicy kElfuse00ed78b{ElfusePolicy::Version::v00ed78b};
const baselines::ZirconPolicy kZircon{baselines::ZirconPolicy::El2Flush::broadcast};
const baselines::HafniumPolicy kHafnium{baselines::HafniumPolicy::AsidLoop::every_page};

// Linux's arm64 TLB maintenance: processes and the kernel (KVM is its own
// entry).
constexpr Manages kStage1 = Manages::process_stage1 | Manages::kernel_stage1;

constexpr std::array<SourceRef, 5> kLinuxSources{
    {{"arch/arm64/include/asm/tlbflush.h",
      "__flush_tlb_range, __flush_tlb_range_op, flush_tlb_mm, flush_tlb_kernel_range, flush_tlb_all, "
      "__flush_tlb_kernel_pgtable"},
     {"arch/arm64/include/asm/tlb.h", "tlb_flush, tlb_get_level"},
     {"include/asm-generic/tlb.h", "__tlb_adjust_range, tlb_end_vma, pte_free_tlb, tlb_get_unmap_shift"},
     {"mm/mmu_gather.c", "tlb_finish_mmu"},
     {"mm/mprotect.c", "change_protection_range"}}};
constexpr std::array<std::string_view, 1> kLinuxNoRangeAlias{"linux-norange"};
constexpr std::array<std::string_view, 1> kLinuxAlias{"linux"};
// KVM arm64 (tlbkit/baselines/kvm.hpp, docs/baselines/kvm.md).
constexpr std::array<SourceRef, 4> kKvm65Sources{
    {{"arch/arm64/kvm/hyp/pgtable.c",
      "stage2_put_pte, stage2_unmap_walker, kvm_pgtable_stage2_unmap, stage2_try_break_pte, stage2_split_walker, "
      "hyp_unmap_walker (nicolinc/linux-nvidia-6.5@0708212)"},
     {"arch/arm64/kvm/hyp/nvhe/tlb.c",
      "__kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid (pre-range copy: ricarkol/linux@5c1da19e332c)"},
     {"arch/arm64/kvm/mmu.c", "kvm_flush_remote_tlbs (from the research note, not read at 6.5)"},
     {"arch/arm64/include/asm/kvm_mmu.h", "__clean_dcache_guest_page, __invalidate_icache_guest_page"}}};
constexpr std::array<SourceRef, 5> kKvm612Sources{
    {{"arch/arm64/kvm/hyp/pgtable.c",
      "stage2_unmap_put_pte, stage2_unmap_defer_tlb_flush, stage2_unmap_walker, kvm_pgtable_stage2_unmap, "
      "kvm_tlb_flush_vmid_range, stage2_try_break_pte, hyp_unmap_walker"},
     {"arch/arm64/kvm/hyp/nvhe/tlb.c", "__kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid_range, __kvm_tlb_flush_vmid"},
     {"arch/arm64/include/asm/tlbflush.h", "__flush_tlb_range_op, __TLBI_RANGE_NUM, MAX_TLBI_RANGE_PAGES"},
     {"arch/arm64/kvm/mmu.c", "stage2_apply_range, kvm_arch_flush_remote_tlbs, kvm_arch_flush_remote_tlbs_range"},
     {"arch/arm64/include/asm/kvm_mmu.h", "__clean_dcache_guest_page, __invalidate_icache_guest_page"}}};
constexpr std::array<std::string_view, 1> kKvm65Aliases{"kvm"};
constexpr std::array<std::string_view, 1> kKvm612Aliases{"kvm-deferred"};
// FreeBSD, read at two versions (docs/baselines/freebsd.md).
constexpr std::array<SourceRef, 1> kFreeBsd6631b58Sources{
    {{"sys/arm64/arm64/pmap.c",
      "pmap_s1_invalidate_page, pmap_s1_invalidate_range, pmap_s1_invalidate_all, pmap_invalidate_* stage dispatch, "
      "pmap_remove_l3_range, pmap_remove_l2, pmap_mask_set_locked, pmap_update_entry, pmap_promote_l2, "
      "pmap_demote_l2_locked, _pmap_unwire_l3, pmap_remove_pages, pmap_kremove, pmap_qenter"}}};
constexpr std::array<SourceRef, 2> kFreeBsd7dc22c8Sources{
    {{"sys/arm64/arm64/pmap.c (JamesKane/freebsd-src@7dc22c8866a5c23bd83e3c7c53e32ddb441093a1)",
      "pmap_s1_invalidate_page, pmap_s1_invalidate_strided, pmap_s1_invalidate_loop, pmap_s1_invalidate_all, "
      "pmap_s2_invalidate_range, pmap_s2_invalidate_all, pmap_remove_l3_range, pmap_remove_l2, "
      "pmap_mask_set_locked, pmap_update_entry, pmap_promote_l2, CPU_FEAT feat_tlbi_range"},
     {"sys/arm64/vmm/vmm_hyp.c (freebsd/freebsd-src@e14f3edc16bc6f72fe4b8e095b0c1806a5e834f0)",
      "s2_tlbi_range, s2_tlbi_all"}}};
constexpr std::array<std::string_view, 1> kFreeBsdAliases{"freebsd"};
constexpr std::array<SourceRef, 2> kElfuseSources{
    {{"src/core/guest.h", "tlbi_request_range, tlbi_rvae_normalize, tlbi_rvae1is_operand, tlbi_request_emit_to_vcpu"},
     {"src/core/shim.S", "handle_svc_0, tlbi_full, tlbi_selective, tlbi_range_large"}}};
constexpr std::array<SourceRef, 1> kElfuseOldSources{{{"src/core/shim.S", "handle_svc_0: the full-flush tail"}}};
constexpr std::array<std::string_view, 1> kHvfV1Alias{"hvf-runner-v1"};
constexpr std::array<std::string_view, 1> kHvfV2Alias{"hvf-runner-v2"};
constexpr std::string_view kElfuseSystem = "elfuse (sysprog21/elfuse, HVF Linux-binary runner)";
constexpr std::string_view kLocalIc =
    "the I-cache op after a change is the local IC IALLU: other vCPUs keep stale instructions";
constexpr std::string_view kLocalIcNoIshst =
    "the I-cache op after a change is the local IC IALLU (other vCPUs keep stale instructions), and no DSB ISHST "
    "precedes the TLBIs";
// Zircon arm64 at e04da11 (docs/baselines/zircon.md). el2.S is not in that
// mirror: it was read in a downstream fork, at the commit its entry names.
constexpr std::array<SourceRef, 3> kZirconSources{
    {{"zircon/kernel/arch/arm64/mmu.cc",
      "ConsistencyManager (FlushEntry, Flush, kMaxPendingTlbs = 16), FlushTLBEntry, FlushTLBEntryForAllAsids, "
      "FlushAsid, Destroy"},
     {"zircon/kernel/arch/arm64/include/arch/arm64/mmu.h", "ARM64_TLBI, ARM64_TLBI_ASID (TLBI; ISB), "
                                                           "MMU_ARM64_GLOBAL_ASID"},
     {"zircon/kernel/arch/arm64/hypervisor/el2.S",
      "el2_hvc_tlbi_ipa, el2_hvc_tlbi_vmid, el2_hvc_tlbi_el2 (read at "
      "misttech/mist-os@15d53de6bc6f5badb7e9f1151313083989153683)"}}};
// Hafnium at 07a69ab (docs/baselines/hafnium.md).
constexpr std::array<SourceRef, 3> kHafniumSources{
    {{"src/mm.c", "mm_replace_entry, mm_invalidate_tlb, mm_map_level, mm_populate_table_pte"},
     {"src/arch/aarch64/mm.c", "arch_mm_invalidate_stage1_range, arch_mm_invalidate_stage2_range, MAX_TLBI_OPS"},
     {"src/arch/aarch64/inc/hf/arch/mmu.h", "tlbi, tlbi_reg"}}};
constexpr std::array<std::string_view, 1> kZirconAliases{"zircon"};
constexpr std::array<std::string_view, 1> kHafniumAliases{"hafnium"};

const std::array<PolicyEntry, 14> kPolicies{{
    {.name = "tlbkit",
     .description = "cheapest correct plan under the cost model (per-VA, range, merged, space-wide, full)",
     .policy = kPlanner,
     .planner = &kPlanner},
    {.name = "simple",
     .description = "first cut: per-VA TLBI with TTL up to 32 ops, else ASID/VMID-wide",
     .policy = kSimple},
    {.name = "linux-5.4",
     .description = "Linux 5.4 arm64: per-VMA bounding box, one TLBI per stride below 512 strides, else ASIDE1IS; "
                    "no TTL, no range ops",
     .policy = kLinux5_4,
     .manages = kStage1,
     .system = "Linux arm64",
     .version = "5.4 line (tlbflush.h with no TTL and no range ops)",
     .repository = "jpb-kernels/kernel-extended-lts@d11335bd93b1510c53df651ea2d35317f1ce4c13 (tlbflush.h), "
                   "@0f189678721e2c13e0f04ea4c03ca8ee3bf7f03b (tlb.h)",
     .sources = kLinuxSources,
     .aliases = kLinuxNoRangeAlias},
    {.name = "linux-6.17",
     .description = "Linux 6.17 arm64: per-VMA bounding box with TTL, range ops up to 2^21 pages with TLBIRANGE, "
                    "else one TLBI per stride below 512",
     .policy = kLinux6_17,
     .manages = kStage1,
     .system = "Linux arm64",
     .version = "6.17-rc3",
     .repository = "Kingxukai/linux@9b44fff655e2c6f4cc53cb499dd2c038e99cb013 (Makefile 6.17.0-rc3)",
     .sources = kLinuxSources,
     .aliases = kLinuxAlias},
    {.name = "kvm-6.5",
     .description = "KVM 6.5 stage 2: DSB ISHST; IPAS2E1IS; DSB ISH; VMALLE1IS; DSB ISH; ISB per entry, no range ops, "
                    "VMALLS12E1IS for write-protect",
     .policy = kKvm65,
     .manages = Manages::vm_stage2,
     .system = "KVM arm64",
     .version = "v6.5 (pre-range; pgtable.c of a v6.5-based tree without the v6.6 range series)",
     .repository = "nicolinc/linux-nvidia-6.5@07082121207e1d0f7b4f2ecd2dc5821f69d3f5bc",
     .sources = kKvm65Sources,
     .aliases = kKvm65Aliases},
    {.name = "kvm-6.12",
     .description = "KVM 6.12 stage 2: unmap deferred to RIPAS2E1IS range flushes with TLBIRANGE and FWB, table "
                    "entries at once, memslot range flushes",
     .policy = kKvm612,
     .manages = Manages::vm_stage2,
     .system = "KVM arm64",
     .version = "6.12.118 (Debian linux-source-6.12 6.12.118-1~deb12u1)",
     .repository = "Debian bookworm-security linux-source-6.12@6.12.118-1~deb12u1",
     .sources = kKvm612Sources,
     .aliases = kKvm612Aliases},
    {.name = "freebsd-6631b58",
     .description = "FreeBSD arm64 pmap, post-D37254 main: one TLBI per 4 KiB page per run (runs end at gaps and 2 MiB), "
                    "no threshold, ASIDE1IS only for teardown",
     .policy = kFreeBsd6631b58,
     .manages = kStage1,
     .system = "FreeBSD arm64 pmap",
     .version = "6631b58 (main after D37254, before L3C; date not established)",
     .repository = "freebsd/freebsd-src@6631b589423407c3f05bfebc62ae230ae496e061",
     .sources = kFreeBsd6631b58Sources},
    {.name = "freebsd-7dc22c8",
     .description = "FreeBSD arm64 pmap, 2025/26 main: per-run calls as 6631b58 with range TLBIs from 2 pages; "
                    "bhyve stage 2: IPAS2LE1IS per page, then VMALLE1IS",
     .policy = kFreeBsd7dc22c8,
     .manages = Manages::all,
     .system = "FreeBSD arm64 pmap",
     .version = "7dc22c8 (a fork's snapshot of 2025/2026 main; vmm_hyp.c at upstream e14f3ed)",
     .repository = "JamesKane/freebsd-src@7dc22c8866a5c23bd83e3c7c53e32ddb441093a1",
     .sources = kFreeBsd7dc22c8Sources,
     .aliases = kFreeBsdAliases},
    {.name = "zircon-e04da11",
     .description = "Zircon arm64: per-entry TLBI; ISB up to 16 queued entries, else ASIDE1IS (kernel: a flush "
                    "every 16; guest: one EL2 IPAS2 call per entry, else VMALLS12E1IS)",
     .policy = kZircon,
     .manages = Manages::process_stage1 | Manages::kernel_stage1 | Manages::vm_stage2,
     .system = "Zircon arm64",
     .version = "e04da11",
     .repository = "IntegralPilot/fuchsia@e04da112606796026244afa6111539bb905b0c66",
     .sources = kZirconSources,
     .aliases = kZirconAliases},
    {.name = "hafnium-07a69ab",
     .description = "Hafnium: break-before-make per entry over its span, per-page IPAS2E1IS; DSB; VMALLE1IS up to "
                    "512 pages, else VMALLS12E1IS",
     .policy = kHafnium,
     .manages = Manages::vm_stage2,
     .system = "Hafnium",
     .version = "07a69ab",
     .repository = "TF-Hafnium/hafnium@07a69ab823592dc73724dc869f55c77c62fa45be",
     .sources = kHafniumSources,
     .aliases = kHafniumAliases},
    {.name = "elfuse-059fb2b",
     .description = "elfuse before selective TLBI: any request -> VMALLE1IS; DSB ISH; IC IALLU; DSB ISH; ISB",
     .policy = kElfuse059fb2b,
     .manages = Manages::process_stage1,
     .contract = Contract::known_bug,
     .system = kElfuseSystem,
     .version = "059fb2b (parent of e13ade1), reconstructed",
     .repository = "open-sources-port/muplar-elfexe@fb5e2539c4199fdc2ae6758ffc20b839e4d5cdfd (older snapshot)",
     .sources = kElfuseOldSources,
     .aliases = kHvfV1Alias,
     .known_bug = kLocalIcNoIshst},
    {.name = "elfuse-e13ade1",
     .description = "elfuse: per-vCPU bounding box; VAE1IS per page up to 16, else VMALLE1IS; IC IALLU always",
     .policy = kElfuseE13ade1,
     .manages = Manages::process_stage1,
     .contract = Contract::known_bug,
     .system = kElfuseSystem,
     .version = "e13ade190e1cb37b9b4fb1bc372af462fc8d6807",
     .repository = "open-sources-port/muplar-elfexe@4bea0ade37e59460e698a81ae8f618ba60b2069f (line layout matched)",
     .sources = kElfuseSources,
     .known_bug = kLocalIcNoIshst},
    {.name = "elfuse-9fc96f7",
     .description = "elfuse: box; VAE1IS up to 16 pages, one SCALE-0 RVAE1IS up to 64, else VMALLE1IS; IC IALLU on exec",
     .policy = kElfuse9fc96f7,
     .manages = Manages::process_stage1,
     .contract = Contract::known_bug,
     .system = kElfuseSystem,
     .version = "9fc96f7c53b5d9d01870c0f3d79df610f7cdd644",
     .repository = "open-sources-port/muplar-elfexe@2bb6256576b038147105838f1f9e62a3bf9033c0 (line layout matched)",
     .sources = kElfuseSources,
     .aliases = kHvfV2Alias,
     .known_bug = kLocalIcNoIshst},
    {.name = "elfuse-00ed78b",
     .description = "elfuse: box aligned to its SCALE unit; VAE1IS up to 16 pages, RVAE1IS SCALE 0..2 up to 32768, else "
                    "VMALLE1IS; IC IALLU on exec",
     .policy = kElfuse00ed78b,
     .manages = Manages::process_stage1,
     .contract = Contract::known_bug,
     .system = kElfuseSystem,
     .version = "00ed78b48fe9c4d01010a2687fd42fbc47daf405",
     .repository = "sysprog21/elfuse@00ed78b48fe9c4d01010a2687fd42fbc47daf405",
     .sources = kElfuseSources,
     .known_bug = kLocalIc},
}};

}  // namespace

std::string_view regime_name(Manages bit) {
  switch (bit) {
    case Manages::process_stage1: return "process stage 1";
    case Manages::kernel_stage1: return "kernel stage 1";
    case Manages::vm_stage2: return "VM stage 2";
    default: return "";
  }
}

std::span<const PolicyEntry> all_policies() { return kPolicies; }

const PolicyEntry* find_policy(std::string_view name) {
  for (const PolicyEntry& entry : kPolicies) {
    if (entry.name == name) return &entry;
    for (std::string_view alias : entry.aliases) {
      if (alias == name) return &entry;
    }
  }
  return nullptr;
}

}  // namespace tlbkit::baselines
