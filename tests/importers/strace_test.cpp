// importers::import_strace on hand-written logs in strace 6's own form
// (lines copied from real `strace -f -e trace=%memory,%process -o FILE`
// runs, pids and addresses changed): the events each call kind becomes,
// threads, forks and execs, the line forms strace's options produce, and
// the errors of bad input. Expected events are written out by hand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "import_helpers.hpp"

namespace tlbkit::importers::test {
namespace {

Imported run(std::string text, VectorSink sink = VectorSink{}) {
  auto lines = trace::lines_of(std::move(text), "test.log");
  Imported out;
  out.error = import_strace(*lines, sink, &out.stats);
  out.events = sink.events;
  return out;
}

// ---- memory calls ------------------------------------------------------------

TEST(StraceImport, MmapBecomesOneEventAtTheReturnedAddressWithLengthInWholePagesAndFlagsByName) {
  const Imported got = run(
      "100   mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "100   mmap(NULL, 41891, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f0000010000\n"
      "100   mmap(0x7f0000020000, 110592, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x7000) "
      "= 0x7f0000020000\n"
      "100   mmap(NULL, 27028, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000040000\n"
      "100   mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED_VALIDATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000050000\n"
      "100   mmap(NULL, 8392704, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0) = 0x7f0000800000\n"
      "100   mmap(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, -1, "
      "0) = 0x7f0001000000\n"
      "100   mmap(0x7f0002000000, 1, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, "
      "-1, 0) = 0x7f0002000000\n"
      "100   mmap(NULL, 4096, 0x3, 0x22, -1, 0) = 0x7f0003000000\n"
      "100   mmap(NULL, 4096, PROT_READ|PROT_SEM|0x40, MAP_SHARED|MAP_ANONYMOUS|MAP_NORESERVE|MAP_POPULATE, -1, 0) "
      "= 0x7f0004000000\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(100, 1),
                         mmap(100, 0x7f0000000000, 0x2000, rw, anon),
                         mmap(100, 0x7f0000010000, 0xb000, r, file),
                         mmap(100, 0x7f0000020000, 0x1b000, rx, file | MapFlags::fixed),
                         mmap(100, 0x7f0000040000, 0x7000, r, file | MapFlags::shared),
                         mmap(100, 0x7f0000050000, 0x1000, rw, anon | MapFlags::shared),
                         mmap(100, 0x7f0000800000, 0x801000, none, anon),
                         mmap(100, 0x7f0001000000, 0x200000, rw, anon | MapFlags::huge),
                         mmap(100, 0x7f0002000000, 0x1000, rw | Prot::exec, anon | MapFlags::fixed),
                         mmap(100, 0x7f0003000000, 0x1000, rw, anon),
                         mmap(100, 0x7f0004000000, 0x1000, r, anon | MapFlags::shared),
                         exits(100),
                     });
}

TEST(StraceImport, MunmapMprotectMremapMadviseAndBrkBecomeTheirEvents) {
  const Imported got = run(
      "100   brk(NULL)                         = 0x561680e8b000\n"
      "100   mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1000000000\n"
      "100   mprotect(0x7f1000000000, 4096, PROT_READ) = 0\n"
      "100   pkey_mprotect(0x7f1000001000, 100, PROT_NONE, 1) = 0\n"
      "100   mprotect(0x7f1000002000, 8192, PROT_READ|PROT_WRITE|PROT_GROWSDOWN) = 0\n"
      "100   madvise(0x7f1000000000, 16384, MADV_DONTNEED) = 0\n"
      "100   madvise(0x7f1000000000, 8192, MADV_FREE) = 0\n"
      "100   mremap(0x7f1000000000, 16384, 32768, MREMAP_MAYMOVE) = 0x7f2000000000\n"
      "100   mremap(0x7f2000000000, 32768, 4096, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7f3000000000) = 0x7f3000000000\n"
      "100   munmap(0x7f3000000000, 4096)      = 0\n"
      "100   brk(0x561680eac000)               = 0x561680eac000\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(100, 1),
                         brk(100, 0x561680e8b000),
                         mmap(100, 0x7f1000000000, 0x4000, rw, anon),
                         mprotect(100, 0x7f1000000000, 0x1000, r),
                         mprotect(100, 0x7f1000001000, 0x1000, none),
                         mprotect(100, 0x7f1000002000, 0x2000, rw),
                         dontneed(100, 0x7f1000000000, 0x4000),
                         dontneed(100, 0x7f1000000000, 0x2000),
                         mremap(100, 0x7f1000000000, 0x4000, 0x7f2000000000, 0x8000),
                         mremap(100, 0x7f2000000000, 0x8000, 0x7f3000000000, 0x1000),
                         munmap(100, 0x7f3000000000, 0x1000),
                         brk(100, 0x561680eac000),
                         exits(100),
                     });
  EXPECT_EQ(got.stats.calls, 11u);
}

TEST(StraceImport, BrkSequenceGivesTheFirstBreakThenEachNewOneRoundedUpToItsPage) {
  const Imported got = run(
      "100   brk(NULL)                         = 0x555555559000\n"
      "100   brk(NULL)                         = 0x555555559000\n"
      "100   brk(0x55555557a000)               = 0x55555557a000\n"
      "100   brk(0x55555557a064)               = 0x55555557a064\n"
      "100   brk(0x7fffffffffff)               = 0x55555557a064\n"
      "100   brk(0x555555560000)               = 0x555555560000\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(100, 1),
                         brk(100, 0x555555559000),
                         brk(100, 0x555555559000),
                         brk(100, 0x55555557a000),
                         brk(100, 0x55555557b000),
                         brk(100, 0x55555557b000),  // refused: the old break comes back
                         brk(100, 0x555555560000),
                         exits(100),
                     });
}

