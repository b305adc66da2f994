#include "tlbkit/baselines/registry.hpp"

#include <array>

#include "tlbkit/baselines/kvm.hpp"
#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/maint/simple_policy.hpp"

namespace tlbkit::baselines {
namespace {

const maint::Planner kPlanner{};
const maint::SimplePolicy kSimple{};
const baselines::LinuxPolicy kLinux{baselines::LinuxPolicy::RangeOps::when_present};
const baselines::LinuxPolicy kLinuxNoRange{baselines::LinuxPolicy::RangeOps::never};
const baselines::KvmPolicy kKvm65{baselines::KvmPolicy::Version::v6_5};
const baselines::KvmPolicy kKvm612{baselines::KvmPolicy::Version::v6_12};
const baselines::FreeBsdPolicy kFreeBsd{};
const baselines::ZirconPolicy kZircon{};
const baselines::HafniumPolicy kHafnium{};
const baselines::HvfRunnerV1Policy kHvfRunnerV1{};
const baselines::HvfRunnerV2Policy kHvfRunnerV2{};

// Linux's arm64 TLB maintenance: processes and the kernel (KVM is its own
// entry).
constexpr Manages kStage1 = Manages::process_stage1 | Manages::kernel_stage1;

// Models not yet read from their source at a named version (issue 13
// replaces them one by one): where their facts came from.
constexpr std::string_view kDescribed = "unversioned: written from descriptions, not yet from one version's source";

constexpr std::array<SourceRef, 1> kLinuxSources{{{"arch/arm64/include/asm/tlbflush.h",
                                                   "__flush_tlb_range, __flush_tlb_range_op, flush_tlb_mm, "
                                                   "flush_tlb_kernel_range, flush_tlb_all"}}};
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
constexpr std::array<SourceRef, 1> kFreeBsdSources{
    {{"sys/arm64/arm64/pmap.c", "pmap_s1_invalidate_range, pmap_s1_invalidate_all, pmap_s2_invalidate_range"}}};
constexpr std::array<SourceRef, 1> kZirconSources{{{"zircon/kernel/arch/arm64/mmu.cc", "ConsistencyManager"}}};
constexpr std::array<SourceRef, 1> kHafniumSources{
    {{"src/arch/aarch64/mm.c", "arch_mm_invalidate_stage1_range, arch_mm_invalidate_stage2_range"}}};
constexpr std::array<SourceRef, 1> kHvfSources{{{"src/core/shim.S, src/core/guest.h", "the shim's TLBI tails"}}};

const std::array<PolicyEntry, 11> kPolicies{{
    {.name = "tlbkit",
     .description = "cheapest correct plan under the cost model (per-VA, range, merged, space-wide, full)",
     .policy = kPlanner,
     .planner = &kPlanner},
    {.name = "simple",
     .description = "first cut: per-VA TLBI with TTL up to 32 ops, else ASID/VMID-wide",
     .policy = kSimple},
    {.name = "linux",
     .description = "Linux arm64: per range, per-entry TLBI below 512 (MAX_DVM_OPS), range ops with TLBIRANGE, else "
                    "ASIDE1IS",
     .policy = kLinux,
     .manages = kStage1,
     .system = "Linux arm64",
     .version = kDescribed,
     .sources = kLinuxSources},
    {.name = "linux-norange",
     .description = "Linux arm64 without range ops: per-entry TLBI below 512 per range, else ASIDE1IS",
     .policy = kLinuxNoRange,
     .manages = kStage1,
     .system = "Linux arm64",
     .version = kDescribed,
     .sources = kLinuxSources},
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
    {.name = "freebsd",
     .description = "FreeBSD arm64 pmap: one TLBI per entry, no threshold, ASIDE1IS only for whole-space teardown",
     .policy = kFreeBsd,
     .system = "FreeBSD arm64 pmap",
     .version = kDescribed,
     .sources = kFreeBsdSources},
    {.name = "zircon",
     .description = "Zircon arm64: per-entry TLBI up to 16 pending entries, else ASIDE1IS",
     .policy = kZircon,
     .system = "Zircon arm64",
     .version = kDescribed,
     .sources = kZirconSources},
    {.name = "hafnium",
     .description = "Hafnium: per-page TLBI up to 512 pages per range, else VMALLE1IS / VMALLS12E1IS",
     .policy = kHafnium,
     .manages = Manages::vm_stage2,
     .system = "Hafnium",
     .version = kDescribed,
     .sources = kHafniumSources},
    {.name = "hvf-runner-v1",
     .description = "HVF Linux-binary runner v1: always VMALLE1IS, then IC IALLU",
     .policy = kHvfRunnerV1,
     .manages = Manages::process_stage1,
     .system = "elfuse (HVF Linux-binary runner)",
     .version = kDescribed,
     .sources = kHvfSources},
    {.name = "hvf-runner-v2",
     .description = "HVF runner v2: bounding box; VAE1IS loop up to 16 pages, RVAE1IS up to 64, else VMALLE1IS",
     .policy = kHvfRunnerV2,
     .manages = Manages::process_stage1,
     .system = "elfuse (HVF Linux-binary runner)",
     .version = kDescribed,
     .sources = kHvfSources},
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
