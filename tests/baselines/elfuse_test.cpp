// elfuse at four commits (tlbkit/baselines/elfuse.hpp): the requests and
// shim sequences of docs/baselines/elfuse.md, section "Test vectors". Line
// numbers cite the sources of that document: H = sysprog21/elfuse@00ed78b
// (exact); 9 = muplar-elfexe@2bb62565 for 9fc96f7, E = muplar-elfexe@4bea0ade
// (shim) and its matched guest.h for e13ade1 (line layouts matched to the
// commits); 0 = muplar-elfexe@fb5e2539, the snapshot 059fb2b is
// reconstructed from. Operands: plan_steps.hpp's encoding with ASID 5
// (elfuse's operands carry ASID 0, the ASID its TTBR0 holds; the model
// names the space's), B = kVa = 0x1000'0000 (2048-page aligned), P = page.
#include <gtest/gtest.h>

#include "plan_steps.hpp"
#include "tlbkit/baselines/elfuse.hpp"

namespace tlbkit::baselines {
namespace {

using namespace test_support;
using Version = ElfusePolicy::Version;
using Kind = ElfusePolicy::Request::Kind;

const ElfusePolicy k059fb2b{Version::v059fb2b};
const ElfusePolicy kE13ade1{Version::ve13ade1};
const ElfusePolicy k9fc96f7{Version::v9fc96f7};
const ElfusePolicy k00ed78b{Version::v00ed78b};

constexpr std::uint64_t kVaeB = 0x0005'0000'0001'0000;  // VAE1IS of B: ASID 5 | B >> 12, no TTL

// The 00ed78b shim's three tails without the I-cache op (X11 = 0):
// tlbi_selective H 1798-1808, tlbi_range_large H 1818-1825, tlbi_full H 1763-1770.
std::vector<Step> head_selective(std::uint32_t pages) {
  return {st(Instr::dsb_ishst), st(Instr::vae1is, kVaeB, pages, 1), st(Instr::dsb_ish), st(Instr::isb)};
}
std::vector<Step> head_range(std::uint64_t operand) {
  return {st(Instr::dsb_ishst), st(Instr::rvae1is, operand), st(Instr::dsb_ish), st(Instr::isb)};
}
const std::vector<Step> kHeadFull{st(Instr::dsb_ishst), st(Instr::vmalle1is), st(Instr::dsb_ish), st(Instr::isb)};

// ---- 00ed78b (exact) -----------------------------------------------------------

TEST(Elfuse00ed78b, SixteenPagesOrFewerAreAVae1isLoopAfterDsbIshst) {
  // H guest.h:809 normalizes only when n > 16; H guest.h:820-826 keeps
  // kind RANGE; H shim.S:1798-1808. Vectors 2, 3.
  EXPECT_STEPS_UNCHECKED(k00ed78b, (Case{{leaf3(kVa, 15)}, user(), kRangeTtl}), head_selective(15)[0],
                         head_selective(15)[1], head_selective(15)[2], head_selective(15)[3]);
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 16)}, user(), kRangeTtl}, Oracle::skip), head_selective(16));
}

TEST(Elfuse00ed78b, SeventeenPagesAreAlignedToTwoAndBecomeOneScale0Rvae1is) {
  // Vector 4: normalized to 18 pages (H guest.h:766-775, unit 2), encoded
  // SCALE 0, NUM ceil(18/2) - 1 = 8 (H guest.h:377-382):
  //   ASID 5 | TG 0x4000'0000'0000 | NUM 8 0x400'0000'0000 | 0x10000.
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 17)}, user(), kRangeTtl}, Oracle::skip),
            head_range(0x0005'4400'0001'0000));
  // Vector 5: an odd start (B + P) is aligned down to B: the same op.
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa + kPage, 17)}, user(), kRangeTtl}, Oracle::skip),
            head_range(0x0005'4400'0001'0000));
}

TEST(Elfuse00ed78b, SixtyFourPagesAreScale0Num31UnlessAnOddStartWidensThemToScale1) {
  // Vectors 6, 7: 63 -> 64 pages and 64 pages at B: NUM 31 (0xF80'0000'0000).
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 63)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'4F80'0001'0000));
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 64)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'4F80'0001'0000));
  // Vector 8: 64 at B + P -> 66 pages > 2 x 32, second pass with unit 64 ->
  // 128 pages from B: SCALE 1 (0x1000'0000'0000), NUM 1 (0x80'0000'0000).
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa + kPage, 64)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'5080'0001'0000));
  // Vector 9: 65 pages at B -> unit 64 -> 128 pages: the same op.
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 65)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'5080'0001'0000));
}

