// `tlbkit replay`: a workload trace (docs/TRACE-FORMAT.md) run on the
// simulated machine by the kernel model (docs/REPLAY.md) under one policy
// and one hardware profile, with every checker on.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `replay` to `app`:
//   replay TRACE|--suite [--policy NAME] [--profile NAME] [--pes N] [--features LIST]
//          [--asid-bits 8|16] [--vmid-bits 8|16] [--touch-seed N]
//          [--touch-percent P] [--json]
// Exit status 0 clean, 1 a violation or problem (after printing), 2 bad
// input (FILE:LINE:COLUMN for a bad trace line; nothing on stdout).
void add_replay_command(CLI::App& app);

}  // namespace tlbkit::cli
