// Every maintenance policy the tools can run, by name: tlbkit's planner and
// the baselines that model other systems.
#pragma once

#include <span>
#include <string_view>

#include "tlbkit/maint/planner.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

struct PolicyEntry {
  std::string_view name;         // as given to --policy
  std::string_view description;  // one line: what it does or models
  const maint::Policy& policy;
  const maint::Planner* planner = nullptr;  // set when the policy can explain its choice
};

// All policies, tlbkit's planner first.
std::span<const PolicyEntry> all_policies();

// The policy called `name`, or nullptr.
const PolicyEntry* find_policy(std::string_view name);

}  // namespace tlbkit::baselines
