// Known bugs from other systems (docs/KNOWN-BUGS.md), each one a test
// tlbkit must pass. Expected values are hand-derived from the layouts in
// docs/ARCHITECTURE-FACTS.md section 1.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::arch {
namespace {

template <class T>
std::string outcome(const Result<T>& r) {
  return r.ok() ? "ok" : errc_name(r.error().code);
}

// ---- Bug 1: NUM capped at 30 made exactly 2^21 pages cover 1 GB, not 8 GB -------------

TEST(KnownBug1, ExactlyTwoToTheTwentyOnePagesIsOneOpWithNum31Scale3) {
  const Result<RangeDecomposition> d = range_decompose(std::uint64_t{1} << 21);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->count, 1u);
  EXPECT_EQ(d->pieces[0].scale, 3u);
  EXPECT_EQ(d->pieces[0].num, 31u);
  EXPECT_FALSE(d->trailing_single_page);
}

TEST(KnownBug1, ThatOpCoversEightGibibytesOfFourKibibytePages) {
  // ASID 1 << 48 = 0x0001'0000'0000'0000; TG 01 << 46 = 0x0000'4000'0000'0000;
  // SCALE 3 << 44 = 0x0000'3000'0000'0000; NUM 31 << 39 = 0x0000'0f80'0000'0000;
  // BaseADDR 0 -> 0x0001'7f80'0000'0000.
  const Result<Op> op = encode_range(Instr::rvae1is, Asid{1}, 0, RangeFields{Granule::k4K, 3, 31, {}});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operand, 0x0001'7f80'0000'0000u);
  const DecodedOp d = decode(*op);
  EXPECT_EQ(d.pages, 2'097'152u);
  EXPECT_EQ(d.size, 0x2'0000'0000u);  // 8 GiB = 2^33
  EXPECT_NE(d.size, 0x4000'0000u);    // the buggy 1 GiB
}

TEST(KnownBug1, OnePageMoreIsOutOfRangeAndOnePageLessIsFourOpsAndASinglePage) {
  // One page more than one op can carry: beyond what range ops cover.
  EXPECT_EQ(outcome(range_decompose((std::uint64_t{1} << 21) + 1)), "out_of_range");
  // One page less: four ops of NUM 30 (see RangeDecompose tests) and one single page.
  const Result<RangeDecomposition> d = range_decompose((std::uint64_t{1} << 21) - 1);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->count, 4u);
  EXPECT_TRUE(d->trailing_single_page);
  EXPECT_EQ(d->pages(), (std::uint64_t{1} << 21) - 1);
}

// ---- Bug 2: NUM decoded as 4 bits, and a wrong page shift ------------------------------