TEST(StraceImport, AdviceThatDropsNoPagesCallsWithoutTableEffectSignalsAndStraceNotesAreIgnoredAndCounted) {
  const Imported got = run(
      "100   madvise(0x7f1000000000, 4194304, MADV_HUGEPAGE) = 0\n"
      "100   madvise(0x7f1000000000, 4096, MADV_WILLNEED) = 0\n"
      "100   madvise(0x7f1000000000, 4096, 0x19 /* MADV_??? */) = 0\n"
      "100   mlock(0x7f1000000000, 4096)       = 0\n"
      "100   munlock(0x7f1000000000, 4096)     = 0\n"
      "100   msync(0x7f1000000000, 4096, MS_SYNC) = 0\n"
      "100   mincore(0x7f1000000000, 4096, [1]) = 0\n"
      "100   shmat(5, NULL, 0)                 = 0x7f4000000000\n"
      "100   wait4(-1, NULL, 0, NULL)          = -1 ECHILD (No child processes)\n"
      "100   syscall_0x1b6(0x1, 0x2)           = 0\n"
      "100   mprotect(0x7f1000000000, 0, PROT_READ) = 0\n"
      "100   --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=0} ---\n"
      " > /usr/lib/x86_64-linux-gnu/libc.so.6(__mmap+0x26) [0xfd6b6]\n"
      "strace: Process 100 detached\n");
  expect_events(got, {option(), space(1), thread(100, 1), exits(100)});
  EXPECT_EQ(got.stats.lines, 14u);
  EXPECT_EQ(got.stats.ignored, 14u);
  EXPECT_EQ(got.stats.calls, 0u);
  EXPECT_EQ(got.stats.events, 4u);
}

TEST(StraceImport, FailedCallsAreIgnoredEvenWithArgumentsNoSuccessfulCallCouldHave) {
  const Imported got = run(
      "400   mmap(NULL, 1125899906842624, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot "
      "allocate memory)\n"
      "400   munmap(0xffffffffffffffff, 16384) = -1 EINVAL (Invalid argument)\n"
      "400   mremap(0x7f7ee6927000, 8192, 16384, MREMAP_MAYMOVE <unfinished ...>\n"
      "400   <... mremap resumed>)             = -1 EFAULT (Bad address)\n"
      "400   execve(\"/nonexistent\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */) = -1 ENOENT (No such file or "
      "directory)\n"
      "400   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
      "child_tidptr=0x7f7ee6739a10) = -1 EAGAIN (Resource temporarily unavailable)\n"
      "400   brk(0x561680eac000) = 0x561680e8b000\n");
  expect_events(got, {option(), space(1), thread(400, 1), brk(400, 0x561680e8b000), exits(400)});
  EXPECT_EQ(got.stats.ignored, 5u);
  EXPECT_EQ(got.stats.calls, 1u);
}

TEST(StraceImport, FlagsPrintedAsNumbersUnderXRawOrXVerboseReadAsTheKernelsBits) {
  const Imported got = run(
      "16101 mmap(NULL, 8192, 0x3, 0x22, -1, 0) = 0x7f5ae4134000\n"
      "16101 mmap(0x7f5ae3f6d000, 1400832, 0x5, 0x812, 3, 0x26000) = 0x7f5ae3f6d000\n"
      "16101 mmap(NULL, 4096, 0x1 /* PROT_READ */, 0x1 /* MAP_SHARED */, 3, 0) = 0x7f5ae3f00000\n"
      "16101 clone3({flags=0x3d0f00, child_tid=0x7f5ae3f43990, parent_tid=0x7f5ae3f43990, exit_signal=0, "
      "stack=0x7f5ae3743000, stack_size=0x7fff80, tls=0x7f5ae3f436c0} => {parent_tid=[16102]}, 88) = 16102\n"
      "16102 madvise(0x7f0b8f287000, 4096, 0x4 /* MADV_DONTNEED */ <unfinished ...>\n"
      "16101 clone(child_stack=NULL, flags=0x1200011 /* CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD */, "
      "child_tidptr=0x7f7ee6739a10) = 16103\n"
      "16102 <... madvise resumed>)            = 0\n"
      "16102 madvise(0x7f0b8f287000, 4096, 0x8) = 0\n"
      "16102 madvise(0x7f0b8f287000, 4096, 0xe) = 0\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(16101, 1),
                         mmap(16101, 0x7f5ae4134000, 0x2000, rw, anon),
                         mmap(16101, 0x7f5ae3f6d000, 0x156000, rx, file | MapFlags::fixed),
                         mmap(16101, 0x7f5ae3f00000, 0x1000, r, file | MapFlags::shared),
                         thread(16102, 1),
                         forks(16101, 16103, 2),
                         dontneed(16102, 0x7f0b8f287000, 0x1000),
                         dontneed(16102, 0x7f0b8f287000, 0x1000),  // 8: MADV_FREE; 0xe, MADV_HUGEPAGE: nothing
                         exits(16101),
                         exits(16102),
                         exits(16103),
                     });
}

