// `tlbkit compare`: workloads x policies x profiles x feature sets x PE
// counts, every cell a replay with every checker on (docs/COMPARE.md).
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `compare` to `app`:
//   compare [--workload W ...] [--policy all|LIST] [--profile all|LIST]
//           [--features LIST ...] [--pes LIST] [--jobs N] [--json | --csv]
// W: a trace file, gen:NAME[,size=N][,seed=N][,pes=N], or suite (the
// default). Exit status 0 when no correct-by-contract policy showed a
// violation, 1 when one did (after printing), 2 on bad input.
void add_compare_command(CLI::App& app);

}  // namespace tlbkit::cli
