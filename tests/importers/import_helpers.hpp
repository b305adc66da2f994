// Test helpers for the importers: run an importer on text, keep the events
// it handed out, print events and errors readably when a test fails.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tlbkit/importers/strace.hpp"
#include "tlbkit/trace/event.hpp"
#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/input.hpp"

namespace tlbkit::importers::test {

// Keeps every event; refuses the one numbered `refuse_at` (from 0) if set.
class VectorSink final : public trace::Sink {
 public:
  std::string put(const trace::Event& event) override {
    if (refuse_at && events.size() == *refuse_at) return "refused by the test";
    events.push_back(event);
    return {};
  }
  std::vector<trace::Event> events;
  std::optional<std::size_t> refuse_at;
};

struct Imported {
  std::vector<trace::Event> events;
  std::optional<trace::ReadError> error;
  ImportStats stats;
};

inline std::string describe(const trace::ReadError& e) {
  return fmt::format("{}:{}:{}: {}", e.where.file, e.where.line, e.where.column, e.message);
}

inline std::string describe(const std::vector<trace::Event>& events) {
  std::string out;
  for (const trace::Event& e : events) out += "    " + trace::format_event(e) + "\n";
  return out;
}

// The events must be exactly `want`, without an error.
inline void expect_events(const Imported& got, const std::vector<trace::Event>& want) {
  ASSERT_FALSE(got.error) << describe(*got.error) << "\nafter:\n" << describe(got.events);
  EXPECT_TRUE(got.events == want) << "got:\n" << describe(got.events) << "want:\n" << describe(want);
}

// The import must stop with `message` at `line`:`column` of "test.log".
inline void expect_error(const Imported& got, std::uint64_t line, unsigned column, const std::string& message) {
  ASSERT_TRUE(got.error) << "no error; events:\n" << describe(got.events);
  EXPECT_EQ(got.error->where.file, "test.log");
  EXPECT_EQ(got.error->where.line, line) << describe(*got.error);
  EXPECT_EQ(got.error->where.column, column) << describe(*got.error);
  EXPECT_EQ(got.error->message, message) << describe(*got.error);
}

// ---- events, short -------------------------------------------------------------

using trace::MapFlags;
using trace::Prot;
inline constexpr Prot r = Prot::read;
inline constexpr Prot rw = Prot::read | Prot::write;
inline constexpr Prot rx = Prot::read | Prot::exec;
inline constexpr Prot none = Prot::none;
inline constexpr MapFlags anon = MapFlags::anonymous;
inline constexpr MapFlags file = MapFlags::none;

inline trace::Event option() { return trace::OptionNoAccesses{}; }
inline trace::Event space(trace::SpaceId s) { return trace::SpaceCreate{s, trace::SpaceKind::process, 0}; }
inline trace::Event thread(trace::ThreadId t, trace::SpaceId s) { return trace::ThreadStart{t, s}; }
inline trace::Event forks(trace::ThreadId t, trace::ThreadId c, trace::SpaceId s) { return trace::Fork{t, c, s}; }
inline trace::Event execs(trace::ThreadId t, trace::SpaceId s) { return trace::Exec{t, s}; }
inline trace::Event exits(trace::ThreadId t) { return trace::Exit{t}; }
inline trace::Event mmap(trace::ThreadId t, std::uint64_t a, std::uint64_t len, Prot p, MapFlags f) {
  return trace::Mmap{t, a, len, p, f};
}
inline trace::Event munmap(trace::ThreadId t, std::uint64_t a, std::uint64_t len) { return trace::Munmap{t, a, len}; }
inline trace::Event mprotect(trace::ThreadId t, std::uint64_t a, std::uint64_t len, Prot p) {
  return trace::Mprotect{t, a, len, p};
}
inline trace::Event mremap(trace::ThreadId t, std::uint64_t a, std::uint64_t len, std::uint64_t to,
                           std::uint64_t new_len) {
  return trace::Mremap{t, a, len, to, new_len};
}
inline trace::Event dontneed(trace::ThreadId t, std::uint64_t a, std::uint64_t len) {
  return trace::MadviseDontneed{t, a, len};
}
inline trace::Event brk(trace::ThreadId t, std::uint64_t a) { return trace::Brk{t, a}; }

}  // namespace tlbkit::importers::test
