// Imports the log of `strace -f -e trace=%memory,%process -o FILE CMD`
// (with or without -tt / -ttt / -T, with or without pids) into trace
// events: memory calls become mmap / munmap / mprotect / mremap / madvise /
// brk events, clone / clone3 / fork / vfork / execve / exit become
// thread, fork, exec and exit events. Failed calls are ignored. A call
// split into "<unfinished ...>" and "<... NAME resumed>" lines is taken
// when it resumes. Logs recorded on x86-64 and on AArch64 both import.
// The log holds no accesses: the output starts with "option accesses=none".
#pragma once

#include <cstdint>
#include <optional>

#include "tlbkit/trace/event.hpp"
#include "tlbkit/trace/input.hpp"
#include "tlbkit/trace/reader.hpp"

namespace tlbkit::importers {

struct ImportStats {
  std::uint64_t lines = 0;     // input lines read
  std::uint64_t calls = 0;     // calls turned into events
  std::uint64_t ignored = 0;   // failed calls, calls without memory effect, signals
  std::uint64_t events = 0;    // events handed to the sink
  // Events no line of the log made but its accesses and calls imply
  // (valgrind: an mmap of memory nobody mapped in the log, such as the
  // program and ld.so valgrind loaded, or the stack; an mprotect adding a
  // right such memory turned out to need). Always 0 for strace.
  std::uint64_t implied_vmas = 0;
};

// Reads `log` to its end and hands the events to `sink`. Stops at the
// first line it cannot understand: "FILE:LINE:COLUMN: what is wrong".
std::optional<trace::ReadError> import_strace(trace::LineSource& log, trace::Sink& sink,
                                              ImportStats* stats = nullptr);

}  // namespace tlbkit::importers
