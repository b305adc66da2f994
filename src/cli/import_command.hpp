// `tlbkit import`: logs of real programs turned into traces.
#pragma once

#include <CLI/CLI.hpp>

namespace tlbkit::cli {

// Adds `import` to `app`:
//   import strace FILE -o OUT     (strace -f -e trace=%memory,%process -o FILE CMD)
//   import valgrind FILE -o OUT   (valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes)
// OUT is compressed by name (.gz, .zst) and written whole or not at all.
// Exit status 2 on a line it cannot understand (FILE:LINE:COLUMN).
void add_import_command(CLI::App& app);

}  // namespace tlbkit::cli
