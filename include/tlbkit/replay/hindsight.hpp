// The clairvoyant oracle: at each maintenance point of a trace, the plan
// shape that turns out cheapest given every access that follows, found by
// replaying the trace with each alternative. Its total is the reference a
// policy's cost is compared against.
//
// The search is greedy in trace order: point k tries every legal shape with
// the choices already made for points before k and the planner's own
// choice for the points after it, and keeps the cheapest run without
// violations (ties: the earlier shape, the planner's choice first). The
// planner's run is one of the runs compared at every point, so the oracle
// never costs more than the planner; it is a lower bound for the shapes
// the planner knows in the order it meets them, not for every plan there is.
#pragma once

#include <cstdint>
#include <vector>

#include "tlbkit/sim/profile.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/replay/simulate.hpp"
#include "tlbkit/replay/trace.hpp"

namespace tlbkit::replay {

// One maintenance point (one plan the Gather asked for) that had a choice.
struct HindsightChoice {
  std::uint64_t point = 0;         // index among the trace's plans, from 0
  maint::Shape planner = maint::Shape::per_va;  // what the planner chose
  maint::Shape chosen = maint::Shape::per_va;   // the oracle's choice
  std::uint64_t runs = 0;          // alternatives simulated
};

struct HindsightResult {
  SimRun run;                            // the trace under the oracle's choices
  std::uint64_t planner_cycles = 0;      // the same trace under the planner alone
  std::uint64_t points = 0;              // plans asked for
  std::vector<HindsightChoice> choices;  // points with more than one legal shape
  std::uint64_t simulations = 0;         // replays made
};

// Finds the oracle's shape at every maintenance point of `trace` (shapes and
// costs from `planner`). Deterministic.
// # Errors
// invalid_argument: the trace does not run cleanly under the planner
// alone (its problems or violations come first: the oracle needs a
// correct reference run).
Result<HindsightResult> hindsight(const Trace& trace, const maint::Planner& planner, const sim::Profile& profile,
                                  const SimOptions& options);

}  // namespace tlbkit::replay
