// Linux arm64 stage 1 at 5.4 and 6.17 (tlbkit/baselines/linux.hpp): the
// vectors of docs/baselines/linux.md, section "Test vectors". Sources:
// "5.4 tlbflush.h" = jpb-kernels/kernel-extended-lts@d11335bd, "5.4 tlb.h" =
// @0f189678; "6.17 tlbflush.h" / "6.17 tlb.h" / "6.17 asm-generic/tlb.h" =
// Kingxukai/linux@9b44fff6 / @0291023e (6.17.0-rc3). Operands are
// plan_steps.hpp's encoding (ASID 5, VA = B = 0x1000'0000, 2 MiB aligned),
// worked out in each comment. Each Pending is one flush point's batch (one
// VMA's part of a call); the flush points themselves are shown through the
// replay in tests/replay/flush_points_test.cpp (LinuxFlushPoints). Page
// reclaim (docs/baselines/linux.md, "Page reclaim") also cites mm/rmap.c:
// "5.4 rmap.c" = jpb-kernels/kernel-extended-lts@61a0d97a, "6.17 rmap.c" =
// Kingxukai/linux@9b44fff6 (functions named; their lines not counted).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "plan_steps.hpp"
#include "tlbkit/baselines/linux.hpp"

namespace tlbkit::baselines {
namespace {

using namespace test_support;
using Version = LinuxPolicy::Version;

const LinuxPolicy k54{Version::v5_4};
const LinuxPolicy k617{Version::v6_17};

constexpr std::uint64_t kBlockSize = 0x20'0000;
constexpr std::uint64_t kAsid5 = 0x0005'0000'0000'0000;
constexpr std::uint64_t kB = 0x10000;              // B >> 12
constexpr std::uint64_t kTg = 0x4000'0000'0000;     // range TG 4 KiB
constexpr std::uint64_t kTtl3 = 0x7000'0000'0000;   // by-VA TTL level 3
constexpr std::uint64_t kTtl2 = 0x6000'0000'0000;   // by-VA TTL level 2
constexpr std::uint64_t kRttl3 = 0x60'0000'0000;    // range TTL level 3
constexpr std::uint64_t kRttl2 = 0x40'0000'0000;    // range TTL level 2

constexpr std::uint64_t scale(unsigned s) { return std::uint64_t{s} << 44; }
constexpr std::uint64_t num(unsigned n) { return std::uint64_t{n} << 39; }

PendingRange block2(VirtAddr va, std::uint64_t blocks) {
  return PendingRange{va, blocks * kBlockSize, 2, EntryKind::leaf};
}
// A freed PTE table whose leaves were reported on their own (pte_free_tlb).
PendingRange freed_pte_table(VirtAddr va) {
  return PendingRange{va, kBlockSize, 2, EntryKind::table, maint::Beneath::reported};
}

const std::vector<Step> kFlushTlbMm{st(Instr::dsb_ishst), st(Instr::aside1is, kAsid5), st(Instr::dsb_ish)};
const std::vector<Step> kFlushTlbAll{st(Instr::dsb_ishst), st(Instr::vmalle1is), st(Instr::dsb_ish), st(Instr::isb)};

// A reclaim batch as the replay kernel notes it (CallKind::reclaim): the
// page runs a reclaimer unmapped in the process, the span their hull.
Case reclaim(std::vector<PendingRange> unmapped, const arch::CpuFeatures& features) {
  Case c{std::move(unmapped), user(), features};
  VirtAddr lo = ~VirtAddr{0};
  VirtAddr hi = 0;
  for (const PendingRange& r : c.ranges) {
    lo = std::min(lo, r.va);
    hi = std::max(hi, r.va + r.size);
  }
  c.call = maint::CallSpan{maint::CallKind::reclaim, lo, hi};
  return c;
}

// flush_tlb_page at 5.4 (tlbflush.h 157-172): DSB ISHST (162), VALE1IS
// without TTL (163), DSB ISH (171); VA = B + `page` pages.
std::vector<Op> flush_tlb_page_5_4(std::uint64_t page) {
  return {op(Instr::dsb_ishst), op(Instr::vale1is, kAsid5 | (kB + page)), op(Instr::dsb_ish)};
}

// ---- 5.4 ----------------------------------------------------------------------

TEST(Linux54, APageIsOneVale1isWithoutTtlBetweenDsbIshstAndDsbIsh) {
  // Vector 5-1: tlb_flush -> __flush_tlb_range (5.4 tlb.h 41; tlbflush.h 201-211).
  EXPECT_STEPS(k54, (Case{{leaf3(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kB), st(Instr::dsb_ish));
}

TEST(Linux54, FiveHundredElevenStridesArePerPageAndFiveHundredTwelveFlushTheAsid) {
  // Vectors 5-2..5-4: `>=` MAX_TLBI_OPS * stride after rounding (5.4 tlbflush.h 187-193).
  EXPECT_STEPS(k54, (Case{{leaf3(kVa, 511)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kB, 511, 1), st(Instr::dsb_ish));
  EXPECT_EQ(steps_for(k54, Case{{leaf3(kVa, 512)}, user(), kRangeTtl}), kFlushTlbMm);
  EXPECT_EQ(steps_for(k54, Case{{leaf3(kVa, 513)}, user(), kRangeTtl}), kFlushTlbMm);
}

TEST(Linux54, TheGatherIsABoundingBoxGapsIncluded) {
  // Vector 5-5: pages B and B + 10P: 11 ops (__tlb_adjust_range).
  EXPECT_STEPS(k54, (Case{{leaf3(kVa, 1), leaf3(kVa + 10 * kPage, 1)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kB, 11, 1), st(Instr::dsb_ish));
}

TEST(Linux54, AFreedPteTableIsASecondFlushOfOneNonLeafOpAtTheBlockStride) {
  // Vector 5-7: (a) the leaves at tlb_end_vma; (b) pte_free_tlb: one page
  // at the table's address, cleared_pmds + freed_tables -> stride 2 MiB,
  // last_level false: one VAE1IS (5.4 tlb.h 27-28, 41; tlbflush.h 207).
  EXPECT_STEPS(k54, (Case{{leaf3(kVa, 3), freed_pte_table(kVa)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kB, 3, 1), st(Instr::dsb_ish), st(Instr::dsb_ishst),
               st(Instr::vae1is, kAsid5 | kB), st(Instr::dsb_ish));
}

TEST(Linux54, BlocksAreFlushedAtTheirOwnStride) {
  // Vectors 5-9, 5-10: only cleared_pmds -> stride 2 MiB (0x200 in the
  // operand); 511 blocks per block, 512 -> flush_tlb_mm.
  EXPECT_STEPS(k54, (Case{{block2(kVa, 1)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kB), st(Instr::dsb_ish));
  EXPECT_STEPS(k54, (Case{{block2(kVa, 511)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kB, 511, 0x200), st(Instr::dsb_ish));
  EXPECT_EQ(steps_for(k54, Case{{block2(kVa, 512)}, user(), kNone}), kFlushTlbMm);
  // Vector 5-11: a block and the page after it: cleared_ptes sets the
  // stride to 4 KiB: 513 pages -> flush_tlb_mm.
  EXPECT_EQ(steps_for(k54, Case{{block2(kVa, 1), leaf3(kVa + kBlockSize, 1)}, user(), kNone}), kFlushTlbMm);
}

TEST(Linux54, ATeardownIsOneFlushTlbMm) {
  // Vector 5-12: fullmm with tables freed (5.4 tlb.h 35-39).
  Case exit{{}, user(), kRangeTtl};
  exit.coverage = Coverage::everything;
  EXPECT_EQ(steps_for(k54, exit), kFlushTlbMm);
}

Case mprotect(std::vector<PendingRange> changed, VirtAddr start, std::uint64_t pages) {
  Case c{std::move(changed), user(), kNone};
  c.call = maint::CallSpan{maint::CallKind::protect, start, start + pages * kPage};
  return c;
}

TEST(Linux54, MprotectFlushesTheWholeRequestedRangeNonLeafWhenAnythingChanged) {
  // Vector 5-15: 3 pages asked, the middle one changed: flush_tlb_range(vma,
  // start, end) -> 3 VAE1IS (5.4 tlbflush.h 214-222).
  EXPECT_STEPS(k54, mprotect({leaf3(kVa + kPage, 1)}, kVa, 3), st(Instr::dsb_ishst),
               st(Instr::vae1is, kAsid5 | kB, 3, 1), st(Instr::dsb_ish));
  // Vector 5-16: 512 pages asked, one changed: flush_tlb_mm.
  EXPECT_EQ(steps_for(k54, mprotect({leaf3(kVa + kPage, 1)}, kVa, 512)), kFlushTlbMm);
  // Vector 5-17: nothing changed: nothing.
  EXPECT_TRUE(steps_for(k54, mprotect({}, kVa, 3)).empty());
}

TEST(Linux54, KernelRangesArePerPageUpToAndIncluding512Pages) {
  // Vector 5-19: `>` on unrounded bytes (5.4 tlbflush.h 228-240): VAALE1IS
  // per page (no ASID), DSB ISH; ISB; 513 pages -> flush_tlb_all.
  EXPECT_STEPS(k54, (Case{{leaf3(kVa, 512)}, kernel(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vaale1is, kB, 512, 1), st(Instr::dsb_ish), st(Instr::isb));
  EXPECT_EQ(steps_for(k54, Case{{leaf3(kVa, 513)}, kernel(), kRangeTtl}), kFlushTlbAll);
}

TEST(Linux54, AFreedKernelTableIsFlushTlbKernelPgtable) {
  // Vector 5-20: DSB ISHST; VAAE1IS; DSB ISH; ISB (5.4 tlbflush.h 247-255).
  EXPECT_STEPS(k54, (Case{{freed_pte_table(kVa)}, kernel(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vaae1is, kB), st(Instr::dsb_ish), st(Instr::isb));
}

// Reclaim at 5.4: arm64's `config ARM64` selects no
// ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH (5.4 Kconfig, @0f189678), so
// try_to_unmap_one's should_defer_flush is false and each PTE is cleared
// by ptep_clear_flush, whose flush_tlb_page completes it at once (5.4
// rmap.c try_to_unmap_one).
TEST(Linux54, ReclaimOfAPageIsOneFlushTlbPage) {
  EXPECT_OPS(k54, reclaim({leaf3(kVa, 1)}, kRangeTtl), op(Instr::dsb_ishst), op(Instr::vale1is, kAsid5 | kB),
             op(Instr::dsb_ish));
}

TEST(Linux54, ReclaimOfThreePagesIsAFlushTlbPageForEachPage) {
  // Three PTEs, three ptep_clear_flush: 9 ops, not munmap's one range
  // (DSB ISHST; 3 VALE1IS; DSB ISH).
  std::vector<Op> want;
  for (std::uint64_t page = 0; page < 3; ++page) {
    for (const Op& o : flush_tlb_page_5_4(page)) want.push_back(o);
  }
  EXPECT_EQ(ops_for(k54, reclaim({leaf3(kVa, 3)}, kRangeTtl)), want);
}

TEST(Linux54, ReclaimHasNoAsidThresholdSo512PagesAre512FlushTlbPage) {
  // flush_tlb_page has no MAX_TLBI_OPS test (5.4 tlbflush.h 157-172):
  // 512 pages are 3 * 512 = 1536 ops where munmap flushes the ASID.
  const std::vector<Op> ops = ops_for(k54, reclaim({leaf3(kVa, 512)}, kNone));
  ASSERT_EQ(ops.size(), 1536u);
  const std::vector<Op> last(ops.end() - 3, ops.end());
  EXPECT_EQ(last, flush_tlb_page_5_4(511)) << "the last page, B + 511P = 0x101FF";
  EXPECT_EQ(std::count(ops.begin(), ops.end(), op(Instr::dsb_ish)), 512);
}

TEST(Linux54, AReclaimBatchTooLongForThePlanIsFlushedAsMunmapsGather) {
  // 22 pages apart (B, B + 2P, ..., B + 42P) need 66 steps, more than a
  // plan holds (64): the model's fallback is munmap's gather, the box of
  // 43 pages (vector 5-5's rule).
  std::vector<PendingRange> apart;
  for (std::uint64_t i = 0; i < 22; ++i) apart.push_back(leaf3(kVa + 2 * i * kPage, 1));
  EXPECT_STEPS(k54, reclaim(apart, kNone), st(Instr::dsb_ishst), st(Instr::vale1is, kAsid5 | kB, 43, 1),
               st(Instr::dsb_ish));
}

// ---- 6.17 ---------------------------------------------------------------------

TEST(Linux617, APageIsOneVale1isWithTheLevel3HintEvenWithRangeOps) {
  // Vector 6-1: tlb_get_level 3 (6.17 tlb.h 30-33); a single page takes
  // the non-range op (6.17 tlbflush.h 391).
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kTtl3 | kB), st(Instr::dsb_ish));
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 1)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kB), st(Instr::dsb_ish));
}

TEST(Linux617, RangeOpsRunScale3DownTo0WithTheOddPageLast) {
  // Vector 6-2: 2 pages: RVALE1IS (0, 0, 3).
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 2)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvale1is, kAsid5 | kTg | kRttl3 | kB), st(Instr::dsb_ish));
  // Vector 6-3: 3 pages: (0, 0, 3), then VALE1IS TTL 3 at B + 2P.
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 3)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvale1is, kAsid5 | kTg | kRttl3 | kB), st(Instr::vale1is, kAsid5 | kTtl3 | (kB + 2)),
               st(Instr::dsb_ish));
  // Vector 6-4: 511 pages: (1, 6, 3) = 448 pages, (0, 30, 3) = 62 pages at
  // B + 448P (0x101C0), VALE1IS at B + 510P (0x101FE).
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 511)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvale1is, kAsid5 | kTg | scale(1) | num(6) | kRttl3 | kB),
               st(Instr::rvale1is, kAsid5 | kTg | num(30) | kRttl3 | 0x101C0),
               st(Instr::vale1is, kAsid5 | kTtl3 | 0x101FE), st(Instr::dsb_ish));
}

TEST(Linux617, WithoutRangeOpsTheThresholdIs512StridesAndWithThemItIsTwoToThe21Pages) {
  // Vector 6-4 without TLBIRANGE: 511 VALE1IS with TTL 3.
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 511)}, user(), kTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kTtl3 | kB, 511, 1), st(Instr::dsb_ish));
  // Vector 6-5: 512 pages: flush_tlb_mm without range ops, one RVALE1IS
  // (1, 7, 3) with them (6.17 tlbflush.h 428-430).
  EXPECT_EQ(steps_for(k617, Case{{leaf3(kVa, 512)}, user(), kTtl}), kFlushTlbMm);
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 512)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvale1is, kAsid5 | kTg | scale(1) | num(7) | kRttl3 | kB), st(Instr::dsb_ish));
  // Vectors 6-8, 6-9: 2^21 pages is one RVALE1IS (3, 31, 3); one more page
  // is flush_tlb_mm (`pages > MAX_TLBI_RANGE_PAGES`, 6.17 tlbflush.h 430).
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 1u << 21)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvale1is, kAsid5 | kTg | scale(3) | num(31) | kRttl3 | kB), st(Instr::dsb_ish));
  EXPECT_EQ(steps_for(k617, Case{{leaf3(kVa, (1u << 21) + 1)}, user(), kRangeTtl}), kFlushTlbMm);
}

