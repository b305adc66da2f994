#include "tlbkit/workload/runner.hpp"

#include <utility>

#include <fmt/format.h>

#include "tlbkit/maint/gather.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/text/error.hpp"
#include "tlbkit/workload/batch.hpp"

namespace tlbkit::workload {
namespace {

// What one Gather's lifetime produced.
struct Observed {
  std::vector<ChangeRecord> changes;
  std::vector<ExecutedPlan> plans;
  std::size_t tables_retired = 0;
  Counters counters;
};

// Sets up a Gather for `space` with a ChangeLog in front and a PlanLog
// behind, lets `play` run it (play_batch or play_teardown, which finish it)
// and counts what happened.
template <class Play>
Observed observe(const maint::AddressSpace& space, const maint::Policy& policy, const RunOptions& options,
                 sim::PhysicalMemory& memory, Play&& play) {
  PlanContext context;
  PlanLog plans(context);
  Observed out;
  {
    maint::Gather gather(space, options.features, policy, plans, memory);
    ChangeLog log(gather, context);
    play(BatchSinks{gather, log, [&](std::size_t i) { log.begin_step(i); }, [&] { log.end_steps(); }});
    out.counters.tables_freed = gather.tables_freed();
    out.changes = log.changes();
    out.tables_retired = log.tables_retired();
  }
  out.plans = plans.take();
  out.counters.changes = out.changes.size();
  out.counters.plans = out.plans.size();
  for (const ExecutedPlan& p : out.plans) {
    if (p.trigger == Trigger::break_before_make) ++out.counters.immediate_plans;
    count_plan(p.plan, out.counters);
  }
  return out;
}

BatchResult run_batch(pt::Table& table, const Scenario& scenario, std::size_t index, const maint::Policy& policy,
                      const RunOptions& options, sim::PhysicalMemory& memory, std::vector<std::string>& problems) {
  const Batch& batch = scenario.batches[index];
  BatchResult result;
  const std::string where = fmt::format("batch {} ({})", index + 1, batch.label);
  Observed seen = observe(scenario.space, policy, options, memory, [&](const BatchSinks& sinks) {
    result.steps = play_batch(table, batch, sinks, where, problems);
  });
  result.changes = std::move(seen.changes);
  result.plans = std::move(seen.plans);
  result.tables_retired = seen.tables_retired;
  result.counters = seen.counters;
  return result;
}

}  // namespace

ScenarioResult run_scenario(const Scenario& scenario, const maint::Policy& policy, const RunOptions& options) {
  ScenarioResult result;
  result.scenario = scenario;
  sim::PhysicalMemory memory(sim::PhysicalMemory::kDefaultBase, options.memory_pages);

  const Result<arch::Geometry> geometry = make_geometry(scenario.geometry);
  if (!geometry.ok()) {
    result.problems.push_back("geometry: " + text::describe(geometry.error()));
    return result;
  }
  Result<pt::Table> table = pt::Table::create(scenario.space.regime, *geometry, memory, table_options(options.features));
  if (!table.ok()) {
    result.problems.push_back("table: " + text::describe(table.error()));
    return result;
  }

  for (std::size_t b = 0; b < scenario.batches.size(); ++b) {
    result.batches.push_back(run_batch(*table, scenario, b, policy, options, memory, result.problems));
    result.totals += result.batches.back().counters;
  }

  const std::uint64_t freed_before = memory.counters().freed_pages;
  Observed teardown = observe(scenario.space, policy, options, memory,
                              [&](const BatchSinks& sinks) { play_teardown(*table, sinks, result.problems); });
  result.teardown.plans = std::move(teardown.plans);
  result.teardown.counters = teardown.counters;
  result.teardown.pages_freed = memory.counters().freed_pages - freed_before;
  result.teardown.live_pages_after = memory.counters().live_pages;

  for (const sim::Misuse& m : memory.misuses()) result.problems.push_back("memory: " + sim::describe(m));
  if (result.teardown.live_pages_after != 0) {
    result.problems.push_back(
        fmt::format("memory: {} table page(s) still allocated after release", result.teardown.live_pages_after));
  }
  result.memory = memory.counters();
  return result;
}

std::vector<ScenarioResult> run_suite(const std::vector<Scenario>& scenarios, const maint::Policy& policy,
                                      const RunOptions& options) {
  std::vector<ScenarioResult> results;
  results.reserve(scenarios.size());
  for (const Scenario& s : scenarios) results.push_back(run_scenario(s, policy, options));
  return results;
}

}  // namespace tlbkit::workload