// ---- line forms ------------------------------------------------------------------

TEST(StraceImport, ALogWithoutPidsIsThreadOnesAndItsFirstSpaceIsOne) {
  const Imported got = run(
      "execve(\"/bin/true\", [\"/bin/true\"], 0x7ffc2d9c4028 /* 41 vars */) = 0\n"
      "brk(NULL)                               = 0x561b06a12000\n"
      "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1180dea000\n"
      "exit_group(0)                           = ?\n"
      "+++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(1, 1),
                         execs(1, 2),
                         brk(1, 0x561b06a12000),
                         mmap(1, 0x7f1180dea000, 0x2000, rw, anon),
                         exits(1),
                     });
}

TEST(StraceImport, TimestampsDurationsAndInstructionPointersOfEveryOptionAreDropped) {
  const std::vector<trace::Event> want = {
      option(),
      space(1),
      thread(200, 1),
      brk(200, 0x55d000000000),
      mmap(200, 0x7f0000000000, 0x1000, r, anon),
      exits(200),
  };
  const std::vector<std::string> logs = {
      // plain -f
      "200   brk(NULL) = 0x55d000000000\n"
      "200   mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "200   +++ exited with 0 +++\n",
      // -t -T
      "200   02:03:14 brk(NULL)         = 0x55d000000000 <0.000130>\n"
      "200   02:03:14 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000 <0.000071>\n"
      "200   02:03:14 +++ exited with 0 +++\n",
      // -tt -T, the call split in two
      "200   02:03:14.664524 brk(NULL <unfinished ...>\n"
      "200   02:03:14.666798 <... brk resumed>) = 0x55d000000000 <0.000130>\n"
      "200   02:03:14.667230 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000 "
      "<0.000071>\n"
      "200   02:03:14.685721 +++ exited with 0 +++\n",
      // -ttt
      "200   1796522594.740384 brk(NULL) = 0x55d000000000\n"
      "200   1796522594.743185 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "200   1796522594.752522 +++ exited with 0 +++\n",
      // -r
      "200        0.000000 brk(NULL)           = 0x55d000000000\n"
      "200        0.002782 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "200        0.000381 +++ exited with 0 +++\n",
      // -i
      "200   [00007f6b76523c47] brk(NULL)      = 0x55d000000000\n"
      "200   [00007f6b76524ca3] mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "200   [????????????????] +++ exited with 0 +++\n",
      // -tt -i -T
      "200   02:03:14.664524 [00007f6b76523c47] brk(NULL) = 0x55d000000000 <0.000130>\n"
      "200   02:03:14.667230 [00007f6b76524ca3] mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
      "0x7f0000000000 <0.000071>\n"
      "200   02:03:14.685721 [????????????????] +++ exited with 0 +++\n",
  };
  for (const std::string& log : logs) {
    SCOPED_TRACE(log);
    expect_events(run(log), want);
  }
}

TEST(StraceImport, TimestampsWithoutPidsAreDroppedToo) {
  const std::vector<trace::Event> want = {option(), space(1), thread(1, 1), brk(1, 0x55d000000000), exits(1)};
  expect_events(run("     0.000000 brk(NULL)       = 0x55d000000000\n     0.000381 +++ exited with 0 +++\n"), want);
  expect_events(run("1796522594.740384 brk(NULL) = 0x55d000000000 <0.000010>\n"
                    "1796522594.752522 +++ exited with 0 +++\n"),
                want);
}

