#include "tlbkit/report/compare_report.hpp"

#include <fmt/format.h>

#include "json_parts.hpp"
#include "tlbkit/compare/goal.hpp"

namespace tlbkit::report {
namespace {

using compare::Cell;
using compare::CellState;
using compare::GridSpec;
using nlohmann::json;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The axes of a cell or a group bound.
json axes_json(const GridSpec& spec, const Cell& c) {
  return json{{"workload", spec.workloads[c.workload].name},
              {"profile", std::string(spec.profiles[c.profile]->name)},
              {"features", spec.feature_sets[c.feature_set].name},
              {"pes", c.pes}};
}

// What a run found: cycles, counters, violation and problem counts.
void add_result(json& j, const compare::CellResult& r) {
  j["cycles"] = {{"total", r.total_cycles()},
                 {"maintenance", r.counters.maintenance_cycles},
                 {"translation", r.counters.translation_cycles}};
  j["counters"] = counters_json(r.counters);
  j["violations"] = r.violations;
  j["problems"] = r.problems;
}

// The bound total of the cell's group; 0 when it could not run.
std::uint64_t bound_of(const GridSpec& spec, const std::vector<compare::GroupBound>& bounds, std::size_t cell_index) {
  const std::size_t group = cell_index / spec.policies.size();
  if (group >= bounds.size() || bounds[group].state != CellState::ran) return 0;
  return bounds[group].result.total_cycles();
}

// The mark column: "*" for the group's cheapest contender, "!" for a model
// of a known bug (never the cheapest: compare::contender), else nothing.
const char* mark_of(const GridSpec& spec, const Cell& c, bool cheapest) {
  if (cheapest) return "*";
  return spec.policies[c.policy]->contract == baselines::Contract::known_bug ? "!" : "";
}

}  // namespace

std::string group_title(const GridSpec& spec, const Cell& c) {
  return fmt::format("{} | {} | {} | {} PEs", spec.workloads[c.workload].name, spec.profiles[c.profile]->name,
                     spec.feature_sets[c.feature_set].name, c.pes);
}

std::string compare_text(const GridSpec& spec, const std::vector<Cell>& cells,
                         const std::vector<compare::GroupBound>& bounds) {
  std::string out = fmt::format(
      "tlbkit compare: {} workload(s) x {} profile(s) x {} feature set(s) x {} PE count(s) x {} policies = {} cells\n",
      spec.workloads.size(), spec.profiles.size(), spec.feature_sets.size(), spec.pes.size(), spec.policies.size(),
      cells.size());
  const std::vector<bool> cheapest = compare::cheapest_of_groups(spec, cells);
  constexpr const char* kRow = "{:1} {:<16} {:>14} {:>14} {:>15} {:>8} {:>17} {:>6} {:>8}\n";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    // Cells come whole, in row order: a group is `policies` cells in a row.
    const std::size_t per_group = spec.policies.size();
    const bool new_group = i % per_group == 0;
    const std::uint64_t bound = bound_of(spec, bounds, i);
    if (new_group) {
      out += fmt::format("\n{}\n", group_title(spec, c));
      out += fmt::format(kRow, "", "policy", "total cycles", "maint cycles", "tlbi loc/bcast", "dsb",
                         "refills need/coll", "viol", "x bound");
    }
    const std::string_view policy = spec.policies[c.policy]->name;
    if (c.state != CellState::ran) {
      out += fmt::format("  {:<16} {}: {}\n", policy, compare::state_name(c.state), c.note);
    } else {
      const sim::SimCounters& k = c.result.counters;
      const std::string ratio =
          bound != 0 ? fmt::format("{:.2f}", static_cast<double>(c.result.total_cycles()) / static_cast<double>(bound))
                     : std::string("-");
      out += fmt::format(kRow, mark_of(spec, c, cheapest[i]), policy, c.result.total_cycles(), k.maintenance_cycles,
                         fmt::format("{}/{}", k.tlbi_local, k.tlbi_broadcast), k.dsb,
                         fmt::format("{}/{}", k.refills_needed, k.refills_collateral),
                         c.result.violations + c.result.problems, ratio);
    }
    const bool group_ends = (i + 1) % per_group == 0;
    const std::size_t group = i / spec.policies.size();
    if (group_ends && group < bounds.size()) {
      const compare::GroupBound& b = bounds[group];
      if (b.state != CellState::ran) {
        out += fmt::format("  {:<16} {}: {}\n", "(lower bound)", compare::state_name(b.state), b.note);
      } else {
        const sim::SimCounters& k = b.result.counters;
        out += fmt::format(kRow, "", "(lower bound)", b.result.total_cycles(), k.maintenance_cycles,
                           fmt::format("{}/{}", k.tlbi_local, k.tlbi_broadcast), k.dsb,
                           fmt::format("{}/{}", k.refills_needed, k.refills_collateral),
                           b.result.violations + b.result.problems, "1.00");
      }
    }
  }
  out += "\nMarked *: the cheapest policy of each group that is correct by contract and showed no violation.\n";
  std::string bugs;
  for (const baselines::PolicyEntry* p : spec.policies) {
    if (p->contract == baselines::Contract::known_bug) bugs += fmt::format("  {}: {}\n", p->name, p->known_bug);
  }
  if (!bugs.empty()) {
    out += "Marked !: a model of a known bug, never marked * (it may be cheaper by its bug where no check shows "
           "it):\n" + bugs;
  }
  out += "x bound: total cycles over the group's cache-aware lower bound (each PE removes only what it holds\n"
         "stale, locally; docs/COMPARE.md).\n";
  const std::string goal = goal_summary(spec, cells, bounds);
  if (!goal.empty()) out += goal + "\n";
  return out;
}

