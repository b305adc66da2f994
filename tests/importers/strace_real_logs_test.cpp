// importers::import_strace on real logs (tests/data/strace, made as
// tests/data/README.md says): the events are checked against what this
// test reads from the raw log by other means (string searches over the
// lines, its own joining of split calls), and against the rules every
// trace must keep (a thread exists between its start and its one exit;
// space ids count up).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "import_helpers.hpp"

namespace tlbkit::importers::test {
namespace {

struct Log {
  const char* file;
  bool follows_forks;  // recorded with -f: every line has a pid
};

const Log kLogs[] = {
    {"threads_fork_exec.log.gz", true},
    {"python_threads_subprocess.log.gz", true},
    {"threads_fork_exec_nofollow.log.gz", false},
    // Recorded on AArch64 (Linux 6.1 arm64 under qemu-system-aarch64): no
    // fork or vfork, clone with flags; user addresses at 0xffff... and
    // 0xaaaa....
    {"busybox_pipeline.aarch64.log.gz", true},
};

std::string path_of(const Log& log) { return std::string(TLBKIT_TEST_DATA) + "/strace/" + log.file; }

std::vector<std::string> raw_lines(const std::string& path) {
  std::string error;
  auto source = trace::open_lines(path, error);
  EXPECT_TRUE(source) << error;
  std::vector<std::string> lines;
  if (!source) return lines;
  std::string line;
  while (source->next(line)) lines.push_back(line);
  EXPECT_EQ(source->error(), "");
  return lines;
}

std::uint64_t pages(std::uint64_t length) { return (length + 0xfff) & ~std::uint64_t{0xfff}; }

// What the raw log says, read with plain string searches (not the
// importer's way: the result is what follows the last " = ", arguments are
// split at ", ").
struct RawFacts {
  std::multiset<std::pair<std::uint64_t, std::uint64_t>> mmaps;    // (returned address, length in pages)
  std::multiset<std::pair<std::uint64_t, std::uint64_t>> munmaps;  // (address, length in pages)
  std::size_t mprotects = 0;
  std::size_t mremaps = 0;
  std::size_t dropping_madvises = 0;
  std::size_t brks = 0;
  std::size_t execs = 0;
  std::size_t vm_clones = 0;     // clone-like calls with CLONE_VM (vfork() included)
  std::size_t copy_clones = 0;   // without: fork
  std::size_t supersedes = 0;
  std::set<std::uint32_t> pids;  // every pid on a line
  std::set<std::uint32_t> ended; // pids with an "exited" / "killed" line
};

std::vector<std::string> words(const std::string& s, const std::string& separator) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (std::size_t next; (next = s.find(separator, at)) != std::string::npos; at = next + separator.size()) {
    if (next > at) out.push_back(s.substr(at, next - at));
  }
  if (at < s.size()) out.push_back(s.substr(at));
  return out;
}

bool stamp_or_number(const std::string& word) {
  return std::all_of(word.begin(), word.end(), [](char c) { return std::isdigit(c) || c == '.' || c == ':'; });
}

RawFacts read_raw(const std::vector<std::string>& lines, bool with_pids) {
  RawFacts facts;
  std::map<std::uint32_t, std::string> started;
  const std::string unfinished = " <unfinished ...>";
  for (const std::string& line : lines) {
    // The body starts at the first word that is neither a pid nor a timestamp.
    const std::vector<std::string> w = words(line, " ");
    std::size_t first = 0;
    while (first < w.size() && stamp_or_number(w[first])) ++first;
    if (first == w.size()) continue;
    const bool pid_first = first > 0 && w[0].find_first_of(".:") == std::string::npos;
    EXPECT_EQ(pid_first, with_pids) << line;
    const std::uint32_t pid = pid_first ? static_cast<std::uint32_t>(std::stoul(w[0])) : 1;
    facts.pids.insert(pid);
    std::string text = line.substr(line.find(w[first]));
    if (text.starts_with("+++ ")) {
      if (text.starts_with("+++ exited with ") || text.starts_with("+++ killed by ")) facts.ended.insert(pid);
      if (text.starts_with("+++ superseded by execve in pid ")) {
        ++facts.supersedes;  // the exec'ing thread's unfinished execve resumes on this pid
        started[pid] = started[static_cast<std::uint32_t>(std::stoul(w.at(first + 6)))];
      }
      continue;
    }
    if (text.ends_with(unfinished)) {
      started[pid] = text.substr(0, text.size() - unfinished.size());
      continue;
    }
    if (text.starts_with("<... ")) {
      text = started[pid] + text.substr(text.find('>') + 1);
      started.erase(pid);
    }
    const std::size_t open = text.find('(');
    const std::size_t equals = text.rfind(" = ");
    if (open == std::string::npos || equals == std::string::npos) continue;
    const std::size_t close = text.rfind(')', equals);
    const std::string name = text.substr(0, open);
    const std::string args = text.substr(open + 1, close - open - 1);
    const std::string result = words(text.substr(equals + 3), " ").at(0);
    if (result == "?" || result.starts_with("-")) continue;
    const std::vector<std::string> a = words(args, ", ");
    if (name == "mmap") {
      facts.mmaps.emplace(std::stoull(result, nullptr, 16), pages(std::stoull(a.at(1))));
    } else if (name == "munmap") {
      facts.munmaps.emplace(std::stoull(a.at(0), nullptr, 16), pages(std::stoull(a.at(1))));
    } else if (name == "mprotect") {
      ++facts.mprotects;
    } else if (name == "mremap") {
      ++facts.mremaps;
    } else if (name == "madvise" && (a.at(2) == "MADV_DONTNEED" || a.at(2) == "MADV_FREE")) {
      ++facts.dropping_madvises;
    } else if (name == "brk") {
      ++facts.brks;
    } else if (name == "execve") {
      ++facts.execs;
    } else if (name == "clone" || name == "clone3" || name == "fork" || name == "vfork") {
      const bool vm = name == "vfork" || args.find("CLONE_VM") != std::string::npos;
      ++(vm ? facts.vm_clones : facts.copy_clones);
    }
  }
  return facts;
}

class RealStraceLog : public ::testing::TestWithParam<Log> {};

TEST_P(RealStraceLog, ImportsWithOneEventPerSuccessfulCallThatTheLogsOwnLinesCount) {
  const Log log = GetParam();
  const std::vector<std::string> lines = raw_lines(path_of(log));
  ASSERT_FALSE(lines.empty());
  const RawFacts raw = read_raw(lines, log.follows_forks);

  std::string error;
  auto source = trace::open_lines(path_of(log), error);
  ASSERT_TRUE(source) << error;
  VectorSink sink;
  ImportStats stats;
  const auto failed = import_strace(*source, sink, &stats);
  ASSERT_FALSE(failed) << describe(*failed);
  const std::vector<trace::Event>& events = sink.events;

  EXPECT_EQ(stats.lines, lines.size());
  EXPECT_EQ(stats.events, events.size());
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(std::holds_alternative<trace::OptionNoAccesses>(events.front()));

  RawFacts got;
  std::size_t spaces = 0;
  std::size_t starts = 0;
  std::size_t forks = 0;
  for (const trace::Event& e : events) {
    if (const auto* m = std::get_if<trace::Mmap>(&e)) got.mmaps.emplace(m->addr, m->length);
    if (const auto* m = std::get_if<trace::Munmap>(&e)) got.munmaps.emplace(m->addr, m->length);
    got.mprotects += std::holds_alternative<trace::Mprotect>(e);
    got.mremaps += std::holds_alternative<trace::Mremap>(e);
    got.dropping_madvises += std::holds_alternative<trace::MadviseDontneed>(e);
    got.brks += std::holds_alternative<trace::Brk>(e);
    got.execs += std::holds_alternative<trace::Exec>(e);
    spaces += std::holds_alternative<trace::SpaceCreate>(e);
    starts += std::holds_alternative<trace::ThreadStart>(e);
    forks += std::holds_alternative<trace::Fork>(e);
  }
  EXPECT_EQ(got.mmaps, raw.mmaps);
  EXPECT_EQ(got.munmaps, raw.munmaps);
  EXPECT_EQ(got.mprotects, raw.mprotects);
  EXPECT_EQ(got.mremaps, raw.mremaps);
  EXPECT_EQ(got.dropping_madvises, raw.dropping_madvises);
  EXPECT_EQ(got.brks, raw.brks);
  EXPECT_EQ(got.execs, raw.execs);
  // Thread starts: one per process no call created, per CLONE_VM clone,
  // per execve that took its leader's pid.
  EXPECT_EQ(starts, spaces + raw.vm_clones + raw.supersedes);
  EXPECT_EQ(forks, raw.copy_clones);
  EXPECT_EQ(stats.calls, raw.mmaps.size() + raw.munmaps.size() + raw.mprotects + raw.mremaps +
                             raw.dropping_madvises + raw.brks + raw.execs + raw.vm_clones + raw.copy_clones);
}

TEST_P(RealStraceLog, EveryThreadThatStartsExitsOnceAndNoEventNamesAThreadNotAlive) {
  const Log log = GetParam();
  const RawFacts raw = read_raw(raw_lines(path_of(log)), log.follows_forks);
  std::string error;
  auto source = trace::open_lines(path_of(log), error);
  ASSERT_TRUE(source) << error;
  VectorSink sink;
  const auto failed = import_strace(*source, sink);
  ASSERT_FALSE(failed) << describe(*failed);

  std::set<trace::ThreadId> alive;
  std::set<trace::ThreadId> started;
  std::set<trace::ThreadId> exited;
  trace::SpaceId last_space = 0;
  const auto new_space = [&](trace::SpaceId s) {
    EXPECT_EQ(s, last_space + 1) << "space ids count up from 1";
    last_space = s;
  };
  const auto start = [&](trace::ThreadId t) {
    EXPECT_TRUE(alive.insert(t).second) << "thread " << t << " starts while alive";
    started.insert(t);
  };
  const auto acting = [&](trace::ThreadId t) { EXPECT_TRUE(alive.contains(t)) << "thread " << t << " is not alive"; };
  for (const trace::Event& e : sink.events) {
    if (const auto* s = std::get_if<trace::SpaceCreate>(&e)) new_space(s->space);
    if (const auto* t = std::get_if<trace::ThreadStart>(&e)) start(t->thread);
    if (const auto* f = std::get_if<trace::Fork>(&e)) {
      acting(f->parent);
      new_space(f->child_space);
      start(f->child);
    }
    if (const auto* x = std::get_if<trace::Exec>(&e)) {
      acting(x->thread);
      new_space(x->space);
    }
    if (const auto* x = std::get_if<trace::Exit>(&e)) {
      acting(x->thread);
      alive.erase(x->thread);
      exited.insert(x->thread);
    }
    if (const auto* m = std::get_if<trace::Mmap>(&e)) acting(m->thread);
    if (const auto* m = std::get_if<trace::Munmap>(&e)) acting(m->thread);
    if (const auto* m = std::get_if<trace::Mprotect>(&e)) acting(m->thread);
    if (const auto* m = std::get_if<trace::Mremap>(&e)) acting(m->thread);
    if (const auto* m = std::get_if<trace::MadviseDontneed>(&e)) acting(m->thread);
    if (const auto* m = std::get_if<trace::Brk>(&e)) acting(m->thread);
  }
  EXPECT_TRUE(alive.empty()) << alive.size() << " threads never exit";
  EXPECT_EQ(started, exited);
  // Every pid on a line is a thread of the trace, and every pid whose end
  // the log shows exits in it.
  for (const std::uint32_t pid : raw.pids) EXPECT_TRUE(started.contains(pid)) << pid;
  for (const std::uint32_t pid : raw.ended) EXPECT_TRUE(exited.contains(pid)) << pid;
  if (log.follows_forks) {
    EXPECT_EQ(started, raw.pids) << "with -f every thread shows in the log";
  }
}

INSTANTIATE_TEST_SUITE_P(TestsData, RealStraceLog, ::testing::ValuesIn(kLogs),
                         [](const ::testing::TestParamInfo<Log>& param) {
                           std::string name = param.param.file;
                           name = name.substr(0, name.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace tlbkit::importers::test