TEST(Linux617, TheBoxIncludesTheGap) {
  // Vector 6-10: pages B and B + 10P: (0, 4, 3) = 10 pages, then VALE1IS at B + 10P.
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 1), leaf3(kVa + 10 * kPage, 1)}, user(), kRangeTtl}),
               st(Instr::dsb_ishst), st(Instr::rvale1is, kAsid5 | kTg | num(4) | kRttl3 | kB),
               st(Instr::vale1is, kAsid5 | kTtl3 | (kB + 10)), st(Instr::dsb_ish));
}

TEST(Linux617, AFreedTableIsANonLeafFlushWithoutTtl) {
  // Vector 6-12 (b): freed_tables -> TTL unknown (6.17 tlb.h 27-28), stride
  // 2 MiB: one VAE1IS; with range ops the 512 pages are RVAE1IS (1, 7, 0).
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 1), freed_pte_table(kVa)}, user(), kTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kTtl3 | kB), st(Instr::dsb_ish), st(Instr::dsb_ishst),
               st(Instr::vae1is, kAsid5 | kB), st(Instr::dsb_ish));
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 1), freed_pte_table(kVa)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kTtl3 | kB), st(Instr::dsb_ish), st(Instr::dsb_ishst),
               st(Instr::rvae1is, kAsid5 | kTg | scale(1) | num(7) | kB), st(Instr::dsb_ish));
}

