// Reading a trace into a Sink line by line, and writing one from events.
#include "tlbkit/trace/reader.hpp"

#include <fmt/format.h>

#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/output.hpp"

namespace tlbkit::trace {

namespace {

constexpr const char* kOptionAfterEvent = "option after the first event (options come before all events)";

// The column of a line's first token.
unsigned first_token_column(std::string_view line) {
  const std::size_t at = line.find_first_not_of(" \t");
  return at == std::string_view::npos ? 1u : static_cast<unsigned>(at + 1);
}

}  // namespace

std::string ReadError::describe() const {
  return fmt::format("{}:{}:{}: {}", where.file, where.line, where.column, message);
}

std::optional<ReadError> read_trace(LineSource& lines, Sink& sink, ReadStats* stats) {
  ReadStats local;
  ReadStats& count = stats != nullptr ? *stats : local;
  count = ReadStats{};
  // A read error is at the line that could not be read: the one after the last.
  const auto read_error = [&]() {
    return ReadError{Position{lines.name(), lines.line_number() + 1, 1}, lines.error()};
  };
  const auto at = [&](unsigned column, std::string message) {
    return ReadError{Position{lines.name(), lines.line_number(), column}, std::move(message)};
  };

  std::string line;
  if (!lines.next(line)) {
    if (!lines.error().empty()) return read_error();
    return ReadError{Position{lines.name(), 1, 1}, "empty trace: no header line"};
  }
  count.lines = lines.line_number();
  if (const std::optional<LineError> bad = check_header(line)) return at(bad->column, bad->message);

  bool seen_event = false;
  while (lines.next(line)) {
    count.lines = lines.line_number();
    ParsedLine parsed = parse_line(line);
    if (const LineError* bad = std::get_if<LineError>(&parsed)) return at(bad->column, std::move(bad->message));
    const Event* event = std::get_if<Event>(&parsed);
    if (event == nullptr) continue;  // blank or comment
    if (std::holds_alternative<OptionNoAccesses>(*event)) {
      if (seen_event) return at(first_token_column(line), kOptionAfterEvent);
    } else {
      seen_event = true;
    }
    if (std::string refused = sink.put(*event); !refused.empty()) return at(1, std::move(refused));
    ++count.events;
  }
  if (!lines.error().empty()) return read_error();
  return std::nullopt;
}

TraceWriter::TraceWriter(OutputFile& out) : out_(out) {}

std::string TraceWriter::write_header() {
  if (header_written_) return {};
  header_written_ = true;
  return out_.write(header_line() + "\n");
}

std::string TraceWriter::put(const Event& event) {
  std::string line = format_event(event);
  // What this writer writes must read back: refuse what the reader would.
  ParsedLine parsed = parse_line(line);
  if (LineError* bad = std::get_if<LineError>(&parsed)) return std::move(bad->message);
  if (std::holds_alternative<OptionNoAccesses>(event)) {
    if (event_written_) return kOptionAfterEvent;
  } else {
    event_written_ = true;
  }
  if (std::string e = write_header(); !e.empty()) return e;
  line += '\n';
  return out_.write(line);
}

std::string TraceWriter::comment(std::string_view text) {
  // One "# " line per line of text: a newline in it must not end the comment.
  std::string lines;
  for (;;) {
    const std::size_t newline = text.find('\n');
    const std::string_view part = text.substr(0, newline);
    if (part.find('\0') != std::string_view::npos) return "comment holds a NUL byte";
    if (part.size() + 2 > LineSource::kMaxLine) return fmt::format("comment line longer than {} bytes", LineSource::kMaxLine);
    lines += part.empty() ? "#" : "# ";
    lines += part;
    lines += '\n';
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  if (std::string e = write_header(); !e.empty()) return e;
  return out_.write(lines);
}

}  // namespace tlbkit::trace
