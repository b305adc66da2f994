// Zircon arm64 TLB maintenance, modelled from one version's source.
//
// Version read: IntegralPilot/fuchsia@e04da112606796026244afa6111539bb905b0c66
// (a GitHub mirror of fuchsia.googlesource.com, the newest stored copy; not
// compared with the upstream tip):
//   zircon/kernel/arch/arm64/mmu.cc: ArmArchVmAspace::ConsistencyManager
//     (FlushEntry, Flush, kMaxPendingTlbs), FlushTLBEntry,
//     FlushTLBEntryForAllAsids, FlushAsid, FlushAllAsids, Destroy;
//   zircon/kernel/arch/arm64/include/arch/arm64/mmu.h: the ARM64_TLBI*
//     macros (each TLBI is followed by an ISB), MMU_ARM64_GLOBAL_ASID = 1.
// The EL2 side of the guest and hypervisor flushes is not in that mirror; it
// was read at misttech/mist-os@15d53de6bc6f5badb7e9f1151313083989153683
// (a downstream fork): zircon/kernel/arch/arm64/hypervisor/el2.S
// (el2_hvc_tlbi_ipa, el2_hvc_tlbi_vmid, el2_hvc_tlbi_el2).
// Details, line numbers and what is left out: docs/baselines/zircon.md.
//
// What a plan holds. A Pending is one ConsistencyManager's queue (one
// kernel call, or one forced break-before-make flush). Every entry the
// Pending names is one FlushEntry, in the order of the ranges:
//   - a leaf range: one terminal entry per page or block;
//   - a table range whose entries all have records of their own
//     (Beneath::reported, Zircon's freed page table): one non-terminal entry
//     per table slot;
//   - a table range that went whole (Beneath::unseen; Zircon never does
//     this, it visits every entry): one non-terminal entry per 4 KiB page of
//     the span (the nearest correct count; usually more than 16).
// Flush() then, by aspace type:
//   user (EL1&0, no global entries), at most 16 entries:
//     DSB ISHST; per entry [TLBI VALE1IS (terminal) / VAE1IS, ASID | VA>>12;
//     ISB]; DSB ISH.  More than 16 (strictly): DSB ISHST; TLBI ASIDE1IS;
//     ISB; DSB ISH.
//   kernel (global entries, Zircon's global ASID): never ASID-wide; a Flush()
//     every 16 entries: DSB ISHST; per entry [VAALE1IS / VAAE1IS; ISB];
//     DSB ISH; ISB.
//   guest (stage 2), at most 16 entries: DSB ISHST; per entry the EL2 call
//     [DSB ISHST; IPAS2LE1IS / IPAS2E1IS; DSB ISH; VMALLE1IS; DSB ISH; ISB];
//     DSB ISH. More than 16: DSB ISHST; [DSB ISHST; VMALLS12E1IS; DSB ISH;
//     ISB]; DSB ISH. A guest whose VMID is 1 (= MMU_ARM64_GLOBAL_ASID, which
//     FlushEntry compares the VMID with) flushes every 16 entries instead.
//   hypervisor (EL2), any count: DSB ISHST; [TLBI ALLE2; DSB SY; ISB];
//     DSB ISH. ALLE2 is the LOCAL form: other PEs keep their EL2 entries
//     (El2Flush::local_as_read, reproduced as read; its impact is
//     unconfirmed by the maintainers). El2Flush::broadcast issues ALLE2IS
//     instead: the registered model, which must be correct on every regime
//     (a correct-contract policy) while no tlbkit trace replays EL2, so no
//     workload could show the bug as a known-bug entry must.
// Coverage everything: a whole-space teardown (no overflow extent) is
// Destroy(): DSB ISH; FlushAsid; DSB ISH; an overflow is Flush()'s wide
// path. For the kernel aspace Zircon has no wide flush: the model uses
// DSB ISHST; VMALLE1IS; ISB; DSB ISH; ISB (tlbkit's, not Zircon's).
// No TTL hints, no range ops (Zircon uses neither).
// Cache maintenance: exec gained -> IC IALLUIS; DSB ISH; ISB after the TLBIs
// and pending.clean -> DC CIVAC (tlbkit's tail: Zircon syncs caches in Map
// before the entry is written, by physmap VA, which a Pending cannot say).
// Fallback when the faithful plan does not fit a Plan (64 steps, 16 groups;
// a tlbkit limit, Zircon has none): the aspace's wide flush above.
#pragma once

#include <cstdint>
#include <string_view>

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

class ZirconPolicy final : public maint::Policy {
 public:
  // The hypervisor aspace's flush: as read (TLBI ALLE2, local) or broadcast.
  enum class El2Flush : std::uint8_t { local_as_read, broadcast };

  static constexpr std::string_view kVersion = "e04da11";
  static constexpr std::string_view kRepository =
      "IntegralPilot/fuchsia@e04da112606796026244afa6111539bb905b0c66";
  static constexpr std::uint64_t kMaxPendingTlbs = 16;  // mmu.cc ConsistencyManager
  static constexpr std::uint16_t kGlobalAsid = 1;       // MMU_ARM64_GLOBAL_ASID

  explicit ZirconPolicy(El2Flush el2 = El2Flush::local_as_read) : el2_(el2) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

 private:
  El2Flush el2_;
};

}  // namespace tlbkit::baselines
