// Runs a scenario end to end: a pt::Table in simulated physical memory, one
// maint::Gather per batch driven by a policy, every plan recorded. The
// result is plain data, deterministic: equal inputs give equal results.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tlbkit/sim/physical_memory.hpp"
#include "tlbkit/arch/features.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/workload/batch.hpp"
#include "tlbkit/workload/change_log.hpp"
#include "tlbkit/workload/counters.hpp"
#include "tlbkit/workload/plan_log.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::workload {

struct RunOptions {
  arch::CpuFeatures features;  // also gives the table engine its FEAT_BBM level and FWB
  std::uint64_t memory_pages = sim::PhysicalMemory::kDefaultPages;  // table pool size
};

struct BatchResult {
  std::vector<StepOutcome> steps;      // one per step of the batch
  std::vector<ChangeRecord> changes;   // in the order the engine reported them
  std::vector<ExecutedPlan> plans;     // in execution order
  std::size_t tables_retired = 0;
  Counters counters;
};

// The final teardown (play_teardown: the space invalidated whole, every
// table released), outside the scenario's own counters.
struct TeardownResult {
  std::vector<ExecutedPlan> plans;
  Counters counters;
  std::uint64_t pages_freed = 0;       // table pages the release freed (root included)
  std::uint64_t live_pages_after = 0;  // table pages still allocated afterwards (a leak if not 0)
};

struct ScenarioResult {
  Scenario scenario;
  std::vector<BatchResult> batches;  // empty when the table could not be created
  Counters totals;                   // over the batches (teardown excluded)
  TeardownResult teardown;
  sim::MemoryCounters memory;        // after teardown
  // Everything that went wrong: failed steps, table creation, memory misuse,
  // leaked table pages. Empty when the scenario ran cleanly.
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// Runs `scenario` on fresh simulated memory with `policy`.
// Never throws for a bad scenario: what went wrong is in result.problems.
ScenarioResult run_scenario(const Scenario& scenario, const maint::Policy& policy, const RunOptions& options);

// run_scenario() for each scenario, in order.
std::vector<ScenarioResult> run_suite(const std::vector<Scenario>& scenarios, const maint::Policy& policy,
                                      const RunOptions& options);

}  // namespace tlbkit::workload
