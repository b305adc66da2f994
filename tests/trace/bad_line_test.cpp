// Lines the parser refuses, each at the column of the offending token
// (counted by hand, 1-based) with a message that names the token.
#include <gtest/gtest.h>

#include "trace/trace_support.hpp"
#include "tlbkit/trace/format.hpp"

namespace tlbkit::trace {
namespace {

using test::error_of;

// Expects `line` refused at `column` with exactly `message`.
void expect_refused(std::string_view line, unsigned column, std::string_view message) {
  const LineError e = error_of(line);
  EXPECT_EQ(e.column, column) << "'" << line << "': " << e.message;
  EXPECT_EQ(e.message, message) << "'" << line << "'";
}

// ---- missing tokens: one past the line's end --------------------------------------

TEST(TraceParser, AMissingTokenIsReportedOnePastTheLinesEnd) {
  //        1234567890123456789012345 6
  expect_refused("mmap 100 0x1000 0x1000 rw-", 27, "missing FLAGS (mmap T ADDR LEN PROT FLAGS)");
  expect_refused("exit", 5, "missing T (exit T)");
  expect_refused("exit   ", 8, "missing T (exit T)");
  expect_refused("space 3 vm", 11, "missing vcpus=N (space S process|vm vcpus=N|kernel)");
  expect_refused("space 3", 8, "missing process|vm vcpus=N|kernel (space S process|vm vcpus=N|kernel)");
  expect_refused("mremap 1 0x1000 0x1000 0x2000", 30, "missing NEWLEN (mremap T OLD OLDLEN NEW NEWLEN)");
  expect_refused("madvise 1 0x1000 0x1000", 24, "missing dontneed (madvise T ADDR LEN dontneed)");
  expect_refused("flush 1", 8, "missing syscall|gather|vmexit (flush T syscall|gather|vmexit)");
  expect_refused("reclaim 9 2 0x1000", 19, "missing LEN (reclaim T S ADDR LEN)");
  expect_refused("fork 1 2", 9, "missing S (fork T C S)");
  expect_refused("option", 7, "missing accesses=none (option accesses=none)");
}

TEST(TraceParser, AMissingTokenBeforeACommentIsStillReportedAtTheLinesEnd) {
  expect_refused("switch 1 # who?", 16, "missing T (switch P T)");
}

// ---- unknown words --------------------------------------------------------------

TEST(TraceParser, AnUnknownEventIsNamedAtItsColumn) {
  expect_refused("frobnicate 1 2", 1, "unknown event 'frobnicate'");
  expect_refused("   MMAP 1 0x1000 0x1000 rw- anon", 4, "unknown event 'MMAP'");
  expect_refused("read 1 0x1000", 1, "unknown event 'read'");
}

TEST(TraceParser, AnUnknownSpaceKindAdviceFlushReasonOrOptionIsNamedAtItsColumn) {
  expect_refused("space 1 hypervisor", 9, "unknown space kind 'hypervisor' (process, vm or kernel)");
  //              123456789012345678901234
  expect_refused("madvise 1 0x1000 0x1000 free", 25, "unknown advice 'free' (only dontneed)");
  expect_refused("flush 1 later", 9, "unknown flush reason 'later' (syscall, gather or vmexit)");
  expect_refused("option accesses=all", 8, "unknown option 'accesses=all' (only accesses=none)");
  expect_refused("thread 1 2 cpu=3", 12, "expected pe=P, not 'cpu=3'");
  expect_refused("space 1 vm cpus=3", 12, "expected vcpus=N, not 'cpus=3'");
}

// ---- numbers ------------------------------------------------------------------

TEST(TraceParser, ABadNumberIsNamedAtItsColumn) {
  expect_refused("exit 12a", 6, "thread id '12a' is not a number");
  expect_refused("exit -1", 6, "thread id '-1' is negative");
  expect_refused("destroy 0x", 9, "space id '0x' is not a number");
  expect_refused("fork 1 two 3", 8, "child thread id 'two' is not a number");
  expect_refused("munmap 1 0xg000 0x1000", 10, "address '0xg000' is not a number");
  expect_refused("munmap 1 0x1000 4k", 17, "length '4k' is not a number");
  expect_refused("r 1 0x1000000000000000000", 5, "address '0x1000000000000000000' is too large");
  expect_refused("switch x 1", 8, "pe 'x' is not a number");
  expect_refused("space 1 vm vcpus=", 12, "vcpus '' is not a number");
}

TEST(TraceParser, AnIdPast32BitsIsRefused) {
  expect_refused("exit 4294967296", 6, "thread id '4294967296' is too large for a 32-bit id");
  expect_refused("destroy 0x100000000", 9, "space id '0x100000000' is too large for a 32-bit id");
  expect_refused("exec 1 99999999999999999999", 8, "space id '99999999999999999999' is too large");
  EXPECT_EQ(test::event_of("exit 4294967295"), Event(Exit{4294967295u}));
}

TEST(TraceParser, APePast63IsRefused) {
  expect_refused("switch 64 1", 8, "pe '64' is out of range (0..63)");
  expect_refused("thread 1 2 pe=64", 12, "pe '64' is out of range (0..63)");
  expect_refused("thread 1 2 pe=-1", 12, "pe '-1' is negative");
}

TEST(TraceParser, AVcpuCountOutside1To64IsRefused) {
  expect_refused("space 1 vm vcpus=0", 12, "vcpus '0' is out of range (1..64)");
  expect_refused("space 1 vm vcpus=65", 12, "vcpus '65' is out of range (1..64)");
}

// ---- addresses and lengths ----------------------------------------------------------

TEST(TraceParser, AMisalignedMmapAddressIsRefusedAtItsColumn) {
  expect_refused("mmap 100 0x7f0000000800 0x1000 rw- anon,private", 10,
                 "misaligned address '0x7f0000000800' (not a multiple of 4 KiB)");
}

TEST(TraceParser, EveryPageAddressOfAMemoryCallMustBeAligned) {
  expect_refused("munmap 1 4097 0x1000", 10, "misaligned address '4097' (not a multiple of 4 KiB)");
  expect_refused("mprotect 1 0x1008 0x1000 r--", 12, "misaligned address '0x1008' (not a multiple of 4 KiB)");
  expect_refused("madvise 1 0x10 0x1000 dontneed", 11, "misaligned address '0x10' (not a multiple of 4 KiB)");
  expect_refused("brk 1 0x1234", 7, "misaligned address '0x1234' (not a multiple of 4 KiB)");
  expect_refused("reclaim 1 2 0x1800 0x1000", 13, "misaligned address '0x1800' (not a multiple of 4 KiB)");
  //              12345678901234567890123
  expect_refused("mremap 1 0x1001 0x1000 0x2000 0x1000", 10,
                 "misaligned old address '0x1001' (not a multiple of 4 KiB)");
  expect_refused("mremap 1 0x1000 0x1000 0x2001 0x1000", 24,
                 "misaligned new address '0x2001' (not a multiple of 4 KiB)");
}

TEST(TraceParser, AZeroLengthIsRefused) {
  expect_refused("munmap 1 0x1000 0", 17, "zero length '0'");
  expect_refused("mmap 1 0x1000 0x0 rw- anon", 15, "zero length '0x0'");
  expect_refused("mremap 1 0x1000 0 0x2000 0x1000", 17, "zero length '0'");
  expect_refused("mremap 1 0x1000 0x1000 0x2000 0", 31, "zero length '0'");
}

TEST(TraceParser, ARangePastThe48BitSpaceIsRefusedAtItsLength) {
  //              1234567890123456789012
  expect_refused("mmap 1 0xfffffffff000 0x2000 rw- anon", 23,
                 "out of range: '0xfffffffff000' + '0x2000' ends beyond the 48-bit input space");
  // Rounded up to a page, 0x1001 bytes end past the top too.
  expect_refused("munmap 1 0xfffffffff000 0x1001", 25,
                 "out of range: '0xfffffffff000' + '0x1001' ends beyond the 48-bit input space");
  expect_refused("munmap 1 0x1000 0xffffffffffffffff", 17,
                 "out of range: '0x1000' + '0xffffffffffffffff' ends beyond the 48-bit input space");
  expect_refused("mremap 1 0x1000 0x1000 0xfffffffff000 0x2000", 39,
                 "out of range: '0xfffffffff000' + '0x2000' ends beyond the 48-bit input space");
}

TEST(TraceParser, AnAddressPastThe48BitSpaceIsRefusedAtItsColumn) {
  expect_refused("r 1 0x1000000000000", 5, "out of range: address '0x1000000000000' is beyond the 48-bit input space");
  expect_refused("x 1 0xffff800000000000", 5,
                 "out of range: address '0xffff800000000000' is beyond the 48-bit input space");
  expect_refused("munmap 1 0x1000000000000 0x1000", 10,
                 "out of range: address '0x1000000000000' is beyond the 48-bit input space");
  expect_refused("brk 1 0x1000000000000", 7,
                 "out of range: address '0x1000000000000' is beyond the 48-bit input space");
}

// ---- protection and flags -------------------------------------------------------

TEST(TraceParser, AProtectionOtherThanThreeRwxCharactersIsRefused) {
  //              1234567890123456789012345
  for (const char* prot : {"rwx-", "rw", "wr-", "RW-", "r+x", "---x"}) {
    const std::string line = std::string("mprotect 1 0x1000 0x1000 ") + prot;
    expect_refused(line, 26, std::string("bad protection '") + prot + "' (three characters [r-][w-][x-], like rw-)");
  }
}

TEST(TraceParser, FlagsMustNameOneOfAnonAndFileAndAtMostOneOfPrivateAndShared) {
  //              1234567890123456789012345
  const std::string mmap = "mmap 1 0x1000 0x1000 rw- ";
  expect_refused(mmap + "anon,file", 26, "flags 'anon,file' say both anon and file");
  expect_refused(mmap + "private", 26, "flags 'private' say neither anon nor file");
  expect_refused(mmap + "fixed,huge", 26, "flags 'fixed,huge' say neither anon nor file");
  expect_refused(mmap + "anon,private,shared", 26, "flags 'anon,private,shared' say both private and shared");
}

TEST(TraceParser, AnUnknownEmptyOrRepeatedFlagIsNamed) {
  const std::string mmap = "mmap 1 0x1000 0x1000 rw- ";
  expect_refused(mmap + "anon,sticky", 26,
                 "unknown flag 'sticky' in 'anon,sticky' (anon|file, private|shared, fixed, huge)");
  expect_refused(mmap + "Anon", 26, "unknown flag 'Anon' in 'Anon' (anon|file, private|shared, fixed, huge)");
  expect_refused(mmap + "anon,,fixed", 26, "empty flag in 'anon,,fixed'");
  expect_refused(mmap + "anon,", 26, "empty flag in 'anon,'");
  expect_refused(mmap + "anon,huge,huge", 26, "flag 'huge' repeated in 'anon,huge,huge'");
}

// ---- extra tokens --------------------------------------------------------------

TEST(TraceParser, AnExtraTokenIsRefusedAtTheFirstOne) {
  expect_refused("exit 1 2", 8, "extra token '2' after exit T");
  //              12345678901234567890123
  expect_refused("munmap 1 0x1000 0x1000 0x1000 0x1000", 24, "extra token '0x1000' after munmap T ADDR LEN");
  expect_refused("thread 1 2 pe=3 4", 17, "extra token '4' after thread T S [pe=P]");
  expect_refused("space 1 process vcpus=2", 17, "extra token 'vcpus=2' after space S process|vm vcpus=N|kernel");
  expect_refused("mmap 1 0x1000 0x1000 rw- anon a b c d e f g h", 31,
                 "extra token 'a' after mmap T ADDR LEN PROT FLAGS");
  expect_refused("option accesses=none now", 22, "extra token 'now' after option accesses=none");
}

// ---- several faults: the first wins ----------------------------------------------------

TEST(TraceParser, OfSeveralFaultsTheFirstTokensIsReported) {
  expect_refused("mmap x 0x1001 0 rwz bogus extra", 6, "thread id 'x' is not a number");
  expect_refused("mmap 1 0x1001 0 rwz bogus extra", 8, "misaligned address '0x1001' (not a multiple of 4 KiB)");
  expect_refused("mmap 1 0x1000 0 rwz bogus extra", 15, "zero length '0'");
}

}  // namespace
}  // namespace tlbkit::trace
