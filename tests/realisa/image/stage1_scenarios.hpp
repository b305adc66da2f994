// The stage-1 scenarios, shared by the EL1 lane (one PE) and the SMP lane
// (changes on PE 0, accesses on the others).
#pragma once

#include <cstdint>
#include <string_view>

#include "lanes.hpp"

namespace realisa {

// The harness's own space while no scenario runs: only the identity map.
inline constexpr std::uint16_t kAsidHarness = 0;

// How a lane runs the stage-1 scenarios.
struct Stage1Lane {
  std::string_view name;
  const Observers* observers;
  // Loads a space (TTBR0 root and ASID) on every PE that accesses it.
  void (*load_space)(PhysAddr root, std::uint16_t asid);
  // Whether the accesses are made by other PEs than the one that changes
  // and loads: scenarios that switch ASIDs on the accessing PE are left out.
  bool multi_pe;
};

// The user window: non-global entries under the space's ASID, far from the
// identity map.
inline constexpr VirtAddr kUserWindow = 0x1000000000;  // 64 GiB

// Leaf attributes of a user page at EL1 (non-global, normal memory).
tlbkit::arch::s1::Attributes user_attributes(tlbkit::arch::s1::Access access,
                                             tlbkit::arch::Execute execute = tlbkit::arch::Execute::never);
// The address space of a user table under `asid`.
tlbkit::maint::AddressSpace user_space(std::uint16_t asid);

// The table holding only the harness's identity map (ASID kAsidHarness).
PhysAddr stage1_harness_root();

// Loads the harness's space on every PE of `lane` and invalidates every
// EL1 entry and the instruction caches (the harness's own maintenance, not
// the executor under test), then takes every data frame back: what a
// scenario leaves can reach no later one. The caller frees its tables.
void return_to_harness(const Stage1Lane& lane);

// Runs every selected stage-1 scenario the policy's regimes allow, one
// result line each; returns the failures of a normal run.
unsigned run_stage1_scenarios(Env& env, const ScenarioFilter& filter, const Stage1Lane& lane);

}  // namespace realisa
