// The shim register protocol on the wire: hand-derived register values for
// every command, and every way decode_registers refuses a value. Derivations
// use the X8 layout of shim_protocol.hpp:
//   CMD 3:0 | IC 4 | LEAF 5 | TTL 7:6 | STRIDE 9:8 | VERSION 15:12 (= 1)
// so every valid X8 has 0x1000 set.
#include <gtest/gtest.h>

#include <cstdint>

#include "tlbkit/exec/shim_protocol.hpp"

namespace tlbkit::exec {
namespace {

constexpr std::uint64_t kVersion1 = 0x1000;  // VERSION = 1 << 12

ShimRequest loop_request(arch::VirtAddr start, std::uint64_t count, std::uint16_t asid) {
  ShimRequest r;
  r.command = ShimCommand::va_loop;
  r.start = start;
  r.count = count;
  r.asid = asid;
  return r;
}

ShimRequest range_request(arch::VirtAddr start, std::uint64_t pages, std::uint16_t asid) {
  ShimRequest r = loop_request(start, pages, asid);
  r.command = ShimCommand::range;
  return r;
}

// encode_registers(r) == expected, and decode_registers(expected) == r.
void expect_wire(const ShimRequest& r, const ShimRegisters& expected) {
  const Result<ShimRegisters> regs = encode_registers(r);
  ASSERT_TRUE(regs.ok()) << regs.error().message;
  EXPECT_EQ(regs->x8, expected.x8);
  EXPECT_EQ(regs->x9, expected.x9);
  EXPECT_EQ(regs->x10, expected.x10);
  EXPECT_EQ(regs->x11, expected.x11);
  const Result<ShimRequest> back = decode_registers(expected);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, r);
}

Errc decode_error(const ShimRegisters& regs) {
  const Result<ShimRequest> r = decode_registers(regs);
  EXPECT_FALSE(r.ok()) << "accepted x8=0x" << std::hex << regs.x8;
  return r.ok() ? Errc::no_memory : r.error().code;
}

// ---- Hand-derived register values ------------------------------------------------

TEST(ShimRegisters, NoneIsVersionOneAndNothingElse) {
  // CMD 0, no flags: X8 = 0x1000; X9..X11 zero.
  expect_wire(ShimRequest{}, {0x1000, 0, 0, 0});
}

TEST(ShimRegisters, NoneWithICacheSetsOnlyBitFour) {
  ShimRequest r;
  r.icache = ShimICache::invalidate;
  // 0x1000 | IC (1 << 4 = 0x10) = 0x1010.
  expect_wire(r, {0x1010, 0, 0, 0});
}

TEST(ShimRegisters, BroadcastIsCommandOne) {
  ShimRequest r;
  r.command = ShimCommand::broadcast;
  // 0x1000 | CMD 1 = 0x1001.
  expect_wire(r, {0x1001, 0, 0, 0});
}

TEST(ShimRegisters, SixteenPageLoopCarriesStartCountAndAsidInX9ToX11) {
  // The HVF runner's selective flush: 16 pages from 0x40_0000, ASID 5.
  // X8 = 0x1000 | CMD 3 = 0x1003.
  expect_wire(loop_request(0x40'0000, 16, 5), {0x1003, 0x40'0000, 16, 5});
}

TEST(ShimRegisters, LeafLoopWithLevelThreeHintAndICacheSetsEveryFlag) {
  ShimRequest r = loop_request(0x40'0000, 16, 5);
  r.levels = ShimLevels::leaf_only;
  r.ttl_level = 3;
  r.icache = ShimICache::invalidate;
  // 0x1000 | CMD 3 | IC 0x10 | LEAF 0x20 | TTL 3 << 6 = 0xC0  = 0x10F3.
  expect_wire(r, {0x10F3, 0x40'0000, 16, 5});
}

TEST(ShimRegisters, BlockLoopEncodesTwoMegabyteStrideAsOne) {
  ShimRequest r = loop_request(0x4000'0000, 4, 0x1234);
  r.stride = ShimStride::k2M;
  r.levels = ShimLevels::leaf_only;
  r.ttl_level = 2;
  // 0x1000 | STRIDE 1 << 8 = 0x100 | TTL 2 << 6 = 0x80 | LEAF 0x20 | CMD 3 = 0x11A3.
  expect_wire(r, {0x11A3, 0x4000'0000, 4, 0x1234});
}

TEST(ShimRegisters, GigabyteLoopEncodesStrideTwo) {
  ShimRequest r = loop_request(0x80'0000'0000, 2, 1);
  r.stride = ShimStride::k1G;
  // 0x1000 | STRIDE 2 << 8 = 0x200 | CMD 3 = 0x1203.
  expect_wire(r, {0x1203, 0x80'0000'0000, 2, 1});
}

TEST(ShimRegisters, KernelHalfLoopKeepsTheWholeSignExtendedVaInX9) {
  // A TTBR1 address goes on the wire as it is: bits 63:48 all one.
  expect_wire(loop_request(0xFFFF'8000'0000'0000, 1, 0), {0x1003, 0xFFFF'8000'0000'0000, 1, 0});
}

TEST(ShimRegisters, EightGigabyteRangeIsCommandFourWithTwoToTheTwentyOnePages) {
  // 2^21 pages = 0x20_0000 in X10; 0x1000 | CMD 4 = 0x1004.
  expect_wire(range_request(0x1'0000'0000, 0x20'0000, 7), {0x1004, 0x1'0000'0000, 0x20'0000, 7});
}

TEST(ShimRegisters, LeafRangeWithLevelThreeHint) {
  ShimRequest r = range_request(0x1000'0000, 64, 5);
  r.levels = ShimLevels::leaf_only;
  r.ttl_level = 3;
  // 0x1000 | TTL 0xC0 | LEAF 0x20 | CMD 4 = 0x10E4.
  expect_wire(r, {0x10E4, 0x1000'0000, 64, 5});
}

TEST(ShimRegisters, AsidCommandCarriesOnlyTheAsidInX11) {
  ShimRequest r;
  r.command = ShimCommand::asid;
  r.asid = 0xFFFF;
  // 0x1000 | CMD 5 = 0x1005; X11 = 0xFFFF (the widest ASID).
  expect_wire(r, {0x1005, 0, 0, 0xFFFF});
}

// ---- Refusals: version and reserved encodings --------------------------------------

TEST(ShimDecodeErrors, VersionZeroValuesOfTheOriginalProtocolAreUnsupported) {
  // The HVF runner's X8 = 3 (selective) or 1 (broadcast) without VERSION.
  EXPECT_EQ(decode_error({3, 0x40'0000, 16, 0}), Errc::unsupported);
  EXPECT_EQ(decode_error({1, 0, 0, 0}), Errc::unsupported);
  EXPECT_EQ(decode_error({0, 0, 0, 0}), Errc::unsupported);
}

TEST(ShimDecodeErrors, FutureVersionIsUnsupported) {
  EXPECT_EQ(decode_error({0x2001, 0, 0, 0}), Errc::unsupported);
  EXPECT_EQ(decode_error({0xF001, 0, 0, 0}), Errc::unsupported);
}

TEST(ShimDecodeErrors, ReservedBitsOfX8AreRefused) {
  for (const unsigned bit : {10u, 11u, 16u, 32u, 63u}) {
    EXPECT_EQ(decode_error({kVersion1 | 1 | std::uint64_t{1} << bit, 0, 0, 0}), Errc::invalid_argument)
        << "bit " << bit;
  }
}

TEST(ShimDecodeErrors, X11BitsAboveTheSixteenBitAsidAreRefused) {
  EXPECT_EQ(decode_error({kVersion1 | 5, 0, 0, 0x1'0000}), Errc::invalid_argument);
  EXPECT_EQ(decode_error({kVersion1 | 3, 0x40'0000, 1, std::uint64_t{1} << 63}), Errc::invalid_argument);
}

TEST(ShimDecodeErrors, CommandTwoStaysReservedForTheExecveMarker) {
  EXPECT_EQ(decode_error({kVersion1 | 2, 0, 0, 0}), Errc::invalid_argument);
}

TEST(ShimDecodeErrors, UnknownCommandsSixToFifteenAreRefused) {
  for (std::uint64_t cmd = 6; cmd <= 15; ++cmd) {
    EXPECT_EQ(decode_error({kVersion1 | cmd, 0, 0, 0}), Errc::invalid_argument) << "CMD " << cmd;
  }
}

TEST(ShimDecodeErrors, StrideThreeIsReserved) {
  EXPECT_EQ(decode_error({kVersion1 | 0x300 | 3, 0x40'0000, 1, 0}), Errc::invalid_argument);
}

// ---- Refusals: fields a command does not use ----------------------------------------

TEST(ShimDecodeErrors, BroadcastWithAnyOperandRegisterSetIsRefused) {
  EXPECT_EQ(decode_error({kVersion1 | 1, 0x1000, 0, 0}), Errc::invalid_argument);
  EXPECT_EQ(decode_error({kVersion1 | 1, 0, 1, 0}), Errc::invalid_argument);
  EXPECT_EQ(decode_error({kVersion1 | 1, 0, 0, 1}), Errc::invalid_argument);
}

TEST(ShimDecodeErrors, LeafTtlOrStrideFlagsOnCommandsWithoutVasAreRefused) {
  EXPECT_EQ(decode_error({kVersion1 | 0x20 | 1, 0, 0, 0}), Errc::invalid_argument);  // LEAF, broadcast
  EXPECT_EQ(decode_error({kVersion1 | 0xC0 | 5, 0, 0, 0}), Errc::invalid_argument);  // TTL, asid
  EXPECT_EQ(decode_error({kVersion1 | 0x100 | 0, 0, 0, 0}), Errc::invalid_argument);  // STRIDE, none
}

TEST(ShimDecodeErrors, AsidCommandWithAStartOrCountIsRefused) {
  EXPECT_EQ(decode_error({kVersion1 | 5, 0x1000, 0, 3}), Errc::invalid_argument);
  EXPECT_EQ(decode_error({kVersion1 | 5, 0, 4, 3}), Errc::invalid_argument);
}

TEST(ShimDecodeErrors, NoneWithAnAsidIsRefused) {
  EXPECT_EQ(decode_error({kVersion1, 0, 0, 9}), Errc::invalid_argument);
}

TEST(ShimDecodeErrors, RangeWithAStrideIsRefused) {
  EXPECT_EQ(decode_error({kVersion1 | 0x100 | 4, 0x20'0000, 2, 0}), Errc::invalid_argument);
}

// ---- Refusals: counts and addresses ------------------------------------------------------

TEST(ShimDecodeErrors, ZeroCountIsRefusedForLoopAndRange) {
  EXPECT_EQ(decode_error({kVersion1 | 3, 0x40'0000, 0, 0}), Errc::invalid_argument);
  EXPECT_EQ(decode_error({kVersion1 | 4, 0x40'0000, 0, 0}), Errc::invalid_argument);
}

TEST(ShimDecodeErrors, LoopOfMoreThanFiveHundredTwelveTlbisIsOutOfRange) {
  EXPECT_TRUE(decode_registers({kVersion1 | 3, 0x40'0000, 512, 0}).ok());
  EXPECT_EQ(decode_error({kVersion1 | 3, 0x40'0000, 513, 0}), Errc::out_of_range);
}

TEST(ShimDecodeErrors, RangeOfMoreThanTwoToTheTwentyOnePagesIsOutOfRange) {
  EXPECT_TRUE(decode_registers({kVersion1 | 4, 0, 0x20'0000, 0}).ok());
  EXPECT_EQ(decode_error({kVersion1 | 4, 0, 0x20'0001, 0}), Errc::out_of_range);
  EXPECT_EQ(decode_error({kVersion1 | 4, 0, ~std::uint64_t{0}, 0}), Errc::out_of_range);
}

TEST(ShimDecodeErrors, StartNotFourKAlignedIsMisaligned) {
  EXPECT_EQ(decode_error({kVersion1 | 3, 0x40'0800, 1, 0}), Errc::misaligned);
  EXPECT_EQ(decode_error({kVersion1 | 4, 0x40'0001, 1, 0}), Errc::misaligned);
}

TEST(ShimDecodeErrors, LoopStartNotAlignedToItsStrideIsMisaligned) {
  // 0x40_1000 is 4 KiB aligned, not 2 MiB aligned.
  EXPECT_EQ(decode_error({kVersion1 | 0x100 | 3, 0x40'1000, 1, 0}), Errc::misaligned);
  // 0x20_0000 is 2 MiB aligned, not 1 GiB aligned.
  EXPECT_EQ(decode_error({kVersion1 | 0x200 | 3, 0x20'0000, 1, 0}), Errc::misaligned);
}

TEST(ShimDecodeErrors, StartThatIsNotAFortyEightBitVaIsOutOfRange) {
  EXPECT_EQ(decode_error({kVersion1 | 3, 0x0001'0000'0000'0000, 1, 0}), Errc::out_of_range);
  EXPECT_EQ(decode_error({kVersion1 | 4, 0xFFF0'0000'0000'0000, 1, 0}), Errc::out_of_range);
}

TEST(ShimDecodeErrors, RequestRunningPastTheEndOfItsVaRangeIsOutOfRange) {
  // Last TTBR0 page plus one more.
  EXPECT_TRUE(decode_registers({kVersion1 | 3, 0xFFFF'FFFF'F000, 1, 0}).ok());
  EXPECT_EQ(decode_error({kVersion1 | 3, 0xFFFF'FFFF'F000, 2, 0}), Errc::out_of_range);
  // The top TTBR1 page is fine, a range wrapping past 2^64 is not.
  EXPECT_TRUE(decode_registers({kVersion1 | 4, 0xFFFF'FFFF'FFFF'F000, 1, 0}).ok());
  EXPECT_EQ(decode_error({kVersion1 | 4, 0xFFFF'FFFF'FFFF'F000, 2, 0}), Errc::out_of_range);
}

// ---- The encoder refuses what the decoder refuses ----------------------------------------

TEST(ShimEncodeErrors, NothingInvalidGoesOnTheWire) {
  ShimRequest bad_ttl = loop_request(0x40'0000, 1, 0);
  bad_ttl.ttl_level = 0;  // a hint of level 0 has no encoding (0 means none)
  EXPECT_EQ(encode_registers(bad_ttl).error().code, Errc::invalid_argument);
  bad_ttl.ttl_level = 4;
  EXPECT_EQ(encode_registers(bad_ttl).error().code, Errc::invalid_argument);

  ShimRequest bad_command;
  bad_command.command = static_cast<ShimCommand>(2);
  EXPECT_EQ(encode_registers(bad_command).error().code, Errc::invalid_argument);

  ShimRequest bad_stride = loop_request(0x40'0000, 1, 0);
  bad_stride.stride = static_cast<ShimStride>(3);
  EXPECT_EQ(encode_registers(bad_stride).error().code, Errc::invalid_argument);

  EXPECT_EQ(encode_registers(loop_request(0x40'0000, 0, 0)).error().code, Errc::invalid_argument);
  EXPECT_EQ(encode_registers(loop_request(0x40'0000, 513, 0)).error().code, Errc::out_of_range);
  EXPECT_EQ(encode_registers(loop_request(0x40'0010, 1, 0)).error().code, Errc::misaligned);

  ShimRequest asid_with_start;
  asid_with_start.command = ShimCommand::asid;
  asid_with_start.start = 0x1000;
  EXPECT_EQ(encode_registers(asid_with_start).error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace tlbkit::exec
