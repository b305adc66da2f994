// Planner: exact plans for hand-described changes. Operands are derived by
// hand from docs/ARCHITECTURE-FACTS.md section 1; costs from the CostModel defaults.
#include <gtest/gtest.h>

#include <vector>

#include "support/coverage_oracle.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/planner.hpp"

namespace tlbkit::maint {
namespace {

using arch::Instr;
using arch::Op;
using arch::Presence;

constexpr std::uint64_t kPage = 0x1000;
const Op kDsbIshst{Instr::dsb_ishst, 0};
const Op kDsbIsh{Instr::dsb_ish, 0};

arch::CpuFeatures with(Presence range, Presence ttl, unsigned pes = 1) {
  arch::CpuFeatures f;
  f.tlbi_range = range;
  f.ttl = ttl;
  f.processing_elements = pes;
  return f;
}

AddressSpace el1(std::uint16_t asid, GlobalEntries global = GlobalEntries::absent) {
  AddressSpace s;
  s.asid = asid;
  s.global = global;
  return s;
}

std::vector<Op> plan_for(const std::vector<PendingRange>& ranges, const AddressSpace& space,
                         const arch::CpuFeatures& features, std::vector<PhysRange> clean = {}) {
  Pending pending;
  pending.ranges = ranges;
  pending.clean = clean;
  Plan plan;
  EXPECT_TRUE(Planner().plan(pending, space, features, plan).ok());
  const std::vector<Op> ops = test::expand(plan);
  EXPECT_EQ(test::plan_problems(ops, pending, space, features), std::vector<std::string>{});
  return ops;
}

TEST(Planner, SixtyEightPagesWithRangeAndTtlAreTwoExactRangeOps) {
  const auto ops = plan_for({{0x1000'0000, 68 * kPage, 3, EntryKind::leaf}}, el1(5),
                            with(Presence::present, Presence::present));
  // 68 = 64 + 4: SCALE 1 NUM 0 (64 pages), then SCALE 0 NUM 1 (4 pages).
  // ASID 5 << 48 | TG 01 << 46 | SCALE << 44 | NUM << 39 | TTL 11 << 37 | VA >> 12
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::rvale1is, 0x0005'5060'0001'0000},
                                 {Instr::rvale1is, 0x0005'40e0'0001'0040},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, WithoutRangeSixtyEightPagesStayPerVaOnOnePe) {
  // per-VA: 68 * 529 + DSB ISHST 100 + DSB ISH (6055 + 500) = 42627;
  // ASIDE1IS: 1045 + 6655 + 256 resident lost * 250 = 67700 - 17 cached
  // changed pages (68 * 256 / 1024) * 250 -> (256 - 17) * 250 = 59750.
  const auto ops = plan_for({{0x1000'0000, 68 * kPage, 3, EntryKind::leaf}}, el1(5), {});
  ASSERT_EQ(ops.size(), 70u);
  EXPECT_EQ(ops[1], (Op{Instr::vale1is, 0x0005'0000'0001'0000}));
  EXPECT_EQ(ops[68], (Op{Instr::vale1is, 0x0005'0000'0001'0043}));
}

TEST(Planner, ExplainShowsHandDerivedCostsOfEveryCandidate) {
  const std::vector<PendingRange> ranges{{0x1000'0000, 68 * kPage, 3, EntryKind::leaf}};
  Pending pending;
  pending.ranges = ranges;
  const Explanation e = Planner().explain(pending, el1(5), with(Presence::absent, Presence::absent));
  const CandidateCost& per_va = e.candidates[0];
  EXPECT_TRUE(per_va.legal);
  EXPECT_EQ(per_va.ops, 68u);
  EXPECT_EQ(per_va.issue, 68u * 529);
  EXPECT_EQ(per_va.barriers, 100u + 6055 + 500);
  EXPECT_EQ(per_va.collateral, 0u);
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_FALSE(e.candidates[i].legal) << "range shapes need FEAT_TLBIRANGE";
  }
  const CandidateCost& wide = e.candidates[4];
  EXPECT_TRUE(wide.legal);
  EXPECT_EQ(wide.total(), 1045u + 6655 + (256u - 17) * 250);
  EXPECT_EQ(e.chosen, Shape::per_va);
}

TEST(Planner, WithManyPEsExactRangeOpsBeatPagesAndRounding) {
  const auto ops = plan_for({{0x1000'0000, 300 * kPage, 3, EntryKind::leaf}}, el1(7),
                            with(Presence::present, Presence::absent, 64));
  // 300 / 2 = 150 = 4 * 32 + 22 -> SCALE 1 NUM 3 (256 pages), then
  // SCALE 0 NUM 21 (44 pages). Rounding to one op (320 pages) would drop
  // 20 pages' entries on 64 PEs; 300 per-VA ops cost 300 * 529.
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::rvale1is, 0x0007'5180'0001'0000},
                                 {Instr::rvale1is, 0x0007'4a80'0001'0100},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, ChangedTablesGetNonLeafOpsWithoutTtl_KnownBugs6And10) {
  const auto ops = plan_for({{0x4000'0000, 2 * kPage, 2, EntryKind::table}}, el1(5),
                            with(Presence::absent, Presence::present));
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::vae1is, 0x0005'0000'0004'0000},
                                 {Instr::vae1is, 0x0005'0000'0004'0001},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, EmptiedTablesOweOneNonLeafOpPerSlotWithoutTtl) {
  // Three level-2 slots emptied entry by entry (their leaves were reported
  // apart): one VAE1IS at each slot's first page, no TTL though FEAT_TTL is
  // there (a hint would spare the walk entries, known bug 10).
  const auto ops = plan_for({{0x4000'0000, 3 * 0x20'0000, 2, EntryKind::table, Beneath::reported}}, el1(5),
                            with(Presence::absent, Presence::present));
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::vae1is, 0x0005'0000'0004'0000},
                                 {Instr::vae1is, 0x0005'0000'0004'0200},
                                 {Instr::vae1is, 0x0005'0000'0004'0400},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, AnEmptiedOneGigabyteSlotIsOneOpWhereATableUnhookedWholeGoesAsidWide) {
  const auto emptied = plan_for({{0x4000'0000, 0x4000'0000, 1, EntryKind::table, Beneath::reported}}, el1(5),
                                with(Presence::absent, Presence::absent));
  const std::vector<Op> one{kDsbIshst, {Instr::vae1is, 0x0005'0000'0004'0000}, kDsbIsh};
  EXPECT_EQ(emptied, one);
  // The same slot unhooked whole: 2^18 pages owed, ASID-wide.
  const auto whole = plan_for({{0x4000'0000, 0x4000'0000, 1, EntryKind::table, Beneath::unseen}}, el1(5),
                              with(Presence::absent, Presence::absent));
  const std::vector<Op> wide{kDsbIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kDsbIsh};
  EXPECT_EQ(whole, wide);
}

TEST(Planner, GlobalEntriesForbidAside1isSoABigChangeUsesVmalle1is) {
  const auto ops = plan_for({{0x1000'0000, 4096 * kPage, 3, EntryKind::leaf}}, el1(5, GlobalEntries::present),
                            with(Presence::absent, Presence::absent));
  const std::vector<Op> expected{kDsbIshst, {Instr::vmalle1is, 0}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, BigChangeWithoutGlobalEntriesIsAsidWide) {
  const auto ops = plan_for({{0x1000'0000, 4096 * kPage, 3, EntryKind::leaf}}, el1(5),
                            with(Presence::absent, Presence::absent));
  const std::vector<Op> expected{kDsbIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, StageTwoRangeIsFollowedByVmalle1isForCombinedEntries) {
  AddressSpace s2;
  s2.regime = arch::Regime::stage2;
  const auto ops = plan_for({{0x8000'0000, 64 * kPage, 3, EntryKind::leaf}}, s2,
                            with(Presence::present, Presence::absent));
  // RIPAS2LE1IS: no ASID; TG 01, SCALE 1, NUM 0, base 0x80000.
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::ripas2le1is, 0x0000'5000'0008'0000},
                                 kDsbIsh,
                                 {Instr::vmalle1is, 0},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, CleaningComesAfterTheInvalidationCompletedOneOpPerLine) {
  AddressSpace s2;
  s2.regime = arch::Regime::stage2;
  s2.linear_map_offset = 0xffff'0000'0000'0000;
  const auto ops = plan_for({{0x8000'0000, kPage, 3, EntryKind::leaf}}, s2, {}, {{0x9'0000'0000, kPage}});
  // ipas2le1is; dsb; vmalle1is; dsb; then 4096 / 64 = 64 lines; dsb.
  ASSERT_EQ(ops.size(), 5u + 64 + 1);
  EXPECT_EQ(ops[5], (Op{Instr::dc_civac, 0xffff'0009'0000'0000}));
  EXPECT_EQ(ops[68], (Op{Instr::dc_civac, 0xffff'0009'0000'0fc0}));
  EXPECT_EQ(ops[69], kDsbIsh);
}

TEST(Planner, OverflowedCoverageIsSpaceWide) {
  Pending pending;
  pending.coverage = Coverage::everything;
  Plan plan;
  ASSERT_TRUE(Planner().plan(pending, el1(9), with(Presence::present, Presence::present), plan).ok());
  const std::vector<Op> expected{kDsbIshst, {Instr::aside1is, 0x0009'0000'0000'0000}, kDsbIsh};
  EXPECT_EQ(test::expand(plan), expected);
}

TEST(Planner, El2HasNoFullCandidateBesideAlle2is) {
  AddressSpace el2;
  el2.regime = arch::Regime::el2_stage1;
  const auto ops = plan_for({{0x4000'0000, 8192 * kPage, 3, EntryKind::leaf}}, el2, {});
  const std::vector<Op> expected{kDsbIshst, {Instr::alle2is, 0}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, IsDeterministic) {
  const std::vector<PendingRange> ranges{{0x1000'0000, 68 * kPage, 3, EntryKind::leaf},
                                         {0x2000'0000, 3 * kPage, 3, EntryKind::leaf}};
  EXPECT_EQ(plan_for(ranges, el1(5), with(Presence::present, Presence::present, 8)),
            plan_for(ranges, el1(5), with(Presence::present, Presence::present, 8)));
}

}  // namespace
}  // namespace tlbkit::maint