TEST(StraceImport, UnfinishedAndResumedHalvesOfTwoInterleavedThreadsMakeOneCallEachAtItsReturn) {
  const Imported got = run(
      "300   mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f7ee6000000\n"
      "300   clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
      "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f7ee6738990, parent_tid=0x7f7ee6738990, "
      "exit_signal=0, stack=0x7f7ee5f38000, stack_size=0x7fff80, tls=0x7f7ee67386c0} => {parent_tid=[301]}, 88) "
      "= 301\n"
      "300   mmap(NULL, 8392704, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0 <unfinished ...>\n"
      "301   mremap(0x7f7ee6000000, 4096, 8192, MREMAP_MAYMOVE <unfinished ...>\n"
      "300   <... mmap resumed>)               = 0x7f7ee4f36000\n"
      "300   mprotect(0x7f7ee4f37000, 8388608, PROT_READ|PROT_WRITE <unfinished ...>\n"
      "301   <... mremap resumed>)             = 0x7f7ee6926000\n"
      "300   <... mprotect resumed>)           = 0\n"
      "301   madvise(0x7f7ee6926000, 8192, MADV_DONTNEED <unfinished ...>\n"
      "300   munmap(0x7f7ee4f36000, 8392704 <unfinished ...>\n"
      "301   <... madvise resumed>)            = 0\n"
      "300   <... munmap resumed>)             = 0\n"
      "301   +++ exited with 0 +++\n"
      "300   exit_group(0)                     = ?\n"
      "300   +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(300, 1),
                         mmap(300, 0x7f7ee6000000, 0x2000, rw, anon),
                         thread(301, 1),
                         mmap(300, 0x7f7ee4f36000, 0x801000, none, anon),
                         mremap(301, 0x7f7ee6000000, 0x1000, 0x7f7ee6926000, 0x2000),
                         mprotect(300, 0x7f7ee4f37000, 0x800000, rw),
                         dontneed(301, 0x7f7ee6926000, 0x2000),
                         munmap(300, 0x7f7ee4f36000, 0x801000),
                         exits(301),
                         exits(300),
                     });
  EXPECT_EQ(got.stats.calls, 7u);
}

TEST(StraceImport, ACallInterruptedByItsThreadsDeathAndOneNeverResumedAreIgnored) {
  const Imported got = run(
      "300   clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 301\n"
      "301   munmap(0x7f0000000000, 4096 <unfinished ...>\n"
      "300   mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>\n"
      "301   <... munmap resumed> <unfinished ...>) = ?\n"
      "301   +++ killed by SIGKILL +++\n");
  expect_events(got, {option(), space(1), thread(300, 1), thread(301, 1), exits(301), exits(300)});
  EXPECT_EQ(got.stats.ignored, 2u);
}

// ---- threads, forks, execs, exits ---------------------------------------------

TEST(StraceImport, CloneWithCloneVmStartsAThreadInTheParentsSpaceAndWithoutItForksIntoANewSpace) {
  const Imported got = run(
      "500   clone(child_stack=0x7f0000100000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
      "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[501], "
      "tls=0x7f0000100700, child_tidptr=0x7f00001009d0) = 501\n"
      "500   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
      "child_tidptr=0x7f7ee6739a10) = 502\n"
      "502   mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000200000\n"
      "501   munmap(0x7f0000300000, 4096) = 0\n"
      "500   fork()                            = 503\n"
      "500   clone3({flags=0, exit_signal=SIGCHLD}, 88) = 504\n"
      "502   exit_group(3)                     = ?\n"
      "502   +++ exited with 3 +++\n"
      "503   +++ exited with 0 +++\n"
      "504   +++ exited with 0 +++\n"
      "501   +++ exited with 0 +++\n"
      "500   +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(500, 1),
                         thread(501, 1),
                         forks(500, 502, 2),
                         mmap(502, 0x7f0000200000, 0x1000, r, anon),
                         munmap(501, 0x7f0000300000, 0x1000),
                         forks(500, 503, 3),
                         forks(500, 504, 4),
                         exits(502),
                         exits(503),
                         exits(504),
                         exits(501),
                         exits(500),
                     });
}

TEST(StraceImport, VforkChildSharesItsParentsSpaceUntilItsExecMovesItToANewOne) {
  // strace prints the child's execve before the parent's vfork returns.
  const Imported got = run(
      "600   vfork( <unfinished ...>\n"
      "601   execve(\"/bin/true\", [\"true\"], 0x7ffe666e75a8 /* 41 vars */ <unfinished ...>\n"
      "600   <... vfork resumed>)              = 601\n"
      "601   <... execve resumed>)             = 0\n"
      "601   brk(NULL)                         = 0x56408dc72000\n"
      "601   exit_group(0)                     = ?\n"
      "601   +++ exited with 0 +++\n"
      "600   --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=601, si_uid=0, si_status=0, si_utime=0, "
      "si_stime=0} ---\n"
      "600   munmap(0x7f0000000000, 4096) = 0\n"
      "600   +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(600, 1),
                         thread(601, 1),
                         execs(601, 2),
                         brk(601, 0x56408dc72000),
                         exits(601),
                         munmap(600, 0x7f0000000000, 0x1000),
                         exits(600),
                     });
}

