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

namespace tlbkit::baselines {

using maint::AddressSpace;
using maint::Pending;
using maint::Policy;

// Linux arm64, stage 1 (arch/arm64/include/asm/tlbflush.h).
//
// User address space (space.global absent), mmu_gather / flush_tlb_range:
// each Pending range is one __flush_tlb_range call with its own barriers:
//   DSB ISHST; ops; DSB ISH.
// The range is rounded to its stride (the entry size; a page under a changed
// table). Without TLBIRANGE: one VALE1IS (only leaves changed) or VAE1IS per
// entry, TTL = the range's level with FEAT_TTL, while the entries number
// fewer than MAX_DVM_OPS (512, = PTRS_PER_PTE); at 512 or more the range is
// flushed with flush_tlb_mm: DSB ISHST; ASIDE1IS; DSB ISH. With TLBIRANGE
// (and when the policy uses it): __flush_tlb_range_op covers the range's
// pages with RVALE1IS / RVAE1IS pieces, SCALE 3 down to 0 (the base-32
// digits of pages / 2, TTL level in the range TTL field), then one by-VA op
// for an odd last page; a one-page range is a single by-VA op; above
// MAX_TLBI_RANGE_PAGES (2^21) it is flush_tlb_mm.
// Coverage everything (whole mm): flush_tlb_mm. (Linux tears a dying mm
// down with no TLBI at all, relying on ASID generations; a Pending that
// says "everything" still needs the ASID flushed, so it is flushed.)
//
// Kernel address space (space.global present), flush_tlb_kernel_range:
// stride PAGE_SIZE whatever the entry size, VAALE1IS per page, no TTL (range
// RVAALE1IS pieces with TLBIRANGE, as Linux since 6.10), fewer than 512
// pages else flush_tlb_all: DSB ISHST; VMALLE1IS; DSB ISH; ISB. Ends with
// DSB ISH; ISB. Linux frees kernel page tables with one VAAE1IS per table
// (__flush_tlb_kernel_pgtable); here a changed table makes every op VAAE1IS
// per page (correctness rule above).
//
// Not modelled: KPTI's second (user) ASID op per TLBI; LPA2 alignment.
// EL2 and stage 2 are not Linux stage-1 concerns: Linux's KVM does them, so
// the policy behaves as KvmPolicy there (kvm-deferred with TLBIRANGE in use,
// kvm otherwise).
// Fallback when the plan is full: flush_tlb_mm / flush_tlb_all once.
class LinuxPolicy final : public Policy {
 public:
  static constexpr std::uint64_t kMaxDvmOps = 512;
  enum class RangeOps : std::uint8_t { when_present, never };

  explicit LinuxPolicy(RangeOps range = RangeOps::when_present) : range_(range) {}
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

 private:
  RangeOps range_;
};

// KVM arm64 (arch/arm64/kvm/hyp/pgtable.c, hyp/nvhe/tlb.c, mmu.c).
//
// Stage 2, immediate (Deferral::never, "kvm"; KVM before the 2023 range
// deferral, and after it whenever TLBIRANGE or FWB is missing): the unmap
// walker does break-before-make per PTE and calls __kvm_tlb_flush_vmid_ipa
// for each entry:
//   DSB ISHST; IPAS2E1IS (TTL = entry level with FEAT_TTL); DSB ISH;
//   VMALLE1IS; DSB ISH; ISB
// i.e. one such sequence PER ENTRY, held as one Plan step group (loop
// body) per pending range, so the plan's ops are exactly KVM's. A plan holds
// 64 steps and 16 groups: a batch of more than 10 separate ranges does not
// fit and falls back to __kvm_tlb_flush_vmid (below).
// For an unhooked table KVM's walker first clears and invalidates every
// leaf below it, then the table entry (IPAS2E1IS, TTL 0); our engine drops
// the table without rewriting its leaves, so the model issues the
// sequence for every 4 KiB page under the table entry: for a table of
// 4 KiB leaves the same count of sequences (one fewer).
// Coverage everything: __kvm_tlb_flush_vmid: DSB ISHST; VMALLS12E1IS;
// DSB ISH; ISB.
//
// Stage 2, deferred (Deferral::range_with_fwb, "kvm-deferred"; KVM since
// 6.6): when TLBIRANGE AND FWB (features.fwb), leaf entries are not flushed
// per PTE; after the walk kvm_tlb_flush_vmid_range flushes the unmapped
// range (each Pending range = one unmap call) in chunks of at most 2^21
// pages, each chunk one __kvm_tlb_flush_vmid_range:
//   DSB ISHST; RIPAS2E1IS pieces (no TTL; SCALE 3..0, odd last page by
//   IPAS2E1IS); DSB ISH; VMALLE1IS; DSB ISH; ISB.
// Table entries are never deferred (the 2024 fix: freed tables stayed in
// walk caches) and get the immediate per-entry treatment. Without TLBIRANGE
// or FWB this policy is exactly "kvm".
//
// EL2 (hyp stage 1, kvm_pgtable_hyp_unmap): DSB ISHST; VAE2IS per entry
// (TTL with FEAT_TTL when only leaves changed); DSB ISH; ISB (KVM issues a
// DSB ISHST before each entry's TLBI; the model issues one); everything:
// ALLE2IS.
// EL1 stage 1 is the guest's business, not KVM's: modelled as Linux-style
// per-VA (plan_shapes per_va) below 512 entries, else ASIDE1IS (VMALLE1IS
// with global entries).
// Fallback when the plan is full: VMALLS12E1IS / ALLE2IS / ASIDE1IS.
class KvmPolicy final : public Policy {
 public:
  enum class Deferral : std::uint8_t { never, range_with_fwb };

