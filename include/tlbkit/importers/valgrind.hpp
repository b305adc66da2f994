// Imports the log of
//   valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes CMD
// into trace events: the accesses (" L addr,size", " S", " M", "I  addr,size")
// reduced to pages, consecutive accesses to one page by one thread
// collapsed into one event, and the memory system calls in the same order.
#pragma once

#include <optional>

#include "tlbkit/importers/strace.hpp"

namespace tlbkit::importers {

std::optional<trace::ReadError> import_valgrind(trace::LineSource& log, trace::Sink& sink,
                                                ImportStats* stats = nullptr);

}  // namespace tlbkit::importers