TEST(StraceImport, PosixSpawnsClone3WithCloneVmAndCloneVforkIsAThreadOfItsOwnProcessUntilExec) {
  const Imported got = run(
      "700   clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f7644ca1000, stack_size=0x9000}, 88 "
      "<unfinished ...>\n"
      "701   mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "701   execve(\"/bin/true\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */ <unfinished ...>\n"
      "700   <... clone3 resumed>)             = 701\n"
      "701   <... execve resumed>)             = 0\n"
      "700   munmap(0x7f0000000000, 4096) = 0\n"
      "701   +++ exited with 0 +++\n"
      "700   +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(700, 1),
                         thread(701, 1),
                         mmap(701, 0x7f0000000000, 0x1000, r, anon),
                         execs(701, 2),
                         munmap(700, 0x7f0000000000, 0x1000),
                         exits(701),
                         exits(700),
                     });
}

TEST(StraceImport, LinesOfAForkChildBeforeItsParentsCloneReturnsComeAfterTheForkEvent) {
  const Imported got = run(
      "800   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>\n"
      "801   mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "801   exit_group(0) = ?\n"
      "801   +++ exited with 0 +++\n"
      "800   <... clone resumed>, child_tidptr=0x7f7ee6739a10) = 801\n"
      "800   +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(800, 1),
                         forks(800, 801, 2),
                         mmap(801, 0x7f0000000000, 0x1000, r, anon),
                         exits(801),
                         exits(800),
                     });
}

TEST(StraceImport, TwoClonesInFlightEachClaimTheChildTheirReturnNames) {
  const Imported got = run(
      "900   clone3({flags=CLONE_VM|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0, stack=0x7f0000000000, "
      "stack_size=0x7fff80}, 88) = 910\n"
      "900   clone3({flags=CLONE_VM|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0, stack=0x7f0001000000, "
      "stack_size=0x7fff80}, 88 <unfinished ...>\n"
      "910   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>\n"
      "912   munmap(0x7f0000000000, 4096) = 0\n"
      "911   munmap(0x7f0001000000, 4096) = 0\n"
      "910   <... clone resumed>, child_tidptr=0x7f0000000990) = 912\n"
      "912   +++ exited with 0 +++\n"
      "900   <... clone3 resumed>)             = 911\n"
      "911   +++ exited with 0 +++\n"
      "910   +++ exited with 0 +++\n"
      "900   +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(900, 1),
                         thread(910, 1),
                         forks(910, 912, 2),
                         munmap(912, 0x7f0000000000, 0x1000),
                         exits(912),
                         thread(911, 1),
                         munmap(911, 0x7f0001000000, 0x1000),
                         exits(911),
                         exits(910),
                         exits(900),
                     });
}

TEST(StraceImport, APidNoCallCreatedStartsAProcessOfItsOwn) {
  // Two processes strace attached to (-p), and one whose creator failed.
  const Imported got = run(
      "1000  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "2000  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000\n"
      "1000  clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>\n"
      "3000  munmap(0x7f0000000000, 4096) = 0\n"
      "1000  <... clone resumed>) = -1 EAGAIN (Resource temporarily unavailable)\n"
      "2000  +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(1000, 1),
                         mmap(1000, 0x7f0000000000, 0x1000, r, anon),
                         space(2),
                         thread(2000, 2),
                         mmap(2000, 0x7f0000001000, 0x1000, r, anon),
                         space(3),
                         thread(3000, 3),
                         munmap(3000, 0x7f0000000000, 0x1000),
                         exits(2000),
                         exits(1000),
                         exits(3000),
                     });
}

TEST(StraceImport, ExecveMovesTheThreadToANewSpaceAfterEndingTheOtherThreadsOfItsProcess) {
  const Imported got = run(
      "1100  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, "
      "exit_signal=0}, 88) = 1101\n"
      "1100  execve(\"/bin/true\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */) = 0\n"
      "1101  +++ exited with 0 +++\n"
      "1100  brk(NULL) = 0x55d000000000\n"
      "1100  execveat(3, \"\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */, AT_EMPTY_PATH) = 0\n"
      "1100  +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(1100, 1),
                         thread(1101, 1),
                         exits(1101),
                         execs(1100, 2),
                         brk(1100, 0x55d000000000),
                         execs(1100, 3),
                         exits(1100),
                     });
  EXPECT_EQ(got.stats.ignored, 1u);  // 1101's own "+++" line: it exited already
}

TEST(StraceImport, ANonLeaderThreadsExecTakesTheLeadersPid) {
  const Imported got = run(
      "1200  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
      "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f7644ab9990, parent_tid=0x7f7644ab9990, "
      "exit_signal=0, stack=0x7f76442b9000, stack_size=0x7fff80, tls=0x7f7644ab96c0} => {parent_tid=[1201]}, 88) "
      "= 1201\n"
      "1200  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
      "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f76442b8990, parent_tid=0x7f76442b8990, "
      "exit_signal=0, stack=0x7f7643ab8000, stack_size=0x7fff80, tls=0x7f76442b86c0} => {parent_tid=[1202]}, 88) "
      "= 1202\n"
      "1202  execve(\"/nonexistent\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */) = -1 ENOENT (No such file or "
      "directory)\n"
      "1202  execve(\"/bin/true\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */ <unfinished ...>\n"
      "1201  +++ exited with 0 +++\n"
      "1200  +++ superseded by execve in pid 1202 +++\n"
      "1200  <... execve resumed>)             = 0\n"
      "1200  brk(NULL)                         = 0x55d000000000\n"
      "1200  exit_group(0)                     = ?\n"
      "1200  +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(1200, 1),
                         thread(1201, 1),
                         thread(1202, 1),
                         exits(1201),
                         exits(1200),
                         thread(1200, 1),
                         exits(1202),
                         execs(1200, 2),
                         brk(1200, 0x55d000000000),
                         exits(1200),
                     });
}

