#include "tlbkit/baselines/registry.hpp"

#include <array>

#include "tlbkit/baselines/freebsd.hpp"
#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/maint/simple_policy.hpp"

namespace tlbkit::baselines {
namespace {

const maint::Planner kPlanner{};
const maint::SimplePolicy kSimple{};
const baselines::LinuxPolicy kLinux{baselines::LinuxPolicy::RangeOps::when_present};
const baselines::LinuxPolicy kLinuxNoRange{baselines::LinuxPolicy::RangeOps::never};
const baselines::KvmPolicy kKvm{baselines::KvmPolicy::Deferral::never};
const baselines::KvmPolicy kKvmDeferred{baselines::KvmPolicy::Deferral::range_with_fwb};
const baselines::FreeBsdPolicy kFreeBsd6631b58{baselines::FreeBsdPolicy::Version::d37254_era};
const baselines::FreeBsdPolicy kFreeBsd7dc22c8{baselines::FreeBsdPolicy::Version::current};
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
constexpr std::array<SourceRef, 3> kKvmSources{{{"arch/arm64/kvm/hyp/pgtable.c", "stage-2 unmap walker"},
                                                {"arch/arm64/kvm/hyp/nvhe/tlb.c", "__kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid"},
                                                {"arch/arm64/kvm/mmu.c", "kvm_tlb_flush_vmid_range"}}};
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
constexpr std::array<SourceRef, 1> kZirconSources{{{"zircon/kernel/arch/arm64/mmu.cc", "ConsistencyManager"}}};
constexpr std::array<SourceRef, 1> kHafniumSources{
    {{"src/arch/aarch64/mm.c", "arch_mm_invalidate_stage1_range, arch_mm_invalidate_stage2_range"}}};
constexpr std::array<SourceRef, 1> kHvfSources{{{"src/core/shim.S, src/core/guest.h", "the shim's TLBI tails"}}};

const std::array<PolicyEntry, 12> kPolicies{{
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
    {.name = "kvm",
     .description = "KVM stage 2: IPAS2E1IS; DSB; VMALLE1IS per entry (break-before-make), VMALLS12E1IS for everything",
     .policy = kKvm,
     .manages = Manages::vm_stage2,
     .system = "KVM arm64",
     .version = kDescribed,
     .sources = kKvmSources},
    {.name = "kvm-deferred",
     .description = "KVM stage 2 with range deferral: one RIPAS2E1IS flush per unmap when TLBIRANGE and FWB",
     .policy = kKvmDeferred,
     .manages = Manages::vm_stage2,
     .system = "KVM arm64",
     .version = kDescribed,
     .sources = kKvmSources},
    {.name = "freebsd-6631b58",
     .description = "FreeBSD arm64 pmap, post-D37254 main: one TLBI per 4 KiB page per run (runs end at gaps and 2 MiB), "
                    "no threshold, ASIDE1IS only for teardown",
     .policy = kFreeBsd6631b58,
     .manages = kStage1,
     .system = "FreeBSD arm64 pmap",
     .version = "6631b58 (main after D37254, before L3C; date not established)",
     .repository = "https://github.com/freebsd/freebsd-src @ 6631b589423407c3f05bfebc62ae230ae496e061",
     .sources = kFreeBsd6631b58Sources},
    {.name = "freebsd-7dc22c8",
     .description = "FreeBSD arm64 pmap, 2025/26 main: per-run calls as 6631b58 with range TLBIs from 2 pages; "
                    "bhyve stage 2: IPAS2LE1IS per page, then VMALLE1IS",
     .policy = kFreeBsd7dc22c8,
     .manages = Manages::all,
     .system = "FreeBSD arm64 pmap",
     .version = "7dc22c8 (a fork's snapshot of 2025/2026 main; vmm_hyp.c at upstream e14f3ed)",
     .repository = "https://github.com/JamesKane/freebsd-src @ 7dc22c8866a5c23bd83e3c7c53e32ddb441093a1",
     .sources = kFreeBsd7dc22c8Sources,
     .aliases = kFreeBsdAliases},
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
