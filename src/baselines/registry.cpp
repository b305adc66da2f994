#include "tlbkit/baselines/registry.hpp"

#include <array>

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
const baselines::FreeBsdPolicy kFreeBsd{};
const baselines::ZirconPolicy kZircon{};
const baselines::HafniumPolicy kHafnium{};
const baselines::HvfRunnerV1Policy kHvfRunnerV1{};
const baselines::HvfRunnerV2Policy kHvfRunnerV2{};

// Linux's arm64 TLB maintenance: processes and the kernel (KVM is its own
// entry).
constexpr Manages kStage1 = Manages::process_stage1 | Manages::kernel_stage1;

const std::array<PolicyEntry, 11> kPolicies{{
    {"tlbkit", "cheapest correct plan under the cost model (per-VA, range, merged, space-wide, full)", kPlanner,
     &kPlanner},
    {"simple", "first cut: per-VA TLBI with TTL up to 32 ops, else ASID/VMID-wide", kSimple},
    {"linux", "Linux arm64: per range, per-entry TLBI below 512 (MAX_DVM_OPS), range ops with TLBIRANGE, else ASIDE1IS",
     kLinux, nullptr, kStage1},
    {"linux-norange", "Linux arm64 without range ops: per-entry TLBI below 512 per range, else ASIDE1IS", kLinuxNoRange, nullptr, kStage1},
    {"kvm", "KVM stage 2: IPAS2E1IS; DSB; VMALLE1IS per entry (break-before-make), VMALLS12E1IS for everything", kKvm, nullptr,
     Manages::vm_stage2},
    {"kvm-deferred", "KVM stage 2 with range deferral: one RIPAS2E1IS flush per unmap when TLBIRANGE and FWB", kKvmDeferred, nullptr,
     Manages::vm_stage2},
    {"freebsd", "FreeBSD arm64 pmap: one TLBI per entry, no threshold, ASIDE1IS only for whole-space teardown", kFreeBsd, nullptr,
     Manages::all},
    {"zircon", "Zircon arm64: per-entry TLBI up to 16 pending entries, else ASIDE1IS", kZircon, nullptr, Manages::all},
    {"hafnium", "Hafnium: per-page TLBI up to 512 pages per range, else VMALLE1IS / VMALLS12E1IS", kHafnium, nullptr,
     Manages::vm_stage2},
    {"hvf-runner-v1", "HVF Linux-binary runner v1: always VMALLE1IS, then IC IALLU", kHvfRunnerV1, nullptr,
     Manages::process_stage1},
    {"hvf-runner-v2", "HVF runner v2: bounding box; VAE1IS loop up to 16 pages, RVAE1IS up to 64, else VMALLE1IS",
     kHvfRunnerV2, nullptr, Manages::process_stage1},
}};

}  // namespace

std::span<const PolicyEntry> all_policies() { return kPolicies; }

const PolicyEntry* find_policy(std::string_view name) {
  for (const PolicyEntry& entry : kPolicies) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

}  // namespace tlbkit::baselines
