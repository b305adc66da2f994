// The text form of trace events (docs/TRACE-FORMAT.md): one event a line,
// written by format_event() and read back by parse_line(), which accepts
// exactly what format_event() writes plus comments, blank lines, decimal
// or hexadecimal numbers and extra blanks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tlbkit/trace/event.hpp"

namespace tlbkit::trace {

// "tlbkit-trace 1": the first line of every trace.
std::string header_line();

// One line (without "\n"): addresses and lengths in hexadecimal, ids, PEs
// and counts in decimal.
std::string format_event(const Event& event);

// What is wrong with a line, and where (1-based column of the offending
// token; the line's end when a token is missing).
struct LineError {
  unsigned column = 1;
  std::string message;
};

// Nothing (a blank line or a comment), an event, or an error.
using ParsedLine = std::variant<std::monostate, Event, LineError>;

// Parses one line (not the header). A "#" at a token's start begins a
// comment that runs to the end of the line. Lengths are rounded up to whole
// 4 KiB pages, so parse_line(format_event(e)) == e for every event whose
// lengths are whole pages and that the format can hold.
ParsedLine parse_line(std::string_view line);

// Whether `line` is a header this reader understands; else what is wrong
// ("not a tlbkit trace (first line must be 'tlbkit-trace 1')", "trace
// version 2 is newer than this reader (1)"). Blanks and a comment may follow.
std::optional<LineError> check_header(std::string_view line);

}  // namespace tlbkit::trace
