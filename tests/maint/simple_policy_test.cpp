// SimplePolicy: exact plans for hand-made pending work. Expected operands are
// derived by hand from docs/ARCHITECTURE-FACTS.md section 1 (by-VA: ASID 63:48, TTL 47:44,
// VA >> 12 in 43:0).
#include <gtest/gtest.h>

#include <vector>

#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/simple_policy.hpp"

namespace tlbkit::maint {
namespace {

using arch::Instr;
using arch::Op;
using arch::Presence;

constexpr std::uint64_t kPage = 0x1000;

std::vector<Op> plan_for(const std::vector<PendingRange>& ranges, const AddressSpace& space,
                         const arch::CpuFeatures& features, ExecGain exec = ExecGain::no,
                         Coverage coverage = Coverage::exact, unsigned threshold = 32) {
  Pending pending;
  pending.ranges = ranges;
  pending.exec = exec;
  pending.coverage = coverage;
  Plan plan;
  const Status s = SimplePolicy(threshold).plan(pending, space, features, plan);
  EXPECT_TRUE(s.ok());
  return {plan.ops().begin(), plan.ops().end()};
}

AddressSpace asid5() {
  AddressSpace s;
  s.regime = arch::Regime::el1_stage1;
  s.asid = 5;
  return s;
}

const Op kDsbIshst{Instr::dsb_ishst, 0};
const Op kDsbIsh{Instr::dsb_ish, 0};

TEST(SimplePolicy, OnePageUnmapIsOneLeafTlbiWithAsidAndNoHintWithoutTtl) {
  const auto ops = plan_for({{0x1000'0000, kPage, 3, EntryKind::leaf}}, asid5(), {});
  // 0x0005 << 48 | 0x1000_0000 >> 12 = 0x0005_0000_0001_0000
  const std::vector<Op> expected{kDsbIshst, {Instr::vale1is, 0x0005'0000'0001'0000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, TtlHintNamesFourKGranuleAndLeafLevelWhenFeatTtlPresent) {
  arch::CpuFeatures f;
  f.ttl = Presence::present;
  const auto ops = plan_for({{0x1000'0000, kPage, 3, EntryKind::leaf}}, asid5(), f);
  // TTL = 01 (4K) : 11 (level 3) = 0b0111 -> bits 47:44 = 0x7.
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[1], (Op{Instr::vale1is, 0x0005'7000'0001'0000}));
}

TEST(SimplePolicy, TwoMegabyteBlockNeedsOneOpWithLevelTwoHint) {
  arch::CpuFeatures f;
  f.ttl = Presence::present;
  const auto ops = plan_for({{0x4000'0000, 0x20'0000, 2, EntryKind::leaf}}, asid5(), f);
  // TTL = 01:10 = 0x6; VA >> 12 = 0x40000.
  const std::vector<Op> expected{kDsbIshst, {Instr::vale1is, 0x0005'6000'0004'0000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, FreedTableGetsNonLeafOpsWithoutTtlEvenWithFeatTtl_KnownBug10) {
  arch::CpuFeatures f;
  f.ttl = Presence::present;
  // Two pages under a changed table entry (level 2 slot) and a leaf change.
  const auto ops = plan_for({{0x1000'0000, 2 * kPage, 2, EntryKind::table}}, asid5(), f);
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::vae1is, 0x0005'0000'0001'0000},
                                 {Instr::vae1is, 0x0005'0000'0001'0001},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, AnyTableChangeMakesEveryOpOfThePlanNonLeaf) {
  arch::CpuFeatures f;
  f.ttl = Presence::present;
  const auto ops =
      plan_for({{0x1000'0000, kPage, 3, EntryKind::leaf}, {0x2000'0000, kPage, 2, EntryKind::table}}, asid5(), f);
  const std::vector<Op> expected{kDsbIshst,
                                 {Instr::vae1is, 0x0005'0000'0001'0000},
                                 {Instr::vae1is, 0x0005'0000'0002'0000},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, MoreOpsThanTheThresholdBecomeOneAsidWideOp) {
  const auto ops = plan_for({{0x1000'0000, 33 * kPage, 3, EntryKind::leaf}}, asid5(), {});
  const std::vector<Op> expected{kDsbIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, ExactlyTheThresholdStaysPerVa) {
  const auto ops = plan_for({{0x1000'0000, 32 * kPage, 3, EntryKind::leaf}}, asid5(), {});
  ASSERT_EQ(ops.size(), 34u);
  EXPECT_EQ(ops[32], (Op{Instr::vale1is, 0x0005'0000'0001'001f}));
}

TEST(SimplePolicy, GlobalEntriesMakeTheWideOpVmalle1isBecauseAside1isSparesThem) {
  AddressSpace space = asid5();
  space.global = GlobalEntries::present;
  const auto ops = plan_for({{0x1000'0000, 64 * kPage, 3, EntryKind::leaf}}, space, {});
  const std::vector<Op> expected{kDsbIshst, {Instr::vmalle1is, 0}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, OverflowedCoverageIsAlwaysWide) {
  const auto ops = plan_for({}, asid5(), {}, ExecGain::no, Coverage::everything);
  const std::vector<Op> expected{kDsbIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, StageTwoUsesIpaOpsThenVmalle1isForCombinedEntries) {
  AddressSpace space;
  space.regime = arch::Regime::stage2;
  space.vmid = 3;
  const auto ops = plan_for({{0x8000'0000, kPage, 3, EntryKind::leaf}}, space, {});
  // IPA >> 12 = 0x80000 in 35:0; no ASID field.
  const std::vector<Op> expected{kDsbIshst, {Instr::ipas2le1is, 0x80000}, kDsbIsh, {Instr::vmalle1is, 0},
                                 kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, StageTwoWideOpIsVmalls12e1is) {
  AddressSpace space;
  space.regime = arch::Regime::stage2;
  const auto ops = plan_for({{0x8000'0000, 100 * kPage, 3, EntryKind::leaf}}, space, {});
  const std::vector<Op> expected{kDsbIshst, {Instr::vmalls12e1is, 0}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, El2UsesVale2isWithoutAsid) {
  AddressSpace space;
  space.regime = arch::Regime::el2_stage1;
  const auto ops = plan_for({{0x4000'0000, kPage, 3, EntryKind::leaf}}, space, {});
  // No ASID: 63:48 zero; VA >> 12 = 0x40000.
  const std::vector<Op> expected{kDsbIshst, {Instr::vale2is, 0x40000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, ExecGainedWithoutInvalidationIsOnlyICacheMaintenance) {
  const auto ops = plan_for({}, asid5(), {}, ExecGain::yes);
  const std::vector<Op> expected{{Instr::ic_ialluis, 0}, kDsbIsh, {Instr::isb, 0}};
  EXPECT_EQ(ops, expected);
}

TEST(SimplePolicy, NothingPendingGivesAnEmptyPlan) {
  EXPECT_TRUE(plan_for({}, asid5(), {}).empty());
}

TEST(SimplePolicy, ThresholdIsClampedSoThePlanAlwaysFits) {
  EXPECT_EQ(SimplePolicy(100000).threshold(), SimplePolicy::kMaxThreshold);
  const auto ops = plan_for({{0x1000'0000, 1000 * kPage, 3, EntryKind::leaf}}, asid5(), {}, ExecGain::no,
                            Coverage::exact, 100000);
  const std::vector<Op> expected{kDsbIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kDsbIsh};
  EXPECT_EQ(ops, expected);
}

}  // namespace
}  // namespace tlbkit::maint
