#include "tlbkit/report/compare_report.hpp"

#include <fmt/format.h>

#include "json_parts.hpp"

namespace tlbkit::report {
namespace {

using compare::Cell;
using compare::CellState;
using compare::GridSpec;
using nlohmann::json;

const char* state_name(CellState s) {
  switch (s) {
    case CellState::ran: return "ran";
    case CellState::not_applicable: return "n/a";
    case CellState::bad_input: return "bad-input";
  }
  return "?";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string group_title(const GridSpec& spec, const Cell& c) {
  return fmt::format("{} | {} | {} | {} PEs", spec.workloads[c.workload].name, spec.profiles[c.profile]->name,
                     spec.feature_sets[c.feature_set].name, c.pes);
}

}  // namespace

std::string compare_text(const GridSpec& spec, const std::vector<Cell>& cells) {
  std::string out = fmt::format(
      "tlbkit compare: {} workload(s) x {} profile(s) x {} feature set(s) x {} PE count(s) x {} policies = {} cells\n",
      spec.workloads.size(), spec.profiles.size(), spec.feature_sets.size(), spec.pes.size(), spec.policies.size(),
      cells.size());
  const std::vector<bool> cheapest = compare::cheapest_of_groups(cells);
  constexpr const char* kRow = "{:1} {:<16} {:>14} {:>14} {:>15} {:>8} {:>17} {:>6} {:>8}\n";
  std::uint64_t best = 0;  // the group's cheapest correct total; 0: none
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const bool new_group = i == 0 || group_title(spec, cells[i - 1]) != group_title(spec, c);
    if (new_group) {
      out += fmt::format("\n{}\n", group_title(spec, c));
      out += fmt::format(kRow, "", "policy", "total cycles", "maint cycles", "tlbi loc/bcast", "dsb",
                         "refills need/coll", "viol", "x best");
      best = 0;
      for (std::size_t j = i; j < cells.size() && group_title(spec, cells[j]) == group_title(spec, c); ++j) {
        if (cheapest[j]) best = cells[j].result.total_cycles();
      }
    }
    const std::string_view policy = spec.policies[c.policy]->name;
    if (c.state != CellState::ran) {
      out += fmt::format("  {:<16} {}: {}\n", policy, state_name(c.state), c.note);
      continue;
    }
    const sim::SimCounters& k = c.result.counters;
    const std::string ratio =
        best != 0 ? fmt::format("{:.2f}", static_cast<double>(c.result.total_cycles()) / static_cast<double>(best))
                  : std::string("-");
    out += fmt::format(kRow, cheapest[i] ? "*" : "", policy, c.result.total_cycles(), k.maintenance_cycles,
                       fmt::format("{}/{}", k.tlbi_local, k.tlbi_broadcast), k.dsb,
                       fmt::format("{}/{}", k.refills_needed, k.refills_collateral),
                       c.result.violations + c.result.problems, ratio);
  }
  out += "\nMarked *: the cheapest policy without violations of each group. x best: total cycles over that one's.\n";
  return out;
}

json compare_json(const GridSpec& spec, const std::vector<Cell>& cells) {
  const std::vector<bool> cheapest = compare::cheapest_of_groups(cells);
  json list = json::array();
  bool ok = true;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    json j{{"workload", spec.workloads[c.workload].name},
           {"profile", std::string(spec.profiles[c.profile]->name)},
           {"features", spec.feature_sets[c.feature_set].name},
           {"pes", c.pes},
           {"policy", std::string(spec.policies[c.policy]->name)},
           {"state", state_name(c.state)},
           {"note", c.note},
           {"cheapest", static_cast<bool>(cheapest[i])}};
    if (c.state == CellState::ran) {
      j["ok"] = c.result.ok();
      j["cycles"] = {{"total", c.result.total_cycles()},
                     {"maintenance", c.result.counters.maintenance_cycles},
                     {"translation", c.result.counters.translation_cycles}};
      j["counters"] = counters_json(c.result.counters);
      j["violations"] = c.result.violations;
      j["problems"] = c.result.problems;
      j["first_failure"] = c.result.first_failure;
      ok = ok && c.result.ok();
    } else {
      ok = ok && c.state != CellState::bad_input;
    }
    list.push_back(std::move(j));
  }
  return json{{"cells", std::move(list)}, {"ok", ok}};
}

std::string compare_csv(const GridSpec& spec, const std::vector<Cell>& cells) {
  const std::vector<bool> cheapest = compare::cheapest_of_groups(cells);
  std::string out =
      "workload,profile,features,pes,policy,state,total_cycles,maintenance_cycles,translation_cycles,tlbi_local,"
      "tlbi_broadcast,dsb,refills_needed,refills_collateral,violations,problems,cheapest\n";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const sim::SimCounters& k = c.result.counters;
    const bool ran = c.state == CellState::ran;
    const auto num = [&](std::uint64_t v) { return ran ? std::to_string(v) : std::string(); };
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(spec.workloads[c.workload].name),
                       csv_field(std::string(spec.profiles[c.profile]->name)),
                       csv_field(spec.feature_sets[c.feature_set].name), c.pes,
                       csv_field(std::string(spec.policies[c.policy]->name)), state_name(c.state),
                       num(c.result.total_cycles()), num(k.maintenance_cycles), num(k.translation_cycles),
                       num(k.tlbi_local), num(k.tlbi_broadcast), num(k.dsb), num(k.refills_needed),
                       num(k.refills_collateral), num(c.result.violations), num(c.result.problems),
                       cheapest[i] ? 1 : 0);
  }
  return out;
}

}  // namespace tlbkit::report
