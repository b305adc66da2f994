// Linux arm64, stage 1: the TLB maintenance of two releases, modelled from
// their source (docs/baselines/linux.md has the account with line numbers
// and what the models leave out).
//
//   v5_4   (the 5.4 line; arch/arm64/include/asm/tlbflush.h and tlb.h read at
//          jpb-kernels/kernel-extended-lts@d11335bd / @0f189678): no TTL
//          hints, no range ops.
//   v6_17  (6.17-rc3; Kingxukai/linux@9b44fff655e2c6f4cc53cb499dd2c038e99cb013,
//          a mainline-tracking tree whose Makefile reads 6.17.0-rc3): TTL
//          hints with FEAT_TTL, range ops with FEAT_TLBIRANGE.
//
// What both do for a process (user ASID), per mmu_gather flush (tlb_flush in
// asm/tlb.h): the gather holds a bounding box of everything cleared, gaps
// included, and which levels were cleared; it is flushed at the end of each
// VMA (tlb_end_vma: arm64 does not merge VMAs) and at the end of the call,
// where the page tables freed by free_pgtables are flushed. A flush is one
// __flush_tlb_range over the box at the stride of the smallest cleared
// level, leaf-only (VALE1IS) unless tables were freed (VAE1IS), then:
//   5.4:  DSB ISHST; one op per stride, no TTL; DSB ISH, or flush_tlb_mm
//         (DSB ISHST; ASIDE1IS; DSB ISH) at 512 strides or more.
//   6.17: the same without FEAT_TLBIRANGE (TTL = the level when exactly one
//         level was cleared and no table freed, with FEAT_TTL); with it, range
//         ops over the box's pages, SCALE 3 down to 0, an odd last page by a
//         single op, flush_tlb_mm only above 2^21 pages.
// mprotect: 5.4 flushes the whole requested range of each VMA with
// flush_tlb_range (non-leaf VAE1IS per page, no TTL) when anything changed;
// 6.17 gathers the changed entries as munmap does.
// A whole-space teardown (exit): one flush_tlb_mm at the end.
// Page reclaim (a batch of CallKind::reclaim in a process), per reclaimed
// page: 5.4 has no batched unmap on arm64, so try_to_unmap_one's
// ptep_clear_flush issues flush_tlb_page (DSB ISHST; VALE1IS, no TTL; DSB
// ISH); 6.17 defers (arch_tlbbatch_add_pending: DSB ISHST; VALE1IS, TTL 3
// with FEAT_TTL, no DSB ISH) and completes the batch with one DSB ISH
// (arch_tlbbatch_flush). Blocks and freed tables in such a batch are
// flushed as munmap's gather would flush them.
// Kernel mappings (global entries): flush_tlb_kernel_range over the box
// (VAALE1IS per page, no TTL; then DSB ISH; ISB), flush_tlb_all (DSB ISHST;
// VMALLE1IS; DSB ISH; ISB) above 512 pages in 5.4 (`>`, bytes not rounded)
// and at 512 or more in 6.17 without range ops (range ops up to 2^21 pages
// with them); a freed kernel table: __flush_tlb_kernel_pgtable (DSB ISHST;
// VAAE1IS; DSB ISH; ISB) once per table.
//
// Known bugs of these versions that a plan cannot show (docs/baselines/
// linux.md): 5.4 reads the ASID before its DSB ISHST (a race with an ASID
// rollover on another CPU, fixed in 5.15). 6.17 has no known stage-1 bug.
// Not modelled: KPTI's second TLBI per user op (the models assume a CPU
// without KPTI), the REPEAT_TLBI erratum, LPA2, the page batch's forced
// flush (about 9,700 queued pages), reclaim's early flush before writing
// back a dirty page and its batching across processes, hugetlb and THP
// split paths. Stage 2 and EL2 are KVM's (the kvm-* policies); if asked,
// these models flush the space whole.
#pragma once

#include <cstdint>

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

class LinuxPolicy final : public maint::Policy {
 public:
  enum class Version : std::uint8_t { v5_4, v6_17 };
  // MAX_TLBI_OPS (5.4) / MAX_DVM_OPS (6.17): PTRS_PER_PTE with 4 KiB pages.
  static constexpr std::uint64_t kMaxDvmOps = 512;

  explicit constexpr LinuxPolicy(Version version) : version_(version) {}

  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;
  // mmu_gather flushes at the end of every VMA (tlb_end_vma).
  maint::FlushPoint flush_point() const override { return maint::FlushPoint::per_vma; }

 private:
  Version version_;
};

}  // namespace tlbkit::baselines