TEST(Elfuse00ed78b, Scale2CoversUpTo32768PagesAndOneMoreIsVmalle1is) {
  // Vector 10: 2048 pages: SCALE 1, NUM 31; 2049: unit 2048, 4096 pages,
  // SCALE 2 (0x2000'0000'0000), NUM 1.
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 2048)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'5F80'0001'0000));
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 2049)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'6080'0001'0000));
  // Vector 11: 32767 and 32768 pages -> 32768: SCALE 2, NUM 15 (0x780'0000'0000).
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 32767)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'6780'0001'0000));
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 32768)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'6780'0001'0000));
  // Vector 12: 32769 widens to 34816 > 32768 (H guest.h:775): VMALLE1IS.
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 32769)}, user(), kRange}, Oracle::skip), kHeadFull);
  // Vector 13: 32768 pages from B + P widen to 34816 too.
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa + kPage, 32768)}, user(), kRange}, Oracle::skip), kHeadFull);
}

TEST(Elfuse00ed78b, WithoutTlbiRangeTheCapIs16Pages) {
  // Vectors 16, 17: large_cap = 16 without the feature (H guest.h:807-808, 816-819).
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 16)}, user(), kNone}, Oracle::skip), head_selective(16));
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 17)}, user(), kNone}, Oracle::skip), kHeadFull);
}

TEST(Elfuse00ed78b, RangesMergeIntoTheirBoundingBoxGapsIncluded) {
  // Vector 15: pages B and B + 15P: a 16-page box (H guest.h:828-846).
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 1), leaf3(kVa + 15 * kPage, 1)}, user(), kRange}, Oracle::skip),
            head_selective(16));
  // Vector 14: B and B + 16P: a 17-page box -> 18 pages, SCALE 0, NUM 8.
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 1), leaf3(kVa + 16 * kPage, 1)}, user(), kRange}, Oracle::skip),
            head_range(0x0005'4400'0001'0000));
}

TEST(Elfuse00ed78b, TheLocalICIalluRunsOnlyWhenExecutePermissionWasGained) {
  // Vectors 18, 19: X11 = 1 -> IC IALLU; DSB ISH before the ISB (H shim.S 1804-1808).
  Case exec{{leaf3(kVa, 2)}, user(), kRange};
  exec.exec = ExecGain::yes;
  EXPECT_STEPS_UNCHECKED(k00ed78b, exec, st(Instr::dsb_ishst), st(Instr::vae1is, kVaeB, 2, 1), st(Instr::dsb_ish),
                         st(Instr::ic_iallu), st(Instr::dsb_ish), st(Instr::isb));
  EXPECT_EQ(steps_for(k00ed78b, Case{{leaf3(kVa, 2)}, user(), kRange}, Oracle::skip), head_selective(2));
}

TEST(Elfuse00ed78b, NothingToInvalidateRunsNoShimTail) {
  // Vector 20: X8 = 0 -> svc_hvc_restore_eret (H shim.S 1742).
  EXPECT_TRUE(steps_for(k00ed78b, Case{{}, user(), kRange}, Oracle::skip).empty());
  // A new executable mapping alone: the model's approximation (see
  // elfuse.hpp): the shim's I-cache tail without TLBIs.
  Case exec{{}, user(), kRange};
  exec.exec = ExecGain::yes;
  EXPECT_STEPS_UNCHECKED(k00ed78b, exec, st(Instr::dsb_ish), st(Instr::ic_iallu), st(Instr::dsb_ish),
                         st(Instr::isb));
}

TEST(Elfuse00ed78b, TheRequestNamesWhatTheHostHandsTheShim) {
  // X8 = 4 with X9 = the operand: SCALE 0, NUM 8 over 18 pages from B.
  const ElfusePolicy::Request r =
      k00ed78b.request(pending_of({leaf3(kVa + kPage, 17)}, ExecGain::yes), kRange);
  EXPECT_EQ(r, (ElfusePolicy::Request{Kind::range_large, kVa, 18, 0, 8, true}));
}

// ---- 9fc96f7 ------------------------------------------------------------------

