// Renderings of a comparison grid (tlbkit compare): a terminal table per
// row group, JSON and CSV with the same numbers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlbkit/compare/grid.hpp"

namespace tlbkit::report {

// "WORKLOAD | PROFILE | FEATURES | N PEs": the title of a cell's row group.
std::string group_title(const compare::GridSpec& spec, const compare::Cell& cell);

// `bounds`: one per row group, in group order (compare::run_bounds).

// One sentence on the goal (compare::goal_of): how many groups tlbkit is
// the cheapest correct policy of, the geometric mean of its overhead
// ratios against the best baseline, and whether the goal is met; empty
// when no group could be measured.
std::string goal_summary(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells,
                         const std::vector<compare::GroupBound>& bounds);

// One table per row group (workload, profile, features, PEs): a row per
// policy with total and maintenance cycles, TLBIs local / broadcast, DSBs,
// refills needed / collateral, violations and the ratio of its total to
// the group's lower bound; "*" marks the cheapest policy that is correct
// by contract and ran clean (compare::cheapest_of_groups), "!" a model of a
// known bug (never "*"; its bug is listed under the tables); "n/a" rows say
// why the policy does not apply; a last row gives the bound.
std::string compare_text(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells,
                         const std::vector<compare::GroupBound>& bounds);

// {"cells": [{"workload", "profile", "features", "pes", "policy", "state"
//  ("ran" | "n/a" | "bad-input"), "note", "cheapest", "known_bug" (the
//  policy's known bug; "" for a policy correct by contract), "ok", "cycles":
//  {"total", "maintenance", "translation"}, "counters": {...}, "violations"
//  (count), "problems" (count), "bound" (the group's bound total),
//  "overhead" (total minus bound)}...], "bounds": [{"workload", "profile",
//  "features", "pes", "state", "cycles", "counters", "violations",
//  "problems"}...], "ok"}
nlohmann::json compare_json(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells,
                            const std::vector<compare::GroupBound>& bounds);

// A header line, then one line per cell, in row order: workload, profile,
// features, pes, policy, state, total_cycles, maintenance_cycles,
// translation_cycles, tlbi_local, tlbi_broadcast, dsb, refills_needed,
// refills_collateral, violations, problems, cheapest (0/1), bound_cycles,
// overhead_cycles (total minus bound), known_bug (empty for a policy
// correct by contract). Fields with a comma or a quote are
// quoted (RFC 4180).
std::string compare_csv(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells,
                        const std::vector<compare::GroupBound>& bounds);

}  // namespace tlbkit::report
