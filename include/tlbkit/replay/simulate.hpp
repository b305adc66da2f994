// Replays a simulator trace: a pt::Table in simulated physical memory, one
// maint::Gather per batch running its plans on the machine's PE that made
// the batch, every access translated by the machine. The machine checks
// (stale translations, break-before-make, use-after-free) and counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/physical_memory.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/arch/features.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/replay/trace.hpp"

namespace tlbkit::replay {

struct SimOptions {
  // Also gives the table engine its FEAT_BBM level and FWB, and the machine
  // its BBM level; processing_elements is replaced by the trace's PE count.
  arch::CpuFeatures features;
  sim::MachineOptions::Visibility visibility = sim::MachineOptions::Visibility::checked;
  std::uint64_t memory_pages = sim::PhysicalMemory::kDefaultPages;  // table pool size
};

struct SimRun {
  sim::SimCounters counters;
  std::vector<sim::Violation> violations;
  // What kept the trace from running as written: refused steps, a gather
  // that could not finish, memory misuse, leaked table pages.
  std::vector<std::string> problems;
  std::uint64_t events = 0;  // machine events

  // Cycles of maintenance plus translation (L2 hits and walks, refills included).
  std::uint64_t total_cycles() const { return counters.maintenance_cycles + counters.translation_cycles; }
  bool ok() const { return violations.empty() && problems.empty(); }
};

// Replays `trace` on a fresh machine of `profile` with trace.pes PEs, every
// PE in the trace's address space, maintenance planned by `policy`; then
// releases the table (its maintenance on PE 0). Deterministic: equal inputs
// give equal runs. Never throws for a bad trace: what went wrong is in
// problems.
SimRun simulate(const Trace& trace, const maint::Policy& policy, const sim::Profile& profile,
                const SimOptions& options);

}  // namespace tlbkit::replay
