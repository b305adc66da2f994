// The text form of trace events (docs/TRACE-FORMAT.md): every event kind
// read from a hand-written line, and written in its canonical form.
#include <gtest/gtest.h>

#include "trace/trace_support.hpp"
#include "tlbkit/trace/format.hpp"

namespace tlbkit::trace {
namespace {

using test::event_of;

// ---- every kind, from a hand-written line ------------------------------------

TEST(TraceParser, ASpaceIsAProcessAVmWithItsVcpusOrTheKernel) {
  EXPECT_EQ(event_of("space 1 process"), Event(SpaceCreate{1, SpaceKind::process, 0}));
  EXPECT_EQ(event_of("space 7 vm vcpus=4"), Event(SpaceCreate{7, SpaceKind::vm, 4}));
  EXPECT_EQ(event_of("space 4294967295 kernel"), Event(SpaceCreate{4294967295u, SpaceKind::kernel, 0}));
  EXPECT_EQ(event_of("space 2 vm vcpus=64"), Event(SpaceCreate{2, SpaceKind::vm, 64}));
  EXPECT_EQ(event_of("space 2 vm vcpus=1"), Event(SpaceCreate{2, SpaceKind::vm, 1}));
}

TEST(TraceParser, DestroyNamesTheSpace) { EXPECT_EQ(event_of("destroy 12"), Event(SpaceDestroy{12})); }

TEST(TraceParser, AThreadStartsWithOrWithoutAPe) {
  EXPECT_EQ(event_of("thread 100 1 pe=0"), Event(ThreadStart{100, 1, 0}));
  EXPECT_EQ(event_of("thread 101 1 pe=63"), Event(ThreadStart{101, 1, 63}));
  EXPECT_EQ(event_of("thread 102 1"), Event(ThreadStart{102, 1, ThreadStart::kAnyPe}));
}

TEST(TraceParser, SwitchNamesThePeThenTheThread) { EXPECT_EQ(event_of("switch 3 100"), Event(Switch{3, 100})); }

TEST(TraceParser, ExitForkAndExecNameTheirThreadsAndSpaces) {
  EXPECT_EQ(event_of("exit 100"), Event(Exit{100}));
  EXPECT_EQ(event_of("fork 100 200 2"), Event(Fork{100, 200, 2}));
  EXPECT_EQ(event_of("exec 200 3"), Event(Exec{200, 3}));
}

TEST(TraceParser, MmapReadsAddressLengthProtectionAndFlags) {
  EXPECT_EQ(event_of("mmap 100 0x7f0000000000 0x10000 rw- anon,private"),
            Event(Mmap{100, 0x7f0000000000, 0x10000, Prot::read | Prot::write, MapFlags::anonymous}));
  EXPECT_EQ(event_of("mmap 5 0x400000 0x2000 r-x file,private,fixed"),
            Event(Mmap{5, 0x400000, 0x2000, Prot::read | Prot::exec, MapFlags::fixed}));
  EXPECT_EQ(event_of("mmap 5 0x200000 0x200000 --- file,shared,huge"),
            Event(Mmap{5, 0x200000, 0x200000, Prot::none, MapFlags::shared | MapFlags::huge}));
  EXPECT_EQ(event_of("mmap 5 0x1000 0x1000 rwx anon,shared,fixed,huge"),
            Event(Mmap{5, 0x1000, 0x1000, Prot::read | Prot::write | Prot::exec,
                       MapFlags::anonymous | MapFlags::shared | MapFlags::fixed | MapFlags::huge}));
}

TEST(TraceParser, MmapFlagsArePrivateUnlessSharedAndInAnyOrder) {
  EXPECT_EQ(event_of("mmap 1 0x1000 0x1000 -w- anon"), Event(Mmap{1, 0x1000, 0x1000, Prot::write, MapFlags::anonymous}));
  EXPECT_EQ(event_of("mmap 1 0x1000 0x1000 --x huge,shared,file"),
            Event(Mmap{1, 0x1000, 0x1000, Prot::exec, MapFlags::shared | MapFlags::huge}));
}

TEST(TraceParser, MunmapMprotectAndMadviseReadARange) {
  EXPECT_EQ(event_of("munmap 100 0x7f0000000000 0x10000"), Event(Munmap{100, 0x7f0000000000, 0x10000}));
  EXPECT_EQ(event_of("mprotect 100 0x7f0000001000 0x3000 r--"),
            Event(Mprotect{100, 0x7f0000001000, 0x3000, Prot::read}));
  EXPECT_EQ(event_of("madvise 100 0x7f0000002000 0x1000 dontneed"),
            Event(MadviseDontneed{100, 0x7f0000002000, 0x1000}));
}

TEST(TraceParser, MremapReadsTheOldAndTheNewRange) {
  EXPECT_EQ(event_of("mremap 7 0x10000 0x4000 0x7f0000000000 0x8000"),
            Event(Mremap{7, 0x10000, 0x4000, 0x7f0000000000, 0x8000}));
}

TEST(TraceParser, ReclaimNamesTheReclaimerTheSpaceAndTheRange) {
  EXPECT_EQ(event_of("reclaim 9 2 0x7f0000000000 0x20000"), Event(Reclaim{9, 2, 0x7f0000000000, 0x20000}));
}

TEST(TraceParser, BrkReadsTheNewBreak) { EXPECT_EQ(event_of("brk 100 0x560000001000"), Event(Brk{100, 0x560000001000})); }

TEST(TraceParser, AccessesAreReadsWritesAndFetchesOfAnyByte) {
  EXPECT_EQ(event_of("r 100 0x7f0000000008"), Event(Access{100, 0x7f0000000008, AccessKind::read}));
  EXPECT_EQ(event_of("w 101 0x7f0000001fff"), Event(Access{101, 0x7f0000001fff, AccessKind::write}));
  EXPECT_EQ(event_of("x 102 0x400123"), Event(Access{102, 0x400123, AccessKind::fetch}));
  EXPECT_EQ(event_of("r 1 0xffffffffffff"), Event(Access{1, 0xffffffffffff, AccessKind::read}));
}

TEST(TraceParser, GatherAndFlushBracketAThreadsCalls) {
  EXPECT_EQ(event_of("gather 100"), Event(GatherBegin{100}));
  EXPECT_EQ(event_of("flush 100 syscall"), Event(Flush{100, FlushReason::syscall}));
  EXPECT_EQ(event_of("flush 100 gather"), Event(Flush{100, FlushReason::gather}));
  EXPECT_EQ(event_of("flush 100 vmexit"), Event(Flush{100, FlushReason::vm_exit}));
}

TEST(TraceParser, TheOnlyOptionSaysTheTraceHoldsNoAccesses) {
  EXPECT_EQ(event_of("option accesses=none"), Event(OptionNoAccesses{}));
}

// ---- what the reader tolerates ---------------------------------------------

TEST(TraceParser, BlankAndCommentLinesHoldNothing) {
  for (const char* line : {"", "   ", "\t \t", "# a comment", "   # indented comment", "#"}) {
    EXPECT_TRUE(std::holds_alternative<std::monostate>(parse_line(line))) << "'" << line << "'";
  }
}

TEST(TraceParser, BlanksMayBeRunsOfSpacesAndTabsAndACommentMayEndALine) {
  EXPECT_EQ(event_of("  \tmmap\t100   0x7f0000000000 \t 0x10000 rw-  anon,private   # the heap"),
            Event(Mmap{100, 0x7f0000000000, 0x10000, Prot::read | Prot::write, MapFlags::anonymous}));
  EXPECT_EQ(event_of("exit 5 #done"), Event(Exit{5}));
}

TEST(TraceParser, NumbersAreDecimalOrHexadecimal) {
  EXPECT_EQ(event_of("munmap 0x64 4096 8192"), Event(Munmap{100, 0x1000, 0x2000}));
  EXPECT_EQ(event_of("thread 0x10 0x2 pe=0xa"), Event(ThreadStart{16, 2, 10}));
  EXPECT_EQ(event_of("space 1 vm vcpus=0x10"), Event(SpaceCreate{1, SpaceKind::vm, 16}));
  EXPECT_EQ(event_of("r 1 0X7F0000000000"), Event(Access{1, 0x7f0000000000, AccessKind::read}));
}

TEST(TraceParser, LengthsAreRoundedUpToWholePages) {
  EXPECT_EQ(event_of("munmap 1 0x1000 1"), Event(Munmap{1, 0x1000, 0x1000}));
  EXPECT_EQ(event_of("mmap 1 0x1000 0x1001 rw- anon"), Event(Mmap{1, 0x1000, 0x2000, Prot::read | Prot::write,
                                                                   MapFlags::anonymous}));
  EXPECT_EQ(event_of("mremap 1 0x1000 4097 0x10000 12287"), Event(Mremap{1, 0x1000, 0x2000, 0x10000, 0x3000}));
  EXPECT_EQ(event_of("madvise 1 0x1000 0xfff dontneed"), Event(MadviseDontneed{1, 0x1000, 0x1000}));
  // The rounded length is what is written back.
  EXPECT_EQ(format_event(event_of("mprotect 1 0x1000 0x1800 r--")), "mprotect 1 0x1000 0x2000 r--");
}

TEST(TraceParser, ARangeMayEndAtTheTopOfThe48BitSpace) {
  EXPECT_EQ(event_of("munmap 1 0xfffffffff000 0x1000"), Event(Munmap{1, 0xfffffffff000, 0x1000}));
  EXPECT_EQ(event_of("mmap 1 0 0x1000000000000 rw- anon"),
            Event(Mmap{1, 0, 0x1000000000000, Prot::read | Prot::write, MapFlags::anonymous}));
  // 0xfffffffff001 bytes round up to the whole 2^48 space.
  EXPECT_EQ(event_of("munmap 1 0 0xfffffffff001"), Event(Munmap{1, 0, 0x1000000000000}));
}

TEST(TraceParser, AHashInsideATokenIsPartOfIt) {
  const LineError e = test::error_of("exit 1#2");
  EXPECT_EQ(e.column, 6u);
  EXPECT_EQ(e.message, "thread id '1#2' is not a number");
}

// ---- canonical lines ----------------------------------------------------------

TEST(TraceFormatter, EveryKindIsWrittenInItsCanonicalForm) {
  const std::pair<Event, std::string_view> cases[] = {
      {SpaceCreate{1, SpaceKind::process, 0}, "space 1 process"},
      {SpaceCreate{2, SpaceKind::vm, 8}, "space 2 vm vcpus=8"},
      {SpaceCreate{3, SpaceKind::kernel, 0}, "space 3 kernel"},
      {SpaceDestroy{4294967295u}, "destroy 4294967295"},
      {ThreadStart{100, 1, 0}, "thread 100 1 pe=0"},
      {ThreadStart{101, 1, ThreadStart::kAnyPe}, "thread 101 1"},
      {Switch{63, 101}, "switch 63 101"},
      {Exit{101}, "exit 101"},
      {Fork{100, 200, 2}, "fork 100 200 2"},
      {Exec{200, 3}, "exec 200 3"},
      {Mmap{100, 0x7f0000000000, 0x10000, Prot::read | Prot::write, MapFlags::anonymous},
       "mmap 100 0x7f0000000000 0x10000 rw- anon,private"},
      {Mmap{100, 0x400000, 0x200000, Prot::read | Prot::exec, MapFlags::fixed}, "mmap 100 0x400000 0x200000 r-x file,private,fixed"},
      {Mmap{100, 0, 0x1000, Prot::none, MapFlags::huge | MapFlags::shared | MapFlags::fixed | MapFlags::anonymous},
       "mmap 100 0x0 0x1000 --- anon,shared,fixed,huge"},
      {Mmap{7, 0x1000, 0x1000, Prot::exec | Prot::write, MapFlags::shared}, "mmap 7 0x1000 0x1000 -wx file,shared"},
      {Munmap{100, 0x7f0000000000, 0x10000}, "munmap 100 0x7f0000000000 0x10000"},
      {Mprotect{100, 0x7f0000000000, 0x1000, Prot::read}, "mprotect 100 0x7f0000000000 0x1000 r--"},
      {Mremap{100, 0x10000, 0x1000, 0xabc000, 0x3000}, "mremap 100 0x10000 0x1000 0xabc000 0x3000"},
      {MadviseDontneed{100, 0x2000, 0x1000}, "madvise 100 0x2000 0x1000 dontneed"},
      {Reclaim{9, 2, 0xfffffffff000, 0x1000}, "reclaim 9 2 0xfffffffff000 0x1000"},
      {Brk{100, 0x560000000000}, "brk 100 0x560000000000"},
      {Access{100, 0x7f0000000abc, AccessKind::read}, "r 100 0x7f0000000abc"},
      {Access{100, 0, AccessKind::write}, "w 100 0x0"},
      {Access{100, 0x400000, AccessKind::fetch}, "x 100 0x400000"},
      {GatherBegin{100}, "gather 100"},
      {Flush{100, FlushReason::syscall}, "flush 100 syscall"},
      {Flush{100, FlushReason::gather}, "flush 100 gather"},
      {Flush{100, FlushReason::vm_exit}, "flush 100 vmexit"},
      {OptionNoAccesses{}, "option accesses=none"},
  };
  std::size_t kinds_seen = 0;
  bool seen[std::variant_size_v<Event>] = {};
  for (const auto& [event, line] : cases) {
    EXPECT_EQ(format_event(event), line);
    EXPECT_EQ(event_of(line), event) << line;
    if (!seen[event.index()]) ++kinds_seen;
    seen[event.index()] = true;
  }
  EXPECT_EQ(kinds_seen, std::variant_size_v<Event>) << "a kind of event has no canonical line here";
}

// ---- the header -----------------------------------------------------------

TEST(TraceHeader, IsTheNameAndVersionOne) { EXPECT_EQ(header_line(), "tlbkit-trace 1"); }

TEST(TraceHeader, MayBeFollowedByBlanksAndAComment) {
  EXPECT_FALSE(check_header("tlbkit-trace 1").has_value());
  EXPECT_FALSE(check_header("tlbkit-trace 1   # written by tlbkit gen").has_value());
  EXPECT_FALSE(check_header("tlbkit-trace\t1\t").has_value());
}

TEST(TraceHeader, AnotherFirstLineIsNotATrace) {
  for (const char* line : {"tlbkit 1", "", "# tlbkit-trace 1", "space 1 process", "TLBKIT-TRACE 1"}) {
    const std::optional<LineError> e = check_header(line);
    ASSERT_TRUE(e.has_value()) << line;
    EXPECT_EQ(e->column, 1u) << line;
    EXPECT_EQ(e->message, "not a tlbkit trace (first line must be 'tlbkit-trace 1')") << line;
  }
}

TEST(TraceHeader, ANewerVersionIsRefusedAtItsColumn) {
  const std::optional<LineError> e = check_header("tlbkit-trace 2");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->column, 14u);
  EXPECT_EQ(e->message, "trace version 2 is newer than this reader (1)");
  const std::optional<LineError> far = check_header("tlbkit-trace  99999999999999999999999");
  ASSERT_TRUE(far.has_value());
  EXPECT_EQ(far->column, 15u);
  EXPECT_EQ(far->message, "trace version 99999999999999999999999 is newer than this reader (1)");
}

TEST(TraceHeader, ABadVersionIsRefusedAtItsColumn) {
  const std::optional<LineError> e = check_header("tlbkit-trace one");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->column, 14u);
  EXPECT_EQ(e->message, "bad trace version 'one' (this reader reads version 1)");
  const std::optional<LineError> zero = check_header("tlbkit-trace 0");
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->column, 14u);
}

TEST(TraceHeader, AMissingVersionIsRefusedAtTheLinesEnd) {
  const std::optional<LineError> e = check_header("tlbkit-trace");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->column, 13u);
  EXPECT_EQ(e->message, "missing version (tlbkit-trace 1)");
}

TEST(TraceHeader, AnExtraTokenIsRefusedAtItsColumn) {
  const std::optional<LineError> e = check_header("tlbkit-trace 1 gzip");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->column, 16u);
  EXPECT_EQ(e->message, "extra token 'gzip' after tlbkit-trace 1");
}

}  // namespace
}  // namespace tlbkit::trace
