// Policies, hardware profiles and built-in scenarios named on the command
// line, resolved or refused with a UsageError that lists what is known.
#pragma once

#include <string>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::cli {

// The registered policy called `name` (the value of --policy).
// Throws UsageError naming every known policy when there is none.
const baselines::PolicyEntry& policy_named(const std::string& name);

// The hardware profile called `name` (the value of --profile).
// Throws UsageError naming every known profile when there is none.
const sim::Profile& profile_named(const std::string& name);

// The built-in scenarios called `names`, in that order; all of them when
// `names` is empty. Throws UsageError for the first unknown name.
std::vector<workload::Scenario> scenarios_named(const std::vector<std::string>& names);

}  // namespace tlbkit::cli