std::string goal_summary(const GridSpec& spec, const std::vector<Cell>& cells,
                         const std::vector<compare::GroupBound>& bounds) {
  const compare::Goal g = compare::goal_of(spec, cells, bounds);
  if (g.groups.empty()) return {};
  return fmt::format(
      "Goal: tlbkit is the cheapest correct policy in {} of {} groups, and its overhead above the bound is {:.3f}x "
      "the best baseline's (geometric mean; goal: every group, and at most {:.1f}x): {}.",
      g.groups.size() - g.not_cheapest, g.groups.size(), g.geometric_mean, compare::Goal::kRatioGoal,
      g.met() ? "met" : "not met");
}

json compare_json(const GridSpec& spec, const std::vector<Cell>& cells, const std::vector<compare::GroupBound>& bounds) {
  const std::vector<bool> cheapest = compare::cheapest_of_groups(spec, cells);
  json list = json::array();
  bool ok = true;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    json j = axes_json(spec, c);
    j["policy"] = std::string(spec.policies[c.policy]->name);
    j["state"] = compare::state_name(c.state);
    j["note"] = c.note;
    j["cheapest"] = static_cast<bool>(cheapest[i]);
    j["known_bug"] = std::string(spec.policies[c.policy]->known_bug);
    if (c.state == CellState::ran) {
      j["ok"] = c.result.ok();
      add_result(j, c.result);
      j["first_failure"] = c.result.first_failure;
      const std::uint64_t bound = bound_of(spec, bounds, i);
      j["bound"] = bound;
      j["overhead"] = c.result.overhead(bound);
      ok = ok && c.result.ok();
    } else {
      ok = ok && c.state != CellState::bad_input;
    }
    list.push_back(std::move(j));
  }
  json bound_list = json::array();
  for (const compare::GroupBound& b : bounds) {
    json j = axes_json(spec, compare::cell_at(spec, b.group * spec.policies.size()));
    j["state"] = compare::state_name(b.state);
    j["note"] = b.note;
    if (b.state == CellState::ran) add_result(j, b.result);
    bound_list.push_back(std::move(j));
  }
  return json{{"cells", std::move(list)}, {"bounds", std::move(bound_list)}, {"ok", ok}};
}

std::string compare_csv(const GridSpec& spec, const std::vector<Cell>& cells,
                        const std::vector<compare::GroupBound>& bounds) {
  const std::vector<bool> cheapest = compare::cheapest_of_groups(spec, cells);
  std::string out =
      "workload,profile,features,pes,policy,state,total_cycles,maintenance_cycles,translation_cycles,tlbi_local,"
      "tlbi_broadcast,dsb,refills_needed,refills_collateral,violations,problems,cheapest,bound_cycles,overhead_cycles,"
      "known_bug\n";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const sim::SimCounters& k = c.result.counters;
    const bool ran = c.state == CellState::ran;
    const auto num = [&](std::uint64_t v) { return ran ? std::to_string(v) : std::string(); };
    const std::uint64_t bound = bound_of(spec, bounds, i);
    const std::uint64_t overhead = c.result.overhead(bound);
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(spec.workloads[c.workload].name),
                       csv_field(std::string(spec.profiles[c.profile]->name)),
                       csv_field(spec.feature_sets[c.feature_set].name), c.pes,
                       csv_field(std::string(spec.policies[c.policy]->name)), compare::state_name(c.state),
                       num(c.result.total_cycles()), num(k.maintenance_cycles), num(k.translation_cycles),
                       num(k.tlbi_local), num(k.tlbi_broadcast), num(k.dsb), num(k.refills_needed),
                       num(k.refills_collateral), num(c.result.violations), num(c.result.problems),
                       cheapest[i] ? 1 : 0, bound != 0 ? std::to_string(bound) : std::string(),
                       ran && bound != 0 ? std::to_string(overhead) : std::string(),
                       csv_field(std::string(spec.policies[c.policy]->known_bug)));
  }
  return out;
}

}  // namespace tlbkit::report
