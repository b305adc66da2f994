// Hafnium (aarch64) TLB maintenance, modelled from one version's source.
//
// Version read: TF-Hafnium/hafnium@07a69ab823592dc73724dc869f55c77c62fa45be
// (a GitHub mirror of git.trustedfirmware.org; the newest stored copy, not
// compared with the upstream tip, which adds an erratum sync after stage-1
// TLBIs, see docs/baselines/hafnium.md):
//   src/mm.c: mm_replace_entry (the only caller of the invalidation),
//     mm_invalidate_tlb, mm_map_level, mm_populate_table_pte;
//   src/arch/aarch64/mm.c: arch_mm_invalidate_stage1_range,
//     arch_mm_invalidate_stage2_range, MAX_TLBI_OPS (= MM_PTE_PER_PAGE, 512);
//   src/arch/aarch64/inc/hf/arch/mmu.h: tlbi / tlbi_reg (a bare TLBI).
// Details, line numbers and what is left out: docs/baselines/hafnium.md.
//
// Hafnium never batches: mm_replace_entry does a break-before-make for each
// valid entry it replaces and invalidates exactly that entry's span
// [begin, begin + entry size). So every entry of every Pending range (a
// page, a block, or a table entry: its whole span) gets one invalidate call:
//   stage 1 (its own EL2 tables, tlbkit's el2_stage1):
//     DSB ISH; TLBI VAE2IS per 4 KiB page of the span; DSB ISH; ISB
//     and when the span is more than 512 pages (strictly, in bytes: a
//     1 GiB entry) DSB ISH; TLBI ALLE2IS; DSB ISH; ISB;
//   stage 2 (a VM, tlbkit's stage2):
//     DSB ISH; TLBI IPAS2E1IS per page; DSB ISH; TLBI VMALLE1IS; DSB ISH; ISB
//     and beyond 512 pages DSB ISH; TLBI VMALLS12E1IS; DSB ISH; ISB;
//   EL1 stage 1 (the same code built with VM_TOOLCHAIN == 1): VAE1IS /
//     VMALLE1IS instead of VAE2IS / ALLE2IS, the ASID masked to 8 bits and
//     ORed into the loop variable: with a non-zero ASID the loop ends after
//     its first page (AsidLoop::first_page_as_read, reproduced as read,
//     unconfirmed by the maintainers; a page or a block is still removed, a
//     table entry's span keeps its other pages). AsidLoop::every_page loops
//     as intended and keeps all 16 ASID bits (Hafnium runs with 8-bit
//     ASIDs, a tlbkit space may not): the registered model, which must be correct on every
//     regime (a correct-contract policy) while it runs only on VM stage 2
//     in tlbkit's traces, so no workload could show the bug.
// No "L" forms, no TTL hints, no range ops, no batching, no threshold across
// entries. The stage-2 call ignores its vmid: the ops hit the VMID loaded,
// which a tlbkit executor always has (the plan runs with space.vmid).
// Coverage everything (Hafnium has no such call): one invalidate call over
// a span above the threshold (the wide op), the nearest Hafnium sequence.
// Not in a plan: the DSB ISH that ends each of mm's prepare and commit
// phases (arch_mm_sync_table_writes: table-write barriers, issued for maps
// too, where tlbkit asks no policy).
// Cache maintenance: src/mm.c does none; pending.clean and exec gained get
// tlbkit's tail (DC CIVAC...; DSB ISH / IC IALLUIS; DSB ISH; ISB).
// Fallback when the plan does not fit a Plan (64 steps, 16 groups; a tlbkit
// limit): the wide call once.
#pragma once

#include <cstdint>
#include <string_view>

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

class HafniumPolicy final : public maint::Policy {
 public:
  // The EL1 stage-1 loop with a non-zero ASID: as read (one op) or as meant.
  enum class AsidLoop : std::uint8_t { first_page_as_read, every_page };

  static constexpr std::string_view kVersion = "07a69ab";
  static constexpr std::string_view kRepository =
      "TF-Hafnium/hafnium@07a69ab823592dc73724dc869f55c77c62fa45be";
  static constexpr std::uint64_t kMaxTlbiOps = 512;  // MAX_TLBI_OPS = MM_PTE_PER_PAGE

  explicit HafniumPolicy(AsidLoop loop = AsidLoop::first_page_as_read) : loop_(loop) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

  // One arch_mm_invalidate_stage1_range (EL2 or EL1 stage 1, the ASID of
  // `space`) or arch_mm_invalidate_stage2_range call over [begin, end),
  // page-aligned, appended to `plan`: what plan() issues per entry.
  // # Errors
  // out_of_range: the plan is full (it is then partial) or the loop is too
  // long for one step.
  static Status invalidate_range(const maint::AddressSpace& space, arch::VirtAddr begin, arch::VirtAddr end,
                                 Plan& plan, AsidLoop loop = AsidLoop::first_page_as_read);

 private:
  AsidLoop loop_;
};

}  // namespace tlbkit::baselines
