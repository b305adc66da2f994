// KVM arm64 stage-2 (and hyp stage-1) TLB maintenance at two named
// versions, read from source (facts only, no code copied; the research note
// with line citations and test vectors: docs/baselines/kvm.md).
//
// Sources read
//   kvm-6.5  (before the range-based stage-2 flush):
//     arch/arm64/kvm/hyp/pgtable.c at
//       nicolinc/linux-nvidia-6.5@07082121207e1d0f7b4f2ecd2dc5821f69d3f5bc
//       (a v6.5-based tree carrying some v6.6 kvmarm patches but not the
//       range series; identified by content, no Makefile stored):
//       stage2_put_pte, stage2_unmap_walker, stage2_try_break_pte,
//       kvm_pgtable_stage2_unmap, stage2_split_walker, hyp_unmap_walker;
//     arch/arm64/kvm/hyp/nvhe/tlb.c at
//       ricarkol/linux@5c1da19e332cb96251a672ff74301ef8de52d887 (a pre-range
//       copy, position against the v6.5 tag not proven):
//       __kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid.
//   kvm-6.12 (after it): Linux 6.12.118 as packaged by Debian
//     (linux-source-6.12 6.12.118-1~deb12u1):
//       arch/arm64/kvm/hyp/pgtable.c: stage2_unmap_put_pte,
//       stage2_unmap_defer_tlb_flush, kvm_pgtable_stage2_unmap,
//       kvm_tlb_flush_vmid_range, stage2_try_break_pte, hyp_unmap_walker;
//       arch/arm64/kvm/hyp/nvhe/tlb.c: __kvm_tlb_flush_vmid_ipa,
//       __kvm_tlb_flush_vmid_range, __kvm_tlb_flush_vmid;
//       arch/arm64/include/asm/tlbflush.h: __flush_tlb_range_op,
//       __TLBI_RANGE_NUM, MAX_TLBI_RANGE_PAGES;
//       arch/arm64/kvm/mmu.c: stage2_apply_range, kvm_arch_flush_remote_tlbs*.
//
// Stage 2 (Regime::stage2). The hyp calls, as plan ops (nVHE host; the
// VTTBR switch and its ISBs around each call are system-register work a
// Plan cannot hold, so they are left out; the ISB kept is the one after the
// TLBIs):
//   S_ipa(a, ttl)   DSB lead; IPAS2E1IS a>>12|TTL; DSB ISH; VMALLE1IS; DSB ISH; ISB
//   S_range(a, n)   DSB lead; RIPAS2E1IS pieces..., IPAS2E1IS for an odd last
//                   page (no TTL anywhere); DSB ISH; VMALLE1IS; DSB ISH; ISB
//   S_vmid          DSB lead; VMALLS12E1IS; DSB ISH; ISB
// where DSB lead is DSB ISHST at 6.5 (issued before the VMID switch) and
// DSB ISH at 6.12 (inside enter_vmid_context). The range pieces are
// __flush_tlb_range_op's: SCALE 3 down to 0, NUM = pages >> (5*SCALE+1) - 1
// when >= 0 (NUM 31 at SCALE 3 for exactly 2^21 pages), one IPAS2E1IS when
// one page is left.
//
// Which KVM path a batch is: the Pending says what changed, not which walker
// changed it, so the model decides by the call the kernel noted:
// - CallKind::protect: write-protect (dirty logging) in place, no TLBI in
//   the walker, then the memslot flush: 6.5 kvm_flush_remote_tlbs = S_vmid;
//   6.12 kvm_flush_remote_tlbs_memslot -> kvm_tlb_flush_vmid_range over the
//   call's span (else the runs of the pending ranges): chunks of at most
//   MAX_TLBI_RANGE_PAGES (2^21) pages, one S_range each, or one S_vmid
//   without FEAT_TLBIRANGE.
// - anything else (unmap, or not noted): the unmap walker
//   (kvm_pgtable_stage2_unmap), per entry, post-order:
//   * a leaf: S_ipa(a, TTL = its level with FEAT_TTL), per entry. 6.12
//     defers it when FEAT_TLBIRANGE and FWB are both present
//     (stage2_unmap_defer_tlb_flush): then, after the walk, one
//     kvm_tlb_flush_vmid_range over the requested range (the call's span,
//     else each run of adjacent pending ranges), cut first at 1 GiB
//     boundaries (stage2_apply_range calls the unmap once per 1 GiB), so
//     one S_range per GiB piece.
//   * a table entry (emptied table): S_ipa(a, no TTL) at 6.12, never
//     deferred (the 2024 fix of known bug 6); at 6.5 S_ipa(a, TTL = the
//     table entry's own level) -- known bug 10, see "Table hint" below.
//   * a table the engine unhooked whole (Beneath::unseen): KVM's walker
//     visits every valid leaf below it and flushes each (per entry, or in
//     the deferred range flush); the model cannot know which leaves were
//     valid nor their levels, so without deferral it issues S_ipa(page, no
//     TTL) for every 4 KiB page under the table, then the table entry's
//     S_ipa. KVM interleaves them (each table after its leaves); the model
//     issues every page of a range first, then its table entries.
// - Coverage::everything (a teardown, or tlbkit's Gather overflowed):
//   S_vmid. (KVM destroys a VM's stage 2 with no TLBI at all and relies on
//   TLBI ALLE1IS at VMID rollover; a Pending that says "everything" must be
//   invalidated, so the model issues KVM's whole-VMID flush.)
//
// Not expressible through maint::Policy, and left out:
// - per-PTE timing: KVM clears an entry and flushes it before the next
//   entry; a Plan runs after every table write of the batch (flush_point()
//   is per call). The ops are the same, their order against the PTE writes
//   is not.
// - break-before-make of the map and split walkers (a valid leaf replaced,
//   a block split, a table replaced by a block) reaches the policy as an
//   unnoted one-range batch, which the model takes for the unmap walker.
//   For leaves that is KVM's S_ipa(a, level) except in 6.12's deferred mode
//   (the model then issues S_range, one op, no TTL); for a table replaced by
//   a block KVM issues S_vmid (6.5) or kvm_tlb_flush_vmid_range over the
//   block (6.12), the model the unmap walker's sequences.
// - relax_perms' local __kvm_tlb_flush_vmid_ipa_nsh (a relaxation needs no
//   invalidation: the Gather never asks for one); aging (AF clearing) and
//   its S_vmid; the pKVM host stage 2; LPA2 operands; VHE (DSB ISHST lead,
//   HCR_EL2.TGE); the repeat-TLBI erratum (6.12.90's __tlbi_sync_s1ish_hyp
//   adds TLBI VALE2IS, XZR; DSB ISH on affected CPUs); 6.5's VPIPT I-cache
//   invalidation.
// - cache maintenance: KVM cleans the OLD page to PoC on unmap without FWB
//   (per entry, after its TLBI: DC CIVAC per line, then DSB SY), and on MAP
//   cleans the new page (D-cache without FWB) and invalidates the I-cache
//   for an executable mapping BEFORE the entry is made valid. The Pending
//   holds only memory to clean after the flush (pending.clean: the table
//   engine asks for it exactly where KVM cleans on unmap) and a yes/no for
//   execute gained: the model cleans pending.clean line by line after all
//   TLBIs, closed by one DSB SY (KVM: one per entry), and for exec gained
//   issues IC IALLUIS; DSB ISH; ISB, KVM's form for more than 512 I-cache
//   lines (MAX_DVM_OPS << (IminLine + 2)); below that KVM issues IC IVAU per
//   line, which needs the address the Pending does not give. The clean of
//   the new page on map and CTR_EL0.DIC (no I-cache op at all) are not
//   modelled.
//
// Hyp stage 1 (Regime::el2_stage1, kvm_pgtable_hyp_unmap), per entry:
//   leaf:  DSB ISHST; VALE2IS va>>12|TTL(level); DSB ISH; ISB
//   table: DSB ISHST; VAE2IS va>>12 (6.12: no TTL; 6.5: the table's level,
//          bug 10 as below); DSB ISH; ISB
// A table unhooked whole gets VAE2IS (no TTL) per page first, as stage 2.
// Everything: DSB ISHST; ALLE2IS; DSB ISH; ISB (KVM has no such flush; the
// nearest correct one).
//
// EL1 stage 1 is the guest's own business, not KVM's: modelled Linux-style
// (per-VA below 512 entries, else ASIDE1IS, VMALLE1IS with global entries;
// maint::append_shape), the same at both versions.
//
// Table hint (known bug 10 at 6.5). 6.5 passes the table entry's own level
// as the TTL hint when it flushes an emptied table (stage 2: stage2_put_pte
// with ctx->level; hyp: VAE2IS with ctx->level); the hint names a leaf
// level where no leaf is, so the hardware may invalidate nothing. The
// simulator matches a hint against the level of the cached descriptor, and
// the walk-cache entry of a table descriptor at level L has level L: it
// removes it, so no workload shows the bug on the machine, while tlbkit's
// coverage oracle rejects the plan. A model that breaks a rule must be a
// Contract::known_bug model, and such a model must show its bug on some
// generator: this one cannot. So the registered kvm-6.5 gives table entries
// no hint (TableHint::none, the nearest correct behaviour);
// TableHint::as_released reproduces 6.5's operands exactly, for tests.
// 6.12 gives no hint to table entries whatever the option.
//
// Fallback when the plan does not fit (64 steps, 16 groups): S_vmid (hyp:
// ALLE2IS; guest stage 1: the ASID or VMALLE1IS).
#pragma once

