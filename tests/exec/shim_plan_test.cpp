// From plans to shim requests: the plans SimplePolicy emits are encoded
// exactly (expand gives them back op for op); others are refused by
// encode_plan_for_shim and widened by shim_request_covering, checked with the
// independent coverage check of plan_coverage.hpp.
#include <gtest/gtest.h>

#include <vector>

#include "exec/plan_coverage.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/exec/shim_protocol.hpp"
#include "tlbkit/maint/simple_policy.hpp"

namespace tlbkit::exec {
namespace {

using arch::Instr;
using arch::Op;
using pt::EntryKind;
using maint::PendingRange;
using test::ops_of;
using test::plan_of;
using test::uncovered;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t k2M = 0x20'0000;

const Op kDsbIshst{Instr::dsb_ishst, 0};
const Op kDsbIsh{Instr::dsb_ish, 0};

struct PolicyInput {
  std::vector<PendingRange> ranges;
  maint::AddressSpace space{arch::Regime::el1_stage1, 5, 0, maint::GlobalEntries::absent, 0, {}};
  arch::CpuFeatures features{};
  maint::ExecGain exec = maint::ExecGain::no;
  unsigned threshold = maint::SimplePolicy::kDefaultThreshold;
};

Plan simple_plan(const PolicyInput& in) {
  maint::Pending pending;
  pending.ranges = in.ranges;
  pending.exec = in.exec;
  Plan plan;
  EXPECT_TRUE(maint::SimplePolicy(in.threshold).plan(pending, in.space, in.features, plan).ok());
  return plan;
}

// encode_plan_for_shim(plan) succeeds and expands back to `plan` exactly.
ShimRequest exact(const Plan& plan) {
  const Result<ShimRequest> r = encode_plan_for_shim(plan);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return {};
  const Result<Plan> again = expand(*r);
  EXPECT_TRUE(again.ok());
  if (again.ok()) {
    EXPECT_EQ(ops_of(*again), ops_of(plan));
  }
  return *r;
}

// encode_plan_for_shim(plan) refuses with `code`; shim_request_covering
// widens to a request whose expansion covers the plan.
ShimRequest widened(const Plan& plan, Errc code = Errc::unsupported) {
  const Result<ShimRequest> refused = encode_plan_for_shim(plan);
  EXPECT_FALSE(refused.ok());
  if (!refused.ok()) {
    EXPECT_EQ(refused.error().code, code) << refused.error().message;
  }
  const Result<ShimRequest> r = shim_request_covering(plan);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return {};
  const Result<Plan> expansion = expand(*r);
  EXPECT_TRUE(expansion.ok());
  if (expansion.ok()) {
    EXPECT_EQ(uncovered(ops_of(plan), ops_of(*expansion)), "");
  }
  return *r;
}

ShimRequest loop(arch::VirtAddr start, std::uint64_t count, std::uint16_t asid) {
  ShimRequest r;
  r.command = ShimCommand::va_loop;
  r.start = start;
  r.count = count;
  r.asid = asid;
  return r;
}

ShimRequest simple(ShimCommand command, std::uint16_t asid = 0) {
  ShimRequest r;
  r.command = command;
  r.asid = asid;
  return r;
}

Op vae1is(std::uint16_t asid, arch::VirtAddr va, arch::Ttl ttl = arch::kNoTtl) {
  return *arch::encode_va(Instr::vae1is, arch::Asid{asid}, va, ttl);
}

// ---- SimplePolicy's plans are encoded exactly -----------------------------------------

TEST(ShimFromPolicyPlan, OnePageUnmapIsAOnePageLeafLoop) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, kPage, 3, EntryKind::leaf}};
  ShimRequest want = loop(0x1000'0000, 1, 5);
  want.levels = ShimLevels::leaf_only;
  EXPECT_EQ(exact(simple_plan(in)), want);
}

