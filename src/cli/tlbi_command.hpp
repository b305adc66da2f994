// `tlbkit tlbi`: encode, decode and list TLBI / barrier / cache operations.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds the `tlbi` subcommand family to `app`:
//   tlbi encode OP [--asid N] [--va A | --ipa A] [--granule 4k|16k|64k] [--ttl-level L]
//                  [--scale S --num N | --pages P] [--json]
//   tlbi encode --from-json FILE|-      re-encode decode's JSON (an object or an array)
//   tlbi decode OP OPERAND [--json] [--allow-reserved]
//   tlbi list [--json]
// Results go to stdout only when the whole command succeeded; bad input
// throws UsageError (see usage_error.hpp).
void add_tlbi_command(CLI::App& app);

}  // namespace tlbkit::cli
