// Writing a trace from the command line: a TraceWriter over an OutputFile
// that is renamed into place only when everything went well.
#pragma once

#include <memory>
#include <string>

#include "usage_error.hpp"
#include "tlbkit/trace/output.hpp"
#include "tlbkit/trace/reader.hpp"

namespace tlbkit::cli {

// Opens `path` for a trace. Throws UsageError when it cannot.
inline std::unique_ptr<trace::OutputFile> open_trace_output(const std::string& path) {
  std::string error;
  std::unique_ptr<trace::OutputFile> out = trace::OutputFile::open(path, error);
  if (!out) throw UsageError(error);
  return out;
}

// Commits `out`. Throws UsageError when it cannot (the target is left as it was).
inline void commit_trace_output(trace::OutputFile& out) {
  if (std::string error = out.commit(); !error.empty()) throw UsageError(error);
}

}  // namespace tlbkit::cli
