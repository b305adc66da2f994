// JSON pieces shared by the simulator and replay reports.
#pragma once

#include <nlohmann/json.hpp>

#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::report {

// {"kind", "pe", "va", "operation", "event", "message", "stale", "current"}.
nlohmann::json violation_json(const sim::Violation& v);
// Every counter of the machine, by name.
nlohmann::json counters_json(const sim::SimCounters& c);
// The profile's name, size, cycle costs and kernel settings.
nlohmann::json profile_json(const sim::Profile& p);

}  // namespace tlbkit::report