  explicit KvmPolicy(Deferral deferral = Deferral::never) : deferral_(deferral) {}
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

 private:
  Deferral deferral_;
};

// FreeBSD arm64 (sys/arm64/arm64/pmap.c: pmap_s1_invalidate_range,
// pmap_s1_invalidate_all, pmap_s2_invalidate_range; bhyve's EL2 stage-2
// callback, review D37254).
//
// One TLBI per entry, no threshold, each range (a coalesced run of
// pmap_remove) one call with its own barriers:
//   DSB ISHST; VALE1IS (final_only) / VAE1IS per entry, user ASID; DSB ISH; ISB
// Kernel pmap (global entries): VAALE1IS / VAAE1IS. No TTL, no range ops.
// Coverage everything (pmap_remove_pages, whole-space teardown): DSB ISHST;
// ASIDE1IS (VMALLE1IS for the kernel pmap); DSB ISH; ISB.
// Stage 2: DSB ISHST; IPAS2LE1IS / IPAS2E1IS per entry; DSB ISH; VMALLE1IS;
// DSB ISH; ISB per range; everything: VMALLS12E1IS.
// EL2 (not a FreeBSD pmap concern): VALE2IS / VAE2IS per entry; ALLE2IS.
// Fallback when the plan is full: the same per-entry loops under one barrier
// pair for the whole batch; if even that does not fit, the space-wide flush.
class FreeBsdPolicy final : public Policy {
 public:
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;
};

// The HVF Linux-binary runner, first version (background doc 003: "the
// blanket TLBI VMALLE1IS that ran after every page-table-modifying
// syscall"). When anything needs invalidating:
//   DSB ISHST; VMALLE1IS; DSB ISH; IC IALLU; DSB ISH; ISB
// (the shim's tail). With execute permission gained the tail's IC IALLU
// becomes IC IALLUIS: the local form leaves other vCPUs' I-caches stale.
// Stage 2 (not the runner's concern: HVF owns it): VMALLS12E1IS; EL2: ALLE2IS.
class HvfRunnerV1Policy final : public Policy {
 public:
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;
};

// The HVF runner after the selective-TLBI change (background doc 003):
// every pending range is merged into one bounding box [lo, hi) (4 KiB pages,
// gaps included), then
//   <= 16 pages:   DSB ISHST; VAE1IS per page (non-leaf, no TTL);
//   17..64 pages:  DSB ISHST; one RVAE1IS, SCALE 0, NUM = ceil(pages/2) - 1:
//                  exact for an even count, one page over for an odd one;
//   otherwise:     DSB ISHST; VMALLE1IS;
// then the shim's tail DSB ISH; IC IALLU (IC IALLUIS with exec gained, as
// in v1); DSB ISH; ISB. Without TLBIRANGE the 17..64 case is VMALLE1IS (the
// shim assumes the host has range ops). Later versions raised 64 to 32768;
// this models 64. Stage 2 and EL2 (not the runner's concern) get the same
// shape with IPAS2E1IS / RIPAS2E1IS (+ DSB ISH; VMALLE1IS) / VMALLS12E1IS
// and VAE2IS / RVAE2IS / ALLE2IS.
class HvfRunnerV2Policy final : public Policy {
 public:
  static constexpr std::uint64_t kMaxLoopPages = 16;
  static constexpr std::uint64_t kMaxRangePages = 64;
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;
};

}  // namespace tlbkit::baselines
