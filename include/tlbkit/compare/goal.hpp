// The goal a comparison is held to (docs/COMPARE.md, "The goal"): tlbkit's
// planner is the cheapest correct policy of every row group, and its
// overhead above the cache-aware lower bound is at most half the best
// baseline's, as a geometric mean over the groups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tlbkit/compare/grid.hpp"

namespace tlbkit::compare {

// One row group's part of the goal.
struct GroupGoal {
  std::size_t group = 0;            // row order: cell index / number of policies
  std::uint64_t tlbkit_overhead = 0;  // tlbkit's total minus the bound
  std::string_view best_baseline;   // the cheapest other policy that ran clean
  std::uint64_t best_overhead = 0;  // its total minus the bound
  // (tlbkit_overhead + e) / (best_overhead + e), e = 1% of the bound:
  // overheads that differ by less than 1% of the bound count as equal, and
  // a group where tlbkit lands on the bound counts as (at most) a 100x win,
  // not as an infinite one.
  double ratio = 1.0;
  bool tlbkit_cheapest = false;     // no correct policy costs less
};

struct Goal {
  std::vector<GroupGoal> groups;  // the groups where tlbkit, a correct baseline and the bound all ran
  double geometric_mean = 1.0;    // of the ratios (1 with no group)
  std::size_t not_cheapest = 0;   // groups where a correct policy beat tlbkit
  static constexpr double kRatioGoal = 0.5;
  bool met() const { return !groups.empty() && not_cheapest == 0 && geometric_mean <= kRatioGoal; }
};

// The goal measured on a grid's cells and bounds (run_grid, run_bounds).
// A baseline is any policy but tlbkit that ran without violations or
// problems in the group (a known-bug model that happens to run clean
// counts too). Groups where
// tlbkit did not run, no such baseline ran, or the bound failed are left
// out. Deterministic: equal cells give equal results.
Goal goal_of(const GridSpec& spec, const std::vector<Cell>& cells, const std::vector<GroupBound>& bounds);

}  // namespace tlbkit::compare
