// Reading whole traces into a Sink (the header, then every event in order,
// stopping at the first fault with FILE:LINE:COLUMN), and writing them.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "trace/trace_support.hpp"
#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/input.hpp"
#include "tlbkit/trace/output.hpp"
#include "tlbkit/trace/reader.hpp"

namespace tlbkit::trace {
namespace {

using test::ScratchDir;

// Keeps every event; refuses the one numbered `refuse_at` (from 1).
class VectorSink final : public Sink {
 public:
  std::string put(const Event& event) override {
    events.push_back(event);
    if (events.size() == refuse_at) return "space 1 already exists";
    return {};
  }
  std::vector<Event> events;
  std::size_t refuse_at = 0;
};

// What reading `text` as "t.tlbt" says: its error, described, or "".
std::string read_error(const std::string& text, VectorSink* sink_out = nullptr, ReadStats* stats = nullptr) {
  VectorSink local;
  VectorSink& sink = sink_out != nullptr ? *sink_out : local;
  auto lines = lines_of(text, "t.tlbt");
  const std::optional<ReadError> e = read_trace(*lines, sink, stats);
  return e ? e->describe() : "";
}

// The example of docs/TRACE-FORMAT.md.
constexpr const char* kExample =
    "tlbkit-trace 1\n"
    "# a process maps 64 KiB, touches two pages from two threads, unmaps it\n"
    "space 1 process\n"
    "thread 100 1 pe=0\n"
    "thread 101 1 pe=1\n"
    "mmap 100 0x7f0000000000 0x10000 rw- anon,private\n"
    "w 100 0x7f0000000000\n"
    "r 101 0x7f0000001000\n"
    "munmap 100 0x7f0000000000 0x10000\n"
    "exit 101\n"
    "exit 100\n";

std::vector<Event> example_events() {
  return {SpaceCreate{1, SpaceKind::process, 0},
          ThreadStart{100, 1, 0},
          ThreadStart{101, 1, 1},
          Mmap{100, 0x7f0000000000, 0x10000, Prot::read | Prot::write, MapFlags::anonymous},
          Access{100, 0x7f0000000000, AccessKind::write},
          Access{101, 0x7f0000001000, AccessKind::read},
          Munmap{100, 0x7f0000000000, 0x10000},
          Exit{101},
          Exit{100}};
}

// ---- reading -------------------------------------------------------------------

TEST(TraceReader, ReadsTheFormatDocumentsExampleEventByEvent) {
  VectorSink sink;
  ReadStats stats;
  EXPECT_EQ(read_error(kExample, &sink, &stats), "");
  EXPECT_EQ(sink.events, example_events());
  EXPECT_EQ(stats.lines, 11u);
  EXPECT_EQ(stats.events, 9u);
}

TEST(TraceReader, AHeaderAloneIsAnEmptyTrace) {
  VectorSink sink;
  EXPECT_EQ(read_error("tlbkit-trace 1\n", &sink), "");
  EXPECT_TRUE(sink.events.empty());
}

TEST(TraceReader, AnEmptyInputHasNoHeader) {
  EXPECT_EQ(read_error(""), "t.tlbt:1:1: empty trace: no header line");
}

TEST(TraceReader, TheFirstLineMustBeTheHeader) {
  EXPECT_EQ(read_error("# comment first\ntlbkit-trace 1\n"),
            "t.tlbt:1:1: not a tlbkit trace (first line must be 'tlbkit-trace 1')");
  EXPECT_EQ(read_error("\ntlbkit-trace 1\n"), "t.tlbt:1:1: not a tlbkit trace (first line must be 'tlbkit-trace 1')");
  EXPECT_EQ(read_error("space 1 process\n"), "t.tlbt:1:1: not a tlbkit trace (first line must be 'tlbkit-trace 1')");
}

TEST(TraceReader, ANewerVersionIsRefused) {
  EXPECT_EQ(read_error("tlbkit-trace 2\nspace 1 process\n"),
            "t.tlbt:1:14: trace version 2 is newer than this reader (1)");
}

TEST(TraceReader, ABadLineIsReportedAtItsLineAndColumn) {
  VectorSink sink;
  ReadStats stats;
  EXPECT_EQ(read_error("tlbkit-trace 1\nspace 1 process\n\n# x\nmmap 100 0x7f0000000800 0x1000 rw- anon\nexit 1\n",
                       &sink, &stats),
            "t.tlbt:5:10: misaligned address '0x7f0000000800' (not a multiple of 4 KiB)");
  EXPECT_EQ(sink.events, (std::vector<Event>{SpaceCreate{1, SpaceKind::process, 0}}));
  EXPECT_EQ(stats.lines, 5u);
  EXPECT_EQ(stats.events, 1u);
}

TEST(TraceReader, ATruncatedLineIsReportedPastItsEnd) {
  EXPECT_EQ(read_error("tlbkit-trace 1\r\nmunmap 1 0x1000\r\n"),
            "t.tlbt:2:16: missing LEN (munmap T ADDR LEN)");
}

TEST(TraceReader, OptionsComeBeforeTheFirstEvent) {
  VectorSink sink;
  EXPECT_EQ(read_error("tlbkit-trace 1\n# imported\noption accesses=none\noption accesses=none\nspace 1 process\n", &sink),
            "");
  EXPECT_EQ(sink.events,
            (std::vector<Event>{OptionNoAccesses{}, OptionNoAccesses{}, SpaceCreate{1, SpaceKind::process, 0}}));
  EXPECT_EQ(read_error("tlbkit-trace 1\noption accesses=none\nspace 1 process\n  option accesses=none\n"),
            "t.tlbt:4:3: option after the first event (options come before all events)");
}

TEST(TraceReader, AnEventTheSinkRefusesStopsTheReadAtItsLine) {
  VectorSink sink;
  sink.refuse_at = 2;
  ReadStats stats;
  EXPECT_EQ(read_error("tlbkit-trace 1\nspace 1 process\n# again:\nspace 1 process\nexit 1\n", &sink, &stats),
            "t.tlbt:4:1: space 1 already exists");
  EXPECT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(stats.events, 1u);
}

TEST(TraceReader, BinaryGarbageIsRefusedAtItsLine) {
  EXPECT_EQ(read_error(std::string("tlbkit-trace 1\nexit 1\nexit\0 2\n", 29)), "t.tlbt:3:1: binary data (NUL byte)");
  EXPECT_EQ(read_error("tlbkit-trace 1\n" + std::string(1 << 20, '\xab')), "t.tlbt:2:1: line longer than 65536 bytes");
  EXPECT_EQ(read_error(std::string(1 << 20, '\xab')), "t.tlbt:1:1: line longer than 65536 bytes");
}

TEST(TraceReader, ATruncatedCompressedFileIsAReadError) {
  ScratchDir dir;
  std::string text = "tlbkit-trace 1\n";
  for (int i = 0; i < 20000; ++i) text += "r 1 0x" + std::to_string(1000 + i) + "000\n";
  const std::string packed = test::gzip(text);
  test::write_file(dir.file("t.tlbt.gz"), packed.substr(0, packed.size() - 100));
  std::string error;
  auto lines = open_lines(dir.file("t.tlbt.gz"), error);
  ASSERT_NE(lines, nullptr) << error;
  VectorSink sink;
  const std::optional<ReadError> e = read_trace(*lines, sink);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message, "truncated gzip data");
  EXPECT_EQ(e->where.file, dir.file("t.tlbt.gz"));
  EXPECT_EQ(e->where.line, sink.events.size() + 2);  // the header, the events read, then the cut
}

TEST(TraceReader, DescribeIsFileLineColumnMessage) {
  const ReadError e{Position{"dir/a.tlbt.zst", 12345678901, 7}, "zero length '0'"};
  EXPECT_EQ(e.describe(), "dir/a.tlbt.zst:12345678901:7: zero length '0'");
}

// ---- streaming ----------------------------------------------------------------------

// A trace of `events` lines made as they are asked for: the header, then
// in turn a write, a read, an mmap and an munmap at addresses that move.
class GeneratedTrace final : public LineSource {
 public:
  explicit GeneratedTrace(std::uint64_t events) : events_(events) {}
  bool next(std::string& line) override {
    if (number_ > events_) return false;
    if (number_ == 0) {
      line = "tlbkit-trace 1";
    } else {
      const std::uint64_t i = number_ - 1;
      char buf[96];
      const unsigned long long page = 0x10000 + (i % 100000) * 0x1000;
      switch (i % 4) {
        case 0: std::snprintf(buf, sizeof buf, "w %u 0x%llx", unsigned(i % 7), page + 8); break;
        case 1: std::snprintf(buf, sizeof buf, "r   %u  %llu # decimal", unsigned(i % 7), page); break;
        case 2: std::snprintf(buf, sizeof buf, "mmap %u 0x%llx 0x1000 rw- anon,private", unsigned(i % 7), page); break;
        default: std::snprintf(buf, sizeof buf, "munmap %u 0x%llx 4096", unsigned(i % 7), page); break;
      }
      line = buf;
    }
    ++number_;
    return true;
  }
  const std::string& error() const override { return error_; }
  const std::string& name() const override { return name_; }
  std::uint64_t line_number() const override { return number_; }

