// compare::goal_of on hand-built cells: the ratios, the geometric mean and
// the cheapest count worked out by hand in each test.
#include <gtest/gtest.h>

#include <cmath>

#include "tlbkit/compare/goal.hpp"

namespace tlbkit::compare {
namespace {

// A grid of `groups` row groups over tlbkit, linux and zircon.
GridSpec spec_of_three() {
  GridSpec spec;
  for (const char* name : {"tlbkit", "linux", "zircon"}) spec.policies.push_back(baselines::find_policy(name));
  return spec;
}

Cell ran(std::size_t policy, std::uint64_t total, std::size_t violations = 0) {
  Cell c;
  c.policy = policy;
  c.result.counters.maintenance_cycles = total;
  c.result.violations = violations;
  return c;
}

GroupBound bound_of(std::size_t group, std::uint64_t total) {
  GroupBound b;
  b.group = group;
  b.result.counters.maintenance_cycles = total;
  return b;
}

TEST(Goal, AModelOfAKnownBugIsNoRivalEvenWhereNoViolationShowed) {
  GridSpec spec;
  for (const char* name : {"tlbkit", "linux", "elfuse-00ed78b"}) spec.policies.push_back(baselines::find_policy(name));
  ASSERT_EQ(spec.policies[2]->contract, baselines::Contract::known_bug);
  // Bound 10000 (e = 100): elfuse 10100 without a violation here, linux
  // 10900: the rival is linux, (400 + 100) / (900 + 100) = 0.5.
  const std::vector<Cell> cells{ran(0, 10400), ran(1, 10900), ran(2, 10100)};
  const Goal g = goal_of(spec, cells, {bound_of(0, 10000)});
  ASSERT_EQ(g.groups.size(), 1u);
  EXPECT_EQ(g.groups[0].best_baseline, spec.policies[1]->name);
  EXPECT_DOUBLE_EQ(g.groups[0].ratio, 0.5);
}

TEST(Goal, RatiosAddOnePercentOfTheBoundToBothOverheads) {
  const GridSpec spec = spec_of_three();
  // Bound 10000 (e = 100). Group 0: tlbkit 10400 (400 over), linux 11900
  // (1900 over), zircon 12000: (400 + 100) / (1900 + 100) = 0.25.
  // Group 1: tlbkit on the bound, zircon 10900: (0 + 100) / (900 + 100) = 0.1.
  const std::vector<Cell> cells{ran(0, 10400), ran(1, 11900), ran(2, 12000),
                                ran(0, 10000), ran(1, 20000), ran(2, 10900)};
  const Goal g = goal_of(spec, cells, {bound_of(0, 10000), bound_of(1, 10000)});
  ASSERT_EQ(g.groups.size(), 2u);
  EXPECT_EQ(g.groups[0].tlbkit_overhead, 400u);
  EXPECT_EQ(g.groups[0].best_baseline, baselines::find_policy("linux")->name);
  EXPECT_EQ(g.groups[0].best_overhead, 1900u);
  EXPECT_DOUBLE_EQ(g.groups[0].ratio, 0.25);
  EXPECT_EQ(g.groups[1].best_baseline, baselines::find_policy("zircon")->name);
  EXPECT_DOUBLE_EQ(g.groups[1].ratio, 0.1);
  EXPECT_NEAR(g.geometric_mean, std::sqrt(0.025), 1e-12);
  EXPECT_EQ(g.not_cheapest, 0u);
  EXPECT_TRUE(g.met());
}

TEST(Goal, ABaselineWithViolationsIsNoRivalAndACheaperCleanOneFailsTheGoal) {
  const GridSpec spec = spec_of_three();
  // linux is cheapest but had a violation: zircon (12000) is the rival and
  // costs less than tlbkit (13000): (3000 + 100) / (2000 + 100).
  const std::vector<Cell> cells{ran(0, 13000), ran(1, 10500, 1), ran(2, 12000)};
  const Goal g = goal_of(spec, cells, {bound_of(0, 10000)});
  ASSERT_EQ(g.groups.size(), 1u);
  EXPECT_EQ(g.groups[0].best_baseline, baselines::find_policy("zircon")->name);
  EXPECT_FALSE(g.groups[0].tlbkit_cheapest);
  EXPECT_DOUBLE_EQ(g.groups[0].ratio, 3100.0 / 2100.0);
  EXPECT_EQ(g.not_cheapest, 1u);
  EXPECT_FALSE(g.met());
}

TEST(Goal, GroupsWithoutARivalOrABoundAreLeftOut) {
  const GridSpec spec = spec_of_three();
  Cell na = ran(1, 0);
  na.state = CellState::not_applicable;
  Cell na2 = ran(2, 0);
  na2.state = CellState::not_applicable;
  GroupBound failed = bound_of(1, 0);
  failed.state = CellState::bad_input;
  const std::vector<Cell> cells{ran(0, 10000), na, na2, ran(0, 10000), ran(1, 11000), ran(2, 12000)};
  const Goal g = goal_of(spec, cells, {bound_of(0, 9000), failed});
  EXPECT_TRUE(g.groups.empty());
  EXPECT_DOUBLE_EQ(g.geometric_mean, 1.0);
  EXPECT_FALSE(g.met()) << "nothing measured is not a goal met";
}

TEST(Goal, ARatioAboveHalfFailsTheGoalEvenWhenTlbkitIsCheapest) {
  const GridSpec spec = spec_of_three();
  // (900 + 100) / (1100 + 100) = 0.8333...
  const std::vector<Cell> cells{ran(0, 10900), ran(1, 11100), ran(2, 11100)};
  const Goal g = goal_of(spec, cells, {bound_of(0, 10000)});
  ASSERT_EQ(g.groups.size(), 1u);
  EXPECT_TRUE(g.groups[0].tlbkit_cheapest);
  EXPECT_DOUBLE_EQ(g.groups[0].ratio, 1000.0 / 1200.0);
  EXPECT_FALSE(g.met());
}

}  // namespace
}  // namespace tlbkit::compare
