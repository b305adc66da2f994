// Helpers of the trace tests: events printed in failures, a scratch
// directory, files, and gzip / zstd coding done with the libraries' own
// one-shot APIs (independent of src/trace's streaming code).
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>


#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tlbkit/trace/event.hpp"
#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/input.hpp"

namespace tlbkit::trace {

// gtest prints events as their trace lines (found by ADL through the
// variant's alternatives).
inline void PrintTo(const Event& event, std::ostream* os) { *os << "Event{" << format_event(event) << "}"; }

}  // namespace tlbkit::trace

namespace tlbkit::trace::test {

// The event a line holds; a failure when it holds none.
inline Event event_of(std::string_view line) {
  ParsedLine parsed = parse_line(line);
  if (const LineError* e = std::get_if<LineError>(&parsed)) {
    ADD_FAILURE() << "'" << line << "' refused at column " << e->column << ": " << e->message;
  } else if (std::holds_alternative<std::monostate>(parsed)) {
    ADD_FAILURE() << "'" << line << "' holds no event";
  } else {
    return std::get<Event>(parsed);
  }
  return OptionNoAccesses{};
}

// What is wrong with a line; a failure when nothing is.
inline LineError error_of(std::string_view line) {
  ParsedLine parsed = parse_line(line);
  if (const LineError* e = std::get_if<LineError>(&parsed)) return *e;
  ADD_FAILURE() << "'" << line << "' was accepted";
  return LineError{0, ""};
}

// Every line of a source, to its end or its error.
inline std::vector<std::string> all_lines(LineSource& source) {
  std::vector<std::string> lines;
  std::string line;
  while (source.next(line)) lines.push_back(line);
  return lines;
}

// A fresh directory, removed with what is in it.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/trace_tests.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // The names in the directory, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      out.push_back(entry.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One gzip member holding `text` (zlib's deflate with a gzip wrapper).
inline std::string gzip(std::string_view text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// `gz` decoded by zlib's gz* file API (the file is written first).
inline std::string gunzip_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return {};
  std::string out;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  EXPECT_EQ(n, 0) << "gzread failed";
  gzclose(f);
  return out;
}

// One zstd frame holding `text`.
inline std::string zstd(std::string_view text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// The content of zstd data of at most `limit` bytes decoded.
inline std::string unzstd(std::string_view data, std::size_t limit) {
  std::string out(limit, '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

}  // namespace tlbkit::trace::test
