// Reads a whole trace into a Sink, streaming: one line in memory at a
// time, whatever the trace's length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tlbkit/trace/event.hpp"
#include "tlbkit/trace/input.hpp"

namespace tlbkit::trace {

// A refused input: "FILE:LINE:COLUMN: what is wrong".
struct ReadError {
  Position where;
  std::string message;
  std::string describe() const;
};

struct ReadStats {
  std::uint64_t lines = 0;
  std::uint64_t events = 0;
};

// Checks the header, then parses every line and hands each event to
// `sink` in order. Stops at the first bad line, read error, or event the
// sink refuses (its reason, at that line, column 1). An empty input is an
// error ("empty trace: no header line"). "option" lines after the first
// event are refused.
std::optional<ReadError> read_trace(LineSource& lines, Sink& sink, ReadStats* stats = nullptr);

// Writes events as trace lines to an OutputFile; the header goes first.
// put() refuses (returns what is wrong, writes nothing) an event the reader
// would refuse (a misaligned address, a PE past 63, ...) and an option after
// the first event; lengths are written rounded up to whole pages.
class OutputFile;
class TraceWriter final : public Sink {
 public:
  explicit TraceWriter(OutputFile& out);
  std::string put(const Event& event) override;
  // A "# text" line (importers say what they left out, generators their
  // parameters); one per line of a text holding newlines.
  std::string comment(std::string_view text);

 private:
  OutputFile& out_;
  bool header_written_ = false;
  bool event_written_ = false;
  std::string write_header();
};

}  // namespace tlbkit::trace
