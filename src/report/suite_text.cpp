// Text rendering of suite results.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "tlbkit/report/describe.hpp"
#include "tlbkit/report/suite_report.hpp"
#include "tlbkit/text/error.hpp"
#include "tlbkit/text/ops_text.hpp"

namespace tlbkit::report {
namespace {

using workload::BatchResult;
using workload::Counters;
using workload::ExecutedPlan;
using workload::ScenarioResult;

std::string counters_line(const Counters& c) {
  return fmt::format(
      "plans {} (bbm {}), TLBI per-va {} range {} ctx {} full {}, IS {}, dsb {}, isb {}, ic {}, dc {}, "
      "tables freed {}",
      c.plans, c.immediate_plans, c.tlbi_per_va, c.tlbi_range, c.tlbi_context, c.tlbi_full, c.broadcast, c.dsb,
      c.isb, c.icache, c.dcache, c.tables_freed);
}

// Runs up to this long are listed op by op; longer ones show their first
// and last op around a line that says what lies between.
constexpr std::uint32_t kListedRun = 4;

// One row of the summary table: name (padded to a width), then the columns.
constexpr const char* kRow = "{:<{}} {:>7} {:>5} {:>7} {:>5} {:>3} {:>6} {:>5} {:>3} {:>4} {:>4} {:>4} {:>3} {:>3} {:>6} {:>5}  {}\n";

void append_run(std::string& out, const Step& run, const char* indent) {
  if (run.count <= kListedRun) {
    for (std::uint32_t i = 0; i < run.count; ++i) out += fmt::format("{}  {}\n", indent, text::to_asm(run.at(i)));
    return;
  }
  out += fmt::format("{}  {}\n", indent, text::to_asm(run.first));
  out += fmt::format("{}  ... {} more {} (x0 += {:#x} each), {} in all\n", indent, run.count - 2,
                     arch::mnemonic(run.first.instr), run.stride, run.count);
  out += fmt::format("{}  {}\n", indent, text::to_asm(run.at(run.count - 1)));
}

void append_plan(std::string& out, std::size_t number, const ExecutedPlan& plan, const char* indent) {
  out += fmt::format("{}plan {} ({}", indent, number, workload::trigger_name(plan.trigger));
  if (plan.step) out += fmt::format(", in step {}", *plan.step + 1);
  out += fmt::format(", {} op{}):\n", plan.op_count(), plan.op_count() == 1 ? "" : "s");
  const std::span<const Step> runs = plan.plan.steps();
  const std::span<const StepGroup> groups = plan.plan.groups();
  std::size_t group = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (group < groups.size() && i == groups[group].first_step) {
      const StepGroup& g = groups[group++];
      out += fmt::format("{}  {} times (operands += {:#x} each time):\n", indent, g.times, g.advance);
      const std::string body_indent = fmt::format("{}    ", indent);
      for (std::size_t j = i; j < i + g.steps; ++j) append_run(out, runs[j], body_indent.c_str());
      i += g.steps - 1;
      continue;
    }
    append_run(out, runs[i], indent);
  }
}

void append_batch(std::string& out, std::size_t number, const workload::Batch& batch, const BatchResult& r) {
  out += fmt::format("\nbatch {}: {}\n", number, batch.label);
  for (std::size_t i = 0; i < batch.steps.size(); ++i) {
    const workload::Step& step = batch.steps[i];
    std::string status = "ok";
    if (i < r.steps.size() && !r.steps[i].ok()) {
      status = "FAILED " + text::describe(*r.steps[i].error);
    }
    out += fmt::format("  step {}: {}: {}", i + 1, step_text(step), status);
    out += step.note.empty() ? "\n" : fmt::format("  -- {}\n", step.note);
  }
  out += fmt::format("  changes: {}, tables retired: {}\n", r.changes.size(), r.tables_retired);
  for (const workload::ChangeRecord& c : r.changes) {
    out += fmt::format("    step {} {:<9} {}\n", c.step + 1, workload::delivery_name(c.delivery), change_text(c.change));
  }
  if (r.plans.empty()) out += "  plans: none\n";
  for (std::size_t p = 0; p < r.plans.size(); ++p) append_plan(out, p + 1, r.plans[p], "  ");
  out += fmt::format("  counters: {}\n", counters_line(r.counters));
}

}  // namespace

