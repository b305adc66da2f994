// Planner: exact plans for hand-described changes. Operands are derived by
// hand from docs/ARCHITECTURE-FACTS.md section 1. Most tests state their
// own costs (test_costs(): the published TLBI and DSB figures with a
// refill of 250 and 256 reused entries per PE) so that their derivations
// hold whatever the defaults are calibrated to; the tests named "Default"
// derive theirs from the CostModel defaults.
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

CostModel test_costs() {
  CostModel m;
  m.refill = 250;
  m.resident_per_space = 256;
  return m;
}

AddressSpace el1(std::uint16_t asid, GlobalEntries global = GlobalEntries::absent) {
  AddressSpace s;
  s.asid = asid;
  s.global = global;
  return s;
}

std::vector<Op> plan_for(const std::vector<PendingRange>& ranges, const AddressSpace& space,
                         const arch::CpuFeatures& features, std::vector<PhysRange> clean = {},
                         const CostModel& costs = test_costs()) {
  Pending pending;
  pending.ranges = ranges;
  pending.clean = clean;
  Plan plan;
  EXPECT_TRUE(Planner(costs).plan(pending, space, features, plan).ok());
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
  // ASIDE1IS: 1045 + 6655 + 256 reused entries * 250 = 71700.
  const auto ops = plan_for({{0x1000'0000, 68 * kPage, 3, EntryKind::leaf}}, el1(5), {});
  ASSERT_EQ(ops.size(), 70u);
  EXPECT_EQ(ops[1], (Op{Instr::vale1is, 0x0005'0000'0001'0000}));
  EXPECT_EQ(ops[68], (Op{Instr::vale1is, 0x0005'0000'0001'0043}));
}

TEST(Planner, ExplainShowsHandDerivedCostsOfEveryCandidate) {
  const std::vector<PendingRange> ranges{{0x1000'0000, 68 * kPage, 3, EntryKind::leaf}};
  Pending pending;
  pending.ranges = ranges;
  const Explanation e = Planner(test_costs()).explain(pending, el1(5), with(Presence::absent, Presence::absent));
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
  EXPECT_EQ(wide.total(), 1045u + 6655 + 256u * 250);
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
  ASSERT_TRUE(Planner(test_costs()).plan(pending, el1(9), with(Presence::present, Presence::present), plan).ok());
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

TEST(Planner, DefaultCostsRoundSixtyEightPagesOnOnePeToOneRangeOp) {
  // Defaults: refill 46, 16 reused entries per holding PE. One PE:
  // range-exact 2 * 1045 + 100 + (6055 + 500) = 8745; range-rounded one op
  // of 128 pages (SCALE 1 NUM 1): 1045 + 6655 = 7700, plus 60 extra pages
  // * 256 / 1024 = 15 cached * 46 = 690 -> 8390; ASIDE1IS 7700 + 16 * 46 =
  // 8436. Rounded wins.
  const auto ops = plan_for({{0x1000'0000, 68 * kPage, 3, EntryKind::leaf}}, el1(5),
                            with(Presence::present, Presence::present), {}, CostModel{});
  // ASID 5 | TG 01 | SCALE 1 | NUM 1 << 39 | TTL 11 << 37 | VA >> 12.
  const std::vector<Op> expected{kDsbIshst, {Instr::rvale1is, 0x0005'50e0'0001'0000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, DefaultCostsFlushAThreadedSpaceWholeOnceItsChangeOutweighsItsReusedEntries) {
  // 8 PEs, no range ops, all 8 may hold the space. Per-VA: n * 529 + 100 +
  // (6055 + 8 * 500) = n * 529 + 10155; ASIDE1IS 1045 + 10155 + 16 * 8 * 46
  // = 17088. n = 13: 17032 (per-VA); n = 14: 17561 (ASID-wide).
  const arch::CpuFeatures eight = with(Presence::absent, Presence::absent, 8);
  const auto thirteen = plan_for({{0x1000'0000, 13 * kPage, 3, EntryKind::leaf}}, el1(5), eight, {}, CostModel{});
  EXPECT_EQ(thirteen.size(), 2u + 13);
  const auto fourteen = plan_for({{0x1000'0000, 14 * kPage, 3, EntryKind::leaf}}, el1(5), eight, {}, CostModel{});
  const std::vector<Op> wide{kDsbIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kDsbIsh};
  EXPECT_EQ(fourteen, wide);
}

AddressSpace held_by(Holders holders, std::uint16_t pes) {
  AddressSpace s = el1(5);
  s.reach.holders = holders;
  s.reach.pes = pes;
  return s;
}

TEST(Planner, ASpaceOnlyTheIssuingPeHoldsGetsLocalTlbisAndADsbNsh) {
  const auto ops = plan_for({{0x1000'0000, 2 * kPage, 3, EntryKind::leaf}}, held_by(Holders::issuing_pe_only, 1),
                            with(Presence::absent, Presence::absent, 8), {}, CostModel{});
  // VALE1 (no IS): same operand layout as VALE1IS. The store barrier stays.
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::vale1, 0x0005'0000'0001'0000},
                                 {Instr::vale1, 0x0005'0000'0001'0001},
                                 {Instr::dsb_nsh, 0}};
  EXPECT_EQ(ops, expected);
}

TEST(Planner, LocalCandidatesAreCostedAtLocalPrices) {
  const std::vector<PendingRange> ranges{{0x1000'0000, 2 * kPage, 3, EntryKind::leaf}};
  Pending pending;
  pending.ranges = ranges;
  const Explanation e = Planner().explain(pending, held_by(Holders::issuing_pe_only, 1),
                                          with(Presence::absent, Presence::absent, 8));
  const CandidateCost& per_va = e.candidates[0];
  EXPECT_EQ(per_va.issue, 2u * 40);          // tlbi_local
  EXPECT_EQ(per_va.barriers, 100u + 100);    // DSB ISHST + DSB NSH (dsb_local)
  const CandidateCost& wide = e.candidates[4];
  EXPECT_EQ(wide.issue, 40u);
  EXPECT_EQ(wide.collateral, 16u * 1 * 46);  // one holding PE
  // VMALLE1 reaches the issuing PE only: its 16 and the other spaces'
  // 1280 - 16, all on one PE.
  EXPECT_EQ(e.candidates[5].collateral, (16u + 1264) * 46);
  EXPECT_EQ(e.chosen, Shape::per_va);
}

TEST(Planner, ASpaceOtherPesHoldIsInvalidatedByBroadcastAndItsHoldersPayTheCollateral) {
  const std::vector<PendingRange> ranges{{0x1000'0000, 2 * kPage, 3, EntryKind::leaf}};
  const auto ops = plan_for(ranges, held_by(Holders::any_pe, 3), with(Presence::absent, Presence::absent, 8), {},
                            CostModel{});
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::vale1is, 0x0005'0000'0001'0000},
                                 {Instr::vale1is, 0x0005'0000'0001'0001},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
  Pending pending;
  pending.ranges = ranges;
  const Explanation e =
      Planner().explain(pending, held_by(Holders::any_pe, 3), with(Presence::absent, Presence::absent, 8));
  EXPECT_EQ(e.candidates[4].collateral, 16u * 3 * 46);  // the space's 3 holders
  // VMALLE1IS: the space's on its 3 holders, every other space's (1280 - 16) on all 8 PEs.
  EXPECT_EQ(e.candidates[5].collateral, (16u * 3 + 1264 * 8) * 46);
}

TEST(Planner, LocalOpsForASpaceOtherPesMayHoldAreRefusedAndNothingIsWritten) {
  const std::vector<PendingRange> ranges{{0x1000'0000, kPage, 3, EntryKind::leaf}};
  Pending pending;
  pending.ranges = ranges;
  Plan plan;
  const Status s = append_shape(Shape::per_va, pending, held_by(Holders::any_pe, 2),
                                with(Presence::absent, Presence::absent, 8), plan, OpScope::issuing_pe);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  EXPECT_TRUE(test::expand(plan).empty());
}

}  // namespace
}  // namespace tlbkit::maint
