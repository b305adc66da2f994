// Plan storage: steps (one op repeated along a stride) and step groups (a
// loop body of several steps), checked against op lists written out by
// hand.
#include <gtest/gtest.h>

#include <vector>

#include "tlbkit/plan/plan.hpp"

namespace tlbkit {
namespace {

using arch::Instr;
using arch::Op;

std::vector<Op> expanded(const Plan& plan) { return {plan.ops().begin(), plan.ops().end()}; }

TEST(Plan, AppendExtendsALoopOnlyAlongItsOwnStride) {
  Plan plan;
  ASSERT_TRUE(plan.append_repeated(Op{Instr::vale1is, 0x100}, 2, 4).ok());
  ASSERT_TRUE(plan.append(Op{Instr::vale1is, 0x108}).ok());  // continues 0x100, 0x104
  ASSERT_TRUE(plan.append(Op{Instr::vale1is, 0x109}).ok());  // does not
  EXPECT_EQ(plan.steps().size(), 2u);
  EXPECT_EQ(plan.steps()[0].count, 3u);
  const std::vector<Op> want{{Instr::vale1is, 0x100}, {Instr::vale1is, 0x104}, {Instr::vale1is, 0x108},
                             {Instr::vale1is, 0x109}};
  EXPECT_EQ(expanded(plan), want);
  EXPECT_EQ(plan.size(), 4u);
}

TEST(Plan, AFullPlanRefusesANewStepAndStaysAsItWas) {
  Plan plan;
  for (std::size_t i = 0; i < Plan::kMaxSteps; ++i) ASSERT_TRUE(plan.append(Op{Instr::dsb_ish}).ok());
  const Status s = plan.append(Op{Instr::isb});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::out_of_range);
  EXPECT_EQ(plan.size(), Plan::kMaxSteps);
  EXPECT_EQ(expanded(plan).back(), Op{Instr::dsb_ish});
}

// KVM's per-entry flush of three pages at IPA 0x8000_0000 (operand 0x80000).
Plan three_kvm_sequences() {
  Plan plan;
  EXPECT_TRUE(plan.append(Op{Instr::dsb_ishst}).ok());
  EXPECT_TRUE(plan.append(Op{Instr::ipas2e1is, 0x80000}).ok());
  EXPECT_TRUE(plan.append(Op{Instr::dsb_ish}).ok());
  EXPECT_TRUE(plan.append(Op{Instr::vmalle1is}).ok());
  EXPECT_TRUE(plan.append(Op{Instr::dsb_ish}).ok());
  EXPECT_TRUE(plan.append(Op{Instr::isb}).ok());
  EXPECT_TRUE(plan.repeat_last(6, 3, 1).ok());
  return plan;
}

TEST(PlanGroup, RepeatsItsBodyAdvancingOnlyRegisterOperands) {
  const Plan plan = three_kvm_sequences();
  std::vector<Op> want;
  for (const std::uint64_t ipa : {0x80000u, 0x80001u, 0x80002u}) {
    want.insert(want.end(), {Op{Instr::dsb_ishst}, Op{Instr::ipas2e1is, ipa}, Op{Instr::dsb_ish},
                             Op{Instr::vmalle1is}, Op{Instr::dsb_ish}, Op{Instr::isb}});
  }
  EXPECT_EQ(expanded(plan), want);
  EXPECT_EQ(plan.size(), 18u);
  EXPECT_EQ(plan.steps().size(), 6u);
  EXPECT_EQ(plan.runs_of(1), 3u);
  EXPECT_EQ(plan.ops()[13], (Op{Instr::ipas2e1is, 0x80002}));
}

TEST(PlanGroup, StepsAfterAGroupRunOnceAndDoNotJoinItsLastLoop) {
  Plan plan;
  ASSERT_TRUE(plan.append_repeated(Op{Instr::vae1is, 0x10}, 2, 1).ok());
  ASSERT_TRUE(plan.repeat_last(1, 2, 0x100).ok());
  // 0x12 would continue the step's own loop (0x10, 0x11), but the step is a
  // group body: it must become a step of its own.
  ASSERT_TRUE(plan.append(Op{Instr::vae1is, 0x12}).ok());
  ASSERT_TRUE(plan.append(Op{Instr::dsb_ish}).ok());
  const std::vector<Op> want{{Instr::vae1is, 0x10},  {Instr::vae1is, 0x11}, {Instr::vae1is, 0x110},
                             {Instr::vae1is, 0x111}, {Instr::vae1is, 0x12}, {Instr::dsb_ish}};
  EXPECT_EQ(expanded(plan), want);
  EXPECT_EQ(plan.size(), 6u);
}

TEST(PlanGroup, TwoGroupsInARowEachRepeatTheirOwnBody) {
  Plan plan;
  ASSERT_TRUE(plan.append(Op{Instr::vae1is, 0x1}).ok());
  ASSERT_TRUE(plan.repeat_last(1, 2, 0x10).ok());
  ASSERT_TRUE(plan.append(Op{Instr::dc_civac, 0x1000}).ok());
  ASSERT_TRUE(plan.append(Op{Instr::dsb_ish}).ok());
  ASSERT_TRUE(plan.repeat_last(2, 2, 0x40).ok());
  const std::vector<Op> want{{Instr::vae1is, 0x1},      {Instr::vae1is, 0x11}, {Instr::dc_civac, 0x1000},
                             {Instr::dsb_ish},          {Instr::dc_civac, 0x1040}, {Instr::dsb_ish}};
  EXPECT_EQ(expanded(plan), want);
}

TEST(PlanGroup, BadGroupsAreRefusedAndLeaveThePlanAsItWas) {
  Plan plan = three_kvm_sequences();
  const Plan before = plan;
  EXPECT_EQ(plan.repeat_last(0, 2, 1).error().code, Errc::invalid_argument);
  EXPECT_EQ(plan.repeat_last(1, 0, 1).error().code, Errc::invalid_argument);
  // Every step is already in the group.
  EXPECT_EQ(plan.repeat_last(1, 2, 1).error().code, Errc::invalid_argument);
  ASSERT_TRUE(plan.append(Op{Instr::isb}).ok());
  EXPECT_EQ(plan.repeat_last(2, 2, 1).error().code, Errc::invalid_argument);
  // 2^32 ops or more do not fit the count.
  EXPECT_EQ(plan.repeat_last(1, UINT32_MAX, 1).error().code, Errc::out_of_range);
  EXPECT_EQ(plan.size(), before.size() + 1);
  EXPECT_EQ(plan.groups().size(), 1u);
}

TEST(PlanGroup, TheGroupListHasAFixedCapacity) {
  Plan plan;
  for (std::size_t i = 0; i < Plan::kMaxGroups; ++i) {
    ASSERT_TRUE(plan.append(Op{Instr::vae1is, i * 0x100}).ok());
    ASSERT_TRUE(plan.repeat_last(1, 2, 1).ok());
  }
  ASSERT_TRUE(plan.append(Op{Instr::vae1is, 0x9000}).ok());
  EXPECT_EQ(plan.repeat_last(1, 2, 1).error().code, Errc::out_of_range);
  EXPECT_EQ(plan.size(), 2 * Plan::kMaxGroups + 1);
}

TEST(PlanGroup, PlansWithTheSameOpsButDifferentGroupsDiffer) {
  Plan grouped;
  ASSERT_TRUE(grouped.append(Op{Instr::vae1is, 0x1}).ok());
  ASSERT_TRUE(grouped.repeat_last(1, 2, 1).ok());
  Plan looped;
  ASSERT_TRUE(looped.append_repeated(Op{Instr::vae1is, 0x1}, 2, 1).ok());
  EXPECT_EQ(expanded(grouped), expanded(looped));
  EXPECT_FALSE(grouped == looped);
  Plan copy = grouped;
  EXPECT_TRUE(copy == grouped);
}

}  // namespace
}  // namespace tlbkit
