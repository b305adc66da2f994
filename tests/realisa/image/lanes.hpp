// The lanes the image runs (docs/REAL-ISA.md). Each runs its scenarios
// under one policy and one executor mode, prints one result line per
// scenario, and returns how many failed in a way that is an error whatever
// the mode (a normal run that saw a stale or wrong access).
#pragma once

#include <string_view>

#include "scenario.hpp"

namespace realisa {

// Which scenarios to run: all, or the one named.
struct ScenarioFilter {
  std::string_view only;
  bool selects(std::string_view name) const { return only.empty() || only == name; }
};

// EL1&0 stage 1 at EL1: two ASIDs, the MMU on (the first call turns it on).
unsigned run_el1_lane(Env& env, const ScenarioFilter& filter);
// Stage 2 from EL2 with a VMID, a guest at EL1 reading IPAs.
unsigned run_el2_lane(Env& env, const ScenarioFilter& filter);
// EL1 with every PE: changes made on PE 0, seen by readers on the others.
unsigned run_smp_lane(Env& env, const ScenarioFilter& filter);

}  // namespace realisa
