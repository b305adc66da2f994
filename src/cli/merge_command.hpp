// `tlbkit merge`: joins the parts of a sharded `tlbkit compare` into the
// output one unsharded run prints (docs/SWEEPS.md).
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `merge` to `app`:
//   merge PART... [--json | --csv]
// Exit status as compare's; 2 also for parts that do not make one whole
// grid (of different grids, a shard missing or given twice).
void add_merge_command(CLI::App& app);

}  // namespace tlbkit::cli
