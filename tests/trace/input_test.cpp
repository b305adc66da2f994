// Lines from memory and from plain, gzip and zstd files: the same lines
// whatever the coding (told by the first bytes, not the name), and every
// kind of input refused with what is wrong.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trace/trace_support.hpp"
#include "tlbkit/trace/input.hpp"

namespace tlbkit::trace {
namespace {

using test::all_lines;
using test::ScratchDir;
using Lines = std::vector<std::string>;

// Many lines of varied lengths: several of the reader's 64 KiB buffers,
// and more once compressed.
std::string many_lines(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += "r " + std::to_string(i % 97) + " 0x" + std::to_string(1000000 + i * 7) + std::string(i % 13, ' ') + "\n";
  }
  return text;
}

Lines split(const std::string& text) {
  Lines lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

std::unique_ptr<LineSource> open_ok(const std::string& path) {
  std::string error;
  std::unique_ptr<LineSource> source = open_lines(path, error);
  EXPECT_NE(source, nullptr) << error;
  EXPECT_EQ(error, "");
  return source;
}

// ---- lines and their ends ----------------------------------------------------

TEST(TraceInput, LinesEndAtNewlinesOrCarriageReturnNewlinesOrTheEnd) {
  auto source = lines_of("a\nb b\r\n\nlast");
  EXPECT_EQ(all_lines(*source), (Lines{"a", "b b", "", "last"}));
  EXPECT_EQ(source->error(), "");
  EXPECT_EQ(source->line_number(), 4u);
  EXPECT_EQ(source->name(), "<memory>");
}

TEST(TraceInput, AFinalNewlineEndsTheLastLineWithoutAddingOne) {
  auto source = lines_of("one\ntwo\n", "t.tlbt");
  EXPECT_EQ(all_lines(*source), (Lines{"one", "two"}));
  EXPECT_EQ(source->name(), "t.tlbt");
  auto empty = lines_of("");
  EXPECT_EQ(all_lines(*empty), Lines{});
  EXPECT_EQ(empty->line_number(), 0u);
  EXPECT_EQ(empty->error(), "");
}

TEST(TraceInput, ALineOf64KiBIsAcceptedAndOneByteMoreIsRefused) {
  const std::string longest(LineSource::kMaxLine, 'x');
  auto fits = lines_of("a\n" + longest + "\r\nb\n");
  EXPECT_EQ(all_lines(*fits), (Lines{"a", longest, "b"}));
  EXPECT_EQ(fits->error(), "");

  auto too_long = lines_of("a\n" + longest + "y\nb\n");
  EXPECT_EQ(all_lines(*too_long), Lines{"a"});
  EXPECT_EQ(too_long->error(), "line longer than 65536 bytes");
  EXPECT_EQ(too_long->line_number(), 1u);  // the refused line is the next one
}

TEST(TraceInput, ALongRunWithoutNewlineIsRefusedWithoutReadingItAll) {
  auto source = lines_of(std::string(8 << 20, 'z'));
  std::string line;
  EXPECT_FALSE(source->next(line));
  EXPECT_EQ(source->error(), "line longer than 65536 bytes");
  EXPECT_FALSE(source->next(line));  // and stays refused
}

TEST(TraceInput, ANulByteIsRefusedAsBinaryData) {
  auto source = lines_of(std::string("ok\nbad\0line\nnever\n", 18));
  EXPECT_EQ(all_lines(*source), Lines{"ok"});
  EXPECT_EQ(source->error(), "binary data (NUL byte)");
  EXPECT_EQ(source->line_number(), 1u);
}

TEST(TraceInput, ANulByteInAFileIsRefusedToo) {
  ScratchDir dir;
  test::write_file(dir.file("bin"), std::string("tlbkit-trace 1\n\x7f" "ELF\0\0\0", 22));
  auto source = open_ok(dir.file("bin"));
  EXPECT_EQ(all_lines(*source), Lines{"tlbkit-trace 1"});
  EXPECT_EQ(source->error(), "binary data (NUL byte)");
}

// ---- files, compressed or not -----------------------------------------------------

TEST(TraceInput, PlainGzipAndZstdFilesReadTheSameLines) {
  ScratchDir dir;
  const std::string text = many_lines(200000);
  const Lines expected = split(text);
  test::write_file(dir.file("t.tlbt"), text);
  test::write_file(dir.file("t.tlbt.gz"), test::gzip(text));
  test::write_file(dir.file("t.tlbt.zst"), test::zstd(text));
  for (const char* name : {"t.tlbt", "t.tlbt.gz", "t.tlbt.zst"}) {
    auto source = open_ok(dir.file(name));
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(all_lines(*source), expected) << name;
    EXPECT_EQ(source->error(), "") << name;
    EXPECT_EQ(source->line_number(), 200000u) << name;
    EXPECT_EQ(source->name(), dir.file(name));
  }
}

TEST(TraceInput, TheCodingIsToldByTheFirstBytesNotTheName) {
  ScratchDir dir;
  test::write_file(dir.file("plain.gz"), "a\nb\n");
  test::write_file(dir.file("packed.txt"), test::gzip("c\nd\n"));
  test::write_file(dir.file("packed"), test::zstd("e\nf"));
  EXPECT_EQ(all_lines(*open_ok(dir.file("plain.gz"))), (Lines{"a", "b"}));
  EXPECT_EQ(all_lines(*open_ok(dir.file("packed.txt"))), (Lines{"c", "d"}));
  EXPECT_EQ(all_lines(*open_ok(dir.file("packed"))), (Lines{"e", "f"}));
}

TEST(TraceInput, ConcatenatedGzipMembersAndZstdFramesReadAsOne) {
  ScratchDir dir;
  // A line split across the two parts joins up.
  test::write_file(dir.file("two.gz"), test::gzip("a\nb") + test::gzip("c\nd\n") + test::gzip(""));
  test::write_file(dir.file("two.zst"), test::zstd("a\nb") + test::zstd("c\nd\n"));
  EXPECT_EQ(all_lines(*open_ok(dir.file("two.gz"))), (Lines{"a", "bc", "d"}));
  EXPECT_EQ(all_lines(*open_ok(dir.file("two.zst"))), (Lines{"a", "bc", "d"}));
}

TEST(TraceInput, ShortAndEmptyFilesAreRead) {
  ScratchDir dir;
  test::write_file(dir.file("empty"), "");
  test::write_file(dir.file("one"), "x");
  EXPECT_EQ(all_lines(*open_ok(dir.file("empty"))), Lines{});
  EXPECT_EQ(all_lines(*open_ok(dir.file("one"))), Lines{"x"});
}

TEST(TraceInput, CompressedInputGetsTheSameChecksAsPlain) {
  ScratchDir dir;
  test::write_file(dir.file("nul.gz"), test::gzip(std::string("a\n\0\n", 4)));
  test::write_file(dir.file("long.zst"), test::zstd(std::string(100000, 'q')));
  auto nul = open_ok(dir.file("nul.gz"));
  EXPECT_EQ(all_lines(*nul), Lines{"a"});
  EXPECT_EQ(nul->error(), "binary data (NUL byte)");
  auto long_line = open_ok(dir.file("long.zst"));
  EXPECT_EQ(all_lines(*long_line), Lines{});
  EXPECT_EQ(long_line->error(), "line longer than 65536 bytes");
}

// ---- broken compressed data ---------------------------------------------------------

TEST(TraceInput, TruncatedGzipIsAnErrorAfterTheLinesBeforeTheCut) {
  ScratchDir dir;
  const std::string text = many_lines(100000);
  const std::string packed = test::gzip(text);
  test::write_file(dir.file("cut.gz"), packed.substr(0, packed.size() / 2));
  auto source = open_ok(dir.file("cut.gz"));
  const Lines lines = all_lines(*source);
  EXPECT_GT(lines.size(), 1000u);
  EXPECT_LT(lines.size(), 100000u);
  EXPECT_EQ(source->error(), "truncated gzip data");
  // What was read is what was written.
  const Lines expected = split(text);
  EXPECT_TRUE(std::equal(lines.begin(), lines.end(), expected.begin()));
}

TEST(TraceInput, AGzipFileCutInItsTrailerIsTruncatedToo) {
  ScratchDir dir;
  const std::string packed = test::gzip("a\nb\n");
  test::write_file(dir.file("cut.gz"), packed.substr(0, packed.size() - 3));  // part of the length field
  auto source = open_ok(dir.file("cut.gz"));
  all_lines(*source);
  EXPECT_EQ(source->error(), "truncated gzip data");
  test::write_file(dir.file("magic.gz"), "\x1f\x8b");
  auto magic = open_ok(dir.file("magic.gz"));
  EXPECT_EQ(all_lines(*magic), Lines{});
  EXPECT_EQ(magic->error(), "truncated gzip data");
}

TEST(TraceInput, TruncatedZstdIsAnError) {
  ScratchDir dir;
  const std::string text = many_lines(100000);
  const std::string packed = test::zstd(text);
  test::write_file(dir.file("cut.zst"), packed.substr(0, packed.size() / 2));
  auto source = open_ok(dir.file("cut.zst"));
  const Lines lines = all_lines(*source);
  EXPECT_LT(lines.size(), 100000u);
  EXPECT_EQ(source->error(), "truncated zstd data");
  test::write_file(dir.file("magic.zst"), "\x28\xb5\x2f\xfd");
  auto magic = open_ok(dir.file("magic.zst"));
  EXPECT_EQ(all_lines(*magic), Lines{});
  EXPECT_EQ(magic->error(), "truncated zstd data");
}

TEST(TraceInput, CorruptGzipAndZstdDataAreErrorsNamingTheCoding) {
  ScratchDir dir;
  std::string gz = test::gzip("a\nb\n");
  gz[10] = '\xff';  // the first deflate block: final, of the reserved type 3
  test::write_file(dir.file("bad.gz"), gz);
  auto bad_gz = open_ok(dir.file("bad.gz"));
  all_lines(*bad_gz);
  EXPECT_EQ(bad_gz->error(), "corrupt gzip data: invalid block type");

  // A frame header descriptor with its reserved bit set.
  test::write_file(dir.file("bad.zst"), std::string("\x28\xb5\x2f\xfd\x08\x00\x00\x00\x00\x00\x00\x00", 12));
  auto bad_zst = open_ok(dir.file("bad.zst"));
  all_lines(*bad_zst);
  EXPECT_TRUE(bad_zst->error().starts_with("corrupt zstd data: ")) << bad_zst->error();
}

TEST(TraceInput, GarbageAfterAGzipMemberIsCorruptData) {
  ScratchDir dir;
  test::write_file(dir.file("tail.gz"), test::gzip("a\n") + "trailing words");
  auto source = open_ok(dir.file("tail.gz"));
  EXPECT_EQ(all_lines(*source), Lines{"a"});
  EXPECT_TRUE(source->error().starts_with("corrupt gzip data")) << source->error();
}

// ---- files that cannot be read -------------------------------------------------------

TEST(TraceInput, AMissingFileCannotBeOpened) {
  std::string error;
  EXPECT_EQ(open_lines("/nonexistent/trace.tlbt", error), nullptr);
  EXPECT_EQ(error, "cannot open /nonexistent/trace.tlbt: No such file or directory");
}

TEST(TraceInput, ADirectoryCannotBeRead) {
  ScratchDir dir;
  std::string error;
  EXPECT_EQ(open_lines(dir.file(""), error), nullptr);
  EXPECT_EQ(error, "cannot read " + dir.file("") + ": Is a directory");
}

}  // namespace
}  // namespace tlbkit::trace
