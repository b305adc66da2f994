// Text rendering of simulator runs.
#include <algorithm>

#include <fmt/format.h>

#include "tlbkit/report/describe.hpp"
#include "tlbkit/report/sim_report.hpp"

namespace tlbkit::report {
namespace {

// Violations printed per trace; the JSON has them all.
constexpr std::size_t kViolationsShown = 20;

constexpr const char* kRow = "{:<28} {:>5} {:>6} {:>6} {:>7} {:>7} {:>7} {:>11} {:>11} {:>11} {:>11} {:>5}\n";

std::string oracle_cell(const SimEntry& e) {
  return e.oracle ? fmt::format("{}", e.oracle->run.total_cycles()) : std::string("-");
}

void row(std::string& out, const std::string& name, const sim::SimCounters& c, std::uint64_t total,
         const std::string& oracle, std::size_t violations) {
  out += fmt::format(kRow, name, c.plans, c.tlbi_local + c.tlbi_broadcast, c.dsb, c.walks, c.refills_needed,
                     c.refills_collateral, c.maintenance_cycles, c.translation_cycles, total, oracle, violations);
}

void add(sim::SimCounters& sum, const sim::SimCounters& c) {
  sum.plans += c.plans;
  sum.tlbi_local += c.tlbi_local;
  sum.tlbi_broadcast += c.tlbi_broadcast;
  sum.dsb += c.dsb;
  sum.walks += c.walks;
  sum.refills_needed += c.refills_needed;
  sum.refills_collateral += c.refills_collateral;
  sum.maintenance_cycles += c.maintenance_cycles;
  sum.translation_cycles += c.translation_cycles;
}

}  // namespace

std::string sim_text(const std::vector<SimEntry>& entries, const SimLabel& label) {
  std::string out;
  const sim::Profile* p = label.profile;
  out += fmt::format("tlbkit sim: policy {}, profile {} ({} PEs), features {}\n", label.policy,
                     p != nullptr ? p->name : "?", label.pattern.pes, features_text(label.features));
  out += fmt::format("workload: each scenario of the suite; {} reads per PE after each batch, a hot region of {} "
                     "pages, seed {}\n\n",
                     label.pattern.accesses_per_pe, label.pattern.hot_pages, label.pattern.seed);
  out += fmt::format(kRow, "trace", "plans", "tlbi", "dsb", "walks", "refill", "refill", "maint", "transl",
                     "total", "oracle", "viol");
  out += fmt::format(kRow, "", "", "", "", "", "needed", "collat", "cycles", "cycles", "cycles", "cycles", "");

  sim::SimCounters sum;
  std::uint64_t total = 0;
  std::uint64_t oracle_total = 0;
  bool all_oracle = !entries.empty();
  std::size_t violations = 0;
  for (const SimEntry& e : entries) {
    row(out, e.trace.name, e.run.counters, e.run.total_cycles(), oracle_cell(e), e.run.violations.size());
    add(sum, e.run.counters);
    total += e.run.total_cycles();
    violations += e.run.violations.size();
    if (e.oracle) {
      oracle_total += e.oracle->run.total_cycles();
    } else {
      all_oracle = false;
    }
  }
  row(out, "total", sum, total, all_oracle ? fmt::format("{}", oracle_total) : std::string("-"), violations);

  for (const SimEntry& e : entries) {
    if (e.run.ok()) continue;
    out += fmt::format("\n{}:\n", e.trace.name);
    const std::size_t shown = std::min(e.run.violations.size(), kViolationsShown);
    for (std::size_t i = 0; i < shown; ++i) {
      const sim::Violation& v = e.run.violations[i];
      out += fmt::format("  {} (event {}, {}): {}\n", sim::violation_kind_name(v.kind), v.event, v.operation,
                         v.message);
    }
    if (shown < e.run.violations.size()) {
      out += fmt::format("  ... and {} more (--json lists them all)\n", e.run.violations.size() - shown);
    }
    for (const std::string& problem : e.run.problems) out += fmt::format("  problem: {}\n", problem);
  }
  return out;
}

}  // namespace tlbkit::report
