// importers::import_valgrind on hand-written lackey logs: every expected
// event below is written from the input lines by hand (the rules are at the
// top of src/importers/valgrind.cpp). The lines copy the forms valgrind
// 3.19 prints (see tests/data/valgrind for whole real logs).
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "tlbkit/importers/valgrind.hpp"
#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/input.hpp"

namespace tlbkit::importers {
namespace {

using trace::AccessKind;
using trace::Event;
using trace::MapFlags;
using trace::Prot;

class VectorSink final : public trace::Sink {
 public:
  std::string put(const Event& event) override {
    if (refuse_at_ != 0 && events.size() + 1 == refuse_at_) return "refused by the sink";
    events.push_back(event);
    return {};
  }
  std::vector<Event> events;
  std::size_t refuse_at_ = 0;  // refuse the n-th event (1-based), 0: none
};

struct Imported {
  std::vector<Event> events;
  std::optional<trace::ReadError> error;
  ImportStats stats;
};

std::string join(std::initializer_list<std::string> lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

Imported import_text(std::string text, std::size_t refuse_at = 0) {
  auto source = trace::lines_of(std::move(text), "v.log");
  VectorSink sink;
  sink.refuse_at_ = refuse_at;
  Imported out;
  out.error = import_valgrind(*source, sink, &out.stats);
  out.events = std::move(sink.events);
  return out;
}

std::string show(const std::vector<Event>& events) {
  std::string out;
  for (const Event& e : events) out += "\n  " + trace::format_event(e);
  return out;
}

// ---- the lines and events the tests share ------------------------------------

// Valgrind's banner, then an mmap of [0x400000, 0x500000) rwx: the memory
// most tests access, so that they imply no VMA.
const std::string kBanner = join({
    "==100== Lackey, an example Valgrind tool",
    "==100== Copyright (C) 2002-2017, and GNU GPL'd, by Nicholas Nethercote.",
    "==100== Using Valgrind-3.19.0 and LibVEX; rerun with -h for copyright info",
    "==100== Command: ./prog",
    "==100== Parent PID: 99",
    "==100== ",
});
const std::string kMapLine =
    "SYSCALL[100,1](9) sys_mmap ( 0x0, 1048576, 7, 34, 4294967295, 0 ) --> [pre-success] Success(0x400000) ";
const std::string kExitGroup = "SYSCALL[100,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) ";

Event space() { return trace::SpaceCreate{1, trace::SpaceKind::process, 0}; }
Event thread(trace::ThreadId t) { return trace::ThreadStart{t, 1, trace::ThreadStart::kAnyPe}; }
Event exit_of(trace::ThreadId t) { return trace::Exit{t}; }
Event r(std::uint64_t page, trace::ThreadId t = 1) { return trace::Access{t, page, AccessKind::read}; }
Event w(std::uint64_t page, trace::ThreadId t = 1) { return trace::Access{t, page, AccessKind::write}; }
Event x(std::uint64_t page, trace::ThreadId t = 1) { return trace::Access{t, page, AccessKind::fetch}; }
Event mmap(std::uint64_t addr, std::uint64_t len, Prot prot, MapFlags flags, trace::ThreadId t = 1) {
  return trace::Mmap{t, addr, len, prot, flags};
}
Event munmap(std::uint64_t addr, std::uint64_t len, trace::ThreadId t = 1) { return trace::Munmap{t, addr, len}; }
Event mprotect(std::uint64_t addr, std::uint64_t len, Prot prot, trace::ThreadId t = 1) {
  return trace::Mprotect{t, addr, len, prot};
}
Event mremap(std::uint64_t old_addr, std::uint64_t old_len, std::uint64_t new_addr, std::uint64_t new_len,
             trace::ThreadId t = 1) {
  return trace::Mremap{t, old_addr, old_len, new_addr, new_len};
}
Event dontneed(std::uint64_t addr, std::uint64_t len, trace::ThreadId t = 1) {
  return trace::MadviseDontneed{t, addr, len};
}
Event brk(std::uint64_t addr, trace::ThreadId t = 1) { return trace::Brk{t, addr}; }

constexpr Prot kRw = Prot::read | Prot::write;
constexpr Prot kRx = Prot::read | Prot::exec;
constexpr Prot kRwx = Prot::read | Prot::write | Prot::exec;
constexpr MapFlags kAnon = MapFlags::anonymous;
constexpr MapFlags kImplied = MapFlags::anonymous | MapFlags::fixed;  // "anon,private,fixed"

// The events of kBanner + kMapLine.
std::vector<Event> prelude() { return {space(), thread(1), mmap(0x400000, 0x100000, kRwx, kAnon)}; }

// Imports kBanner, kMapLine, `lines`; expects no error and prelude() +
// `expected`.
void expect_events(std::initializer_list<std::string> lines, std::vector<Event> expected) {
  std::string text = kBanner + kMapLine + "\n";
  for (const std::string& line : lines) text += line + "\n";
  const Imported got = import_text(text);
  ASSERT_FALSE(got.error) << got.error->describe();
  std::vector<Event> all = prelude();
  all.insert(all.end(), expected.begin(), expected.end());
  EXPECT_TRUE(got.events == all) << "got:" << show(got.events) << "\nexpected:" << show(all);
}

// Imports `text`; expects the error "v.log:LINE:COLUMN: ..." whose message
// holds `what`.
void expect_error(const std::string& text, std::uint64_t line, unsigned column, const std::string& what) {
  const Imported got = import_text(text);
  ASSERT_TRUE(got.error) << "no error; events:" << show(got.events);
  EXPECT_EQ(got.error->where.file, "v.log");
  EXPECT_EQ(got.error->where.line, line) << got.error->describe();
  EXPECT_EQ(got.error->where.column, column) << got.error->describe();
  EXPECT_NE(got.error->message.find(what), std::string::npos) << got.error->describe();
}

// ---- accesses -------------------------------------------------------------------

TEST(ValgrindImport, InstructionLineIsAFetchOfItsPage) { expect_events({"I  0040d7d4,3"}, {x(0x40d000)}); }

TEST(ValgrindImport, LoadLineIsARead) { expect_events({" L 0041f0a8,8"}, {r(0x41f000)}); }

TEST(ValgrindImport, StoreLineIsAWrite) { expect_events({" S 0041f0a8,8"}, {w(0x41f000)}); }

TEST(ValgrindImport, ModifyLineIsOneWrite) { expect_events({" M 0041f0a8,4"}, {w(0x41f000)}); }

TEST(ValgrindImport, AccessCrossingAPageBoundaryTouchesBothPages) {
  expect_events({" L 00400ffc,8", "I  00402ffe,4"}, {r(0x400000), r(0x401000), x(0x402000), x(0x403000)});
}

TEST(ValgrindImport, AccessEndingAtItsPageEndTouchesOnePage) {
  expect_events({" S 00400ff8,8", " L 00401000,1"}, {w(0x400000), r(0x401000)});
}

TEST(ValgrindImport, AccessOfSizeZeroTouchesItsAddressPage) { expect_events({" L 00400fff,0"}, {r(0x400000)}); }

TEST(ValgrindImport, RepeatedReadsOfAPageCollapseIntoOne) {
  expect_events({" L 00400010,8", " L 00400020,8", " L 00400ff0,4"}, {r(0x400000)});
}

TEST(ValgrindImport, WriteAfterReadsOfAPageIsANewEvent) {
  expect_events({" L 00400010,8", " L 00400020,8", " S 00400030,8", " S 00400040,8"}, {r(0x400000), w(0x400000)});
}

TEST(ValgrindImport, ReadAfterAWriteOfAPageCollapses) {
  expect_events({" S 00400010,8", " L 00400020,8", " M 00400030,8"}, {w(0x400000)});
}

TEST(ValgrindImport, ModifyAfterReadsIsAWriteEvent) {
  expect_events({" L 00400010,8", " M 00400010,8", " L 00400010,8"}, {r(0x400000), w(0x400000)});
}

TEST(ValgrindImport, AccessToAnotherPageEndsTheRun) {
  expect_events({" L 00400010,8", " L 00401010,8", " L 00400018,8"}, {r(0x400000), r(0x401000), r(0x400000)});
}

TEST(ValgrindImport, FetchesAndDataAccessesCollapseInTheirOwnStreams) {
  // The usual interleaving: an instruction, its data, the next instruction.
  expect_events({"I  00410000,3", " L 00420000,8", "I  00410003,4", " L 00420008,8", "I  00410007,2", " S 00420010,8",
                 "I  00410009,5"},
                {x(0x410000), r(0x420000), w(0x420000)});
}

TEST(ValgrindImport, FetchAndDataAccessOfOnePageAreSeparateEvents) {
  expect_events({"I  00410000,3", " L 00410100,8", " S 00410100,8", "I  00410003,3"},
                {x(0x410000), r(0x410000), w(0x410000)});
}

TEST(ValgrindImport, MemoryCallEndsTheRuns) {
  expect_events({" L 00400010,8", "I  00410000,3",
                 "SYSCALL[100,1](10) sys_mprotect ( 0x480000, 4096, 1 )[sync] --> Success(0x0) ", " L 00400010,8",
                 "I  00410003,3"},
                {r(0x400000), x(0x410000), mprotect(0x480000, 0x1000, Prot::read), r(0x400000), x(0x410000)});
}

TEST(ValgrindImport, CallWithoutMemoryEffectDoesNotEndTheRun) {
  expect_events({" L 00400010,8", "SYSCALL[100,1](39) sys_getpid() --> [pre-success] Success(0x64) ", " L 00400018,8"},
                {r(0x400000)});
}

TEST(ValgrindImport, ValgrindMessagesAndBlankLinesAreSkipped) {
  expect_events({"==100== ", "--100-- WARNING: something valgrind says", "**100** more", "", "   ", " L 00400010,8",
                 "==100== Counted 1 call to main()"},
                {r(0x400000)});
}

// ---- memory calls -----------------------------------------------------------------

TEST(ValgrindImport, MmapIsAnEventAtTheReturnedAddressWithItsLengthInPages) {
  expect_events(
      {"SYSCALL[100,1](9) sys_mmap ( 0x0, 20580, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x483c000) ",
       " S 04841010,1"},
      {mmap(0x483c000, 0x6000, kRw, kAnon), w(0x4841000)});
}

TEST(ValgrindImport, MmapFlagsAndRightsAreDecodedFromX86DecimalForm) {
  // 0x40011 = MAP_HUGETLB | MAP_FIXED | MAP_SHARED; 0x812 = MAP_DENYWRITE |
  // MAP_FIXED | MAP_PRIVATE; 0x100022 = MAP_FIXED_NOREPLACE | MAP_ANONYMOUS |
  // MAP_PRIVATE; 0x23 = MAP_ANONYMOUS | MAP_SHARED_VALIDATE.
  expect_events(
      {"SYSCALL[100,1](9) sys_mmap ( 0x10000000, 2097152, 1, 262161, 4, 0 ) --> [pre-success] Success(0x10000000) ",
       "SYSCALL[100,1](9) sys_mmap ( 0x4838000, 4096, 5, 2066, 4, 4096 ) --> [pre-success] Success(0x4838000) ",
       "SYSCALL[100,1](9) sys_mmap ( 0x7000000, 4096, 0, 1048610, -1, 0 ) --> [pre-success] Success(0x7000000) ",
       "SYSCALL[100,1](9) sys_mmap ( 0x0, 4096, 6, 35, -1, 0 ) --> [pre-success] Success(0x7100000) ", " L 00400000,1"},
      {mmap(0x10000000, 0x200000, Prot::read, MapFlags::shared | MapFlags::fixed | MapFlags::huge),
       mmap(0x4838000, 0x1000, kRx, MapFlags::fixed), mmap(0x7000000, 0x1000, Prot::none, kAnon | MapFlags::fixed),
       mmap(0x7100000, 0x1000, Prot::write | Prot::exec, kAnon | MapFlags::shared), r(0x400000)});
}

TEST(ValgrindImport, MmapFlagsAreDecodedFromAArch64HexadecimalForm) {
  expect_events({"SYSCALL[100,1](222) sys_mmap ( 0x0, 8192, 3, 0x22, 18446744073709551615, 0 ) --> "
                 "[pre-success] Success(0xffffb7e00000) ",
                 " S ffffb7e01ff8,8"},
                {mmap(0xffffb7e00000, 0x2000, kRw, kAnon), w(0xffffb7e01000)});
}

TEST(ValgrindImport, MunmapAndMprotectAreEventsWithLengthsRoundedUp) {
  expect_events({"SYSCALL[100,1](11) sys_munmap ( 0x483c000, 41891 )[sync] --> Success(0x0) ",
                 "SYSCALL[100,1](10) sys_mprotect ( 0x4a16000, 16384, 1 )[sync] --> Success(0x0) ", " L 00400000,1"},
                {munmap(0x483c000, 0xb000), mmap(0x4a16000, 0x4000, kRw, kImplied),
                 mprotect(0x4a16000, 0x4000, Prot::read), r(0x400000)});
}

TEST(ValgrindImport, MadviseDontneedAndFreeAreDontneedAtTheirCompletion) {
  expect_events({"SYSCALL[100,1](28) sys_madvise ( 0x483e000, 4096, 4 ) --> [async] ... ",
                 "SYSCALL[100,1](28) ... [async] --> Success(0x0) ",
                 "SYSCALL[100,1](28) sys_madvise ( 0x483f000, 100, 8 ) --> [async] ... ",
                 "SYSCALL[100,1](28) ... [async] --> Success(0x0) ", " L 00400000,1"},
                {dontneed(0x483e000, 0x1000), dontneed(0x483f000, 0x1000), r(0x400000)});
}

TEST(ValgrindImport, MadviseWithOtherAdviceIsIgnored) {
  const Imported got = import_text(kBanner + kMapLine + "\n" +
                                   join({"SYSCALL[100,1](28) sys_madvise ( 0x483f000, 4096, 3 ) --> [async] ... ",
                                         "SYSCALL[100,1](28) ... [async] --> Success(0x0) ", " L 00400000,1"}));
  ASSERT_FALSE(got.error) << got.error->describe();
  std::vector<Event> expected = prelude();
  expected.push_back(r(0x400000));
  EXPECT_TRUE(got.events == expected) << show(got.events);
  EXPECT_EQ(got.stats.ignored, 1u);
}

TEST(ValgrindImport, MremapMovesTheVmaItsPagesAreKnownAtTheNewPlace) {
  expect_events({"SYSCALL[100,1](25) sys_mremap ( 0x400000, 8192, 32768, 0x1 ) --> [pre-success] Success(0x600000) ",
                 " S 00607000,1", " L 00401000,1"},
                {mremap(0x400000, 0x2000, 0x600000, 0x8000), w(0x607000),
                 // The old place is unmapped: its access implies a VMA again,
                 // cut to the free range [0x400000, 0x402000) below the
                 // rest of the first mmap.
                 mmap(0x400000, 0x2000, kRw, kImplied), r(0x401000)});
}

TEST(ValgrindImport, MremapWithANewAddressTakesTheResult) {
  expect_events({"SYSCALL[100,1](25) sys_mremap ( 0x400000, 4096, 4096, 0x3, 0x700000 ) --> [pre-success] "
                 "Success(0x700000) ",
                 " S 00700000,1"},
                {mremap(0x400000, 0x1000, 0x700000, 0x1000), w(0x700000)});
}

TEST(ValgrindImport, BrkFirstSetsTheHeapThenMovesTheBreakRoundedUpToAPage) {
  expect_events({"SYSCALL[100,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) ",
                 "SYSCALL[100,1](12) sys_brk ( 0x4037010 ) --> [pre-success] Success(0x4037010) ", " S 04037008,8",
                 "SYSCALL[100,1](12) sys_brk ( 0x4035000 ) --> [pre-success] Success(0x4035000) "},
                {brk(0x4035000), brk(0x4038000), w(0x4037000), brk(0x4035000)});
}

TEST(ValgrindImport, BrkThatLeavesTheBreakWhereItWasIsIgnored) {
  const Imported got = import_text(
      kBanner + kMapLine + "\n" +
      join({"SYSCALL[100,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) ",
            "SYSCALL[100,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) ",
            // A failed brk returns the break it leaves.
            "SYSCALL[100,1](12) sys_brk ( 0x90000000000 ) --> [pre-success] Success(0x4035000) ", " L 00400000,1"}));
  ASSERT_FALSE(got.error) << got.error->describe();
  std::vector<Event> expected = prelude();
  expected.push_back(brk(0x4035000));
  expected.push_back(r(0x400000));
  EXPECT_TRUE(got.events == expected) << show(got.events);
  EXPECT_EQ(got.stats.ignored, 2u);
}

TEST(ValgrindImport, FailedCallsAreIgnored) {
  const Imported got =
      import_text(kBanner + kMapLine + "\n" +
                  join({"SYSCALL[100,1](9) sys_mmap ( 0x0, 4096, 1, 2, 99, 0 ) --> [pre-fail] Failure(0x9) ",
                        "SYSCALL[100,1](10) sys_mprotect ( 0x900000, 4096, 1 )[sync] --> Failure(0xc) ",
                        "SYSCALL[100,1](25) sys_mremap ( 0x483c000, 24576, 32768, 0x1 ) --> [pre-fail] Failure(0x16) ",
                        "SYSCALL[100,1](28) sys_madvise ( 0x483e000, 4096, 4 ) --> [async] ... ",
                        "SYSCALL[100,1](28) ... [async] --> Failure(0xc) ", " L 00400000,1"}));
  ASSERT_FALSE(got.error) << got.error->describe();
  std::vector<Event> expected = prelude();
  expected.push_back(r(0x400000));
  EXPECT_TRUE(got.events == expected) << show(got.events);
  EXPECT_EQ(got.stats.ignored, 4u);
}

TEST(ValgrindImport, OtherCallsAreIgnoredAndCounted) {
  const Imported got = import_text(
      kBanner + kMapLine + "\n" +
      join({"SYSCALL[100,1](257) sys_openat ( 4294967196, 0x4034bb0(/usr/lib/x.so), 524288 ) --> [async] ... ",
            "SYSCALL[100,1](257) ... [async] --> Success(0x4) ",
            "SYSCALL[100,1](262) sys_newfstatat ( 4, 0x4029c99(), 0x1ffeffeb70 )[sync] --> Success(0x0) ",
            "SYSCALL[100,1](158) arch_prctl ( 4098, 4a29740 ) --> [pre-success] Success(0x0) ",
            "SYSCALL[100,1](15) rt_sigreturn ( ) --> [pre-success] NoWriteResult ", " L 00400000,1", kExitGroup}));
  ASSERT_FALSE(got.error) << got.error->describe();
  std::vector<Event> expected = prelude();
  expected.push_back(r(0x400000));
  expected.push_back(exit_of(1));
  EXPECT_TRUE(got.events == expected) << show(got.events);
  EXPECT_EQ(got.stats.ignored, 4u);
  EXPECT_EQ(got.stats.calls, 2u);  // the first mmap, exit_group
}

TEST(ValgrindImport, ResultOnTheNextLineIsTaken) {
  expect_events(
      {"SYSCALL[100,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)", " --> [pre-fail] Failure(0x26) ",
       "SYSCALL[100,1](9) sys_mmap ( 0x0, 4096, 3, 34, -1, 0 )   a wrapper's note",
       " --> [pre-success] Success(0x900000) ", " S 00900000,1"},
      {mmap(0x900000, 0x1000, kRw, kAnon), w(0x900000)});
}

TEST(ValgrindImport, ResultLineWithoutItsCallIsIgnored) {
  // A fork's child logging to NAME.%p starts with its half of clone.
  const Imported got = import_text(join({"==101== Lackey, an example Valgrind tool", " --> [pre-success] Success(0x0) ",
                                         kMapLine.substr(0, 8) + "101" + kMapLine.substr(11), " L 00400000,1"}));
  ASSERT_FALSE(got.error) << got.error->describe();
  EXPECT_TRUE(got.events ==
              (std::vector<Event>{space(), thread(1), mmap(0x400000, 0x100000, kRwx, kAnon), r(0x400000)}))
      << show(got.events);
  EXPECT_EQ(got.stats.ignored, 1u);
}

TEST(ValgrindImport, StatsCountLinesCallsIgnoredEventsAndImpliedVmas) {
  const Imported got =
      import_text(kBanner + kMapLine + "\n" +
                  join({" L 00400000,1", " L 7000000000,8",
                        "SYSCALL[100,1](39) sys_getpid() --> [pre-success] Success(0x64) ", kExitGroup}));
  ASSERT_FALSE(got.error) << got.error->describe();
  EXPECT_EQ(got.stats.lines, 11u);
  EXPECT_EQ(got.stats.calls, 2u);
  EXPECT_EQ(got.stats.ignored, 1u);
  EXPECT_EQ(got.stats.implied_vmas, 1u);
  EXPECT_EQ(got.stats.events, got.events.size());
  EXPECT_EQ(got.events.size(), 7u) << show(got.events);
}

// ---- threads ---------------------------------------------------------------------

TEST(ValgrindImport, SpaceAndMainThreadComeFirstEvenBeforeTheFirstCall) {
  const Imported got = import_text(kBanner + join({"I  00400000,3", kMapLine}));
  ASSERT_FALSE(got.error) << got.error->describe();
  ASSERT_GE(got.events.size(), 2u);
  EXPECT_EQ(got.events[0], space());
  EXPECT_EQ(got.events[1], thread(1));
}

TEST(ValgrindImport, ThreadStartsAtItsFirstSyscallLineAndTakesTheAccesses) {
  expect_events({" L 00400000,8",
                 "SYSCALL[100,1](56) sys_clone ( 3d0f00, 0x523bf70, 0x523c990, 0x523c990, 0x523c6c0 ) --> "
                 "[pre-success] Success(0x4292) ",
                 " L 00401000,8",  // really thread 2's, before its first call: the known limitation
                 "SYSCALL[100,2](273) sys_set_robust_list ( 0x523c9a0, 24 )[sync] --> Success(0x0) ", " L 00400000,8",
                 "SYSCALL[100,1](14) sys_rt_sigprocmask ( 2, 0x1fff000408, 0x0, 8 ) --> "
                 "[pre-success] Success(0x0) ",
                 " L 00400000,8"},
                {r(0x400000), r(0x401000), thread(2), r(0x400000, 2), r(0x400000)});
}

TEST(ValgrindImport, ThreadBlockedInACallHandsTheAccessesToThePreviousThread) {
  expect_events({"SYSCALL[100,2](273) sys_set_robust_list ( 0x523c9a0, 24 )[sync] --> Success(0x0) ",
                 "SYSCALL[100,1](202) sys_futex ( 0x5a3d990, 265, 8808, 0x0, 0x0 ) --> [async] ... ", " L 00400000,8",
                 "SYSCALL[100,1](202) ... [async] --> Success(0x0) ", " L 00401000,8"},
                {thread(2), r(0x400000, 2), r(0x401000, 1)});
}

TEST(ValgrindImport, SoleThreadBlockedInACallKeepsTheAccesses) {
  expect_events({"SYSCALL[100,1](0) sys_read ( 4, 0x1ffeffecd8, 832 ) --> [async] ... ", " L 00400000,8",
                 "SYSCALL[100,1](0) ... [async] --> Success(0x340) "},
                {r(0x400000)});
}

TEST(ValgrindImport, ExitedThreadHandsTheAccessesToThePreviousThread) {
  expect_events({"SYSCALL[100,2](273) sys_set_robust_list ( 0x523c9a0, 24 )[sync] --> Success(0x0) ",
                 "SYSCALL[100,3](273) sys_set_robust_list ( 0x5a3d9a0, 24 )[sync] --> Success(0x0) ",
                 "SYSCALL[100,3](60) exit( 0 ) --> [pre-success] Success(0x0) ", " L 00400000,8"},
                {thread(2), thread(3), exit_of(3), r(0x400000, 2)});
}

TEST(ValgrindImport, LineGluedToASyscallLineIsReadAsAnotherThreads) {
  // Thread 1's clone yields before its line ends: thread 2's completion
  // is glued to it, thread 2 runs; the empty line is thread 1's line end,
  // when it runs again.
  expect_events({"SYSCALL[100,2](28) sys_madvise ( 0x483e000, 4096, 4 ) --> [async] ... ",
                 "SYSCALL[100,1](56) sys_clone ( 3d0f00, 0x5a3cf70, 0x5a3d990, 0x5a3d990, 0x5a3d6c0 ) --> "
                 "[pre-success] Success(0x4293) SYSCALL[100,2](28) ... [async] --> Success(0x0) ",
                 " S 00400000,8", "", " S 00401000,8"},
                {thread(2), dontneed(0x483e000, 0x1000, 2), w(0x400000, 2), w(0x401000, 1)});
}

TEST(ValgrindImport, AccessGluedToASyscallLineGoesToThePreviousThread) {
  expect_events({"SYSCALL[100,2](273) sys_set_robust_list ( 0x523c9a0, 24 )[sync] --> Success(0x0) ",
                 "SYSCALL[100,1](24) sys_sched_yield ( ) --> [pre-success] Success(0x0) I  00400000,3", " L 00401000,8",
                 "", " L 00402000,8"},
                {thread(2), x(0x400000, 2), r(0x401000, 2), r(0x402000, 1)});
}

TEST(ValgrindImport, ExitGroupEndsEveryThreadTheCallerLast) {
  expect_events({"SYSCALL[100,3](273) sys_set_robust_list ( 0x5a3d9a0, 24 )[sync] --> Success(0x0) ",
                 "SYSCALL[100,2](273) sys_set_robust_list ( 0x523c9a0, 24 )[sync] --> Success(0x0) ", " L 00400000,1",
                 "SYSCALL[100,2](231) exit_group( 0 ) --> [pre-success] Success(0x0) ",
                 "==100== ", "==100== Counted 1 call to main()"},
                {thread(3), thread(2), r(0x400000, 2), exit_of(1), exit_of(3), exit_of(2)});
}

TEST(ValgrindImport, ThreadNumberReusedAfterItsExitStartsAgain) {
  expect_events({"SYSCALL[100,2](273) sys_set_robust_list ( 0x523c9a0, 24 )[sync] --> Success(0x0) ",
                 "SYSCALL[100,2](60) exit( 0 ) --> [pre-success] Success(0x0) ",
                 "SYSCALL[100,2](273) sys_set_robust_list ( 0x5a3d9a0, 24 )[sync] --> Success(0x0) ", " L 00400000,8"},
                {thread(2), exit_of(2), thread(2), r(0x400000, 2)});
}

// ---- implied VMAs -----------------------------------------------------------------

TEST(ValgrindImport, FirstAccessOutsideKnownVmasImpliesItsChunkReadWrite) {
  expect_events({" S 1fff000628,8", " L 1fff00f000,8", " L 1fff010000,8"},
                {mmap(0x1fff000000, 0x10000, kRw, kImplied), w(0x1fff000000), r(0x1fff00f000),
                 mmap(0x1fff010000, 0x10000, kRw, kImplied), r(0x1fff010000)});
}

TEST(ValgrindImport, FirstFetchImpliesAnExecutableChunk) {
  expect_events({"I  0401ab70,3", "I  0401b770,1"},
                {mmap(0x4010000, 0x10000, kRx, kImplied), x(0x401a000), x(0x401b000)});
}

TEST(ValgrindImport, ImpliedChunkIsCutToTheFreeRangeAroundThePage) {
  // [0x4838000, 0x4839000) and [0x483a000, 0x483c000) are known.
  expect_events(
      {"SYSCALL[100,1](9) sys_mmap ( 0x4838000, 4096, 5, 2066, 4, 4096 ) --> [pre-success] Success(0x4838000) ",
       "SYSCALL[100,1](9) sys_mmap ( 0x483a000, 8192, 3, 2066, 4, 8192 ) --> [pre-success] Success(0x483a000) ",
       " L 04839010,8", " L 04837010,8", " L 0483c010,8"},
      {mmap(0x4838000, 0x1000, kRx, MapFlags::fixed), mmap(0x483a000, 0x2000, kRw, MapFlags::fixed),
       mmap(0x4839000, 0x1000, kRw, kImplied), r(0x4839000), mmap(0x4830000, 0x8000, kRw, kImplied), r(0x4837000),
       mmap(0x483c000, 0x4000, kRw, kImplied), r(0x483c000)});
}

TEST(ValgrindImport, FetchFromAnImpliedDataVmaAddsExecToAllOfItOnce) {
  expect_events({" L 04000000,8", "I  04001000,3", "I  04002000,3", " S 04003000,8"},
                {mmap(0x4000000, 0x10000, kRw, kImplied), r(0x4000000), mprotect(0x4000000, 0x10000, kRwx),
                 x(0x4001000), x(0x4002000), w(0x4003000)});
}

TEST(ValgrindImport, WriteToAnImpliedCodeVmaAddsWriteToWhatACallLeftOfIt) {
  expect_events({"I  04000000,3", "SYSCALL[100,1](10) sys_mprotect ( 0x4008000, 4096, 1 )[sync] --> Success(0x0) ",
                 " S 04001000,8", " S 0400c000,8"},
                {mmap(0x4000000, 0x10000, kRx, kImplied), x(0x4000000), mprotect(0x4008000, 0x1000, Prot::read),
                 mprotect(0x4000000, 0x8000, kRwx), w(0x4001000), mprotect(0x4009000, 0x7000, kRwx), w(0x400c000)});
}

TEST(ValgrindImport, AccessWithoutTheRightInAMappedVmaImpliesNothing) {
  // What a call made is what the program has: the replayer decides.
  expect_events(
      {"SYSCALL[100,1](9) sys_mmap ( 0x0, 4096, 1, 34, -1, 0 ) --> [pre-success] Success(0x900000) ", " S 00900000,8"},
      {mmap(0x900000, 0x1000, Prot::read, kAnon), w(0x900000)});
}

TEST(ValgrindImport, MprotectOfUnknownMemoryImpliesItsUnknownPartsFirst) {
  expect_events({"SYSCALL[100,1](10) sys_mprotect ( 0x4ff000, 12288, 1 )[sync] --> Success(0x0) ", " L 00501000,1"},
                {mmap(0x500000, 0x2000, kRw, kImplied), mprotect(0x4ff000, 0x3000, Prot::read), r(0x501000)});
}

TEST(ValgrindImport, MremapOfUnknownMemoryImpliesItFirst) {
  expect_events({"SYSCALL[100,1](25) sys_mremap ( 0x900000, 4096, 8192, 0x1 ) --> [pre-success] Success(0xa00000) ",
                 " L 00a01000,8"},
                {mmap(0x900000, 0x1000, kRw, kImplied), mremap(0x900000, 0x1000, 0xa00000, 0x2000), r(0xa01000)});
}

TEST(ValgrindImport, HeapIsKnownMemory) {
  expect_events(
      {"SYSCALL[100,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x800000) ",
       "SYSCALL[100,1](12) sys_brk ( 0x821000 ) --> [pre-success] Success(0x821000) ", " S 00820ff8,8",
       "SYSCALL[100,1](12) sys_brk ( 0x800000 ) --> [pre-success] Success(0x800000) ", " S 00820ff8,8"},
      {brk(0x800000), brk(0x821000), w(0x820000), brk(0x800000), mmap(0x820000, 0x10000, kRw, kImplied), w(0x820000)});
}

TEST(ValgrindImport, MunmappedImpliedMemoryIsImpliedAgainWhenAccessed) {
  expect_events(
      {" L 00900000,8", "SYSCALL[100,1](11) sys_munmap ( 0x904000, 4096 )[sync] --> Success(0x0) ", " L 00904000,8"},
      {mmap(0x900000, 0x10000, kRw, kImplied), r(0x900000), munmap(0x904000, 0x1000),
       mmap(0x904000, 0x1000, kRw, kImplied), r(0x904000)});
}

// ---- bad input --------------------------------------------------------------------

TEST(ValgrindImportBadInput, UnrecognisedLineIsRefusedWhereItIs) {
  expect_error(kBanner + kMapLine + "\n hello from the program\n", 8, 1, "unrecognised line");
}

TEST(ValgrindImportBadInput, ProgramOutputIsRefused) {
  expect_error(kBanner + kMapLine + "\n L 00400000,8\nHello, world!\n", 9, 1, "unrecognised line");
}

TEST(ValgrindImportBadInput, BadHexadecimalAddress) {
  expect_error(kBanner + kMapLine + "\n L 04zz0000,8\n", 8, 4, "bad hexadecimal address '04zz0000'");
}

TEST(ValgrindImportBadInput, AddressWithAPrefixIsBadHexadecimal) {
  expect_error(kBanner + kMapLine + "\nI  0x400000,8\n", 8, 4, "bad hexadecimal address");
}

TEST(ValgrindImportBadInput, BadSize) {
  expect_error(kBanner + kMapLine + "\n S 00400000,8x\n", 8, 13, "bad size '8x'");
}

TEST(ValgrindImportBadInput, AddressBeyond48Bits) {
  expect_error(kBanner + kMapLine + "\n L 1000000000000,8\n", 8, 4, "out of range");
}

TEST(ValgrindImportBadInput, AccessEndingBeyond48Bits) {
  expect_error(kBanner + kMapLine + "\n L fffffffffffc,8\n", 8, 17, "out of range");
}

TEST(ValgrindImportBadInput, TruncatedAccessLineWithoutSize) {
  expect_error(kBanner + kMapLine + "\n L 0421f0a8\n", 8, 12, "truncated access line");
}

TEST(ValgrindImportBadInput, TruncatedAccessLineAfterTheComma) {
  expect_error(kBanner + kMapLine + "\n L 0421f0a8,\n", 8, 13, "truncated access line");
}

TEST(ValgrindImportBadInput, EmptyLog) { expect_error("", 1, 1, "empty valgrind log"); }

TEST(ValgrindImportBadInput, BinaryGarbageWithNulBytes) {
  std::string text = kBanner + kMapLine + "\n";
  text += std::string(
              "\x7f"
              "ELF\x02\x01\x01\0\0\0\0",
              11) +
          "\n";
  const Imported got = import_text(text);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->where.line, 8u) << got.error->describe();
  EXPECT_NE(got.error->message.find("NUL"), std::string::npos) << got.error->describe();
}

TEST(ValgrindImportBadInput, MalformedSyscallLine) {
  expect_error(kBanner + "SYSCALL[100]\n", 7, 9, "malformed SYSCALL line");
  expect_error(kBanner + "SYSCALL[100,x](9) sys_getpid() --> [pre-success] Success(0x1) \n", 7, 13,
               "malformed SYSCALL line");
}

TEST(ValgrindImportBadInput, BadNumberAmongAMemoryCallsArguments) {
  expect_error(kBanner + "SYSCALL[100,1](9) sys_mmap ( 0x0, 81x2, 3, 34, -1, 0 ) --> [pre-success] Success(0x1000) \n",
               7, 35, "sys_mmap: bad number '81x2'");
}

TEST(ValgrindImportBadInput, MemoryCallWithTooFewArguments) {
  expect_error(kBanner + "SYSCALL[100,1](11) sys_munmap ( 0x1000 )[sync] --> Success(0x0) \n", 7, 31,
               "sys_munmap: expected 2 arguments, found 1");
}

TEST(ValgrindImportBadInput, MisalignedMunmap) {
  expect_error(kBanner + "SYSCALL[100,1](11) sys_munmap ( 0x1010, 4096 )[sync] --> Success(0x0) \n", 7, 31,
               "misaligned address 0x1010");
}

TEST(ValgrindImportBadInput, MmapReturningAnAddressBeyond48Bits) {
  expect_error(kBanner +
                   "SYSCALL[100,1](9) sys_mmap ( 0x0, 8192, 3, 34, -1, 0 ) --> [pre-success] "
                   "Success(0xffffffffff000) \n",
               7, 74, "out of range");
}

TEST(ValgrindImportBadInput, UnrecognisedSyscallResult) {
  expect_error(kBanner + "SYSCALL[100,1](39) sys_getpid() --> [pre-success] Perhaps(0x1) \n", 7, 51,
               "unrecognised system call result");
}

TEST(ValgrindImportBadInput, LineOfAnotherProcessIsRefused) {
  expect_error(
      kBanner + kMapLine + "\nSYSCALL[101,1](273) sys_set_robust_list ( 0x4a29a20, 24 )[sync] --> Success(0x0) \n", 8,
      9, "--log-file=NAME.%p");
  expect_error(kBanner + kMapLine + "\n==101== Counted 1 call to main()\n", 8, 3, "process 101");
}

TEST(ValgrindImportBadInput, AccessAfterExitGroup) {
  expect_error(kBanner + kMapLine + "\n" + kExitGroup + "\n L 00400000,8\n", 9, 4, "after the process exited");
}

TEST(ValgrindImportBadInput, LogWithoutAccessLines) {
  expect_error(kBanner + kMapLine + "\n" + kExitGroup + "\n", 8, 1, "--trace-mem=yes");
}

TEST(ValgrindImportBadInput, LogWithoutSyscallLines) {
  expect_error(kBanner + " L 00400000,8\n", 7, 1, "--trace-syscalls=yes");
}

TEST(ValgrindImportBadInput, EventTheSinkRefusesStopsTheImportThere) {
  // Events: space, thread, mmap, r: the fourth is refused.
  const Imported got = import_text(kBanner + kMapLine + "\n L 00400000,8\n L 00401000,8\n", 4);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->where.line, 8u);
  EXPECT_EQ(got.error->message, "refused by the sink");
  EXPECT_EQ(got.events.size(), 3u);
}

}  // namespace
}  // namespace tlbkit::importers
