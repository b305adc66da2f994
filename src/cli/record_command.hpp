// `tlbkit record`: runs a program under strace (or valgrind's lackey for
// its accesses too) and writes its trace.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `record` to `app`:
//   record [-o OUT] [--accesses] -- CMD ARGS...
// Without --accesses: strace -f -e trace=%memory,%process (memory calls,
// threads, forks and execs of every process; no accesses: replay applies
// its touch model). With --accesses: valgrind --tool=lackey
// --trace-mem=yes --trace-syscalls=yes (every access of the first
// process, much slower). OUT defaults to CMD's base name + ".tlbt.zst".
void add_record_command(CLI::App& app);

}  // namespace tlbkit::cli
