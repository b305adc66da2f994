// importers::import_valgrind on real lackey logs (tests/data/valgrind: the
// programs' sources, the logs zstd-compressed; tests/data/README.md says
// how they were made). What the trace must hold is worked out here another
// way: the log's lines read with sscanf and string searches, the pages'
// mapping followed page by page, and the programs' own calls read off
// their sources.
#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tlbkit/importers/valgrind.hpp"
#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/input.hpp"

namespace tlbkit::importers {
namespace {

using trace::AccessKind;
using trace::Event;
using trace::Prot;

const std::string kData = TLBKIT_TEST_DATA "/valgrind/";
constexpr std::uint64_t kPage = 0x1000;

class VectorSink final : public trace::Sink {
 public:
  std::string put(const Event& event) override {
    events.push_back(event);
    return {};
  }
  std::vector<Event> events;
};

struct Imported {
  std::vector<Event> events;
  ImportStats stats;
};

Imported import_file(const std::string& name) {
  std::string error;
  std::unique_ptr<trace::LineSource> lines = trace::open_lines(kData + name, error);
  EXPECT_TRUE(lines) << error;
  Imported out;
  if (!lines) return out;
  VectorSink sink;
  const std::optional<trace::ReadError> bad = import_valgrind(*lines, sink, &out.stats);
  EXPECT_FALSE(bad) << bad->describe();
  out.events = std::move(sink.events);
  return out;
}

// What the log says, counted line by line without the importer.
struct LogFacts {
  std::uint64_t lines = 0;
  std::set<std::pair<std::uint64_t, AccessKind>> touched;  // (page, I -> fetch, L -> read, S and M -> write)
  // Successful calls: (result address, length rounded up) of sys_mmap.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> mmaps;
  std::uint64_t munmaps = 0;
  std::uint64_t mprotects = 0;
  std::uint64_t dontneeds = 0;  // madvise DONTNEED (4) or FREE (8)
  std::uint64_t clones = 0;
  std::set<unsigned> threads;  // TIDs of SYSCALL lines
};

// The thread of each "SYSCALL[PID,TID](NR) " in `line`, and where the
// text after each starts.
std::vector<std::pair<unsigned, std::size_t>> syscall_heads(const std::string& line) {
  std::vector<std::pair<unsigned, std::size_t>> heads;
  for (std::size_t at = line.find("SYSCALL["); at != std::string::npos; at = line.find("SYSCALL[", at + 1)) {
    const std::size_t comma = line.find(',', at);
    const std::size_t close = line.find(") ", at);
    if (comma == std::string::npos || close == std::string::npos) continue;
    heads.push_back({static_cast<unsigned>(std::stoul(line.substr(comma + 1))), close + 2});
  }
  return heads;
}

// The numbers of "a, b, c" (what is not a number, such as clone's bare
// hexadecimal flags, as far as it is one).
std::vector<std::uint64_t> numbers(const std::string& list) {
  std::vector<std::uint64_t> args;
  for (std::size_t at = 0; at < list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    args.push_back(std::strtoull(list.c_str() + at, nullptr, 0));
    at = comma + 1;
  }
  return args;
}

LogFacts read_facts(const std::string& name) {
  std::string error;
  std::unique_ptr<trace::LineSource> lines = trace::open_lines(kData + name, error);
  LogFacts facts;
  if (!lines) {
    ADD_FAILURE() << error;
    return facts;
  }
  std::map<unsigned, std::pair<std::string, std::vector<std::uint64_t>>> waiting;  // blocking calls by thread
  const auto count_call = [&](const std::string& call, const std::vector<std::uint64_t>& args, std::uint64_t result) {
    if (call == "sys_mmap") facts.mmaps.push_back({result, (args[1] + kPage - 1) / kPage * kPage});
    if (call == "sys_munmap") ++facts.munmaps;
    if (call == "sys_mprotect") ++facts.mprotects;
    if (call == "sys_madvise" && (args[2] == 4 || args[2] == 8)) ++facts.dontneeds;
    if (call == "sys_clone") ++facts.clones;
  };
  std::string line;
  while (lines->next(line)) {
    ++facts.lines;
    // An access line, or one glued after a SYSCALL line's "RESULT ".
    std::string access = line;
    if (line.rfind("SYSCALL[", 0) == 0) {
      const std::size_t end = line.rfind(") ");
      access = end == std::string::npos ? std::string() : line.substr(end + 2);
    }
    char kind = 0;
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    if (std::sscanf(access.c_str(), "I  %" SCNx64 ",%" SCNu64, &addr, &size) == 2) {
      kind = 'I';
    } else if (std::sscanf(access.c_str(), " %c %" SCNx64 ",%" SCNu64, &kind, &addr, &size) != 3) {
      kind = 0;
    }
    if (kind == 'I' || kind == 'L' || kind == 'S' || kind == 'M') {
      const AccessKind k = kind == 'I' ? AccessKind::fetch : kind == 'L' ? AccessKind::read : AccessKind::write;
      for (std::uint64_t page = addr / kPage; page <= (addr + (size == 0 ? 1 : size) - 1) / kPage; ++page) {
        facts.touched.insert({page * kPage, k});
      }
    }
    for (const auto& [tid, at] : syscall_heads(line)) {
      facts.threads.insert(tid);
      const std::string rest = line.substr(at);
      if (rest.rfind("... [async] --> Success(", 0) == 0) {
        // The completion of a blocking call (perhaps glued to a line).
        if (const auto w = waiting.find(tid); w != waiting.end()) {
          count_call(w->second.first, w->second.second, 0);
          waiting.erase(w);
        }
        continue;
      }
      // "NAME ( ARGS ) ..." of a call (the other forms do not count here).
      const std::size_t open = rest.find(" ( ");
      const std::size_t close = rest.find(" )", open);
      if (open == std::string::npos || close == std::string::npos) continue;
      const std::string call = rest.substr(0, open);
      const std::vector<std::uint64_t> args = numbers(rest.substr(open + 3, close - open - 3));
      const std::string after = rest.substr(close + 2);
      const std::size_t success = after.find("--> ");
      if (after.rfind(" --> [async]", 0) == 0) {
        waiting[tid] = {call, args};
      } else if (success != std::string::npos && after.find("Success(0x", success) != std::string::npos) {
        count_call(call, args, std::strtoull(after.c_str() + after.find("Success(0x", success) + 10, nullptr, 16));
      }
    }
  }
  return facts;
}

// Counts events of type E.
template <typename E>
std::uint64_t count(const std::vector<Event>& events) {
  std::uint64_t n = 0;
  for (const Event& e : events) n += std::holds_alternative<E>(e) ? 1 : 0;
  return n;
}

// Follows the trace page by page (the importer keeps ranges) and checks
// that every access falls on a page mapped with the right it needs, by a
// thread that is alive: nothing in the trace would segfault.
void expect_every_access_mapped(const std::vector<Event>& events) {
  std::map<std::uint64_t, Prot> pages;
  std::set<trace::ThreadId> alive;
  std::optional<std::uint64_t> heap_end;
  std::uint64_t checked = 0;
  for (const Event& event : events) {
    if (const auto* e = std::get_if<trace::ThreadStart>(&event)) alive.insert(e->thread);
    if (const auto* e = std::get_if<trace::Exit>(&event)) alive.erase(e->thread);
    if (const auto* e = std::get_if<trace::Mmap>(&event)) {
      for (std::uint64_t p = e->addr; p < e->addr + e->length; p += kPage) pages[p] = e->prot;
    }
    if (const auto* e = std::get_if<trace::Munmap>(&event)) {
      for (std::uint64_t p = e->addr; p < e->addr + e->length; p += kPage) pages.erase(p);
    }
    if (const auto* e = std::get_if<trace::Mprotect>(&event)) {
      for (std::uint64_t p = e->addr; p < e->addr + e->length; p += kPage) {
        if (pages.count(p) != 0) pages[p] = e->prot;
      }
    }
    if (const auto* e = std::get_if<trace::Mremap>(&event)) {
      std::map<std::uint64_t, Prot> moved;
      Prot last = Prot::read | Prot::write;
      for (std::uint64_t off = 0; off < std::min(e->old_length, e->new_length); off += kPage) {
        if (auto it = pages.find(e->old_addr + off); it != pages.end()) {
          moved[e->new_addr + off] = it->second;
          last = it->second;
        }
      }
      for (std::uint64_t off = e->old_length; off < e->new_length; off += kPage) moved[e->new_addr + off] = last;
      for (std::uint64_t off = 0; off < e->old_length; off += kPage) pages.erase(e->old_addr + off);
      for (std::uint64_t off = 0; off < e->new_length; off += kPage) pages.erase(e->new_addr + off);
      pages.insert(moved.begin(), moved.end());
    }
    if (const auto* e = std::get_if<trace::Brk>(&event)) {
      if (heap_end) {
        for (std::uint64_t p = *heap_end; p < e->addr; p += kPage) pages[p] = Prot::read | Prot::write;
        for (std::uint64_t p = e->addr; p < *heap_end; p += kPage) pages.erase(p);
      }
      heap_end = e->addr;
    }
    if (const auto* e = std::get_if<trace::Access>(&event)) {
      ++checked;
      EXPECT_EQ(alive.count(e->thread), 1u) << trace::format_event(event);
      const auto it = pages.find(e->addr);
      ASSERT_NE(it, pages.end()) << "unmapped: " << trace::format_event(event);
      const Prot prot = it->second;
      const bool ok = e->kind == AccessKind::fetch   ? trace::has(prot, Prot::exec)
                      : e->kind == AccessKind::write ? trace::has(prot, Prot::write)
                                                     : trace::has(prot, Prot::read) || trace::has(prot, Prot::write);
      EXPECT_TRUE(ok) << "not allowed: " << trace::format_event(event);
    }
  }
  EXPECT_GT(checked, 0u);
}

// The events' (page, kind) pairs against the log's.
void expect_pages_as_in_the_log(const std::vector<Event>& events, const LogFacts& facts) {
  std::set<std::pair<std::uint64_t, AccessKind>> emitted;
  std::uint64_t accesses = 0;
  for (const Event& event : events) {
    if (const auto* e = std::get_if<trace::Access>(&event)) {
      emitted.insert({e->addr, e->kind});
      ++accesses;
    }
  }
  // Fetched and written pages are exactly the log's; a read may collapse
  // into a write of its page, never into nothing.
  for (const auto& [page, kind] : facts.touched) {
    if (kind == AccessKind::read) {
      EXPECT_TRUE(emitted.count({page, AccessKind::read}) + emitted.count({page, AccessKind::write}) > 0)
          << std::hex << page;
    } else {
      EXPECT_EQ(emitted.count({page, kind}), 1u) << std::hex << page;
    }
  }
  for (const auto& pair : emitted) EXPECT_EQ(facts.touched.count(pair), 1u) << std::hex << pair.first;
  std::set<std::uint64_t> distinct_log;
  std::set<std::uint64_t> distinct_events;
  for (const auto& pair : facts.touched) distinct_log.insert(pair.first);
  for (const auto& pair : emitted) distinct_events.insert(pair.first);
  EXPECT_EQ(distinct_events, distinct_log);
  EXPECT_GE(accesses, distinct_events.size());
}

// The log's successful sys_mmap calls appear in order among the mmap
// events; every other mmap event is an implied one.
void expect_mmaps_as_in_the_log(const std::vector<Event>& events, const LogFacts& facts, const ImportStats& stats) {
  std::size_t next = 0;
  std::uint64_t others = 0;
  for (const Event& event : events) {
    const auto* e = std::get_if<trace::Mmap>(&event);
    if (e == nullptr) continue;
    if (next < facts.mmaps.size() && facts.mmaps[next] == std::pair{e->addr, e->length}) {
      ++next;
    } else {
      ++others;
    }
  }
  EXPECT_EQ(next, facts.mmaps.size()) << "log mmaps not all found in order";
  // Implied mprotects are the rest of the implied events.
  const std::uint64_t implied_mprotects = stats.implied_vmas - others;
  EXPECT_EQ(count<trace::Mprotect>(events), facts.mprotects + implied_mprotects);
  EXPECT_EQ(count<trace::Munmap>(events), facts.munmaps);
  EXPECT_EQ(count<trace::MadviseDontneed>(events), facts.dontneeds);
}

// The calls' events from the first private anonymous mmap of `length`
// bytes on: no accesses, no implied VMAs (the programs make no
// anon,private,fixed mmap and no rwx mprotect).
std::vector<Event> calls_from(const std::vector<Event>& events, std::uint64_t length) {
  std::vector<Event> out;
  for (const Event& event : events) {
    if (const auto* e = std::get_if<trace::Mmap>(&event);
        out.empty() && (e == nullptr || e->length != length || e->flags != trace::MapFlags::anonymous)) {
      continue;
    }
    if (std::holds_alternative<trace::Access>(event)) continue;
    if (const auto* e = std::get_if<trace::Mmap>(&event);
        e != nullptr && e->flags == (trace::MapFlags::anonymous | trace::MapFlags::fixed)) {
      continue;
    }
    if (const auto* e = std::get_if<trace::Mprotect>(&event);
        e != nullptr && e->prot == (Prot::read | Prot::write | Prot::exec)) {
      continue;
    }
    out.push_back(event);
  }
  return out;
}

std::string show(const std::vector<Event>& events) {
  std::string out;
  for (const Event& e : events) out += "\n  " + trace::format_event(e);
  return out;
}

TEST(ValgrindRealLogs, MemoryCallsLogImportsEveryPageAndCallOfTheLog) {
  const Imported got = import_file("memory_calls.lackey.log.zst");
  const LogFacts facts = read_facts("memory_calls.lackey.log.zst");
  ASSERT_GT(got.events.size(), 2u);
  EXPECT_EQ(got.stats.lines, facts.lines);
  EXPECT_EQ(got.stats.events, got.events.size());
  EXPECT_EQ(got.events[0], Event(trace::SpaceCreate{1, trace::SpaceKind::process, 0}));
  EXPECT_EQ(got.events[1], Event(trace::ThreadStart{1, 1, trace::ThreadStart::kAnyPe}));
  EXPECT_EQ(got.events.back(), Event(trace::Exit{1}));
  EXPECT_EQ(count<trace::ThreadStart>(got.events), 1u);
  EXPECT_EQ(facts.threads, std::set<unsigned>{1});
  expect_pages_as_in_the_log(got.events, facts);
  expect_mmaps_as_in_the_log(got.events, facts, got.stats);
  expect_every_access_mapped(got.events);
  // Collapsing: far fewer accesses than access lines.
  EXPECT_LT(count<trace::Access>(got.events) * 4, facts.lines);
}

TEST(ValgrindRealLogs, MemoryCallsLogHasTheProgramsCallsInOrder) {
  const Imported got = import_file("memory_calls.lackey.log.zst");
  // memory_calls.c from its first mmap (5 pages and 100 bytes: 6 pages)
  // on: P is where it landed, R the second mmap, Q where the first mremap
  // put R; the failed mmap (EBADF) and madvise(WILLNEED) leave nothing, and
  // so does sbrk(0), which reads the break B (ld.so's brk(0) set it).
  const std::vector<Event> calls = calls_from(got.events, 0x6000);
  ASSERT_EQ(calls.size(), 14u) << show(calls);
  const std::uint64_t p = std::get<trace::Mmap>(calls[0]).addr;
  const std::uint64_t r = std::get<trace::Mmap>(calls[5]).addr;
  const std::uint64_t q = std::get<trace::Mremap>(calls[6]).new_addr;
  std::optional<std::uint64_t> b;
  for (const Event& e : got.events) {
    if (const auto* k = std::get_if<trace::Brk>(&e); k != nullptr && !b) b = k->addr;
  }
  ASSERT_TRUE(b);
  const Prot rw = Prot::read | Prot::write;
  const std::vector<Event> expected = {
      trace::Mmap{1, p, 0x6000, rw, trace::MapFlags::anonymous},
      trace::Mprotect{1, p + 0x1000, 0x1000, Prot::read},
      trace::MadviseDontneed{1, p + 0x2000, 0x1000},
      trace::MadviseDontneed{1, p + 0x3000, 0x1000},  // MADV_FREE
      trace::Munmap{1, p, 0x6000},
      trace::Mmap{1, r, 0x2000, rw, trace::MapFlags::anonymous},
      trace::Mremap{1, r, 0x2000, q, 0x8000},
      trace::Mremap{1, q, 0x8000, q, 0x3000},  // flags 0: in place
      trace::Mmap{1, 0x10000000, 0x1000, Prot::read,
                  trace::MapFlags::anonymous | trace::MapFlags::shared | trace::MapFlags::fixed},
      trace::Munmap{1, 0x10000000, 0x1000},
      trace::Munmap{1, q, 0x3000},
      trace::Brk{1, *b + 0x2000},
      trace::Brk{1, *b},
      trace::Exit{1},
  };
  EXPECT_TRUE(calls == expected) << "got:" << show(calls) << "\nexpected:" << show(expected);
}

TEST(ValgrindRealLogs, TwoThreadsLogImportsEveryPageAndCallOfTheLog) {
  const Imported got = import_file("two_threads.lackey.log.zst");
  const LogFacts facts = read_facts("two_threads.lackey.log.zst");
  ASSERT_GT(got.events.size(), 2u);
  EXPECT_EQ(got.stats.lines, facts.lines);
  EXPECT_EQ(got.events.back(), Event(trace::Exit{1}));
  // Valgrind's thread numbers: the main thread and one a clone.
  EXPECT_EQ(facts.threads, (std::set<unsigned>{1, 2, 3}));
  EXPECT_EQ(facts.clones, 2u);
  EXPECT_EQ(count<trace::ThreadStart>(got.events), 3u);
  EXPECT_EQ(count<trace::Exit>(got.events), 3u);
  expect_pages_as_in_the_log(got.events, facts);
  expect_mmaps_as_in_the_log(got.events, facts, got.stats);
  expect_every_access_mapped(got.events);
}

TEST(ValgrindRealLogs, TwoThreadsLogGivesEachWorkersPagesToItsThread) {
  const Imported got = import_file("two_threads.lackey.log.zst");
  // two_threads.c: buf is the first mmap of 16 pages; the worker created
  // first (valgrind thread 2) writes pages 4..7, the second (3) pages 8..11,
  // between their first calls and their exits; the main thread none.
  std::optional<std::uint64_t> buf;
  std::map<std::uint64_t, std::set<trace::ThreadId>> writers;  // page index -> threads
  for (const Event& event : got.events) {
    if (const auto* e = std::get_if<trace::Mmap>(&event);
        e != nullptr && e->length == 0x10000 && !buf && e->flags == trace::MapFlags::anonymous) {
      buf = e->addr;
    }
    if (const auto* e = std::get_if<trace::Access>(&event);
        e != nullptr && buf && e->kind == AccessKind::write && e->addr >= *buf && e->addr < *buf + 0x10000) {
      writers[(e->addr - *buf) / kPage].insert(e->thread);
    }
  }
  ASSERT_TRUE(buf);
  std::map<std::uint64_t, std::set<trace::ThreadId>> expected;
  for (std::uint64_t i = 4; i < 8; ++i) expected[i] = {2};
  for (std::uint64_t i = 8; i < 12; ++i) expected[i] = {3};
  EXPECT_EQ(writers, expected);
  // Each worker's stack is dropped by its own thread before it exits.
  std::vector<trace::ThreadId> dropping;
  for (const Event& event : got.events) {
    if (const auto* e = std::get_if<trace::MadviseDontneed>(&event)) dropping.push_back(e->thread);
  }
  EXPECT_EQ(dropping, (std::vector<trace::ThreadId>{2, 3}));
}

}  // namespace
}  // namespace tlbkit::importers