std::string scenario_text(const ScenarioResult& result) {
  const workload::Scenario& s = result.scenario;
  std::string out = fmt::format("== {} ==\n{}\n{}; {}\n", s.name, s.description,
                                geometry_text(s.space.regime, s.geometry), space_text(s.space));
  for (std::size_t b = 0; b < result.batches.size(); ++b) append_batch(out, b + 1, s.batches[b], result.batches[b]);
  out += fmt::format("\ntotal: {}\n", counters_line(result.totals));
  out += fmt::format(
      "teardown (release): {} plan(s), {} table page(s) freed; table pages allocated {}, peak live {}, live "
      "after {}\n",
      result.teardown.counters.plans, result.teardown.pages_freed, result.memory.allocated_pages,
      result.memory.peak_live_pages, result.teardown.live_pages_after);
  for (const std::string& p : result.problems) out += fmt::format("PROBLEM: {}\n", p);
  return out;
}

std::string summary_table(const std::vector<ScenarioResult>& results) {
  std::size_t width = 8;
  for (const ScenarioResult& r : results) width = std::max(width, r.scenario.name.size());
  const auto row = [width](const std::string& name, auto batches, auto steps, const Counters& c,
                           const std::string& status) {
    return fmt::format(kRow, name, width, batches, steps, c.changes, c.plans, c.immediate_plans, c.tlbi_per_va,
                       c.tlbi_range, c.tlbi_context, c.tlbi_full, c.broadcast, c.dsb, c.isb, c.icache, c.dcache,
                       c.tables_freed, status);
  };
  std::string out = fmt::format(kRow, "scenario", width, "batches", "steps", "changes", "plans", "bbm", "per-va",
                                "range", "ctx", "full", "IS", "dsb", "isb", "ic", "dc", "freed", "status");
  Counters total;
  std::size_t batches = 0, steps = 0, failed = 0;
  for (const ScenarioResult& r : results) {
    std::size_t n = 0;
    for (const workload::Batch& b : r.scenario.batches) n += b.steps.size();
    out += row(r.scenario.name, r.scenario.batches.size(), n, r.totals, r.ok() ? "ok" : "FAILED");
    total += r.totals;
    batches += r.scenario.batches.size();
    steps += n;
    failed += r.ok() ? 0 : 1;
  }
  out += std::string(width, '-') + "\n";
  out += row(fmt::format("total ({})", results.size()), batches, steps, total,
             failed == 0 ? "ok" : fmt::format("{} FAILED", failed));
  return out;
}

std::string suite_text(const std::vector<ScenarioResult>& results, const RunLabel& label) {
  const std::string threshold = label.threshold ? fmt::format(" (threshold {})", *label.threshold) : "";
  std::string out = fmt::format("tlbkit suite: {} scenario(s), policy {}{}, features: {}\n\n", results.size(),
                                label.policy, threshold, features_text(label.features));
  for (const ScenarioResult& r : results) out += scenario_text(r) + "\n";
  out += "summary (teardown excluded; IS = broadcast TLBIs; dc = DC CIVAC; freed = tables freed after their flush)\n";
  out += summary_table(results);
  return out;
}

std::string list_text(const std::vector<workload::Scenario>& scenarios) {
  std::size_t width = 0;
  for (const workload::Scenario& s : scenarios) width = std::max(width, s.name.size());
  std::string out;
  for (const workload::Scenario& s : scenarios) out += fmt::format("{:<{}}  {}\n", s.name, width, s.description);
  return out;
}

}  // namespace tlbkit::report