TEST(Elfuse9fc96f7, LoopUpTo16ThenOneScale0RangeUpTo64ThenVmalle1isAllWithoutDsbIshst) {
  // 9 shim.S 1049-1058: VAE1IS loop, DSB ISH, ISB (no DSB ISHST anywhere).
  EXPECT_STEPS_UNCHECKED(k9fc96f7, (Case{{leaf3(kVa, 16)}, user(), kRange}), st(Instr::vae1is, kVaeB, 16, 1),
                         st(Instr::dsb_ish), st(Instr::isb));
  // 17 pages: 9 shim.S 1062-1075, NUM = ceil(17/2) - 1 = 8 (encoder test lines 91-106).
  EXPECT_STEPS_UNCHECKED(k9fc96f7, (Case{{leaf3(kVa, 17)}, user(), kRange}),
                         st(Instr::rvae1is, 0x0005'4400'0001'0000), st(Instr::dsb_ish), st(Instr::isb));
  // An odd start is used as it is (whether 9fc96f7 aligned it is unverified).
  EXPECT_STEPS_UNCHECKED(k9fc96f7, (Case{{leaf3(kVa + kPage, 17)}, user(), kRange}),
                         st(Instr::rvae1is, 0x0005'4400'0001'0001), st(Instr::dsb_ish), st(Instr::isb));
  // 64 pages: NUM 31; 65: VMALLE1IS (9 shim.S 1014-1020).
  EXPECT_STEPS_UNCHECKED(k9fc96f7, (Case{{leaf3(kVa, 64)}, user(), kRange}),
                         st(Instr::rvae1is, 0x0005'4F80'0001'0000), st(Instr::dsb_ish), st(Instr::isb));
  EXPECT_STEPS_UNCHECKED(k9fc96f7, (Case{{leaf3(kVa, 65)}, user(), kRange}), st(Instr::vmalle1is),
                         st(Instr::dsb_ish), st(Instr::isb));
  // Without TLBIRANGE 17 pages are VMALLE1IS.
  EXPECT_STEPS_UNCHECKED(k9fc96f7, (Case{{leaf3(kVa, 17)}, user(), kNone}), st(Instr::vmalle1is),
                         st(Instr::dsb_ish), st(Instr::isb));
}

TEST(Elfuse9fc96f7, TheICacheHintAddsTheLocalICIallu) {
  // 9 shim.S 1053-1058: cbz x13 skips IC IALLU; DSB ISH.
  Case exec{{leaf3(kVa, 1)}, user(), kRange};
  exec.exec = ExecGain::yes;
  EXPECT_STEPS_UNCHECKED(k9fc96f7, exec, st(Instr::vae1is, kVaeB), st(Instr::dsb_ish), st(Instr::ic_iallu),
                         st(Instr::dsb_ish), st(Instr::isb));
}

// ---- e13ade1 ------------------------------------------------------------------

TEST(ElfuseE13ade1, LoopUpTo16ElseVmalle1isAndTheICacheOpAlways) {
  // E guest.h 354-357: n > 16 -> broadcast; E shim.S 618-628 (loop, DSB
  // ISH, IC IALLU, DSB ISH, ISB) and 594-598 (full flush, IC always).
  EXPECT_STEPS_UNCHECKED(kE13ade1, (Case{{leaf3(kVa, 16)}, user(), kRange}), st(Instr::vae1is, kVaeB, 16, 1),
                         st(Instr::dsb_ish), st(Instr::ic_iallu), st(Instr::dsb_ish), st(Instr::isb));
  EXPECT_STEPS_UNCHECKED(kE13ade1, (Case{{leaf3(kVa, 17)}, user(), kRange}), st(Instr::vmalle1is),
                         st(Instr::dsb_ish), st(Instr::ic_iallu), st(Instr::dsb_ish), st(Instr::isb));
  // Vector 14: a 17-page box of two pages is a broadcast here (E guest.h 382-385).
  EXPECT_STEPS_UNCHECKED(kE13ade1, (Case{{leaf3(kVa, 1), leaf3(kVa + 16 * kPage, 1)}, user(), kRange}),
                         st(Instr::vmalle1is), st(Instr::dsb_ish), st(Instr::ic_iallu), st(Instr::dsb_ish),
                         st(Instr::isb));
}

// ---- 059fb2b ------------------------------------------------------------------

TEST(Elfuse059fb2b, AnyRequestIsTheFullFlushWithTheLocalICacheOp) {
  // 0 shim.S 573-578: TLBI VMALLE1IS; DSB ISH; IC IALLU; DSB ISH; ISB.
  for (std::uint64_t pages : {1u, 16u, 17u, 4096u}) {
    EXPECT_STEPS_UNCHECKED(k059fb2b, (Case{{leaf3(kVa, pages)}, user(), kRangeTtl}), st(Instr::vmalle1is),
                           st(Instr::dsb_ish), st(Instr::ic_iallu), st(Instr::dsb_ish), st(Instr::isb));
  }
  EXPECT_TRUE(steps_for(k059fb2b, Case{{}, user(), kRange}, Oracle::skip).empty()) << "X8 = 0: nothing";
}

// ---- every version --------------------------------------------------------------

TEST(Elfuse, ATeardownIsTheFullFlush) {
  Case teardown{{}, user(), kRange};
  teardown.coverage = Coverage::everything;
  EXPECT_EQ(steps_for(k00ed78b, teardown, Oracle::skip), kHeadFull);
}

TEST(Elfuse, AnOverflowedBatchIsFlushedByItsExtentAsTheHostsBox) {
  // The host's box is the extent: 17 pages -> the 18-page SCALE-0 op.
  Pending p;
  p.coverage = Coverage::everything;
  p.overflowed = maint::Extent{kVa, kVa + 17 * kPage, 0b1000, 0};
  EXPECT_EQ(k00ed78b.request(p, kRange), (ElfusePolicy::Request{Kind::range_large, kVa, 18, 0, 8, false}));
}

TEST(Elfuse, StageTwoIsNotElfusesAndIsFlushedWhole) {
  // HVF owns stage 2: VMALLS12E1IS with tlbkit's barriers.
  EXPECT_STEPS(k00ed78b, (Case{{leaf3(kIpa, 1)}, guest(), kRange}), st(Instr::dsb_ishst), st(Instr::vmalls12e1is),
               st(Instr::dsb_ish));
}

}  // namespace
}  // namespace tlbkit::baselines
