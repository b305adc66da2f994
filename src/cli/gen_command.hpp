// `tlbkit gen`: generated workload traces (docs/GENERATORS.md).
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `gen` to `app`:
//   gen NAME [--size S] [--pes N] [--seed K] -o OUT
//   gen --list [--json]
void add_gen_command(CLI::App& app);

}  // namespace tlbkit::cli
