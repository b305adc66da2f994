// A simulator trace: which PE edits the tables when, and which accesses
// every PE makes in between. replay::simulate() replays one on a
// sim::Machine under a maintenance policy; trace_from_scenario() builds one
// from a scenario of the built-in suite.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "tlbkit/sim/machine.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::replay {

using arch::VirtAddr;

using workload::Batch;
using workload::GeometrySpec;
using workload::Scenario;

// Table edits made by one PE. Their maintenance runs on that PE: the
// break-before-make plans inside a step, the rest at the end of the batch.
struct TraceBatch {
  unsigned pe = 0;
  Batch batch;
};

// One access by one PE.
struct TraceAccess {
  unsigned pe = 0;
  VirtAddr va = 0;
  sim::AccessKind kind = sim::AccessKind::read;
  sim::Privilege privilege = sim::Privilege::el1;
};

using TraceEvent = std::variant<TraceBatch, TraceAccess>;

struct Trace {
  std::string name;
  std::string description;
  GeometrySpec geometry;
  maint::AddressSpace space;  // every PE runs in it (same ASID / VMID)
  unsigned pes = 1;
  std::vector<TraceEvent> events;

  std::uint64_t batches() const;
  std::uint64_t accesses() const;
};

// How trace_from_scenario() makes the PEs use the memory.
struct AccessPattern {
  unsigned pes = 8;               // 1..64
  unsigned accesses_per_pe = 64;  // by every PE after each batch
  // A region mapped first and never changed: every PE's steady working set,
  // what an over-wide invalidation makes it refill for nothing.
  std::uint64_t hot_pages = 64;
  std::uint64_t seed = 1;
};

// A trace of `scenario`: PE 0 maps the hot region, then batch b of the
// scenario is made by PE b mod pes; before the first batch and after each
// one every PE makes `accesses_per_pe` reads, alternately a page of its
// slice of the hot region and a page of a region some batch so far mapped
// (chosen by a pseudo-random sequence seeded by `pattern.seed`; a region
// stays chosen after an unmap, as a racing thread's reads would reach it),
// only the hot region while no region is mapped yet. Stage-1 pages that EL0 may use are read at
// EL0, others at EL1. Deterministic.
// # Errors
// invalid_argument: pes not in 1..64, or the geometry is invalid.
// out_of_range: no room for the hot region beside the scenario's addresses.
Result<Trace> trace_from_scenario(const Scenario& scenario, const AccessPattern& pattern);

}  // namespace tlbkit::replay
