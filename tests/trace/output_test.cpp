// All-or-nothing output files: written to a temporary beside the target,
// renamed over it by commit(), removed when abandoned; compressed by name.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>
#include <vector>

#include "trace/trace_support.hpp"
#include "tlbkit/trace/input.hpp"
#include "tlbkit/trace/output.hpp"

namespace tlbkit::trace {
namespace {

using test::ScratchDir;
using Names = std::vector<std::string>;

std::unique_ptr<OutputFile> open_ok(const std::string& path) {
  std::string error;
  std::unique_ptr<OutputFile> out = OutputFile::open(path, error);
  EXPECT_NE(out, nullptr) << error;
  EXPECT_EQ(error, "");
  return out;
}

// Lines that fill several 64 KiB buffers.
std::string big_text() {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "w " + std::to_string(i) + " 0x" + std::to_string(i * 4096) + "\n";
  return text;
}

TEST(TraceOutput, CommitRenamesTheTemporaryOverTheTarget) {
  ScratchDir dir;
  auto out = open_ok(dir.file("out.tlbt"));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->path(), dir.file("out.tlbt"));
  EXPECT_EQ(out->write("tlbkit-trace 1\n"), "");
  EXPECT_EQ(out->write("exit 1\n"), "");
  // Before commit, only the temporary exists, beside the target.
  const Names before = dir.names();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_TRUE(before[0].starts_with("out.tlbt.tmp.")) << before[0];
  EXPECT_EQ(before[0].size(), std::string("out.tlbt.tmp.XXXXXX").size());

  EXPECT_EQ(out->commit(), "");
  EXPECT_EQ(dir.names(), Names{"out.tlbt"});
  EXPECT_EQ(test::read_file(dir.file("out.tlbt")), "tlbkit-trace 1\nexit 1\n");
  out.reset();
  EXPECT_EQ(dir.names(), Names{"out.tlbt"});  // destroying a committed file keeps it
}

TEST(TraceOutput, CommitReplacesAnExistingTarget) {
  ScratchDir dir;
  test::write_file(dir.file("out.tlbt"), "old contents\n");
  auto out = open_ok(dir.file("out.tlbt"));
  EXPECT_EQ(test::read_file(dir.file("out.tlbt")), "old contents\n");
  EXPECT_EQ(out->write("new\n"), "");
  EXPECT_EQ(out->commit(), "");
  EXPECT_EQ(test::read_file(dir.file("out.tlbt")), "new\n");
}

TEST(TraceOutput, AnAbandonedFileLeavesNoTemporaryAndTheTargetUntouched) {
  ScratchDir dir;
  test::write_file(dir.file("out.tlbt.gz"), "the previous run\n");
  {
    auto out = open_ok(dir.file("out.tlbt.gz"));
    EXPECT_EQ(out->write(big_text()), "");
    EXPECT_EQ(dir.names().size(), 2u);
  }  // no commit: an error stopped the writer
  EXPECT_EQ(dir.names(), Names{"out.tlbt.gz"});
  EXPECT_EQ(test::read_file(dir.file("out.tlbt.gz")), "the previous run\n");
}

TEST(TraceOutput, AnAbandonedNewFileLeavesNothing) {
  ScratchDir dir;
  {
    auto out = open_ok(dir.file("new.tlbt.zst"));
    EXPECT_EQ(out->write("exit 1\n"), "");
  }
  EXPECT_EQ(dir.names(), Names{});
}

TEST(TraceOutput, NothingIsWrittenAfterCommit) {
  ScratchDir dir;
  auto out = open_ok(dir.file("out.tlbt"));
  EXPECT_EQ(out->write("a\n"), "");
  EXPECT_EQ(out->commit(), "");
  EXPECT_EQ(out->write("b\n"), "cannot write " + dir.file("out.tlbt") + ": already committed");
  EXPECT_EQ(out->commit(), "cannot commit " + dir.file("out.tlbt") + ": already committed");
  EXPECT_EQ(test::read_file(dir.file("out.tlbt")), "a\n");
}

TEST(TraceOutput, GzipOutputIsGzipThatZlibReadsBack) {
  ScratchDir dir;
  const std::string text = big_text();
  auto out = open_ok(dir.file("out.tlbt.gz"));
  EXPECT_EQ(out->write(text.substr(0, 1000)), "");
  EXPECT_EQ(out->write(text.substr(1000)), "");
  EXPECT_EQ(out->commit(), "");
  const std::string bytes = test::read_file(dir.file("out.tlbt.gz"));
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes.substr(0, 2), "\x1f\x8b");
  EXPECT_LT(bytes.size(), text.size() / 2);
  EXPECT_EQ(test::gunzip_file(dir.file("out.tlbt.gz")), text);
}

