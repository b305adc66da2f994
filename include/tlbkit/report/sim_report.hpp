// Renderings of simulator runs: a table for people (one row per trace,
// violations spelled out below it) and JSON with every counter for tools.
// Deterministic: equal runs give byte-identical output.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlbkit/sim/profile.hpp"
#include "tlbkit/arch/features.hpp"
#include "tlbkit/replay/hindsight.hpp"
#include "tlbkit/replay/simulate.hpp"
#include "tlbkit/replay/trace.hpp"

namespace tlbkit::report {

// What the runs were made under, for the headers.
struct SimLabel {
  std::string policy;
  const sim::Profile* profile = nullptr;
  arch::CpuFeatures features;
  replay::AccessPattern pattern;
};

// One trace's run, and the oracle's when it was asked for.
struct SimEntry {
  replay::Trace trace;
  replay::SimRun run;
  std::optional<replay::HindsightResult> oracle;
};

// The header, a table (plans, TLBIs, DSBs, walks, refills needed and
// collateral, maintenance / translation / total cycles, the oracle's total
// and violations per trace, a total row), then every violation in full.
std::string sim_text(const std::vector<SimEntry>& entries, const SimLabel& label);

// {"policy", "profile": {...}, "features", "pattern": {...},
//  "traces": [{"name", "description", "pes", "batches", "accesses",
//              "counters": {...}, "cycles": {"maintenance", "translation", "total"},
//              "violations": [...], "problems": [...], "oracle": {...}?, "ok"}],
//  "totals": {"cycles": ..., "violations": ...}, "ok"}
// A violation is {"kind", "pe", "va", "operation", "event", "message",
// "stale": entry, "current": entry or null}; addresses are hex strings.
nlohmann::json sim_json(const std::vector<SimEntry>& entries, const SimLabel& label);

}  // namespace tlbkit::report