#include <cstdint>

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

class KvmPolicy final : public maint::Policy {
 public:
  enum class Version : std::uint8_t {
    v6_5,   // per-entry flushes, no range ops
    v6_12,  // unmap deferred to range flushes with TLBIRANGE and FWB; memslot range flushes
  };
  enum class TableHint : std::uint8_t {
    none,         // table entries flushed with no TTL hint (6.12; the registered 6.5)
    as_released,  // 6.5 only: the table entry's level as TTL (known bug 10)
  };

  explicit KvmPolicy(Version version, TableHint table_hint = TableHint::none)
      : version_(version), table_hint_(table_hint) {}

  // The KVM a Linux release runs (for LinuxPolicy, which leaves stage 2
  // and EL2 to KVM): before 6.6, the pre-range KVM; from 6.6 on, the range
  // one. Linux 6.6 to 6.8 deferred table entries too (known bug 6) and gave
  // the range flush TTL level 0; those states are not modelled: they get
  // v6_12.
  static constexpr Version version_for_linux(unsigned major, unsigned minor) {
    return major < 6 || (major == 6 && minor < 6) ? Version::v6_5 : Version::v6_12;
  }

  // The constructor of the unversioned models, kept for callers written
  // against it: never -> v6_5 (no deferral), range_with_fwb -> v6_12.
  enum class Deferral : std::uint8_t { never, range_with_fwb };
  explicit KvmPolicy(Deferral deferral = Deferral::never)
      : KvmPolicy(deferral == Deferral::never ? Version::v6_5 : Version::v6_12) {}

  Version version() const { return version_; }
  TableHint table_hint() const { return table_hint_; }

  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

 private:
  Version version_;
  TableHint table_hint_;
};

}  // namespace tlbkit::baselines
