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
          {"implied_vmas", k.implied_vmas},
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

// The header's note of an injected fault, or nothing.
std::string injected_note(const sim::DropInjection& drop) {
  const std::string text = drop_text(drop);
  return text.empty() ? "" : fmt::format(" (fault injected: {})", text);
}

}  // namespace

std::string drop_text(const sim::DropInjection& drop) {
  using Kind = sim::DropInjection::Kind;
  if (drop.kind == Kind::none) return "";
  const char* what = drop.kind == Kind::tlbi ? "TLBI" : "DSB";
  if (drop.every <= 1) return fmt::format("drop every {}", what);
  const std::uint64_t n = drop.every;
  const char* suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  return fmt::format("drop every {}{} {}", n, suffix, what);
}

std::string replay_text(const replay::ReplayRun& run, const ReplayLabel& label) {
  const sim::SimCounters& c = run.counters;
  std::string out;
  out += fmt::format("tlbkit replay {}: policy {}, profile {} ({} PEs), features {}, ASID {} bits, VMID {} bits{}\n\n",
                     label.trace, label.policy, label.profile != nullptr ? label.profile->name : "?", run.pes,
                     features_text(label.features), label.asid_bits, label.vmid_bits, injected_note(label.drop));
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
  if (label.drop.kind != sim::DropInjection::Kind::none) out += fmt::format(kRow, "dropped (injected)", c.dropped_ops);
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
              {"injected", label.drop.kind == sim::DropInjection::Kind::none ? json(nullptr) : json(drop_text(label.drop))},
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

std::string replay_suite_text(const std::vector<ReplayEntry>& entries, const ReplayLabel& label) {
  std::string out;
  out += fmt::format("tlbkit replay --suite: policy {}, profile {}, features {}, ASID {} bits, VMID {} bits{}\n\n",
                     label.policy, label.profile != nullptr ? label.profile->name : "?",
                     features_text(label.features), label.asid_bits, label.vmid_bits, injected_note(label.drop));
  constexpr const char* kRow = "{:<18} {:>8} {:>8} {:>7} {:>6} {:>7} {:>6} {:>7} {:>7} {:>11} {:>11} {:>11} {:>5}\n";
  out += fmt::format(kRow, "workload", "events", "access", "faults", "plans", "tlbi", "dsb", "refill", "refill",
                     "maint", "transl", "total", "viol");
  out += fmt::format(kRow, "", "", "", "", "", "", "", "needed", "collat", "cycles", "cycles", "cycles", "");
  replay::KernelCounters k_sum;
  sim::SimCounters sum;
  std::size_t violations = 0;
  const auto row = [&](const std::string& name, const replay::KernelCounters& k, const sim::SimCounters& c,
                       std::size_t v) {
    out += fmt::format(kRow, name, k.events, c.accesses, k.faults, c.plans, c.tlbi_local + c.tlbi_broadcast, c.dsb,
                       c.refills_needed, c.refills_collateral, c.maintenance_cycles, c.translation_cycles,
                       c.maintenance_cycles + c.translation_cycles, v);
  };
  for (const ReplayEntry& e : entries) {
    row(e.name, e.run.kernel, e.run.counters, e.run.violations.size());
    k_sum.events += e.run.kernel.events;
    k_sum.faults += e.run.kernel.faults;
    sum.accesses += e.run.counters.accesses;
    sum.plans += e.run.counters.plans;
    sum.tlbi_local += e.run.counters.tlbi_local;
    sum.tlbi_broadcast += e.run.counters.tlbi_broadcast;
    sum.dsb += e.run.counters.dsb;
    sum.refills_needed += e.run.counters.refills_needed;
    sum.refills_collateral += e.run.counters.refills_collateral;
    sum.maintenance_cycles += e.run.counters.maintenance_cycles;
    sum.translation_cycles += e.run.counters.translation_cycles;
    violations += e.run.violations.size();
  }
  row("total", k_sum, sum, violations);
  for (const ReplayEntry& e : entries) {
    if (e.run.ok()) continue;
    out += fmt::format("\n{}:\n", e.name);
    const std::size_t shown = std::min(e.run.violations.size(), kViolationsShown);
    for (std::size_t i = 0; i < shown; ++i) {
      const sim::Violation& v = e.run.violations[i];
      out += fmt::format("  {} (event {}, {}): {}\n", sim::violation_kind_name(v.kind), v.event, v.operation,
                         v.message);
    }
    for (const std::string& problem : e.run.problems) out += fmt::format("  problem: {}\n", problem);
  }
  return out;
}

json replay_suite_json(const std::vector<ReplayEntry>& entries, const ReplayLabel& label) {
  json workloads = json::array();
  std::uint64_t total = 0;
  std::size_t violations = 0;
  bool ok = true;
  for (const ReplayEntry& e : entries) {
    ReplayLabel one = label;
    one.trace = e.name;
    json j = replay_json(e.run, one);
    j.erase("trace");
    j.erase("policy");
    j.erase("profile");
    j.erase("features");
    j.erase("asid_bits");
    j.erase("vmid_bits");
    j.erase("injected");
    j["name"] = e.name;
    workloads.push_back(std::move(j));
    total += e.run.total_cycles();
    violations += e.run.violations.size();
    ok = ok && e.run.ok();
  }
  return json{{"policy", label.policy},
              {"profile", label.profile != nullptr ? profile_json(*label.profile) : json(nullptr)},
              {"features", features_json(label.features)},
              {"asid_bits", label.asid_bits},
              {"vmid_bits", label.vmid_bits},
              {"injected", label.drop.kind == sim::DropInjection::Kind::none ? json(nullptr) : json(drop_text(label.drop))},
              {"workloads", std::move(workloads)},
              {"totals", {{"cycles", total}, {"violations", violations}}},
              {"ok", ok}};
}

}  // namespace tlbkit::report
