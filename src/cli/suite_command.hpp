// `tlbkit suite`: run the built-in scenarios end to end and report them.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds the `suite` subcommand to `app`:
//   suite [--json] [--scenario NAME]... [--list] [--threshold N] [--features ttl,tlbirange,bbm1|bbm2,fwb]
// Runs the chosen scenarios (all by default) with the simple policy and
// prints the report (text or JSON). Bad input (unknown scenario or feature,
// bad threshold) throws UsageError before anything runs. A scenario that
// fails is reported in full, then the command fails with a runtime_error
// (exit status 1).
void add_suite_command(CLI::App& app);

}  // namespace tlbkit::cli