TEST(StraceImport, ExitGroupWithSeveralThreadsExitsEachThreadOnce) {
  const Imported got = run(
      "1300  clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 1301\n"
      "1300  clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 1302\n"
      "1301  exit_group(0 <unfinished ...>\n"
      "1302  munmap(0x7f0000000000, 4096 <unfinished ...>\n"
      "1301  <... exit_group resumed>) = ?\n"
      "1302  <... munmap resumed> <unfinished ...>) = ?\n"
      "1302  +++ exited with 0 +++\n"
      "1301  +++ exited with 0 +++\n"
      "1300  +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(1300, 1),
                         thread(1301, 1),
                         thread(1302, 1),
                         exits(1302),
                         exits(1301),
                         exits(1300),
                     });
}

TEST(StraceImport, ALeadersEndEndsTheThreadsOfItsProcessWhoseOwnLinesAreMissing) {
  // Without -f strace follows no child: their ends are not in the log.
  const Imported got = run(
      "clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 1401\n"
      "clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 1402\n"
      "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f7ee6739a10) "
      "= 1403\n"
      "exit_group(0)                           = ?\n"
      "+++ killed by SIGSEGV (core dumped) +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(1, 1),
                         thread(1401, 1),
                         thread(1402, 1),
                         forks(1, 1403, 2),
                         exits(1401),
                         exits(1402),
                         exits(1),
                         exits(1403),  // the log's end
                     });
}

TEST(StraceImport, APidThatExitedAndIsCreatedAgainIsANewThread) {
  const Imported got = run(
      "1500  clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 1501\n"
      "1501  +++ exited with 0 +++\n"
      "1501  munmap(0x7f0000000000, 4096) = 0\n"
      "1500  clone(child_stack=NULL, flags=SIGCHLD) = 1501\n"
      "1501  munmap(0x7f0000000000, 4096) = 0\n"
      "1501  +++ exited with 0 +++\n"
      "1500  +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(1500, 1),
                         thread(1501, 1),
                         exits(1501),
                         forks(1500, 1501, 2),
                         munmap(1501, 0x7f0000000000, 0x1000),
                         exits(1501),
                         exits(1500),
                     });
}

TEST(StraceImport, SpaceIdsCountUpInOrderOfCreationAndAreNeverReused) {
  const Imported got = run(
      "10    execve(\"/bin/sh\", [\"sh\"], 0x7ffd09cf1188 /* 41 vars */) = 0\n"
      "10    fork() = 11\n"
      "11    execve(\"/bin/true\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */) = 0\n"
      "11    +++ exited with 0 +++\n"
      "10    fork() = 11\n"
      "11    execve(\"/bin/true\", [\"true\"], 0x7ffd09cf1188 /* 41 vars */) = 0\n"
      "11    +++ exited with 0 +++\n"
      "10    +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(10, 1),
                         execs(10, 2),
                         forks(10, 11, 3),
                         execs(11, 4),
                         exits(11),
                         forks(10, 11, 5),
                         execs(11, 6),
                         exits(11),
                         exits(10),
                     });
}

