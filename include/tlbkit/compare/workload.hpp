// The workloads a comparison runs: trace files, generated traces and the
// built-in suite, named the way `tlbkit compare --workload` takes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/gen/generator.hpp"
#include "tlbkit/trace/event.hpp"

namespace tlbkit::compare {

struct Workload {
  std::string name;  // the file as given, or "gen:NAME" with its non-default parameters
  // A trace file (plain, .gz, .zst), or a generator with parameters.
  std::string path;
  const gen::Generator* generator = nullptr;
  gen::Parameters parameters;
  // Whether the name fixed the PEs (pes=N, or the suite's): otherwise the
  // generator spreads its threads over each cell's PE count.
  bool pes_fixed = false;
};

// Parses one --workload value into workloads:
//   FILE                              a trace file (not opened here)
//   gen:NAME[,size=N][,seed=N][,pes=N] a generated trace
//   suite                             every workload of the built-in suite
// # Errors
// A message naming the bad part: an unknown generator or parameter, a
// value that is not a number or out of range (size >= 1, pes 1..64).
std::optional<std::string> parse_workload(const std::string& spec, std::vector<Workload>& out);

// Streams the workload's events into `sink`; a generator without fixed PEs
// spreads its threads over `pes` (0: its parameters' as they are). Returns
// "" or what went wrong,
// as "FILE:LINE:COLUMN: ..." for a bad trace line, the file that cannot
// be opened, or the sink's refusal.
std::string emit(const Workload& workload, trace::Sink& sink, unsigned pes = 0);

// The regimes the workload's spaces use (from its `space` events), read
// before any cell runs, so that a policy that does not manage one is
// marked not applicable instead of run.
// # Errors
// As emit().
std::string regimes_used(const Workload& workload, baselines::Manages& used);

}  // namespace tlbkit::compare
