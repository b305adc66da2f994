// Renderings of a comparison grid (tlbkit compare): a terminal table per
// row group, JSON and CSV with the same numbers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlbkit/compare/grid.hpp"

namespace tlbkit::report {

// One table per row group (workload, profile, features, PEs): a row per
// policy with total and maintenance cycles, TLBIs local / broadcast, DSBs,
// refills needed / collateral, violations and the ratio of its total to
// the group's cheapest correct total; "*" marks that cheapest; "n/a" rows
// say why the policy does not apply.
std::string compare_text(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells);

// {"cells": [{"workload", "profile", "features", "pes", "policy", "state"
//  ("ran" | "n/a" | "bad-input"), "note", "cheapest", "ok", "cycles":
//  {"total", "maintenance", "translation"}, "counters": {...}, "violations"
//  (count), "problems" (count)}...], "ok"}
nlohmann::json compare_json(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells);

// A header line, then one line per cell, in row order: workload, profile,
// features, pes, policy, state, total_cycles, maintenance_cycles,
// translation_cycles, tlbi_local, tlbi_broadcast, dsb, refills_needed,
// refills_collateral, violations, problems, cheapest (0/1). Fields with a
// comma or a quote are quoted (RFC 4180).
std::string compare_csv(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells);

}  // namespace tlbkit::report
