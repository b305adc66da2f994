// Baseline policies: models of how other systems maintain their TLBs, as
// real maint::Policy implementations on tlbkit's types, so that the suite
// and the property tests compare every system on the same inputs.
//
// Each class states the behaviour it models and where it comes from (facts
// read in public sources, no code copied). Every baseline is CORRECT on the
// architecture for every input — the comparison is only fair that way: where
// the modelled system would be wrong (or does something a Plan cannot hold)
// the baseline does the nearest correct thing and its comment says so.
//
// Common to all of them (tlbkit rules, not modelled choices):
// - a change of a table entry makes the whole batch use non-leaf forms with
//   no TTL hint, and the ops for it name every 4 KiB page under the entry
//   (a walk cache may hold the table; known bugs 6, 7, 10 in docs/KNOWN-BUGS.md);
// - TTL hints only with FEAT_TTL, range ops only with FEAT_TLBIRANGE;
// - stage-2 IPA ops are always followed by DSB ISH; TLBI VMALLE1IS;
// - after the TLBIs completed: DC CIVAC over pending.clean, then
//   IC IALLUIS; DSB ISH; ISB when execute permission was gained
//   (maint::append_tail);
// - when a faithful plan would not fit a Plan (64 steps), the policy falls
//   back to its own space-wide flush (said per class).
#pragma once

#include <cstdint>

#include "tlbkit/maint/policy.hpp"
// KvmPolicy has its own header (versioned models); included here for the
// callers that used to find it in this one.
#include "tlbkit/baselines/kvm.hpp"

namespace tlbkit::baselines {

using maint::AddressSpace;
using maint::Pending;
using maint::Policy;


// Zircon arm64 (zircon/kernel/arch/arm64/mmu.cc, ConsistencyManager).
//
// Each unmapped entry (page, block, or freed table: "non-terminal") is
// queued by FlushEntry; Flush() then does
//   DSB ISHST; per entry VALE1IS (terminal) / VAE1IS, no TTL; DSB ISH
// while at most kMaxPendingTlbs (16) are queued (all ranges of the batch
// counted), and FlushAsid (DSB ISHST; ASIDE1IS; DSB ISH) beyond.
// Kernel aspace (global ASID): Zircon cannot flush "its ASID", so it never
// goes wide: it flushes every 16 queued entries (VAALE1IS / VAAE1IS) with
// DSB ISHST ... DSB ISH; ISB each and goes on.
// Guest (stage 2): IPAS2LE1IS / IPAS2E1IS per entry (Zircon's EL2 call does
// a VMALLE1IS per IPA; modelled as one DSB ISH; VMALLE1IS after the batch),
// VMALLS12E1IS (tlbi_vmid) beyond 16. Hypervisor aspace (EL2): always
// ALLE2IS (per-entry flush is unsupported there).
// Zircon queues ONE entry for a freed table; here every page under it
// counts (correctness rule), which usually makes the batch go wide.
// Fallback when the plan is full (only the kernel aspace can fill it): the
// kernel's entries under one barrier pair, then VMALLE1IS.
class ZirconPolicy final : public Policy {
 public:
  static constexpr std::uint64_t kMaxPendingTlbs = 16;
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;
};

// Hafnium (src/arch/aarch64/mm.c: arch_mm_invalidate_stage1_range,
// arch_mm_invalidate_stage2_range; MAX_TLBI_OPS = 512).
//
// Each range is one call: DSB ISHST; then if the range spans more than
// MAX_TLBI_OPS pages one wide op, else one op per 4 KiB page (whatever the
// entry size), no TTL, non-leaf; DSB ISH; ISB.
//   EL1 stage 1: VAE1IS (the space's ASID) per page, else VMALLE1IS;
//   EL2: VAE2IS per page, else ALLE2IS;
//   stage 2: IPAS2E1IS per page then DSB ISH; VMALLE1IS, else VMALLS12E1IS.
// Coverage everything: the wide op. Fallback when the plan is full: the
// wide op once.
class HafniumPolicy final : public Policy {
 public:
  static constexpr std::uint64_t kMaxTlbiOps = 512;
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;
};

}  // namespace tlbkit::baselines
