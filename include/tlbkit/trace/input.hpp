// Lines of text from a file that may be gzip- or zstd-compressed (told
// apart by their magic bytes, whatever the name), or from memory. Streams:
// memory use does not grow with the input's length (one line at a time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tlbkit::trace {

// A source of lines, read once from the start.
class LineSource {
 public:
  virtual ~LineSource() = default;
  // The next line without its end ("\n" or "\r\n"); false at the end or on
  // a read error (then error() says which).
  virtual bool next(std::string& line) = 0;
  // Empty, or what went wrong reading (I/O error, corrupt or truncated
  // compressed data, a line longer than kMaxLine, a NUL byte): without a
  // position; it is at line line_number() + 1.
  virtual const std::string& error() const = 0;
  // The name for messages ("trace.tlbt.zst", "<memory>").
  virtual const std::string& name() const = 0;
  // Lines returned so far (the number of the last one).
  virtual std::uint64_t line_number() const = 0;

  // Longest line accepted (binary garbage without newlines is refused
  // instead of filling memory).
  static constexpr std::size_t kMaxLine = 64 * 1024;
};

// Opens `path` ("-": standard input) and detects its compression.
// Returns nullptr and sets `error` ("cannot open PATH: reason") when it
// cannot be opened.
std::unique_ptr<LineSource> open_lines(const std::string& path, std::string& error);

// Lines of `text` (tests, generated input). Applies the same checks as a file.
std::unique_ptr<LineSource> lines_of(std::string text, std::string name = "<memory>");

}  // namespace tlbkit::trace