 private:
  std::uint64_t events_;
  std::uint64_t number_ = 0;
  std::string error_;
  std::string name_ = "<generated>";
};

// Checks each event against the one expected at its place, keeps none.
class CheckingSink final : public Sink {
 public:
  std::string put(const Event& event) override {
    const std::uint64_t i = count_++;
    const ThreadId thread = static_cast<ThreadId>(i % 7);
    const std::uint64_t page = 0x10000 + (i % 100000) * 0x1000;
    Event expected;
    switch (i % 4) {
      case 0: expected = Access{thread, page + 8, AccessKind::write}; break;
      case 1: expected = Access{thread, page, AccessKind::read}; break;
      case 2: expected = Mmap{thread, page, 0x1000, Prot::read | Prot::write, MapFlags::anonymous}; break;
      default: expected = Munmap{thread, page, 0x1000}; break;
    }
    if (event != expected) return "event " + std::to_string(i) + " is not the one expected";
    return {};
  }
  std::uint64_t count() const { return count_; }

 private:
  std::uint64_t count_ = 0;
};

TEST(TraceReader, StreamsTwoMillionLinesInOrder) {
  constexpr std::uint64_t kEvents = 2'000'000;
  GeneratedTrace lines(kEvents);
  CheckingSink sink;
  ReadStats stats;
  const std::optional<ReadError> e = read_trace(lines, sink, &stats);
  EXPECT_FALSE(e.has_value()) << e->describe();
  EXPECT_EQ(sink.count(), kEvents);
  EXPECT_EQ(stats.events, kEvents);
  EXPECT_EQ(stats.lines, kEvents + 1);
}

// ---- writing ---------------------------------------------------------------------

TEST(TraceWriter, WritesTheHeaderThenOneLinePerEvent) {
  ScratchDir dir;
  std::string error;
  auto out = OutputFile::open(dir.file("w.tlbt"), error);
  ASSERT_NE(out, nullptr) << error;
  TraceWriter writer(*out);
  for (const Event& event : example_events()) EXPECT_EQ(writer.put(event), "");
  EXPECT_EQ(out->commit(), "");
  EXPECT_EQ(test::read_file(dir.file("w.tlbt")),
            "tlbkit-trace 1\n"
            "space 1 process\n"
            "thread 100 1 pe=0\n"
            "thread 101 1 pe=1\n"
            "mmap 100 0x7f0000000000 0x10000 rw- anon,private\n"
            "w 100 0x7f0000000000\n"
            "r 101 0x7f0000001000\n"
            "munmap 100 0x7f0000000000 0x10000\n"
            "exit 101\n"
            "exit 100\n");
}

TEST(TraceWriter, CommentsGoAfterTheHeaderOneLineEach) {
  ScratchDir dir;
  std::string error;
  auto out = OutputFile::open(dir.file("c.tlbt"), error);
  ASSERT_NE(out, nullptr) << error;
  TraceWriter writer(*out);
  EXPECT_EQ(writer.comment("generated by tlbkit gen fork-storm"), "");
  EXPECT_EQ(writer.comment("threads=4\n\npages=16"), "");
  EXPECT_EQ(writer.put(Exit{4}), "");
  EXPECT_EQ(out->commit(), "");
  EXPECT_EQ(test::read_file(dir.file("c.tlbt")),
            "tlbkit-trace 1\n"
            "# generated by tlbkit gen fork-storm\n"
            "# threads=4\n"
            "#\n"
            "# pages=16\n"
            "exit 4\n");
}

TEST(TraceWriter, RefusesWhatTheReaderWouldRefuseAndWritesNothingForIt) {
  ScratchDir dir;
  std::string error;
  auto out = OutputFile::open(dir.file("r.tlbt"), error);
  ASSERT_NE(out, nullptr) << error;
  TraceWriter writer(*out);
  EXPECT_EQ(writer.put(Munmap{1, 0x1001, 0x1000}), "misaligned address '0x1001' (not a multiple of 4 KiB)");
  EXPECT_EQ(writer.put(ThreadStart{1, 2, 64}), "pe '64' is out of range (0..63)");
  EXPECT_EQ(writer.put(Access{1, 0x1000000000000, AccessKind::read}),
            "out of range: address '0x1000000000000' is beyond the 48-bit input space");
  EXPECT_EQ(writer.put(OptionNoAccesses{}), "");
  EXPECT_EQ(writer.put(Exit{1}), "");
  EXPECT_EQ(writer.put(OptionNoAccesses{}), "option after the first event (options come before all events)");
  EXPECT_EQ(writer.comment(std::string("a\0b", 3)), "comment holds a NUL byte");
  EXPECT_EQ(out->commit(), "");
  EXPECT_EQ(test::read_file(dir.file("r.tlbt")), "tlbkit-trace 1\noption accesses=none\nexit 1\n");
}

TEST(TraceWriter, AWrittenZstdTraceReadsBackAsTheSameEvents) {
  ScratchDir dir;
  std::string error;
  auto out = OutputFile::open(dir.file("rt.tlbt.zst"), error);
  ASSERT_NE(out, nullptr) << error;
  TraceWriter writer(*out);
  EXPECT_EQ(writer.comment("round trip"), "");
  std::vector<Event> written;
  for (int round = 0; round < 5000; ++round) {
    for (Event event : example_events()) {
      written.push_back(event);
      EXPECT_EQ(writer.put(event), "");
    }
  }
  EXPECT_EQ(out->commit(), "");
  auto lines = open_lines(dir.file("rt.tlbt.zst"), error);
  ASSERT_NE(lines, nullptr) << error;
  VectorSink sink;
  const std::optional<ReadError> e = read_trace(*lines, sink);
  EXPECT_FALSE(e.has_value()) << e->describe();
  EXPECT_EQ(sink.events.size(), written.size());
  EXPECT_TRUE(sink.events == written);
}

}  // namespace
}  // namespace tlbkit::trace
