// FreeBSD arm64 pmap TLB maintenance, modelled at two versions read from
// source (docs/baselines/freebsd.md has the citations; no FreeBSD code is
// copied here or in src/baselines/freebsd.cpp).
//
// Versions (the name of each registered policy is freebsd-<short commit>):
// - Version::d37254_era, "freebsd-6631b58":
//   freebsd/freebsd-src@6631b589423407c3f05bfebc62ae230ae496e061,
//   sys/arm64/arm64/pmap.c. A main snapshot dated by its content only: it
//   has D37254's stage-2 hooks (pmap_stage2_invalidate_range / _all and the
//   pm_stage dispatch in pmap_invalidate_*) and no L3C code; its exact date
//   and release branch are not established.
// - Version::current, "freebsd-7dc22c8":
//   JamesKane/freebsd-src@7dc22c8866a5c23bd83e3c7c53e32ddb441093a1,
//   sys/arm64/arm64/pmap.c (a fork's snapshot of 2025/2026 main: range
//   TLBIs, the multiple-TLBI errata workaround, LPA2, L2C/L3C), with the EL2
//   side from freebsd/freebsd-src@e14f3edc16bc6f72fe4b8e095b0c1806a5e834f0,
//   sys/arm64/vmm/vmm_hyp.c (s2_tlbi_range, s2_tlbi_all).
//
// What both versions do (functions of pmap.c):
// - One pmap call invalidates inside itself. pmap_remove visits one 2 MiB
//   (L2) region at a time and pmap_remove_l3_range invalidates each run of
//   contiguous valid entries it cleared, breaking at an invalid entry and
//   at the region's end: every run is one pmap_invalidate_range call, with
//   its own barriers:  DSB ISHST; one op per 4 KiB page; DSB ISH; ISB.
//   pmap_protect (pmap_mask_set_locked) does the same per run of entries
//   that changed. User pmap: VALE1IS with the ASID (final_only); kernel
//   pmap: VAALE1IS, no ASID. No TTL hint. No threshold at any size: N pages
//   are N TLBIs (d37254_era; current without FEAT_TLBIRANGE).
// - A 2 MiB block removed or protected whole (pmap_remove_l2,
//   pmap_protect_l2): one final op at the block's base, with its barriers.
// - A page-table page freed when its last entry is cleared
//   (_pmap_unwire_l3): pmap_invalidate_page(va, false), one non-final op
//   (VAE1IS) with its barriers, issued before the run that emptied it is
//   flushed.
// - Break-before-make (pmap_update_entry) of a promotion: a non-final
//   invalidation of the whole 2 MiB (512 VAE1IS at d37254_era).
// - Whole-space teardown (pmap_remove_pages): no per-page TLBI, then
//   pmap_invalidate_all: DSB ISHST; ASIDE1IS (VMALLE1IS for the kernel
//   pmap); DSB ISH; ISB.
// - Stage 2 (bhyve), through the hooks to EL2 (s2_tlbi_range): with the
//   guest's VTTBR loaded, IPAS2LE1IS (final) / IPAS2E1IS per 4 KiB page, no
//   range ops, no size limit; DSB ISH; VMALLE1IS; DSB ISH; ISB. Teardown:
//   s2_tlbi_all: VMALLS12E1IS; DSB ISH; ISB.
//
// What only Version::current does:
// - Range TLBIs with FEAT_TLBIRANGE (pmap_s1_invalidate_strided): from the
//   start of a call's range, while 2 or more pages remain, one range op of
//   SCALE = min((fls(pages) - 2) / 5, 3) covering min(pages >> (5 * SCALE
//   + 1), 32) units of 2^(5 * SCALE + 1) pages (no TTL); a last single page
//   is a by-VA op. Break points: 2, 64, 2048 and 65536 pages. Single-page
//   invalidations (pmap_s1_invalidate_page) are never range ops.
//
// What only Version::d37254_era does:
// - Demotion is break-before-make with size PAGE_SIZE and final_only
//   false: one VAE1IS at the block's base. The Policy interface does not
//   say a break-before-make from a removal, so the model takes a block in
//   a batch that names no call (CallKind::unknown: Gather::invalidate_now
//   names none), or a reclaim call, to be a demotion; a block in an unmap
//   or protect call is removed (VALE1IS). At Version::current the note did
//   not re-read the demotion; its BBM comment says it passes final_only:
//   modelled VALE1IS.
//
// Left out (the interface cannot say it, or the source was not read):
// - The multiple-TLBI errata workaround of Version::current (an extra
//   DSB ISH; TLBI VALE1IS, XZR before each final DSB ISH on the cores the
//   errata list): the model is of a CPU without the erratum.
// - LPA2 (range ops only at 64 KiB-aligned addresses): tlbkit has no LPA2.
// - L3C / L2C (contiguous-bit) runs of Version::current: tlbkit makes no
//   contiguous mappings.
// - pmap_enter replacing a managed page whose access flag was clear (no
//   TLBI at all): the interface does not carry the access flag; the model
//   always invalidates. pmap_enter's same-page attribute change (store,
//   then invalidate, no break) has the same ops as tlbkit's BBM.
// - The page-table pages freed in a teardown each get a VAE1IS before the
//   ASIDE1IS; the teardown batch (Coverage::everything) lists none.
// - The VTTBR swap, VHE's TCR_EL2 write and the HVC of the stage-2 path
//   are not plan ops. The EL1 pmap issues no DSB ISHST before the hook and
//   nVHE s2_tlbi_range has none either (only VHE does); whether the HVC
//   path has one was not read: the model keeps DSB ISHST first (correct).
// - Cache maintenance: FreeBSD syncs the I-cache by VA (DC CVAU, IC IVAU
//   over the DMAP alias) for an executable user mapping BEFORE it stores the
//   entry, and cleans the D-cache of every new stage-2 page before the
//   store. A plan runs after the changes and knows no physical pages gaining
//   exec: the model ends with tlbkit's common tail (DC CIVAC over
//   pending.clean, IC IALLUIS; DSB ISH; ISB when exec is gained).
// - Stage-2 blocks (FreeBSD gives stage 2 no superpages): one IPAS2LE1IS at
//   the block's base, as the stage-1 block case dispatched to stage 2.
//   Level-1 blocks (not in the note) are treated as 2 MiB blocks: one op at
//   the base. EL2 stage 1 is not a pmap's: per-page VALE2IS / VAE2IS, and
//   ALLE2IS for everything.
// - Known bugs the note lists are not reproduced (none is in these paths
//   and reachable through the Policy interface): see docs/baselines/freebsd.md.
//
// Version::d37254_era has no in-tree EL2 handler for its hooks (the note
// recalls, unverified, that bhyve's arm64 kernel side was imported in early
// 2024): it is registered without vm_stage2; given a stage-2 space it plans
// what the current EL2 handler does.
//
// Unlike the baselines of policies.hpp, a changed table does not make the
// whole batch non-leaf: each call keeps FreeBSD's form (the runs final, the
// freed table's op non-final, which is all its walk-cache entry needs when
// every entry below had its own op: Beneath::reported; a table that went
// whole is invalidated non-final over its whole span).
//
// Plan capacity (64 steps, 16 groups): consecutive 2 MiB regions whose
// calls have the same shape are held as one step group (the ops are
// exactly FreeBSD's). When even that does not fit: every call's TLBIs under
// one barrier pair; then pmap_invalidate_all. A Gather that overflowed
// (Coverage::everything with an extent) also gets pmap_invalidate_all:
// FreeBSD has no such limit and would have flushed each run.
#pragma once

#include <cstdint>

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

class FreeBsdPolicy final : public maint::Policy {
 public:
  enum class Version : std::uint8_t {
    d37254_era,  // freebsd/freebsd-src@6631b589 (post-D37254, pre-L3C)
    current,     // JamesKane/freebsd-src@7dc22c88 (2025/2026 main)
  };

  explicit constexpr FreeBsdPolicy(Version version) : version_(version) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;
  Version version() const { return version_; }

  // The TLBIs (no barriers) of one pmap_s1_invalidate_range over `pages`
  // 4 KiB pages from `va` at this version: one op per page, or with
  // Version::current and FEAT_TLBIRANGE the range loop. Public for the
  // tests of the range break points, which pmap_remove cannot reach past
  // 512 pages (its runs end at every 2 MiB boundary).
  Status append_invalidate_range(arch::VirtAddr va, std::uint64_t pages, bool final_only,
                                 const maint::AddressSpace& space, const arch::CpuFeatures& features,
                                 Plan& plan) const;

 private:
  Version version_;
};

}  // namespace tlbkit::baselines
