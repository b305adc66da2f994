// Renderings of a trace replay (`tlbkit replay`): the machine's counters as
// `tlbkit sim` prints them, what the kernel model did, and every violation.
// Deterministic: equal runs give byte-identical output.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::report {

struct ReplayLabel {
  std::string trace;   // the trace's name (its file)
  std::string policy;
  const sim::Profile* profile = nullptr;
  arch::CpuFeatures features;
  unsigned asid_bits = 0;
  unsigned vmid_bits = 0;
  sim::DropInjection drop;  // fault injection the run was made with
};

// "drop every 3rd TLBI" / "drop every DSB"; empty for none.
std::string drop_text(const sim::DropInjection& drop);

std::string replay_text(const replay::ReplayRun& run, const ReplayLabel& label);

// {"trace", "policy", "profile": {...}, "features", "pes", "asid_bits",
//  "vmid_bits", "injected" (drop_text, or null), "counters": {...}, "cycles": {"maintenance", "translation",
//  "total"}, "kernel": {...}, "violations": [...], "problems": [...], "ok"}
nlohmann::json replay_json(const replay::ReplayRun& run, const ReplayLabel& label);

// One replay of a suite (`tlbkit replay --suite`).
struct ReplayEntry {
  std::string name;
  replay::ReplayRun run;
};

// The header, one row per workload (events, accesses, faults, plans,
// TLBIs, DSBs, refills, maintenance / translation / total cycles,
// violations) and a total row, then each unclean run's violations.
std::string replay_suite_text(const std::vector<ReplayEntry>& entries, const ReplayLabel& label);

// {"policy", "profile", "features", "asid_bits", "vmid_bits",
//  "workloads": [replay_json of each, with "name"], "totals": {...}, "ok"}
nlohmann::json replay_suite_json(const std::vector<ReplayEntry>& entries, const ReplayLabel& label);

}  // namespace tlbkit::report
