// Text and JSON renderings of a trace replay.
#include "tlbkit/report/replay_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "json_parts.hpp"
#include "tlbkit/report/describe.hpp"
#include "tlbkit/report/suite_report.hpp"

namespace tlbkit::report {
namespace {

using nlohmann::json;

constexpr std::size_t kViolationsShown = 20;

// Name and value of every kernel-model counter, in print order.
std::vector<std::pair<const char*, std::uint64_t>> kernel_fields(const replay::KernelCounters& k) {
  return {{"events", k.events},
          {"accesses", k.accesses},
          {"touched", k.touched},
          {"faults", k.faults},
          {"pages_faulted_in", k.pages_faulted_in},
          {"blocks_faulted_in", k.blocks_faulted_in},
          {"zero_page_maps", k.zero_page_maps},
          {"cow_copies", k.cow_copies},
          {"cow_reuses", k.cow_reuses},
          {"spurious_faults", k.spurious_faults},
          {"segfaults", k.segfaults},
          {"memory_calls", k.memory_calls},
          {"operations", k.operations},
          {"implicit_flushes", k.implicit_flushes},
          {"context_switches", k.context_switches},
          {"rollover_flushes", k.rollover_flushes},
          {"asid_generations", k.asid_generations},
          {"vmid_generations", k.vmid_generations},
          {"spaces", k.spaces},
          {"threads", k.threads},
          {"peak_present_pages", k.peak_present_pages}};
}

}  // namespace

std::string replay_text(const replay::ReplayRun& run, const ReplayLabel& label) {
  const sim::SimCounters& c = run.counters;
  std::string out;
  out += fmt::format("tlbkit replay {}: policy {}, profile {} ({} PEs), features {}, ASID {} bits, VMID {} bits\n\n",
                     label.trace, label.policy, label.profile != nullptr ? label.profile->name : "?", run.pes,
                     features_text(label.features), label.asid_bits, label.vmid_bits);
  constexpr const char* kRow = "{:<20} {:>14}\n";
  out += fmt::format(kRow, "plans", c.plans);
  out += fmt::format(kRow, "tlbi local", c.tlbi_local);
  out += fmt::format(kRow, "tlbi broadcast", c.tlbi_broadcast);
  out += fmt::format(kRow, "dsb", c.dsb);
  out += fmt::format(kRow, "ic / dc", fmt::format("{} / {}", c.ic, c.dc));
  out += fmt::format(kRow, "accesses", c.accesses);
  out += fmt::format(kRow, "walks", c.walks);
  out += fmt::format(kRow, "refills needed", c.refills_needed);
  out += fmt::format(kRow, "refills collateral", c.refills_collateral);
  out += fmt::format(kRow, "maintenance cycles", c.maintenance_cycles);
  out += fmt::format(kRow, "translation cycles", c.translation_cycles);
  out += fmt::format(kRow, "total cycles", run.total_cycles());
  out += fmt::format(kRow, "violations", run.violations.size());
  out += "\nkernel model:\n";
  for (const auto& [name, value] : kernel_fields(run.kernel)) out += fmt::format("  {:<20} {:>12}\n", name, value);
  const std::size_t shown = std::min(run.violations.size(), kViolationsShown);
  if (shown != 0) out += "\nviolations:\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const sim::Violation& v = run.violations[i];
    out += fmt::format("  {} (event {}, {}): {}\n", sim::violation_kind_name(v.kind), v.event, v.operation,
                       v.message);
  }
  if (shown < run.violations.size()) {
    out += fmt::format("  ... and {} more (--json lists them all)\n", run.violations.size() - shown);
  }
  for (const std::string& problem : run.problems) out += fmt::format("problem: {}\n", problem);
  return out;
}

json replay_json(const replay::ReplayRun& run, const ReplayLabel& label) {
  json violations = json::array();
  for (const sim::Violation& v : run.violations) violations.push_back(violation_json(v));
  json kernel = json::object();
  for (const auto& [name, value] : kernel_fields(run.kernel)) kernel[name] = value;
  return json{{"trace", label.trace},
              {"policy", label.policy},
              {"profile", label.profile != nullptr ? profile_json(*label.profile) : json(nullptr)},
              {"features", features_json(label.features)},
              {"pes", run.pes},
              {"asid_bits", label.asid_bits},
              {"vmid_bits", label.vmid_bits},
              {"counters", counters_json(run.counters)},
              {"cycles",
               {{"maintenance", run.counters.maintenance_cycles},
                {"translation", run.counters.translation_cycles},
                {"total", run.total_cycles()}}},
              {"kernel", std::move(kernel)},
              {"machine_events", run.machine_events},
              {"violations", std::move(violations)},
              {"problems", run.problems},
              {"ok", run.ok()}};
}

}  // namespace tlbkit::report