TEST(Linux617, ABlockHasTheLevel2HintAndTwoLevelsHaveNone) {
  // Vector 6-13: one 2 MiB block: VALE1IS TTL 2, or RVALE1IS (1, 7, 2).
  EXPECT_STEPS(k617, (Case{{block2(kVa, 1)}, user(), kTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, kAsid5 | kTtl2 | kB), st(Instr::dsb_ish));
  EXPECT_STEPS(k617, (Case{{block2(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvale1is, kAsid5 | kTg | scale(1) | num(7) | kRttl2 | kB), st(Instr::dsb_ish));
  // Vector 6-15: a block and the next page: stride 4K, no hint: 513 pages
  // -> flush_tlb_mm without range ops; (1, 7, 0) then VALE1IS at B + 512P with them.
  EXPECT_EQ(steps_for(k617, Case{{block2(kVa, 1), leaf3(kVa + kBlockSize, 1)}, user(), kTtl}), kFlushTlbMm);
  EXPECT_STEPS(k617, (Case{{block2(kVa, 1), leaf3(kVa + kBlockSize, 1)}, user(), kRangeTtl}),
               st(Instr::dsb_ishst), st(Instr::rvale1is, kAsid5 | kTg | scale(1) | num(7) | kB),
               st(Instr::vale1is, kAsid5 | (kB + 0x200)), st(Instr::dsb_ish));
}

TEST(Linux617, MprotectGathersOnlyWhatChanged) {
  // Vector 6-18: 3 pages asked, the middle changed: one VALE1IS TTL 3 on it.
  Case c = mprotect({leaf3(kVa + kPage, 1)}, kVa, 3);
  c.features = kTtl;
  EXPECT_STEPS(k617, c, st(Instr::dsb_ishst), st(Instr::vale1is, kAsid5 | kTtl3 | (kB + 1)), st(Instr::dsb_ish));
}

TEST(Linux617, KernelRangesUseRangeOpsOrFlushTlbAllAt512PagesWithoutThem) {
  // Vector 6-23: 511 pages with range ops: RVAALE1IS (1, 6, 0), (0, 30, 0),
  // VAALE1IS; then DSB ISH; ISB (6.17 tlbflush.h 487-506). No ASID field.
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 511)}, kernel(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvaale1is, kTg | scale(1) | num(6) | kB), st(Instr::rvaale1is, kTg | num(30) | 0x101C0),
               st(Instr::vaale1is, 0x101FE), st(Instr::dsb_ish), st(Instr::isb));
  // Without range ops: 511 per page, 512 -> flush_tlb_all (5.4 looped at 512).
  EXPECT_STEPS(k617, (Case{{leaf3(kVa, 511)}, kernel(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vaale1is, kB, 511, 1), st(Instr::dsb_ish), st(Instr::isb));
  EXPECT_EQ(steps_for(k617, Case{{leaf3(kVa, 512)}, kernel(), kNone}), kFlushTlbAll);
}

TEST(Linux617, AnOverflowedBatchIsFlushedByItsExtent) {
  // The Gather's list overflowed: Linux's box is the extent, here 11 pages
  // of leaves at level 3: (0, 4, 3) and the last page.
  Case c{{}, user(), kRangeTtl};
  c.coverage = Coverage::everything;
  c.overflowed = maint::Extent{kVa, kVa + 11 * kPage, 0b1000, 0};
  EXPECT_STEPS(k617, c, st(Instr::dsb_ishst), st(Instr::rvale1is, kAsid5 | kTg | num(4) | kRttl3 | kB),
               st(Instr::vale1is, kAsid5 | kTtl3 | (kB + 10)), st(Instr::dsb_ish));
}

// Reclaim at 6.17: try_to_unmap_one clears one PTE at a time
// (folio_unmap_pte_batch is 1 but for a lazy-free large folio) and, with
// TTU_BATCH_FLUSH and arch_tlbbatch_should_defer true (no REPEAT_TLBI
// erratum, 6.17 tlbflush.h 311-323), defers: set_tlb_ubc_flush_pending ->
// arch_tlbbatch_add_pending (522-526) = __flush_tlb_range_nosync(mm, VA,
// VA + 4K, PAGE_SIZE, last level, level 3): DSB ISHST (452), one single
// VALE1IS with TTL 3 under FEAT_TTL (a one-page range is a single op even
// with FEAT_TLBIRANGE, 390-399), no DSB ISH. try_to_unmap_flush ends the
// batch with arch_tlbbatch_flush: DSB ISH (335-338). (6.17 rmap.c
// try_to_unmap_one, set_tlb_ubc_flush_pending, try_to_unmap_flush.)
TEST(Linux617, ReclaimOfAPageIsANosyncVale1isWithTheLevel3HintThenTheBatchsDsbIsh) {
  EXPECT_OPS(k617, reclaim({leaf3(kVa, 1)}, kRangeTtl), op(Instr::dsb_ishst),
             op(Instr::vale1is, kAsid5 | kTtl3 | kB), op(Instr::dsb_ish));
  EXPECT_OPS(k617, reclaim({leaf3(kVa, 1)}, kNone), op(Instr::dsb_ishst), op(Instr::vale1is, kAsid5 | kB),
             op(Instr::dsb_ish));
}

TEST(Linux617, ReclaimOfThreePagesIssuesEveryTlbiBeforeOneDsbIsh) {
  // Three add_pending calls, each DSB ISHST; VALE1IS TTL 3, even with
  // FEAT_TLBIRANGE (munmap would issue RVALE1IS (0, 0, 3) and one
  // VALE1IS); then one DSB ISH.
  EXPECT_OPS(k617, reclaim({leaf3(kVa, 3)}, kRangeTtl), op(Instr::dsb_ishst),
             op(Instr::vale1is, kAsid5 | kTtl3 | kB), op(Instr::dsb_ishst),
             op(Instr::vale1is, kAsid5 | kTtl3 | (kB + 1)), op(Instr::dsb_ishst),
             op(Instr::vale1is, kAsid5 | kTtl3 | (kB + 2)), op(Instr::dsb_ish));
}

TEST(Linux617, ReclaimedPagesApartAreFlushedPageByPageNotAsABox) {
  // Pages B and B + 10P..B + 11P: three add_pending, not munmap's box of 12.
  EXPECT_OPS(k617, reclaim({leaf3(kVa, 1), leaf3(kVa + 10 * kPage, 2)}, kTtl), op(Instr::dsb_ishst),
             op(Instr::vale1is, kAsid5 | kTtl3 | kB), op(Instr::dsb_ishst),
             op(Instr::vale1is, kAsid5 | kTtl3 | (kB + 10)), op(Instr::dsb_ishst),
             op(Instr::vale1is, kAsid5 | kTtl3 | (kB + 11)), op(Instr::dsb_ish));
}

TEST(Linux, AReclaimedBlockIsFlushedAsMunmapsGather) {
  // THP split on reclaim is not modelled: a 2 MiB block is flushed as
  // vectors 5-9 and 6-13 flush it.
  EXPECT_STEPS(k54, reclaim({block2(kVa, 1)}, kNone), st(Instr::dsb_ishst), st(Instr::vale1is, kAsid5 | kB),
               st(Instr::dsb_ish));
  EXPECT_STEPS(k617, reclaim({block2(kVa, 1)}, kRangeTtl), st(Instr::dsb_ishst),
               st(Instr::rvale1is, kAsid5 | kTg | scale(1) | num(7) | kRttl2 | kB), st(Instr::dsb_ish));
}

TEST(Linux, BothVersionsFlushAtTheEndOfEveryVma) {
  EXPECT_EQ(k54.flush_point(), maint::FlushPoint::per_vma);
  EXPECT_EQ(k617.flush_point(), maint::FlushPoint::per_vma);
}

}  // namespace
}  // namespace tlbkit::baselines
