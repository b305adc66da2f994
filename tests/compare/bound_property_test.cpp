// Property: the cache-aware lower bound (sim::Execution::bound) of a random
// small generated workload runs with no violation and is never above the
// total of a policy that ran it correctly: tlbkit's planner, the first-cut
// simple policy, and one baseline drawn among those whose system manages
// the workload's regimes.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/compare/grid.hpp"
#include "tlbkit/compare/workload.hpp"
#include "tlbkit/gen/generator.hpp"
#include "tlbkit/sim/profile.hpp"

#ifndef TLBKIT_BOUND_PROPERTY_MAX_SIZE
#define TLBKIT_BOUND_PROPERTY_MAX_SIZE 8
#endif

namespace tlbkit::compare {
namespace {

// Generator sizes drawn: 1..this (smaller under the sanitizers).
constexpr std::uint64_t kMaxSize = TLBKIT_BOUND_PROPERTY_MAX_SIZE;

RC_GTEST_PROP(BoundProperty, TheBoundRunsCleanAndIsNeverAboveACorrectPolicy, ()) {
  const std::span<const gen::Generator> generators = gen::generators();
  const gen::Generator& g = generators[*rc::gen::inRange<std::size_t>(0, generators.size())];
  GridSpec spec;
  Workload w;
  w.name = std::string(g.name);
  w.generator = &g;
  w.parameters.size = *rc::gen::inRange<std::uint64_t>(1, kMaxSize + 1);
  w.parameters.seed = *rc::gen::inRange<std::uint64_t>(1, 1000);
  spec.workloads.push_back(w);
  spec.profiles.push_back(sim::find_profile("mobile-8"));
  arch::CpuFeatures f;
  f.ttl = *rc::gen::element(arch::Presence::absent, arch::Presence::present);
  f.tlbi_range = *rc::gen::element(arch::Presence::absent, arch::Presence::present);
  spec.feature_sets.push_back(FeatureSet{"drawn", f});
  spec.pes = {*rc::gen::element(1u, 2u, 4u)};
  std::vector<baselines::Manages> used;
  RC_ASSERT(!scan_workloads(spec, used));
  std::vector<const baselines::PolicyEntry*> baselines_here;
  for (const baselines::PolicyEntry& e : baselines::all_policies()) {
    if (e.name != "tlbkit" && e.name != "simple" && e.contract == baselines::Contract::correct &&
        baselines::covers(e.manages, used[0])) {
      baselines_here.push_back(&e);
    }
  }
  spec.policies = {baselines::find_policy("tlbkit"), baselines::find_policy("simple")};
  if (!baselines_here.empty()) {
    spec.policies.push_back(baselines_here[*rc::gen::inRange<std::size_t>(0, baselines_here.size())]);
  }
  RC_TAG(g.name);
  const std::vector<Cell> cells = run_grid(spec, used, 1);
  const std::vector<GroupBound> bounds = run_bounds(spec, 1);
  RC_ASSERT(bounds.size() == 1u);
  RC_ASSERT(bounds[0].state == CellState::ran);
  if (!bounds[0].result.ok()) RC_FAIL("the bound left something stale: " + bounds[0].result.first_failure);
  for (const Cell& c : cells) {
    if (!correct(c)) continue;
    if (bounds[0].result.total_cycles() > c.result.total_cycles()) {
      RC_FAIL(std::string(spec.policies[c.policy]->name) + " costs " + std::to_string(c.result.total_cycles()) +
              ", below the bound's " + std::to_string(bounds[0].result.total_cycles()));
    }
  }
}

}  // namespace
}  // namespace tlbkit::compare