// An AArch64 log: 48-bit addresses up to 0xffff_ffff_ffff, clone's
// arguments in AArch64's order (flags found by name).
TEST(StraceImport, AnAArch64LogImportsWithItsHighAddressesAndCloneArgumentOrder) {
  const Imported got = run(
      "4321  execve(\"/usr/bin/prog\", [\"prog\"], 0xffffd6c2b6b8 /* 20 vars */) = 0\n"
      "4321  brk(NULL)                         = 0xaaaaf3c5e000\n"
      "4321  mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xffff9a7f0000\n"
      "4321  mmap(NULL, 1409024, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_DENYWRITE, -1, 0) = 0xffff9a660000\n"
      "4321  mmap(0xffff9a670000, 1343488, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0) = "
      "0xffff9a670000\n"
      "4321  munmap(0xffff9a660000, 65536)     = 0\n"
      "4321  mprotect(0xffff9a7a0000, 61440, PROT_NONE) = 0\n"
      "4321  mmap(NULL, 8454144, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0) = 0xffff99e50000\n"
      "4321  mprotect(0xffff99e60000, 8388608, PROT_READ|PROT_WRITE) = 0\n"
      "4321  clone(child_stack=0xffff9a64e9f0, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
      "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[4322], tls=0xffff9a64f8e0, "
      "child_tidptr=0xffff9a64f270) = 4322\n"
      "4322  mmap(NULL, 134217728, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0) = 0xffff91e50000\n"
      "4322  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xfffffffff000\n"
      "4321  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
      "child_tidptr=0xffff9a7f10f0) = 4323\n"
      "4323  munmap(0xffff91e50000, 134217728) = 0\n"
      "4323  exit_group(0) = ?\n"
      "4323  +++ exited with 0 +++\n"
      "4321  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4323, si_uid=1000, si_status=0, si_utime=0, "
      "si_stime=0} ---\n"
      "4322  exit(0)                           = ?\n"
      "4322  +++ exited with 0 +++\n"
      "4321  exit_group(0)                     = ?\n"
      "4321  +++ exited with 0 +++\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(4321, 1),
                         execs(4321, 2),
                         brk(4321, 0xaaaaf3c5e000),
                         mmap(4321, 0xffff9a7f0000, 0x2000, rw, anon),
                         mmap(4321, 0xffff9a660000, 0x158000, none, anon),
                         mmap(4321, 0xffff9a670000, 0x148000, rx, file | MapFlags::fixed),
                         munmap(4321, 0xffff9a660000, 0x10000),
                         mprotect(4321, 0xffff9a7a0000, 0xf000, none),
                         mmap(4321, 0xffff99e50000, 0x810000, none, anon),
                         mprotect(4321, 0xffff99e60000, 0x800000, rw),
                         thread(4322, 2),
                         mmap(4322, 0xffff91e50000, 0x8000000, none, anon),
                         mmap(4322, 0xfffffffff000, 0x1000, r, anon),
                         forks(4321, 4323, 3),
                         munmap(4323, 0xffff91e50000, 0x8000000),
                         exits(4323),
                         exits(4322),
                         exits(4321),
                     });
}

TEST(StraceImport, AtTheLogsEndUnfinishedCallsAreIgnoredAndLiveThreadsExitInOrderOfCreation) {
  const Imported got = run(
      "50    clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 52\n"
      "50    clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0}, 88) = 51\n"
      "51    mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>\n"
      "50    clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>\n"
      "60    munmap(0x7f0000000000, 4096) = 0\n");
  expect_events(got, {
                         option(),
                         space(1),
                         thread(50, 1),
                         thread(52, 1),
                         thread(51, 1),
                         space(2),
                         thread(60, 2),
                         munmap(60, 0x7f0000000000, 0x1000),
                         exits(50),
                         exits(52),
                         exits(51),
                         exits(60),
                     });
  EXPECT_EQ(got.stats.ignored, 2u);
}

TEST(StraceImport, TheFirstEventIsTheNoAccessesOptionEvenBeforeBlankLines) {
  const Imported got = run("\n\n100   brk(NULL) = 0x55d000000000\n");
  expect_events(got, {option(), space(1), thread(100, 1), brk(100, 0x55d000000000), exits(100)});
  EXPECT_EQ(got.stats.lines, 3u);
}

// ---- bad input -----------------------------------------------------------------

TEST(StraceImport, ATruncatedLineIsAnErrorAtItsEnd) {
  expect_error(run("1234  mmap(NULL, 4096, PROT_READ"), 1, 33, "truncated call: no ')' ends the arguments of 'mmap'");
  expect_error(run("1234  brk(NULL) = 0x55d000000000\n1234  munmap(0x7f0000000000, 4096)\n"), 2, 35,
               "no result: expected '= RESULT' after the arguments of 'munmap'");
  expect_error(run("1234  munmap(0x7f0000000000, 4096) =\n"), 1, 37, "no result after '=' of 'munmap'");
  expect_error(run("1234  munmap(0x7f0000000000, 4096) = zero\n"), 1, 38, "bad result 'zero'");
  expect_error(run("1234  --- SIGCHLD {si_signo=SIGCHLD\n"), 1, 36, "truncated signal line: no '---'");
}

TEST(StraceImport, AResumedCallWithoutItsStartIsAnError) {
  expect_error(run("1234  <... mmap resumed>) = 0x7f0000000000\n"), 1, 7,
               "resumed call without its start ('mmap' of pid 1234)");
  expect_error(run("1234  munmap(0x7f0000000000, 4096 <unfinished ...>\n1234  <... mmap resumed>) = 0\n"), 2, 12,
               "'mmap' resumed while 'munmap' is unfinished");
  expect_error(run("1234  munmap(0x7f0000000000, 4096 <unfinished ...>\n1234  brk(NULL <unfinished ...>\n"), 2, 7,
               "'brk' starts while 'munmap' of pid 1234 is unfinished");
}

