// Properties of the text form over random events of every kind: a written
// line reads back as the event it was written from, however it is spaced.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "trace/trace_support.hpp"
#include "tlbkit/trace/format.hpp"

namespace tlbkit::trace {
namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kPages = std::uint64_t{1} << 36;  // 2^48 bytes

// Any 32-bit id, small ones and the extremes more often.
rc::Gen<std::uint32_t> ids() {
  return rc::gen::weightedOneOf<std::uint32_t>({{3, rc::gen::arbitrary<std::uint32_t>()},
                                                {2, rc::gen::inRange<std::uint32_t>(0, 1000)},
                                                {1, rc::gen::element<std::uint32_t>(0, 0xffffffffu)}});
}

// A page-aligned range within the 48-bit space: {addr, length > 0}.
std::pair<std::uint64_t, std::uint64_t> range() {
  const std::uint64_t first = *rc::gen::weightedOneOf<std::uint64_t>(
      {{3, rc::gen::inRange<std::uint64_t>(0, kPages)}, {1, rc::gen::element<std::uint64_t>(0, kPages - 1)}});
  const std::uint64_t room = kPages - first;
  const std::uint64_t pages = *rc::gen::weightedOneOf<std::uint64_t>(
      {{3, rc::gen::inRange<std::uint64_t>(1, std::min<std::uint64_t>(room, 4096) + 1)},
       {1, rc::gen::inRange<std::uint64_t>(1, room + 1)},
       {1, rc::gen::just(room)}});
  return {first * kPage, pages * kPage};
}

std::uint64_t page_address() { return *rc::gen::inRange<std::uint64_t>(0, kPages) * kPage; }

Prot prot() { return static_cast<Prot>(*rc::gen::inRange(0, 8)); }

// Valid flags: anon or file, private or shared, fixed, huge (all 16).
MapFlags flags() { return static_cast<MapFlags>(*rc::gen::inRange(0, 16)); }

// Every kind of event, valid. (A new kind needs a case here.)
static_assert(std::variant_size_v<Event> == 18, "events() does not make every kind of event");
rc::Gen<Event> events() {
  return rc::gen::exec([]() -> Event {
    switch (*rc::gen::inRange(0, static_cast<int>(std::variant_size_v<Event>))) {
      case 0: {
        const auto kind = *rc::gen::element(SpaceKind::process, SpaceKind::vm, SpaceKind::kernel);
        const unsigned vcpus = kind == SpaceKind::vm ? *rc::gen::inRange(1u, 65u) : 0;
        return SpaceCreate{*ids(), kind, vcpus};
      }
      case 1: return SpaceDestroy{*ids()};
      case 2: {
        const unsigned pe = *rc::gen::weightedOneOf<unsigned>(
            {{3, rc::gen::inRange(0u, 64u)}, {1, rc::gen::just(ThreadStart::kAnyPe)}});
        return ThreadStart{*ids(), *ids(), pe};
      }
      case 3: return Switch{*rc::gen::inRange(0u, 64u), *ids()};
      case 4: return Exit{*ids()};
      case 5: return Fork{*ids(), *ids(), *ids()};
      case 6: return Exec{*ids(), *ids()};
      case 7: {
        const auto [addr, length] = range();
        return Mmap{*ids(), addr, length, prot(), flags()};
      }
      case 8: {
        const auto [addr, length] = range();
        return Munmap{*ids(), addr, length};
      }
      case 9: {
        const auto [addr, length] = range();
        return Mprotect{*ids(), addr, length, prot()};
      }
      case 10: {
        const auto [old_addr, old_length] = range();
        const auto [new_addr, new_length] = range();
        return Mremap{*ids(), old_addr, old_length, new_addr, new_length};
      }
      case 11: {
        const auto [addr, length] = range();
        return MadviseDontneed{*ids(), addr, length};
      }
      case 12: return Brk{*ids(), page_address()};
      case 13: {
        const auto [addr, length] = range();
        return Reclaim{*ids(), *ids(), addr, length};
      }
      case 14: {
        const auto kind = *rc::gen::element(AccessKind::read, AccessKind::write, AccessKind::fetch);
        return Access{*ids(), *rc::gen::inRange<std::uint64_t>(0, kPages * kPage), kind};
      }
      case 15: return GatherBegin{*ids()};
      case 16: return Flush{*ids(), *rc::gen::element(FlushReason::syscall, FlushReason::gather, FlushReason::vm_exit)};
      default: return OptionNoAccesses{};
    }
  });
}

RC_GTEST_PROP(TraceRoundTrip, EveryEventReadsBackFromItsLine, ()) {
  const Event event = *events();
  const std::string line = format_event(event);
  RC_LOG() << line << "\n";
  const ParsedLine parsed = parse_line(line);
  if (const LineError* e = std::get_if<LineError>(&parsed)) {
    RC_FAIL("refused at column " + std::to_string(e->column) + ": " + e->message);
  }
  RC_ASSERT(std::holds_alternative<Event>(parsed));
  RC_ASSERT(std::get<Event>(parsed) == event);
}

// The line's tokens rejoined with random runs of blanks, and a comment.
std::string respaced(const std::string& line) {
  const auto blanks = [](int min) {
    const int n = *rc::gen::inRange(min, 4);
    std::string s;
    for (int i = 0; i < n; ++i) s += *rc::gen::element(' ', '\t');
    return s;
  };
  std::string out = blanks(0);
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t space = line.find(' ', at);
    out += line.substr(at, space - at);
    if (space == std::string::npos) break;
    out += blanks(1);
    at = space + 1;
  }
  out += blanks(0);
  if (*rc::gen::arbitrary<bool>()) out += blanks(1) + "# " + *rc::gen::element<std::string>("note", "x 1 0x1", "#");
  return out;
}

RC_GTEST_PROP(TraceRoundTrip, BlanksAndATrailingCommentChangeNothing, ()) {
  const Event event = *events();
  const std::string line = respaced(format_event(event));
  RC_LOG() << "'" << line << "'\n";
  const ParsedLine parsed = parse_line(line);
  RC_ASSERT(std::holds_alternative<Event>(parsed));
  RC_ASSERT(std::get<Event>(parsed) == event);
}

}  // namespace
}  // namespace tlbkit::trace
