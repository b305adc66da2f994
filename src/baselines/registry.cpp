#include "tlbkit/baselines/registry.hpp"

#include <array>

#include "tlbkit/baselines/hafnium.hpp"
#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/baselines/zircon.hpp"
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
const baselines::FreeBsdPolicy kFreeBsd{};
// Registered with the two as-read bugs outside their replayed regimes
// corrected (tlbkit/baselines/zircon.hpp, hafnium.hpp): a correct-contract
// policy must be correct on every regime.
const baselines::ZirconPolicy kZircon{baselines::ZirconPolicy::El2Flush::broadcast};
const baselines::HafniumPolicy kHafnium{baselines::HafniumPolicy::AsidLoop::every_page};
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
constexpr std::array<SourceRef, 1> kFreeBsdSources{
    {{"sys/arm64/arm64/pmap.c", "pmap_s1_invalidate_range, pmap_s1_invalidate_all, pmap_s2_invalidate_range"}}};
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
    {.name = "freebsd",
     .description = "FreeBSD arm64 pmap: one TLBI per entry, no threshold, ASIDE1IS only for whole-space teardown",
     .policy = kFreeBsd,
     .system = "FreeBSD arm64 pmap",
     .version = kDescribed,
     .sources = kFreeBsdSources},
    {.name = "zircon-e04da11",
     .description = "Zircon arm64: per-entry TLBI; ISB up to 16 queued entries, else ASIDE1IS (kernel: a flush "
                    "every 16; guest: one EL2 IPAS2 call per entry, else VMALLS12E1IS)",
     .policy = kZircon,
     .manages = Manages::process_stage1 | Manages::kernel_stage1 | Manages::vm_stage2,
     .system = "Zircon arm64",
     .version = "e04da11",
     .repository = "https://github.com/IntegralPilot/fuchsia@e04da112606796026244afa6111539bb905b0c66",
     .sources = kZirconSources,
     .aliases = kZirconAliases},
    {.name = "hafnium-07a69ab",
     .description = "Hafnium: break-before-make per entry over its span, per-page IPAS2E1IS; DSB; VMALLE1IS up to "
                    "512 pages, else VMALLS12E1IS",
     .policy = kHafnium,
     .manages = Manages::vm_stage2,
     .system = "Hafnium",
     .version = "07a69ab",
     .repository = "https://github.com/TF-Hafnium/hafnium@07a69ab823592dc73724dc869f55c77c62fa45be",
     .sources = kHafniumSources,
     .aliases = kHafniumAliases},
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