TEST(StraceImport, ABadNumberIsAnErrorAtItsColumnEvenInTheFirstHalfOfASplitCall) {
  expect_error(run("1234  munmap(0x12g4, 4096) = 0\n"), 1, 14, "bad number '0x12g4' (address)");
  expect_error(run("1234  munmap(0x7f0000000000, 99999999999999999999) = 0\n"), 1, 30,
               "length '99999999999999999999' is past 64 bits");
  expect_error(run("1234  munmap(0xzz, 4096 <unfinished ...>\n1234  <... munmap resumed>) = 0\n"), 1, 14,
               "bad number '0xzz' (address)");
  expect_error(run("1234  mmap(NULL, 4096, PROT_READ|bogus, MAP_PRIVATE, 3, 0) = 0x7f0000000000\n"), 1, 34,
               "unknown protection 'bogus'");
  expect_error(run("1234  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|, 3, 0) = 0x7f0000000000\n"), 1, 47,
               "unknown mmap flag ''");
  expect_error(run("1234  clone(child_stack=NULL, flags=CLONE_VM|clone_vm) = 1235\n"), 1, 46,
               "bad clone flag 'clone_vm'");
}

TEST(StraceImport, AnAddressOutsideThe48BitUserSpaceIsAnError) {
  expect_error(run("1234  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xffff800000000000\n"),
               1, 71,
               "address 0xffff800000000000 out of range (48-bit user VA)");
  expect_error(run("1234  munmap(0xffffffffff600000, 4096) = 0\n"), 1, 14,
               "address 0xffffffffff600000 out of range (48-bit user VA)");
  expect_error(run("1234  mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xfffffffff000\n"), 1, 18,
               "address 0xfffffffff000 + length 0x2000 out of range (48-bit user VA)");
  expect_error(run("1234  brk(NULL) = 0x1000000000000\n"), 1, 19,
               "address 0x1000000000000 out of range (48-bit user VA)");
  expect_error(run("1234  mprotect(0x7f0000000010, 4096, PROT_READ) = 0\n"), 1, 16,
               "address 0x7f0000000010 is not 4 KiB-aligned");
}

TEST(StraceImport, AnEmptyLogIsAnError) {
  expect_error(run(""), 1, 1, "empty strace log");
  expect_error(run("\n  \n\n"), 1, 1, "empty strace log");
}

TEST(StraceImport, BinaryGarbageIsAnError) {
  std::string log = "1234  brk(NULL) = 0x55d000000000\n";
  log += "\x7f" "ELF\x02\x01\x01";
  log.append(4, '\0');
  log += "\n";
  const Imported got = run(log);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->where.line, 2u) << describe(*got.error);
  EXPECT_NE(got.error->message.find("NUL"), std::string::npos) << describe(*got.error);
}

TEST(StraceImport, ALineThatIsNoCallIsAnError) {
  expect_error(run("hello world\n"), 1, 1, "not an strace line: 'hello world'");
  expect_error(run("1234  hello world\n"), 1, 7, "not an strace line: 'hello world'");
  expect_error(run("1234  +++ exploded +++\n"), 1, 11, "unknown '+++' line: 'exploded'");
  expect_error(run("1234  +++ exited with 0\n"), 1, 24, "truncated '+++' line: no '+++'");
  expect_error(run("1234  mmap(NULL, 4096], PROT_READ) = 0x7f0000000000\n"), 1, 22, "unbalanced ']'");
  expect_error(run("1234  munmap(0x7f0000000000) = 0\n"), 1, 14, "'munmap' takes 2 arguments, not 1");
  expect_error(run("1234  clone(child_stack=NULL) = 1235\n"), 1, 13, "clone without 'flags='");
  expect_error(run("1234  <... mmap resumed\n"), 1, 7, "bad resumed line: expected '<... NAME resumed>'");
  expect_error(run("1234  fork() = 0x100000000\n"), 1, 16, "bad child pid 4294967296");
}

TEST(StraceImport, PidsMustBeOnEveryLineOrOnNone) {
  expect_error(run("1234  brk(NULL) = 0x55d000000000\nbrk(NULL) = 0x55d000000000\n"), 2, 1,
               "no pid at the start of the line (the log's first line has one)");
  expect_error(run("brk(NULL) = 0x55d000000000\n1234  brk(NULL) = 0x55d000000000\n"), 2, 1,
               "a pid at the start of the line (the log's first line has none)");
  expect_error(run("brk(NULL) = 0x55d000000000\n[pid  8944] brk(NULL) = 0x55d000000000\n"), 2, 1,
               "'[pid N]' lines (strace without -o) are not read: record with -o FILE");
  expect_error(run("99999999999  brk(NULL) = 0x55d000000000\n"), 1, 1, "pid '99999999999' is too large");
}

TEST(StraceImport, AnEventTheSinkRefusesStopsTheImportAtItsLine) {
  VectorSink sink;
  sink.refuse_at = 4;  // option, space, thread, brk, then this mmap
  const Imported got = run(
      "1234  brk(NULL) = 0x55d000000000\n"
      "1234  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "1234  munmap(0x7f0000000000, 4096) = 0\n",
      sink);
  expect_error(got, 2, 1, "refused by the test");
  EXPECT_EQ(got.events.size(), 4u);
}

}  // namespace
}  // namespace tlbkit::importers::test
