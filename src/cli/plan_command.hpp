// `tlbkit plan`: the maintenance plan a policy makes for a described set of
// changes, and with --explain every alternative the planner weighed.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `plan` to `app`:
//   plan --pages VA+N [--pages ...] [--blocks VA+N] [--tables VA+N]
//        [--regime el1|el2|stage2] [--asid N] [--vmid N] [--global]
//        [--features LIST] [--pes N] [--exec] [--clean PA+BYTES]
//        [--policy NAME] [--explain] [--json]
// --pages: N 4 KiB leaf entries from VA; --blocks: N 2 MiB leaf entries;
// --tables: N pages under changed table entries (freed or replaced tables).
void add_plan_command(CLI::App& app);

}  // namespace tlbkit::cli