TEST(KnownBug2, NumIsFiveBitsSoBit43Counts) {
  // TG 01 = 0x0000'4000'0000'0000; NUM 16 << 39 = 0x0000'0800'0000'0000 (bit 43).
  const DecodedOp d = decode(Op{Instr::rvae1is, 0x0000'4800'0000'0000});
  EXPECT_EQ(d.num, 16u);
  EXPECT_EQ(d.pages, 34u);  // (16 + 1) << 1; a 4-bit NUM would read 0 -> 2 pages
  EXPECT_EQ(d.size, 34u * 0x1000);
}

TEST(KnownBug2, NumBit43IsEncodedNotDropped) {
  const Result<Op> op = encode_range(Instr::rvae1is, Asid{0}, 0, RangeFields{Granule::k4K, 0, 16, {}});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operand, 0x0000'4800'0000'0000u);
}

TEST(KnownBug2, BaseAndLengthUseTheOperandsGranuleShift) {
  // TG 11 (64K) = 0x0000'c000'0000'0000, SCALE 0, NUM 0, BaseADDR 1:
  // base 1 << 16 = 0x1'0000, 2 pages of 64 KiB = 0x2'0000 (a 4 KiB shift gives 0x1000, 0x2000).
  const DecodedOp d64 = decode(Op{Instr::rvaae1is, 0x0000'c000'0000'0001});
  EXPECT_EQ(d64.start, 0x1'0000u);
  EXPECT_EQ(d64.size, 0x2'0000u);
  // TG 10 (16K) = 0x0000'8000'0000'0000, BaseADDR 3: base 3 << 14 = 0xc000, 2 * 16 KiB.
  const DecodedOp d16 = decode(Op{Instr::rvaae1is, 0x0000'8000'0000'0003});
  EXPECT_EQ(d16.start, 0xc000u);
  EXPECT_EQ(d16.size, 0x8000u);
}

// ---- Bug 10: a wrong TTL hint invalidates nothing ----------------------------------------
// (The table-entry case belongs to the planner; here: TTL level 0 is refused
// and decode reports the TTL fields exactly.)

TEST(KnownBug10, EncodeRefusesTtlLevel0) {
  EXPECT_EQ(outcome(encode_va(Instr::vale1is, Asid{1}, 0x1000, TtlHint{Granule::k4K, 0})), "unsupported");
  EXPECT_EQ(outcome(encode_va(Instr::vale1is, Asid{1}, 0x1'0000, TtlHint{Granule::k64K, 0})),
            "invalid_argument");
  EXPECT_EQ(outcome(encode_ipa(Instr::ipas2le1is, 0x1000, TtlHint{Granule::k4K, 0})), "unsupported");
  EXPECT_EQ(outcome(encode_range(Instr::rvale1is, Asid{1}, 0x1000, RangeFields{Granule::k4K, 0, 0, 0})),
            "invalid_argument");
}

TEST(KnownBug10, DecodeReportsTheTtlFieldsExactly) {
  // By VA: TTL 0b0110 (4K, level 2) in 47:44.
  const DecodedOp va = decode(Op{Instr::vale1is, 0x0000'6000'0000'0001});
  EXPECT_EQ(va.ttl_field, 0b0110u);
  EXPECT_EQ(va.fields.ttl, (TtlHint{Granule::k4K, 2}));
  // No hint.
  const DecodedOp none = decode(Op{Instr::vale1is, 0x0000'0000'0000'0001});
  EXPECT_EQ(none.ttl_field, 0u);
  EXPECT_EQ(none.fields.ttl, kNoTtl);
  // Range: TTL 38:37 = 01 (level 1): TG 01 + (1 << 37) = 0x0000'4020'0000'0000.
  const DecodedOp range = decode(Op{Instr::rvale1is, 0x0000'4020'0000'0000});
  EXPECT_EQ(range.range_ttl, 1u);
  EXPECT_EQ(range.fields.range->ttl_level, 1u);
  // A hint the encoder writes is the hint decode reads back: 64K level 2 = 0b1110.
  const Result<Op> op = encode_va_all_asid(Instr::vaale1is, 0x2'0000, TtlHint{Granule::k64K, 2});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operand, 0x0000'e000'0000'0020u);  // 0xe << 44 | 0x2'0000 >> 12
  EXPECT_EQ(decode(*op).ttl_field, 0b1110u);
}

TEST(KnownBug10, DecodeCheckedRefusesTtlLevel0Operands) {
  // 0b0100: 4K level 0.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vale1is, 0x0000'4000'0000'0001})), "unsupported");
}

// ---- Bug 12: by-VA operand shifted by the granule's shift instead of 12 -------------------

TEST(KnownBug12, SixteenKGranuleByVaOperandIsVaShiftedBy12) {
  // VA 0x1234'4000 (16 KiB aligned) >> 12 = 0x1'2344 (>> 14 would be 0x48d1).
  // TTL 16K level 3 = 0b1011 = 0xb -> 0x0000'b000'0000'0000.
  const Result<Op> op = encode_va(Instr::vae1is, Asid{0}, 0x1234'4000, TtlHint{Granule::k16K, 3});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operand, 0x0000'b000'0001'2344u);
}

TEST(KnownBug12, SixtyFourKGranuleByVaOperandIsVaShiftedBy12) {
  // VA 0x1234'0000 >> 12 = 0x1'2340 (>> 16 would be 0x1234); TTL 0b1111.
  const Result<Op> op = encode_va_all_asid(Instr::vaae1is, 0x1234'0000, TtlHint{Granule::k64K, 3});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operand, 0x0000'f000'0001'2340u);
  // And 0x4'0000 >> 12 = 0x40.
  const Result<Op> small = encode_va_all_asid(Instr::vaae1is, 0x4'0000, TtlHint{Granule::k64K, 3});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->operand, 0x0000'f000'0000'0040u);
}

TEST(KnownBug12, IpaOperandIsAlsoShiftedBy12WithA64KGranule) {
  // IPA 0x8'0000'0000 >> 12 = 0x80'0000; TTL 64K level 3 = 0xf.
  const Result<Op> op = encode_ipa(Instr::ipas2e1is, 0x8'0000'0000, TtlHint{Granule::k64K, 3});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operand, 0x0000'f000'0080'0000u);
}

TEST(KnownBug12, DecodingA64KByVaOperandGivesBackTheVa) {
  const DecodedOp d = decode(Op{Instr::vaae1is, 0x0000'f000'0001'2340});
  EXPECT_EQ(d.fields.address, 0x1234'0000u);
  EXPECT_EQ(d.size, 0x1'0000u);
}

TEST(KnownBug12, RangeBaseOnTheOtherHandIsShiftedByTheGranule) {
  // Contrast: BaseADDR = 0x1234'0000 >> 16 = 0x1234; TG 11 = 0x0000'c000'0000'0000.
  const Result<Op> op = encode_range_all_asid(Instr::rvaae1is, 0x1234'0000, RangeFields{Granule::k64K, 0, 0, {}});
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operand, 0x0000'c000'0000'1234u);
}

}  // namespace
}  // namespace tlbkit::arch
