// `tlbkit sim`: the built-in scenarios replayed on the simulated machine
// under one policy and one hardware profile: what each costs, and whether
// any PE ever used a stale translation, a live descriptor was changed
// without break-before-make, or a page was freed while still cached.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `sim` to `app`:
//   sim [--scenario NAME ...] [--policy NAME] [--profile NAME] [--pes N]
//       [--features LIST] [--accesses N] [--hot-pages N] [--seed N]
//       [--oracle] [--json] [--list-profiles]
// Exit status 1 when a run has a violation or a problem (after printing).
void add_sim_command(CLI::App& app);

}  // namespace tlbkit::cli