TEST(ShimFromPolicyPlan, FeatTtlHintBecomesTheTtlField) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, 4 * kPage, 3, EntryKind::leaf}};
  in.features.ttl = arch::Presence::present;
  ShimRequest want = loop(0x1000'0000, 4, 5);
  want.levels = ShimLevels::leaf_only;
  want.ttl_level = 3;
  EXPECT_EQ(exact(simple_plan(in)), want);
}

TEST(ShimFromPolicyPlan, ChangedTableGivesANonLeafLoopOverEveryPageBelowIt) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, 8 * kPage, 2, EntryKind::table}};
  EXPECT_EQ(exact(simple_plan(in)), loop(0x1000'0000, 8, 5));
}

TEST(ShimFromPolicyPlan, BlockUnmapStepsTwoMegabytesWithLevelTwoHint) {
  PolicyInput in;
  in.ranges = {{0x4000'0000, 3 * k2M, 2, EntryKind::leaf}};
  in.features.ttl = arch::Presence::present;
  ShimRequest want = loop(0x4000'0000, 3, 5);
  want.stride = ShimStride::k2M;
  want.levels = ShimLevels::leaf_only;
  want.ttl_level = 2;
  EXPECT_EQ(exact(simple_plan(in)), want);
}

TEST(ShimFromPolicyPlan, OverThresholdWithoutGlobalsIsTheAsidCommand) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, 64 * kPage, 3, EntryKind::leaf}};
  EXPECT_EQ(exact(simple_plan(in)), simple(ShimCommand::asid, 5));
}

TEST(ShimFromPolicyPlan, OverThresholdWithGlobalsIsBroadcast) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, 64 * kPage, 3, EntryKind::leaf}};
  in.space.global = maint::GlobalEntries::present;
  EXPECT_EQ(exact(simple_plan(in)), simple(ShimCommand::broadcast));
}

TEST(ShimFromPolicyPlan, ExecGainSetsTheICacheFlag) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, kPage, 3, EntryKind::leaf}};
  in.exec = maint::ExecGain::yes;
  ShimRequest want = loop(0x1000'0000, 1, 5);
  want.levels = ShimLevels::leaf_only;
  want.icache = ShimICache::invalidate;
  EXPECT_EQ(exact(simple_plan(in)), want);
}

TEST(ShimFromPolicyPlan, ExecGainAloneIsNoneWithTheICacheFlag) {
  PolicyInput in;
  in.exec = maint::ExecGain::yes;
  ShimRequest want;
  want.icache = ShimICache::invalidate;
  EXPECT_EQ(exact(simple_plan(in)), want);
}

TEST(ShimFromPolicyPlan, EmptyPlanIsNone) { EXPECT_EQ(exact(Plan{}), ShimRequest{}); }

