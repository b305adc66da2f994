#include "tlbkit/report/compare_files.hpp"

#include <fmt/format.h>

#include "tlbkit/compare/goal.hpp"
#include "tlbkit/maint/shapes.hpp"
#include "tlbkit/report/compare_report.hpp"

namespace tlbkit::report {
namespace {

using compare::Cell;
using compare::CellState;
using compare::GridSpec;
using compare::GroupBound;

// A gnuplot string literal (single quotes; a quote doubled).
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Eighteen distinct colours (more than the registry's seventeen policies),
// so that every policy keeps its own: the twenty-colour categorical
// palette less its two greys.
constexpr const char* kColours =
    "set linetype 1 lc rgb '#1f77b4'\nset linetype 2 lc rgb '#ff7f0e'\nset linetype 3 lc rgb '#2ca02c'\n"
    "set linetype 4 lc rgb '#d62728'\nset linetype 5 lc rgb '#9467bd'\nset linetype 6 lc rgb '#8c564b'\n"
    "set linetype 7 lc rgb '#e377c2'\nset linetype 8 lc rgb '#bcbd22'\nset linetype 9 lc rgb '#17becf'\n"
    "set linetype 10 lc rgb '#393b79'\nset linetype 11 lc rgb '#e7ba52'\nset linetype 12 lc rgb '#637939'\n"
    "set linetype 13 lc rgb '#ad494a'\nset linetype 14 lc rgb '#7b4173'\nset linetype 15 lc rgb '#9edae5'\n"
    "set linetype 16 lc rgb '#ffbb78'\nset linetype 17 lc rgb '#98df8a'\nset linetype 18 lc rgb '#c5b0d5'\n"
    "set linetype cycle 18\n";

// Both terminals from one plot: SVG, then PNG of the same chart.
std::string gp_outputs(const std::string& name, const std::string& plot) {
  return fmt::format(
      "{2}set terminal svg size 960,440 dynamic font 'sans,11'\nset output '{0}.svg'\n{1}\n"
      "set terminal pngcairo size 960,440 font 'sans,10'\nset output '{0}.png'\nreplot\n",
      name, plot, kColours);
}

std::string percent(double x) { return fmt::format("{:.1f}%", 100.0 * x); }

std::string choices_text(const compare::CellResult& r) {
  std::string out;
  for (std::size_t s = 0; s < maint::kShapeCount; ++s) {
    if (r.choices[s] == 0) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", maint::shape_name(static_cast<maint::Shape>(s)), r.choices[s]);
  }
  return out.empty() ? "no plan" : out;
}

std::string signed_cycles(std::int64_t d) { return fmt::format("{}{}", d >= 0 ? "+" : "", d); }

// "## The goal": the summary sentence and a row per measured group.
std::string goal_section(const GridSpec& spec, const std::vector<Cell>& cells, const std::vector<GroupBound>& bounds) {
  const compare::Goal goal = compare::goal_of(spec, cells, bounds);
  std::string md = "## The goal\n\n";
  if (goal.groups.empty()) return md + "No group had tlbkit, a baseline without violations and a bound.\n\n";
  md += goal_summary(spec, cells, bounds) +
        " Ratio: (tlbkit's overhead + e) / (the best baseline's + e), e = 1% of the bound (docs/COMPARE.md).\n\n"
        "| group | tlbkit over the bound | best baseline | its overhead | ratio | tlbkit cheapest |\n"
        "|---|---:|---|---:|---:|---|\n";
  const std::size_t per_group = spec.policies.size();
  for (const compare::GroupGoal& g : goal.groups) {
    std::string title;  // a Markdown cell: its '|' escaped
    for (const char c : group_title(spec, cells[g.group * per_group])) title += c == '|' ? std::string("\\|") : std::string(1, c);
    md += fmt::format("| {} | {} | {} | {} | {:.3f} | {} |\n", title,
                      g.tlbkit_overhead, g.best_baseline, g.best_overhead, g.ratio, g.tlbkit_cheapest ? "yes" : "no");
  }
  return md + "\n";
}

}  // namespace

std::vector<ReportFile> compare_report_files(const GridSpec& spec, const std::vector<Cell>& cells,
                                             const std::vector<GroupBound>& bounds, const std::string& command) {
  std::vector<ReportFile> files;
  files.push_back({"comparison.csv", compare_csv(spec, cells, bounds)});
  files.push_back({"comparison.json", compare_json(spec, cells, bounds).dump(2) + "\n"});
  const std::vector<bool> cheapest = compare::cheapest_of_groups(spec, cells);
  const std::size_t per_group = spec.policies.size();
  const std::size_t groups = cells.size() / per_group;

  std::string md = "# tlbkit comparison\n\n";
  md += fmt::format("Made by `{}` (every cell a checked replay on the simulated machine; docs/COMPARE.md).\n\n",
                    command);
  md += "Cycles are the simulated machine's (docs/SIMULATOR.md): total = maintenance + translation. "
        "`x bound` is the total over the group's cache-aware lower bound (each PE removes locally exactly the "
        "entries it holds stale); `*` marks the cheapest policy that is correct by contract and showed no violation. "
        "A model of a known bug is labelled with its bug and never marked: it may be cheaper by that bug where no "
        "check shows it.\n\n";

  // Per group: the table and the cost-split chart.
  std::string tables;
  for (std::size_t g = 0; g < groups; ++g) {
    const Cell& first = cells[g * per_group];
    const std::uint64_t bound =
        g < bounds.size() && bounds[g].state == CellState::ran ? bounds[g].result.total_cycles() : 0;
    tables += fmt::format("### {}\n\n", group_title(spec, first));
    tables += "| | policy | total cycles | maintenance | TLBIs local/bcast | DSBs | refills needed/collateral | "
              "violations | x bound |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    std::string dat = "# policy\tmaintenance\tneeded refills\tcollateral refills\tother translation\n";
    for (std::size_t i = g * per_group; i < (g + 1) * per_group; ++i) {
      const Cell& c = cells[i];
      const baselines::PolicyEntry& entry = *spec.policies[c.policy];
      const std::string_view policy = entry.name;
      if (c.state != CellState::ran) {
        tables += fmt::format("| | {} | {}: {} | | | | | | |\n", policy, c.state == CellState::not_applicable ? "n/a" : "bad input", c.note);
        continue;
      }
      const sim::SimCounters& k = c.result.counters;
      const std::string label = entry.contract == baselines::Contract::known_bug
                                    ? fmt::format("{} (models a known bug: {})", policy, entry.known_bug)
                                    : std::string(policy);
      tables += fmt::format("| {} | {} | {} | {} | {}/{} | {} | {}/{} | {} | {} |\n", cheapest[i] ? "*" : "", label,
                            c.result.total_cycles(), k.maintenance_cycles, k.tlbi_local, k.tlbi_broadcast, k.dsb,
                            k.refills_needed, k.refills_collateral, c.result.violations + c.result.problems,
                            bound != 0 ? fmt::format("{:.2f}", static_cast<double>(c.result.total_cycles()) / static_cast<double>(bound)) : "-");
      const std::uint64_t other = k.translation_cycles - k.refill_cycles_needed - k.refill_cycles_collateral;
      dat += fmt::format("{}\t{}\t{}\t{}\t{}\n", policy, k.maintenance_cycles, k.refill_cycles_needed,
                         k.refill_cycles_collateral, other);
    }
    if (bound != 0) {
      const sim::SimCounters& k = bounds[g].result.counters;
      tables += fmt::format("| | (lower bound) | {} | {} | {}/{} | {} | {}/{} | {} | 1.00 |\n", bound,
                            k.maintenance_cycles, k.tlbi_local, k.tlbi_broadcast, k.dsb, k.refills_needed,
                            k.refills_collateral, bounds[g].result.violations + bounds[g].result.problems);
      dat += fmt::format("(bound)\t{}\t{}\t{}\t{}\n", k.maintenance_cycles, k.refill_cycles_needed,
                         k.refill_cycles_collateral,
                         k.translation_cycles - k.refill_cycles_needed - k.refill_cycles_collateral);
    }
    const std::string name = fmt::format("group-{:02}", g);
    tables += fmt::format("\n![cost per policy: {}](charts/{}.svg)\n\n", group_title(spec, first), name);
    files.push_back({"charts/" + name + ".dat", dat});
    files.push_back(
        {"charts/" + name + ".gp",
         gp_outputs(name, fmt::format("set title {} noenhanced\nset style data histograms\n"
                                      "set style histogram rowstacked\nset style fill solid 0.85 border -1\n"
                                      "set boxwidth 0.7\nset key outside right top noenhanced\nset ylabel 'cycles'\n"
                                      "set yrange [0:*]\nset xtics rotate by -30 noenhanced\nset grid ytics\n"
                                      "set datafile separator '\\t'\n"
                                      "plot '{}.dat' using 2:xtic(1) title 'maintenance', '' using 3 title "
                                      "'needed refills', '' using 4 title 'collateral refills', '' using 5 title "
                                      "'other translation'",
                                      gp_quote("cost per policy: " + group_title(spec, first)), name))});
  }

  // The overhead chart: each policy's total over the bound, per group.
  std::string dat = "group";
  for (const baselines::PolicyEntry* p : spec.policies) dat += fmt::format("\t{}", p->name);
  dat += "\n";
  for (std::size_t g = 0; g < groups; ++g) {
    const Cell& first = cells[g * per_group];
    dat += spec.workloads[first.workload].name;
    if (spec.profiles.size() > 1 || spec.feature_sets.size() > 1 || spec.pes.size() > 1) {
      dat += fmt::format(" ({}, {}, {} PEs)", spec.profiles[first.profile]->name, spec.feature_sets[first.feature_set].name, first.pes);
    }
    const std::uint64_t bound =
        g < bounds.size() && bounds[g].state == CellState::ran ? bounds[g].result.total_cycles() : 0;
    for (std::size_t i = g * per_group; i < (g + 1) * per_group; ++i) {
      const Cell& c = cells[i];
      dat += c.state == CellState::ran && bound != 0
                 ? fmt::format("\t{:.3f}", static_cast<double>(c.result.total_cycles()) / static_cast<double>(bound))
                 : std::string("\t-");
    }
    dat += "\n";
  }
  files.push_back({"charts/overhead.dat", dat});
  files.push_back(
      {"charts/overhead.gp",
       gp_outputs("overhead",
                  fmt::format("set title 'total cycles over the lower bound, per workload (1 = the bound; n/a cells "
                              "left out)' noenhanced\nset style data histograms\n"
                              "set style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
                              "set key outside right top noenhanced\nset ylabel 'x lower bound'\nset yrange [0:*]\n"
                              "set xtics rotate by -30 noenhanced\nset grid ytics\nset datafile separator '\\t'\n"
                              "set datafile missing '-'\n"
                              "plot for [i=2:{}] 'overhead.dat' using i:xtic(1) title columnheader(i)",
                              spec.policies.size() + 1))});

  md += "## Overhead above the lower bound\n\n![total over the lower bound](charts/overhead.svg)\n\n";
  md += goal_section(spec, cells, bounds);
  md += "## Where tlbkit is not the cheapest\n\n";
  std::string lines;
  for (std::size_t g = 0; g < groups; ++g) {
    std::optional<std::size_t> ours;
    std::optional<std::size_t> best;
    for (std::size_t i = g * per_group; i < (g + 1) * per_group; ++i) {
      if (spec.policies[cells[i].policy]->name == "tlbkit" && cells[i].state == CellState::ran) ours = i;
      if (cheapest[i]) best = i;
    }
    if (!ours || !best || *ours == *best) continue;
    const Cell& a = cells[*ours];
    const Cell& b = cells[*best];
    const sim::SimCounters& ka = a.result.counters;
    const sim::SimCounters& kb = b.result.counters;
    const auto d = [](std::uint64_t x, std::uint64_t y) { return static_cast<std::int64_t>(x) - static_cast<std::int64_t>(y); };
    lines += fmt::format(
        "- {}: {} costs {} less than tlbkit ({} cycles fewer{}). Against it tlbkit spent {} maintenance cycles ({} "
        "broadcast TLBIs), {} needed and {} collateral refill cycles; its planner chose {}.\n",
        group_title(spec, a), spec.policies[b.policy]->name,
        percent(1.0 - static_cast<double>(b.result.total_cycles()) / static_cast<double>(a.result.total_cycles())),
        a.result.total_cycles() - b.result.total_cycles(),
        a.result.ok() ? "" : "; tlbkit had violations", signed_cycles(d(ka.maintenance_cycles, kb.maintenance_cycles)),
        signed_cycles(d(ka.tlbi_broadcast, kb.tlbi_broadcast)),
        signed_cycles(d(ka.refill_cycles_needed, kb.refill_cycles_needed)),
        signed_cycles(d(ka.refill_cycles_collateral, kb.refill_cycles_collateral)), choices_text(a.result));
  }
  md += lines.empty()
            ? "In every group tlbkit is the cheapest policy that is correct by contract and showed no violation.\n\n"
            : lines + "\n";
  md += "## Results\n\n" + tables;
  files.push_back({"report.md", md});
  return files;
}

}  // namespace tlbkit::report
