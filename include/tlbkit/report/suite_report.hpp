// Renderings of suite results: text for people (every batch's steps, change
// records and plans in assembler syntax, then a summary table) and JSON with
// the same content for tools. Both are deterministic: equal results give
// byte-identical output. Steps, batches and plans are numbered from 1.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/workload/runner.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::report {

// What the results were produced under, for the headers.
struct RunLabel {
  std::string policy;  // as given to --policy: "tlbkit", "simple", "linux", ...
  std::optional<unsigned> threshold;  // the simple policy's only
  arch::CpuFeatures features;
};

// The whole report: a header line, each scenario in full, the summary table.
std::string suite_text(const std::vector<workload::ScenarioResult>& results, const RunLabel& label);

// One scenario in full: description, regime, every batch with its steps,
// change records and plans, the batch counters, teardown and problems.
// Plans are in assembler syntax (text::to_asm); a run of more than four
// alike ops shows its first and last op and how many lie between.
std::string scenario_text(const workload::ScenarioResult& result);

// The summary table: one row of counters per scenario and a total row.
// Columns: batches, steps, changes, plans, bbm (immediate plans), per-va,
// range, ctx (ASID/VMID-wide), full, IS (broadcast TLBIs), dsb, isb, ic,
// dc, freed (tables freed after their flush), status.
std::string summary_table(const std::vector<workload::ScenarioResult>& results);

// {"policy": {...}, "features": [...], "scenarios": [...], "totals": {...}, "ok": bool}
// Each scenario holds its description, geometry, address space, batches
// (steps with status, changes, plans, counters), teardown, memory counters
// and problems. A plan is {"trigger", "step", "op_count", "runs"}; each run
// is its first op as text::to_json gives it plus "count" and "stride": the
// op repeated count times, the operand advancing by stride.
nlohmann::json suite_json(const std::vector<workload::ScenarioResult>& results, const RunLabel& label);

// The features as an array of their names (features_text's order).
nlohmann::json features_json(const arch::CpuFeatures& features);

// The scenarios' names and descriptions: one line each, or a JSON array of
// {"name", "description", "regime", "batches", "steps"}.
std::string list_text(const std::vector<workload::Scenario>& scenarios);
nlohmann::json list_json(const std::vector<workload::Scenario>& scenarios);

}  // namespace tlbkit::report