TEST(TraceOutput, ZstdOutputIsZstdThatLibzstdReadsBack) {
  ScratchDir dir;
  const std::string text = big_text();
  auto out = open_ok(dir.file("out.tlbt.zst"));
  for (std::size_t at = 0; at < text.size(); at += 777) EXPECT_EQ(out->write(text.substr(at, 777)), "");
  EXPECT_EQ(out->commit(), "");
  const std::string bytes = test::read_file(dir.file("out.tlbt.zst"));
  EXPECT_EQ(bytes.substr(0, 4), "\x28\xb5\x2f\xfd");
  EXPECT_LT(bytes.size(), text.size() / 2);
  EXPECT_EQ(test::unzstd(bytes, text.size() + 1), text);
}

TEST(TraceOutput, CompressedOutputsReadBackThroughOpenLines) {
  ScratchDir dir;
  const std::string text = big_text();
  for (const char* name : {"t.tlbt", "t.tlbt.gz", "t.tlbt.zst"}) {
    auto out = open_ok(dir.file(name));
    EXPECT_EQ(out->write(text), "");
    EXPECT_EQ(out->commit(), "");
    std::string error;
    auto in = open_lines(dir.file(name), error);
    ASSERT_NE(in, nullptr) << error;
    std::string back;
    for (const std::string& line : test::all_lines(*in)) back += line + "\n";
    EXPECT_EQ(in->error(), "") << name;
    EXPECT_EQ(back, text) << name;
  }
}

TEST(TraceOutput, AnEmptyCompressedFileIsAValidEmptyStream) {
  ScratchDir dir;
  for (const char* name : {"e.gz", "e.zst"}) {
    auto out = open_ok(dir.file(name));
    EXPECT_EQ(out->commit(), "");
    std::string error;
    auto in = open_lines(dir.file(name), error);
    ASSERT_NE(in, nullptr) << error;
    EXPECT_EQ(test::all_lines(*in), std::vector<std::string>{}) << name;
    EXPECT_EQ(in->error(), "") << name;
  }
}

TEST(TraceOutput, TheCommittedFileHasTheModeOpenWouldGiveIt) {
  ScratchDir dir;
  const mode_t old = ::umask(022);
  auto out = open_ok(dir.file("out.tlbt"));
  EXPECT_EQ(out->commit(), "");
  ::umask(old);
  struct stat st{};
  ASSERT_EQ(::stat(dir.file("out.tlbt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(TraceOutput, ATemporaryThatCannotBeCreatedIsAnError) {
  std::string error;
  EXPECT_EQ(OutputFile::open("/nonexistent/out.tlbt", error), nullptr);
  EXPECT_EQ(error, "cannot create temporary for /nonexistent/out.tlbt: No such file or directory");
}

TEST(TraceOutput, ACommitThatCannotRenameLeavesNoTemporary) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.file("taken"));
  std::filesystem::create_directory(dir.file("taken/sub"));  // rename over a non-empty directory fails
  auto out = open_ok(dir.file("taken"));
  EXPECT_EQ(out->write("x\n"), "");
  const std::string error = out->commit();
  EXPECT_TRUE(error.starts_with("cannot rename " + dir.file("taken.tmp.")) && error.ends_with(": Is a directory"))
      << error;
  out.reset();
  EXPECT_EQ(dir.names(), Names{"taken"});
}

TEST(TraceOutput, StandardOutputIsNamedDash) {
  auto out = open_ok("-");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->path(), "-");
  EXPECT_EQ(out->commit(), "");
}

}  // namespace
}  // namespace tlbkit::trace
