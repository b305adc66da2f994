// `tlbkit policies`: what each policy is and where it comes from.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds the `policies` subcommand to `app`:
//   policies [--json] [NAME...]
// Lists every policy (or the named ones, by name or alias, in the order
// given): name, aliases, system, version, the source it follows, the
// regimes it manages and whether it is correct by contract. An unknown
// name throws UsageError before anything is printed.
void add_policies_command(CLI::App& app);

}  // namespace tlbkit::cli