TEST(ShimFromPlan, RangePolicyShapeIsTheRangeCommand) {
  // What a FEAT_TLBIRANGE policy emits for 7 pages: the decomposition's one
  // op (6 pages) and a trailing by-VA page.
  const Plan plan = plan_of({kDsbIshst,
                                    {Instr::rvae1is, 0x0005'4100'0001'0000},
                                    {Instr::vae1is, 0x0005'0000'0001'0006},
                                    kDsbIsh});
  ShimRequest want = loop(0x1000'0000, 7, 5);
  want.command = ShimCommand::range;
  EXPECT_EQ(exact(plan), want);
}

// ---- Plans the shim can run only widened ---------------------------------------------------

TEST(ShimFromPlan, TwoDisjointRunsWidenToOneLoopThroughBoth) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, kPage, 3, EntryKind::leaf}, {0x1000'5000, kPage, 3, EntryKind::leaf}};
  ShimRequest want = loop(0x1000'0000, 6, 5);
  want.levels = ShimLevels::leaf_only;
  EXPECT_EQ(widened(simple_plan(in)), want);
}

// The shrunk counterexample of ShimProperty.CoveringSimplePolicyPlansOfManyRunsCoversThem:
// a block and a page 511 pages below it widen to the longest 4 KiB loop,
// whose expansion must still fit a plan (one step, not one step per TLBI).
TEST(ShimFromPlan, ABlockAndAPageFarBelowWidenToTheLongestLoopAndItExpands) {
  PolicyInput in;
  in.ranges = {{0x4020'0000, k2M, 2, EntryKind::leaf}, {0x4000'1000, kPage, 3, EntryKind::leaf}};
  ShimRequest want = loop(0x4000'1000, kShimMaxLoopOps, 5);
  want.levels = ShimLevels::leaf_only;
  EXPECT_EQ(widened(simple_plan(in)), want);
}

TEST(ShimFromPlan, DisjointBlocksKeepTheirStrideAndHint) {
  PolicyInput in;
  in.ranges = {{0x4000'0000, k2M, 2, EntryKind::leaf}, {0x4000'0000 + 10 * k2M, k2M, 2, EntryKind::leaf}};
  in.features.ttl = arch::Presence::present;
  ShimRequest want = loop(0x4000'0000, 11, 5);
  want.stride = ShimStride::k2M;
  want.levels = ShimLevels::leaf_only;
  want.ttl_level = 2;
  EXPECT_EQ(widened(simple_plan(in)), want);
}

TEST(ShimFromPlan, MoreThanFiveHundredTwelvePerPageOpsAreOutOfRangeAndWidenToBroadcast) {
  std::vector<Op> ops{kDsbIshst};
  for (std::uint64_t i = 0; i < 600; ++i) ops.push_back(vae1is(3, 0x1000'0000 + i * kPage));
  ops.push_back(kDsbIsh);
  EXPECT_EQ(widened(plan_of(ops), Errc::out_of_range), simple(ShimCommand::broadcast));
}

TEST(ShimFromPlan, LocalOpsAreCoveredByTheirBroadcastForms) {
  const Plan plan = plan_of(
      {kDsbIshst, *arch::encode_va(Instr::vae1, arch::Asid{4}, 0x2000, arch::kNoTtl), kDsbIsh});
  EXPECT_EQ(widened(plan), loop(0x2000, 1, 4));
}

TEST(ShimFromPlan, AllAsidOpsWidenToBroadcast) {
  const Plan plan = plan_of(
      {kDsbIshst, *arch::encode_va_all_asid(Instr::vaae1is, 0x2000, arch::kNoTtl), kDsbIsh});
  EXPECT_EQ(widened(plan), simple(ShimCommand::broadcast));
}

TEST(ShimFromPlan, TwoAsidsWidenToBroadcast) {
  EXPECT_EQ(widened(plan_of({kDsbIshst, vae1is(1, 0x2000), vae1is(2, 0x3000), kDsbIsh})),
            simple(ShimCommand::broadcast));
}

TEST(ShimFromPlan, AsidWideAndByVaOpsTogetherWidenToBroadcastBecauseOfGlobals) {
  const Plan plan =
      plan_of({kDsbIshst, *arch::encode_asid(Instr::aside1is, arch::Asid{1}), vae1is(1, 0x3000), kDsbIsh});
  EXPECT_EQ(widened(plan), simple(ShimCommand::broadcast));
}

TEST(ShimFromPlan, OpsInBothVaRangesWidenToBroadcast) {
  EXPECT_EQ(widened(plan_of({kDsbIshst, vae1is(1, 0x2000), vae1is(1, 0xFFFF'0000'0000'0000), kDsbIsh})),
            simple(ShimCommand::broadcast));
}

TEST(ShimFromPlan, PlanWithoutTheShimsBarriersWidensToTheSameLoop) {
  // No DSB ISHST before the TLBI (known bug 13 of docs/KNOWN-BUGS.md, in a caller's plan): the shim
  // brings its own barriers.
  EXPECT_EQ(widened(plan_of({vae1is(1, 0x2000), kDsbIsh})), loop(0x2000, 1, 1));
}

TEST(ShimFromPlan, IsbWithoutICacheNeedsNoFlagBecauseEretSynchronizes) {
  EXPECT_EQ(widened(plan_of({kDsbIshst, vae1is(1, 0x2000), kDsbIsh, {Instr::isb, 0}})),
            loop(0x2000, 1, 1));
}

TEST(ShimFromPlan, IcIvauWidensToTheICacheFlag) {
  ShimRequest want = loop(0x2000, 1, 1);
  want.icache = ShimICache::invalidate;
  const Plan plan = plan_of({kDsbIshst, vae1is(1, 0x2000), kDsbIsh,
                                    *arch::encode_address(Instr::ic_ivau, 0x2040), kDsbIsh,
                                    {Instr::isb, 0}});
  EXPECT_EQ(widened(plan), want);
}

TEST(ShimFromPlan, SixteenKHintIsDroppedWhenWidening) {
  const arch::Ttl hint16k = arch::TtlHint{arch::Granule::k16K, 3};
  EXPECT_EQ(widened(plan_of({kDsbIshst, vae1is(1, 0x4000, hint16k), kDsbIsh})), loop(0x4000, 1, 1));
}

TEST(ShimFromPlan, RangeOpsWidenToARangeOverTheirBoundingBox) {
  // 6 pages at 0x1000_0000 and a page at 0x1001_0000: box of 17 pages.
  const Plan plan = plan_of(
      {kDsbIshst, {Instr::rvae1is, 0x0005'4100'0001'0000}, vae1is(5, 0x1001'0000), kDsbIsh});
  ShimRequest want = loop(0x1000'0000, 17, 5);
  want.command = ShimCommand::range;
  EXPECT_EQ(widened(plan), want);
}

TEST(ShimFromPlan, RangeOpsFurtherApartThanEightGigabytesWidenToBroadcast) {
  // Two 2-page range ops (TG 4K, NUM 0) 16 GiB apart.
  const Plan plan = plan_of({kDsbIshst,
                                    {Instr::rvae1is, 0x0000'4000'0000'0000},
                                    {Instr::rvae1is, 0x0000'4000'0040'0000},
                                    kDsbIsh});
  EXPECT_EQ(widened(plan), simple(ShimCommand::broadcast));
}

// ---- Plans nothing in the protocol covers ----------------------------------------------------

TEST(ShimFromPlan, StageTwoPlansAreUnsupportedEvenWidened) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, kPage, 3, EntryKind::leaf}};
  in.space.regime = arch::Regime::stage2;
  const Plan plan = simple_plan(in);
  EXPECT_EQ(encode_plan_for_shim(plan).error().code, Errc::unsupported);
  EXPECT_EQ(shim_request_covering(plan).error().code, Errc::unsupported);
}

TEST(ShimFromPlan, El2PlansAreUnsupportedEvenWidened) {
  PolicyInput in;
  in.ranges = {{0x1000'0000, kPage, 3, EntryKind::leaf}};
  in.space.regime = arch::Regime::el2_stage1;
  in.space.asid = 0;
  const Plan plan = simple_plan(in);
  EXPECT_EQ(encode_plan_for_shim(plan).error().code, Errc::unsupported);
  EXPECT_EQ(shim_request_covering(plan).error().code, Errc::unsupported);
}

TEST(ShimFromPlan, DataCacheMaintenanceIsUnsupportedEvenWidened) {
  const Plan plan = plan_of({*arch::encode_address(Instr::dc_civac, 0x8000), kDsbIsh});
  EXPECT_EQ(encode_plan_for_shim(plan).error().code, Errc::unsupported);
  EXPECT_EQ(shim_request_covering(plan).error().code, Errc::unsupported);
}

TEST(ShimFromPlan, MalformedTlbiOperandIsRefusedNotWidened) {
  // VAE1IS with TTL granule 00 and level 1: reserved.
  const Plan plan = plan_of({kDsbIshst, {Instr::vae1is, 0x0000'1000'0000'0002}, kDsbIsh});
  EXPECT_EQ(encode_plan_for_shim(plan).error().code, Errc::unsupported);
  EXPECT_EQ(shim_request_covering(plan).error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace tlbkit::exec
