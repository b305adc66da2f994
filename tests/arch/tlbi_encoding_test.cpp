// TLBI operand encoding and decoding against hand-derived vectors.
//
// Every expected operand below was computed by hand from the layouts in
// docs/ARCHITECTURE-FACTS.md section 1; the comment above each literal shows the sum.
// Field positions: ASID 63:48; by-VA TTL 47:44; VA >> 12 in 43:0; range
// TG 47:46, SCALE 45:44, NUM 43:39, TTL 38:37, BaseADDR 36:0.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tlbkit/arch/ops.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::arch {
namespace {

// "ok" or the error code's name, so failures read as sentences.
template <class T>
std::string outcome(const Result<T>& r) {
  return r.ok() ? "ok" : errc_name(r.error().code);
}

// The value of a Result that must be ok (a failed expectation otherwise).
template <class T>
T value(const Result<T>& r) {
  EXPECT_TRUE(r.ok()) << "unexpected error: " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : T{};
}

constexpr RangeFields range4k(unsigned scale, unsigned num) {
  return RangeFields{Granule::k4K, scale, num, std::nullopt};
}

// ---- By-VA operands ------------------------------------------------------------

TEST(ByVaOperand, AsidGoesInBits63To48AndVaShiftedBy12InBits43To0) {
  // 5 << 48 = 0x0005'0000'0000'0000; 0x1000'0000 >> 12 = 0x1'0000.
  EXPECT_EQ(value(encode_va(Instr::vae1is, Asid{5}, 0x1000'0000, kNoTtl)),
            (Op{Instr::vae1is, 0x0005'0000'0001'0000}));
}

TEST(ByVaOperand, TtlHintGoesInBits47To44AsGranuleThenLevel) {
  // ASID 0xabcd << 48 = 0xabcd'0000'0000'0000
  // TTL 4K (01) level 3 (11) = 0b0111 = 7 -> 7 << 44 = 0x0000'7000'0000'0000
  // VA 0x7fff'ffff'f000 >> 12 = 0x7'ffff'ffff
  // sum = 0xabcd'7007'ffff'ffff
  EXPECT_EQ(value(encode_va(Instr::vale1is, Asid{0xabcd}, 0x7fff'ffff'f000,
                            TtlHint{Granule::k4K, 3})),
            (Op{Instr::vale1is, 0xabcd'7007'ffff'ffff}));
}

TEST(ByVaOperand, UpperRangeVaKeepsVaBits55To48InBits43To36) {
  // ASID 1 << 48 = 0x0001'0000'0000'0000
  // TTL 4K level 2 = 0b0110 -> 0x0000'6000'0000'0000
  // VA 0xffff'8000'1234'5000: VA[55:12] = 0xff8'0001'2345 (44 bits)
  // sum = 0x0001'6ff8'0001'2345
  EXPECT_EQ(value(encode_va(Instr::vae1, Asid{1}, 0xffff'8000'1234'5000, TtlHint{Granule::k4K, 2})),
            (Op{Instr::vae1, 0x0001'6ff8'0001'2345}));
}

TEST(ByVaOperand, AllAsidFormsLeaveBits63To48Zero) {
  // VA 0x2000 >> 12 = 2; no ASID, no TTL.
  EXPECT_EQ(value(encode_va_all_asid(Instr::vaale1is, 0x2000, kNoTtl)), (Op{Instr::vaale1is, 0x2}));
  EXPECT_EQ(value(encode_va_all_asid(Instr::vaae1, 0x2000, kNoTtl)), (Op{Instr::vaae1, 0x2}));
}

TEST(ByVaOperand, El2FormsTakeNoAsid) {
  // TTL 16K (10) level 2 (10) = 0b1010 = 0xa -> 0x0000'a000'0000'0000
  // VA 0x8000'0000 >> 12 = 0x8'0000
  EXPECT_EQ(value(encode_va_all_asid(Instr::vae2is, 0x8000'0000, TtlHint{Granule::k16K, 2})),
            (Op{Instr::vae2is, 0x0000'a000'0008'0000}));
}

// ---- By-ASID operands --------------------------------------------------------------

TEST(AsidOperand, AsidGoesInBits63To48AndNothingElse) {
  // 0xffff << 48; 42 = 0x2a << 48.
  EXPECT_EQ(value(encode_asid(Instr::aside1is, Asid{0xffff})),
            (Op{Instr::aside1is, 0xffff'0000'0000'0000}));
  EXPECT_EQ(value(encode_asid(Instr::aside1, Asid{42})), (Op{Instr::aside1, 0x002a'0000'0000'0000}));
}

// ---- Range operands ----------------------------------------------------------------

TEST(RangeOperand, FieldsGoInTheirBitsAndBaseIsVaShiftedByTheGranule) {
  // ASID 5 << 48          = 0x0005'0000'0000'0000
  // TG 4K = 01 << 46      = 0x0000'4000'0000'0000
  // SCALE 0
  // NUM 31 << 39          = 0x0000'0f80'0000'0000
  // TTL none
  // BaseADDR 0x1000'0000 >> 12 = 0x1'0000
  // sum                   = 0x0005'4f80'0001'0000
  EXPECT_EQ(value(encode_range(Instr::rvae1is, Asid{5}, 0x1000'0000, range4k(0, 31))),
            (Op{Instr::rvae1is, 0x0005'4f80'0001'0000}));
}

TEST(RangeOperand, LargestOpWithTtlHint) {
  // ASID 0x1234 << 48     = 0x1234'0000'0000'0000
  // TG 01 << 46           = 0x0000'4000'0000'0000
  // SCALE 3 << 44         = 0x0000'3000'0000'0000
  // NUM 31 << 39          = 0x0000'0f80'0000'0000
  // TTL level 3 << 37     = 0x0000'0060'0000'0000
  // BaseADDR 0x40'0000'0000 >> 12 = 0x400'0000
  // sum                   = 0x1234'7fe0'0400'0000
  EXPECT_EQ(value(encode_range(Instr::rvale1is, Asid{0x1234}, 0x40'0000'0000,
                               RangeFields{Granule::k4K, 3, 31, 3})),
            (Op{Instr::rvale1is, 0x1234'7fe0'0400'0000}));
}

TEST(RangeOperand, SixtyFourKGranuleShiftsBaseBy16) {
  // TG 64K = 11 << 46     = 0x0000'c000'0000'0000
  // SCALE 1 << 44         = 0x0000'1000'0000'0000
  // NUM 0
  // TTL level 2 << 37     = 0x0000'0040'0000'0000
  // BaseADDR 0x2'0000 >> 16 = 2
  // sum                   = 0x0000'd040'0000'0002
  EXPECT_EQ(value(encode_range_all_asid(Instr::rvaae1is, 0x2'0000, RangeFields{Granule::k64K, 1, 0, 2})),
            (Op{Instr::rvaae1is, 0x0000'd040'0000'0002}));
}

TEST(RangeOperand, El2SixteenKGranuleShiftsBaseBy14) {
  // TG 16K = 10 << 46     = 0x0000'8000'0000'0000
  // NUM 1 << 39           = 0x0000'0080'0000'0000
  // BaseADDR 0x4000 >> 14 = 1
  // sum                   = 0x0000'8080'0000'0001
  EXPECT_EQ(value(encode_range_all_asid(Instr::rvae2is, 0x4000, RangeFields{Granule::k16K, 0, 1, {}})),
            (Op{Instr::rvae2is, 0x0000'8080'0000'0001}));
}

TEST(RangeOperand, UpperRangeBaseSetsBaseAddrBit36) {
  // TG 01 << 46 = 0x0000'4000'0000'0000
  // BaseADDR = VA[48:12] of 0xffff'0000'0000'0000 = only bit 48 -> bit 36 = 0x10'0000'0000
  // sum = 0x0000'4010'0000'0000
  EXPECT_EQ(value(encode_range(Instr::rvae1is, Asid{0}, 0xffff'0000'0000'0000, range4k(0, 0))),
            (Op{Instr::rvae1is, 0x0000'4010'0000'0000}));
}

// ---- IPA operands --------------------------------------------------------------------

TEST(IpaOperand, IpaShiftedBy12InTheLowBits) {
  // 0x8000'0000 >> 12 = 0x8'0000
  EXPECT_EQ(value(encode_ipa(Instr::ipas2e1is, 0x8000'0000, kNoTtl)),
            (Op{Instr::ipas2e1is, 0x0000'0000'0008'0000}));
}

TEST(IpaOperand, HighestPageOf48BitsWithTtl) {
  // TTL 4K level 3 = 0b0111 -> 0x0000'7000'0000'0000
  // IPA 0xffff'ffff'f000 >> 12 = 0xf'ffff'ffff (IPA[47:12] in 35:0)
  // sum = 0x0000'700f'ffff'ffff
  EXPECT_EQ(value(encode_ipa(Instr::ipas2le1is, 0xffff'ffff'f000, TtlHint{Granule::k4K, 3})),
            (Op{Instr::ipas2le1is, 0x0000'700f'ffff'ffff}));
}

TEST(IpaRangeOperand, LikeRangeWithoutAsidAndBaseIsIpaShiftedByTheGranule) {
  // TG 01 << 46     = 0x0000'4000'0000'0000
  // SCALE 2 << 44   = 0x0000'2000'0000'0000
  // NUM 3 << 39     = 0x0000'0180'0000'0000
  // TTL 2 << 37     = 0x0000'0040'0000'0000
  // BaseADDR 0x4000'0000 >> 12 = 0x4'0000
  // sum             = 0x0000'61c0'0004'0000
  EXPECT_EQ(value(encode_ipa_range(Instr::ripas2e1is, 0x4000'0000, RangeFields{Granule::k4K, 2, 3, 2})),
            (Op{Instr::ripas2e1is, 0x0000'61c0'0004'0000}));
}

// ---- Plain address and no operand ----------------------------------------------------

TEST(AddressOperand, IsThePlainVirtualAddressOfAnyByte) {
  EXPECT_EQ(value(encode_address(Instr::ic_ivau, 0x1000'0040)), (Op{Instr::ic_ivau, 0x1000'0040}));
  EXPECT_EQ(value(encode_address(Instr::dc_civac, 0xffff'8000'0000'0043)),
            (Op{Instr::dc_civac, 0xffff'8000'0000'0043}));
}

TEST(NoOperand, MakeOpGivesOperandZeroForBarriersAndWholeTlbOps) {
  EXPECT_EQ(value(make_op(Instr::dsb_ish)), (Op{Instr::dsb_ish, 0}));
  EXPECT_EQ(value(make_op(Instr::vmalle1is)), (Op{Instr::vmalle1is, 0}));
  EXPECT_EQ(value(make_op(Instr::ic_iallu)), (Op{Instr::ic_iallu, 0}));
}

// ---- Generic encode ----------------------------------------------------------------

TEST(GenericEncode, UsesTheEncoderOfTheOperandKind) {
  OperandFields f;
  f.asid = Asid{5};
  f.address = 0x1000'0000;
  EXPECT_EQ(value(encode(Instr::vae1is, f)), (Op{Instr::vae1is, 0x0005'0000'0001'0000}));
  OperandFields r;
  r.asid = Asid{5};
  r.address = 0x1000'0000;
  r.range = range4k(0, 31);
  EXPECT_EQ(value(encode(Instr::rvae1is, r)), (Op{Instr::rvae1is, 0x0005'4f80'0001'0000}));
  EXPECT_EQ(value(encode(Instr::isb, OperandFields{})), (Op{Instr::isb, 0}));
}

TEST(GenericEncode, RefusesFieldsTheKindDoesNotUse) {
  OperandFields asid_for_all_asid_op;
  asid_for_all_asid_op.asid = Asid{3};
  EXPECT_EQ(outcome(encode(Instr::vaae1is, asid_for_all_asid_op)), "invalid_argument");

  OperandFields ttl_for_range;
  ttl_for_range.range = range4k(0, 0);
  ttl_for_range.ttl = TtlHint{Granule::k4K, 3};
  EXPECT_EQ(outcome(encode(Instr::rvaae1is, ttl_for_range)), "invalid_argument");

  EXPECT_EQ(outcome(encode(Instr::rvaae1is, OperandFields{})), "invalid_argument");  // no range

  OperandFields range_for_va;
  range_for_va.range = range4k(0, 0);
  EXPECT_EQ(outcome(encode(Instr::vaae1is, range_for_va)), "invalid_argument");

  OperandFields address_for_asid_op;
  address_for_asid_op.address = 0x1000;
  EXPECT_EQ(outcome(encode(Instr::aside1is, address_for_asid_op)), "invalid_argument");
  EXPECT_EQ(outcome(encode(Instr::dsb_sy, address_for_asid_op)), "invalid_argument");
}

// ---- Encode errors -------------------------------------------------------------------

TEST(EncodeErrors, EachEncoderRefusesInstructionsOfAnotherOperandKind) {
  EXPECT_EQ(outcome(encode_va(Instr::vaae1is, Asid{1}, 0x1000, kNoTtl)), "invalid_argument");
  EXPECT_EQ(outcome(encode_va(Instr::dsb_ish, Asid{1}, 0x1000, kNoTtl)), "invalid_argument");
  EXPECT_EQ(outcome(encode_va_all_asid(Instr::vae1is, 0x1000, kNoTtl)), "invalid_argument");
  EXPECT_EQ(outcome(encode_asid(Instr::vae1is, Asid{1})), "invalid_argument");
  EXPECT_EQ(outcome(encode_range(Instr::rvaae1is, Asid{1}, 0x1000, range4k(0, 0))), "invalid_argument");
  EXPECT_EQ(outcome(encode_range_all_asid(Instr::rvae1is, 0x1000, range4k(0, 0))), "invalid_argument");
  EXPECT_EQ(outcome(encode_ipa(Instr::vae2is, 0x1000, kNoTtl)), "invalid_argument");
  EXPECT_EQ(outcome(encode_ipa_range(Instr::ipas2e1is, 0x1000, range4k(0, 0))), "invalid_argument");
  EXPECT_EQ(outcome(encode_address(Instr::vae1is, 0x1000)), "invalid_argument");
  EXPECT_EQ(outcome(make_op(Instr::vae1is)), "invalid_argument");
  EXPECT_EQ(outcome(make_op(Instr::ic_ivau)), "invalid_argument");
}

TEST(EncodeErrors, AsidWiderThan16BitsIsOutOfRange) {
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{0x1'0000}, 0x1000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_asid(Instr::aside1is, Asid{0x1'0000})), "out_of_range");
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{0x1'0000}, 0x1000, range4k(0, 0))),
            "out_of_range");
  EXPECT_EQ(outcome(encode_asid(Instr::aside1is, Asid{0xffff})), "ok");
}

TEST(EncodeErrors, VaNotPageAlignedIsMisaligned) {
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1000'0001, kNoTtl)), "misaligned");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1000'0800, kNoTtl)), "misaligned");
  EXPECT_EQ(outcome(encode_ipa(Instr::ipas2e1is, 0x8000'0010, kNoTtl)), "misaligned");
}

TEST(EncodeErrors, VaNotAlignedToTheTtlGranuleIsMisaligned) {
  // 0x1'1000 is 4 KiB aligned but not 16 KiB or 64 KiB aligned.
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1'1000, TtlHint{Granule::k16K, 3})),
            "misaligned");
  EXPECT_EQ(outcome(encode_va_all_asid(Instr::vaae1is, 0x1'1000, TtlHint{Granule::k64K, 3})),
            "misaligned");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1'1000, TtlHint{Granule::k4K, 3})), "ok");
}

TEST(EncodeErrors, VaThatIsNot48BitOfEitherRangeIsOutOfRange) {
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x0001'0000'0000'0000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x00ff'0000'0000'0000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x8000'0000'0000'0000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0xfffe'ffff'ffff'f000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0xffff'0000'0000'0000, kNoTtl)), "ok");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x0000'ffff'ffff'f000, kNoTtl)), "ok");
}

TEST(EncodeErrors, El2VaInTheUpperRangeIsOutOfRange) {
  EXPECT_EQ(outcome(encode_va_all_asid(Instr::vae2is, 0xffff'0000'0000'0000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_range_all_asid(Instr::rvae2is, 0xffff'0000'0000'0000, range4k(0, 0))),
            "out_of_range");
}

TEST(EncodeErrors, IpaAtOrBeyond2To48IsOutOfRange) {
  EXPECT_EQ(outcome(encode_ipa(Instr::ipas2e1is, 0x0001'0000'0000'0000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_ipa(Instr::ipas2e1is, 0xffff'0000'0000'0000, kNoTtl)), "out_of_range");
  EXPECT_EQ(outcome(encode_ipa_range(Instr::ripas2e1is, 0x0001'0000'0000'0000, range4k(0, 0))),
            "out_of_range");
}

TEST(EncodeErrors, TtlLevel0With4KIsUnsupportedWithout52BitSupport) {
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1000, TtlHint{Granule::k4K, 0})), "unsupported");
  EXPECT_EQ(outcome(encode_ipa(Instr::ipas2e1is, 0x1000, TtlHint{Granule::k4K, 0})), "unsupported");
}

TEST(EncodeErrors, TtlLevel0With16KOr64KIsReserved) {
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1'0000, TtlHint{Granule::k16K, 0})),
            "invalid_argument");
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1'0000, TtlHint{Granule::k64K, 0})),
            "invalid_argument");
}

TEST(EncodeErrors, TtlLevelAbove3IsInvalid) {
  EXPECT_EQ(outcome(encode_va(Instr::vae1is, Asid{1}, 0x1000, TtlHint{Granule::k4K, 4})),
            "invalid_argument");
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0x1000, RangeFields{Granule::k4K, 0, 0, 4})),
            "invalid_argument");
}

TEST(EncodeErrors, RangeScaleAbove3IsInvalid) {
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0x1000, range4k(4, 0))), "invalid_argument");
}

TEST(EncodeErrors, RangeNumAbove31IsInvalidBecauseTheFieldHasFiveBits) {
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0x1000, range4k(0, 32))), "invalid_argument");
  // 68 pages is NUM 33 at SCALE 0: not one op.
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{5}, 0x1000'0000, range4k(0, 33))),
            "invalid_argument");
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0x1000, range4k(0, 31))), "ok");
}

TEST(EncodeErrors, RangeTtlLevel0CannotBeEncoded) {
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0x1000, RangeFields{Granule::k4K, 0, 0, 0})),
            "invalid_argument");
}

TEST(EncodeErrors, RangeBaseNotAlignedToTheGranuleIsMisaligned) {
  EXPECT_EQ(outcome(encode_range_all_asid(Instr::rvaae1is, 0x1000, RangeFields{Granule::k16K, 0, 0, {}})),
            "misaligned");
  EXPECT_EQ(outcome(encode_ipa_range(Instr::ripas2e1is, 0x8000, RangeFields{Granule::k64K, 0, 0, {}})),
            "misaligned");
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0x1001, range4k(0, 0))), "misaligned");
}

TEST(EncodeErrors, RangeRunningPastThe48BitEndIsOutOfRange) {
  // 4 pages = 0x4000 bytes; 0xffff'ffff'e000 leaves only 0x2000 below 2^48.
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0xffff'ffff'e000, range4k(0, 1))),
            "out_of_range");
  // Ending exactly at 2^48 is fine.
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0xffff'ffff'c000, range4k(0, 1))), "ok");
  EXPECT_EQ(outcome(encode_ipa_range(Instr::ripas2e1is, 0xffff'ffff'e000, range4k(0, 1))),
            "out_of_range");
}

TEST(EncodeErrors, UpperRangeMayEndExactlyAtTheTopOfTheAddressSpaceButNotWrap) {
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0xffff'ffff'ffff'e000, range4k(0, 0))), "ok");
  EXPECT_EQ(outcome(encode_range(Instr::rvae1is, Asid{1}, 0xffff'ffff'ffff'f000, range4k(0, 0))),
            "out_of_range");
}

TEST(EncodeErrors, CacheOpAddressThatIsNot48BitIsOutOfRange) {
  EXPECT_EQ(outcome(encode_address(Instr::ic_ivau, 0x0001'0000'0000'0000)), "out_of_range");
  EXPECT_EQ(outcome(encode_address(Instr::dc_civac, 0x5a00'0000'0000'1000)), "out_of_range");
}

// ---- Decoding hand-written operands ----------------------------------------------------

TEST(Decode, ByVaOperandGivesAsidVaAndNoHint) {
  const DecodedOp d = decode(Op{Instr::vae1is, 0x0005'0000'0001'0000});
  EXPECT_EQ(d.asid_field, 5);
  EXPECT_EQ(d.fields.asid, Asid{5});
  EXPECT_EQ(d.fields.address, 0x1000'0000u);
  EXPECT_EQ(d.ttl_field, 0);
  EXPECT_EQ(d.fields.ttl, kNoTtl);
  EXPECT_EQ(d.address_field, 0x1'0000u);
  EXPECT_EQ(d.start, 0x1000'0000u);
  EXPECT_EQ(d.size, 0x1000u);
  EXPECT_EQ(d.res0_bits, 0u);
}

TEST(Decode, ByVaOperandWithBit43SetIsAnUpperRangeVaForEl1) {
  const DecodedOp d = decode(Op{Instr::vae1, 0x0001'6ff8'0001'2345});
  EXPECT_EQ(d.asid_field, 1);
  EXPECT_EQ(d.ttl_field, 0b0110);
  EXPECT_EQ(d.fields.ttl, (TtlHint{Granule::k4K, 2}));
  EXPECT_EQ(d.fields.address, 0xffff'8000'1234'5000u);
}

TEST(Decode, RangeOperandGivesEveryFieldAndTheCoveredBytes) {
  const DecodedOp d = decode(Op{Instr::rvae1is, 0x0005'4f80'0001'0000});
  EXPECT_EQ(d.asid_field, 5);
  EXPECT_EQ(d.tg, 1);
  EXPECT_EQ(d.scale, 0);
  EXPECT_EQ(d.num, 31);
  EXPECT_EQ(d.range_ttl, 0);
  EXPECT_EQ(d.address_field, 0x1'0000u);
  EXPECT_EQ(d.pages, 64u);  // (31 + 1) << 1
  EXPECT_EQ(d.start, 0x1000'0000u);
  EXPECT_EQ(d.size, 0x4'0000u);  // 64 * 4 KiB
  EXPECT_EQ(d.fields.range, range4k(0, 31));
}

TEST(Decode, RangeOperandWithTtlAnd64KGranule) {
  const DecodedOp d = decode(Op{Instr::rvaae1is, 0x0000'd040'0000'0002});
  EXPECT_EQ(d.tg, 3);
  EXPECT_EQ(d.scale, 1);
  EXPECT_EQ(d.num, 0);
  EXPECT_EQ(d.range_ttl, 2);
  EXPECT_EQ(d.pages, 64u);  // 1 << 6
  EXPECT_EQ(d.start, 0x2'0000u);
  EXPECT_EQ(d.size, 0x40'0000u);  // 64 * 64 KiB = 4 MiB
  EXPECT_EQ(d.fields.range, (RangeFields{Granule::k64K, 1, 0, 2}));
}

TEST(Decode, RangeBaseAddrBit36SelectsTheUpperRangeForEl1) {
  const DecodedOp d = decode(Op{Instr::rvae1is, 0x0000'4010'0000'0000});
  EXPECT_EQ(d.start, 0xffff'0000'0000'0000u);
  EXPECT_EQ(d.size, 0x2000u);
}

TEST(Decode, El2RangeBaseIsNotSignExtendedSoBit36IsBeyond48Bits) {
  const Op op{Instr::rvae2is, 0x0000'4010'0000'0000};
  EXPECT_EQ(decode(op).start, 0x0001'0000'0000'0000u);
  EXPECT_EQ(outcome(decode_checked(op)), "out_of_range");
}

TEST(Decode, IpaOperandGivesIpaAndTtl) {
  const DecodedOp d = decode(Op{Instr::ipas2le1is, 0x0000'700f'ffff'ffff});
  EXPECT_EQ(d.fields.address, 0xffff'ffff'f000u);
  EXPECT_EQ(d.fields.ttl, (TtlHint{Granule::k4K, 3}));
  EXPECT_EQ(d.size, 0x1000u);
}

TEST(Decode, IpaRangeOperand) {
  const DecodedOp d = decode(Op{Instr::ripas2e1is, 0x0000'61c0'0004'0000});
  EXPECT_EQ(d.asid_field, 0);
  EXPECT_EQ(d.pages, 8192u);  // (3 + 1) << 11
  EXPECT_EQ(d.start, 0x4000'0000u);
  EXPECT_EQ(d.size, 0x200'0000u);  // 8192 * 4 KiB = 32 MiB
  EXPECT_EQ(d.fields.range, (RangeFields{Granule::k4K, 2, 3, 2}));
}

TEST(Decode, CacheOpOperandIsTheAddress) {
  const DecodedOp d = decode(Op{Instr::dc_civac, 0xffff'8000'0000'0043});
  EXPECT_EQ(d.fields.address, 0xffff'8000'0000'0043u);
  EXPECT_EQ(d.start, 0xffff'8000'0000'0043u);
  EXPECT_EQ(d.size, 0u);
}

// ---- decode_checked ----------------------------------------------------------------------

TEST(DecodeChecked, AcceptsTheHandDerivedOperands) {
  for (const Op& op : {Op{Instr::vae1is, 0x0005'0000'0001'0000}, Op{Instr::vale1is, 0xabcd'7007'ffff'ffff},
                       Op{Instr::vae1, 0x0001'6ff8'0001'2345}, Op{Instr::vae2is, 0x0000'a000'0008'0000},
                       Op{Instr::aside1is, 0xffff'0000'0000'0000}, Op{Instr::rvae1is, 0x0005'4f80'0001'0000},
                       Op{Instr::rvale1is, 0x1234'7fe0'0400'0000}, Op{Instr::rvaae1is, 0x0000'd040'0000'0002},
                       Op{Instr::rvae2is, 0x0000'8080'0000'0001}, Op{Instr::rvae1is, 0x0000'4010'0000'0000},
                       Op{Instr::ipas2le1is, 0x0000'700f'ffff'ffff},
                       Op{Instr::ripas2e1is, 0x0000'61c0'0004'0000}, Op{Instr::ic_ivau, 0x1000'0040},
                       Op{Instr::dsb_ish, 0}}) {
    EXPECT_EQ(outcome(decode_checked(op)), "ok") << mnemonic(op.instr) << " " << std::hex << op.operand;
  }
}

TEST(DecodeChecked, RejectsRangeTg00ButDecodeStillReportsTheRawFields) {
  // The first range vector with TG cleared: 0x0005'4f80'0001'0000 - 0x0000'4000'0000'0000.
  const Op op{Instr::rvae1is, 0x0005'0f80'0001'0000};
  EXPECT_EQ(outcome(decode_checked(op)), "invalid_argument");
  const DecodedOp d = decode(op);
  EXPECT_EQ(d.tg, 0);
  EXPECT_EQ(d.num, 31);
  EXPECT_EQ(d.pages, 64u);
  EXPECT_EQ(d.size, 0u);  // TG 00: the op invalidates nothing
}

TEST(DecodeChecked, RejectsTtlGranule00WithNonzeroLevel) {
  // TTL 0b0010 = granule 00, level 2.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vae1is, 0x0000'2000'0000'0001})), "invalid_argument");
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ipas2e1is, 0x0000'1000'0000'0001})), "invalid_argument");
}

TEST(DecodeChecked, RejectsTtlLevel0) {
  // TTL 0b0100 = 4K level 0 (LPA2 only); 0b1000 = 16K level 0 (reserved).
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vae1is, 0x0000'4000'0000'0001})), "unsupported");
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vae1is, 0x0000'8000'0000'0004})), "invalid_argument");
}

TEST(DecodeChecked, RejectsRes0Bits) {
  // All-ASID forms: 63:48 RES0.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vaae1is, 0x0001'0000'0000'0010})), "invalid_argument");
  EXPECT_EQ(decode(Op{Instr::vaae1is, 0x0001'0000'0000'0010}).res0_bits, 0x0001'0000'0000'0000u);
  EXPECT_EQ(outcome(decode_checked(Op{Instr::rvaae1is, 0x0001'4000'0000'0000})), "invalid_argument");
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vae2is, 0x0001'0000'0000'0000})), "invalid_argument");
  // By ASID: 47:0 RES0.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::aside1is, 0x0005'0000'0000'0001})), "invalid_argument");
  // By IPA: 63:48 and 43:40 RES0.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ipas2e1is, 0x0000'0100'0000'0000})), "invalid_argument");
  EXPECT_EQ(decode(Op{Instr::ipas2e1is, 0x0000'0f00'0000'0001}).res0_bits, 0x0000'0f00'0000'0000u);
  EXPECT_EQ(decode(Op{Instr::aside1, 0x0001'0000'0000'0003}).res0_bits, 0x3u);
  EXPECT_EQ(decode(Op{Instr::vae1is, 0xffff'ffff'ffff'ffff}).res0_bits, 0u);  // no RES0 bits
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ipas2e1is, 0x8000'0000'0000'0000})), "invalid_argument");
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ripas2e1is, 0x0001'4000'0000'0000})), "invalid_argument");
}

TEST(DecodeChecked, RejectsNonzeroOperandForOpsWithoutOne) {
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vmalle1is, 1})), "invalid_argument");
  EXPECT_EQ(outcome(decode_checked(Op{Instr::dsb_ish, 0x10})), "invalid_argument");
}

TEST(DecodeChecked, RejectsIpaBits51To48) {
  // Bit 36 = IPA[48].
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ipas2e1is, 0x0000'0010'0000'0000})), "out_of_range");
}

TEST(DecodeChecked, RejectsVaBits55To48NeitherAllZeroNorAllOne) {
  // Bit 36 of a by-VA operand is VA[48].
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vae1is, 0x0000'0010'0000'0000})), "out_of_range");
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vae2is, 0x0000'0ff0'0000'0000})), "out_of_range");
}

TEST(DecodeChecked, RejectsVaMisalignedToItsTtlGranule) {
  // TTL 16K level 3 = 0b1011; VA 0x1000 is not 16 KiB aligned.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vaae1is, 0x0000'b000'0000'0001})), "misaligned");
  EXPECT_EQ(outcome(decode_checked(Op{Instr::vaae1is, 0x0000'b000'0000'0004})), "ok");
}

TEST(DecodeChecked, RejectsRangesPastTheEndOf48Bits) {
  // BaseADDR 0xf'ffff'ffff (IPA 0xffff'ffff'f000), 4 pages: past 2^48.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ripas2e1is, 0x0000'4080'0000'0000 | 0xf'ffff'ffff})),
            "out_of_range");
  // BaseADDR bit 36 set for stage 2: IPA 2^48.
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ripas2e1is, 0x0000'4010'0000'0000})), "out_of_range");
}

TEST(DecodeChecked, RejectsCacheOpAddressThatIsNot48Bit) {
  EXPECT_EQ(outcome(decode_checked(Op{Instr::ic_ivau, 0x0001'0000'0000'0000})), "out_of_range");
}

// ---- Range arithmetic ------------------------------------------------------------------

TEST(RangePages, IsNumPlusOneShiftedByFiveScalePlusOne) {
  EXPECT_EQ(range_pages(0, 0), 2u);
  EXPECT_EQ(range_pages(0, 31), 64u);
  EXPECT_EQ(range_pages(1, 0), 64u);
  EXPECT_EQ(range_pages(2, 3), 8192u);           // 4 << 11
  EXPECT_EQ(range_pages(3, 31), 2'097'152u);     // 32 << 16
  EXPECT_EQ(kMaxRangePages, 2'097'152u);
}

TEST(RangeDecompose, ZeroPagesNeedNoOp) {
  const RangeDecomposition d = value(range_decompose(0));
  EXPECT_EQ(d.count, 0u);
  EXPECT_FALSE(d.trailing_single_page);
}

TEST(RangeDecompose, OnePageIsOnlyATrailingSinglePage) {
  const RangeDecomposition d = value(range_decompose(1));
  EXPECT_EQ(d.count, 0u);
  EXPECT_TRUE(d.trailing_single_page);
}

TEST(RangeDecompose, TwoPagesIsScale0Num0) {
  const RangeDecomposition d = value(range_decompose(2));
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(d.pieces[0], (RangePiece{0, 0}));
}

TEST(RangeDecompose, SixtyFourPagesIsOneOpAtScale1) {
  // 64 / 2 = 32 = "10" in base 32.
  const RangeDecomposition d = value(range_decompose(64));
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(d.pieces[0], (RangePiece{1, 0}));
}

TEST(RangeDecompose, SixtyEightPagesTakeTwoOpsHighestScaleFirst) {
  // 68 / 2 = 34 = "12" in base 32: SCALE 1 NUM 0 (64 pages) + SCALE 0 NUM 1 (4 pages).
  const RangeDecomposition d = value(range_decompose(68));
  ASSERT_EQ(d.count, 2u);
  EXPECT_EQ(d.pieces[0], (RangePiece{1, 0}));
  EXPECT_EQ(d.pieces[1], (RangePiece{0, 1}));
  EXPECT_FALSE(d.trailing_single_page);
}

TEST(RangeDecompose, OddCountLeavesOneTrailingPage) {
  // 513: 512 / 2 = 256 = "80" in base 32 -> SCALE 1 NUM 7 (8 << 6 = 512), plus one page.
  const RangeDecomposition d = value(range_decompose(513));
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(d.pieces[0], (RangePiece{1, 7}));
  EXPECT_TRUE(d.trailing_single_page);
  EXPECT_EQ(d.pages(), 513u);
}

TEST(RangeDecompose, TwoToTheTwentyOneMinusTwoPagesTakeFourOpsWithNum30) {
  // (2^21 - 2) / 2 = 2^20 - 1 = "31 31 31 31" in base 32.
  const RangeDecomposition d = value(range_decompose(kMaxRangePages - 2));
  ASSERT_EQ(d.count, 4u);
  EXPECT_EQ(d.pieces[0], (RangePiece{3, 30}));
  EXPECT_EQ(d.pieces[1], (RangePiece{2, 30}));
  EXPECT_EQ(d.pieces[2], (RangePiece{1, 30}));
  EXPECT_EQ(d.pieces[3], (RangePiece{0, 30}));
  EXPECT_FALSE(d.trailing_single_page);
}

TEST(RangeDecompose, MoreThanTwoToTheTwentyOnePagesIsOutOfRange) {
  EXPECT_EQ(outcome(range_decompose(kMaxRangePages + 1)), "out_of_range");
  EXPECT_EQ(outcome(range_decompose(~std::uint64_t{0})), "out_of_range");
}

TEST(RangeSingleOp, ExistsOnlyWhenOneOpCoversTheCountExactly) {
  EXPECT_EQ(range_single_op(64), (RangePiece{1, 0}));
  EXPECT_EQ(range_single_op(62), (RangePiece{0, 30}));
  EXPECT_EQ(range_single_op(kMaxRangePages), (RangePiece{3, 31}));
  EXPECT_EQ(range_single_op(68), std::nullopt);
  EXPECT_EQ(range_single_op(3), std::nullopt);
  EXPECT_EQ(range_single_op(0), std::nullopt);
}

// ---- Catalogue lookups ------------------------------------------------------------------

TEST(FindInstr, AcceptsBareTlbiNamesFullMnemonicsAnyCaseAndExtraBlanks) {
  EXPECT_EQ(find_instr("vae1is"), Instr::vae1is);
  EXPECT_EQ(find_instr("tlbi vae1is"), Instr::vae1is);
  EXPECT_EQ(find_instr("TLBI VAE1IS"), Instr::vae1is);
  EXPECT_EQ(find_instr("  tlbi\tvae1is "), Instr::vae1is);
  EXPECT_EQ(find_instr("dsb ish"), Instr::dsb_ish);
  EXPECT_EQ(find_instr("DSB   ISHST"), Instr::dsb_ishst);
  EXPECT_EQ(find_instr("isb"), Instr::isb);
  EXPECT_EQ(find_instr("ic ivau"), Instr::ic_ivau);
  EXPECT_EQ(find_instr("dc civac"), Instr::dc_civac);
  EXPECT_EQ(find_instr("ripas2le1"), Instr::ripas2le1);
}

TEST(FindInstr, RefusesNamesOutsideTheCatalogue) {
  for (const char* name : {"", " ", "vae3is", "tlbi", "dsb", "ish", "ivau", "tlbi dsb ish",
                           "vae1isx", "tlbi  vae1is  x0", "dsbish"}) {
    EXPECT_EQ(find_instr(name), std::nullopt) << '"' << name << '"';
  }
  EXPECT_EQ(find_instr(std::string(100, 'a')), std::nullopt);
}

TEST(FindInstr, FindsEveryCatalogueMnemonic) {
  for (const InstrInfo& i : catalogue()) EXPECT_EQ(find_instr(i.mnemonic), i.instr) << i.mnemonic;
}

TEST(Catalogue, ScopeRegimeAndLeafOnlyOfRepresentativeEntries) {
  EXPECT_EQ(info(Instr::vae1is).scope, Scope::inner_shareable);
  EXPECT_EQ(info(Instr::vae1).scope, Scope::local);
  EXPECT_FALSE(info(Instr::vae1is).leaf_only);
  EXPECT_TRUE(info(Instr::vale1is).leaf_only);
  EXPECT_TRUE(info(Instr::rvaale1).leaf_only);
  EXPECT_TRUE(info(Instr::ipas2le1is).leaf_only);
  EXPECT_EQ(info(Instr::ipas2e1is).regime, TlbRegime::el1_stage2);
  EXPECT_EQ(info(Instr::vmalls12e1is).regime, TlbRegime::el1_both_stages);
  EXPECT_EQ(info(Instr::alle1is).regime, TlbRegime::el1_all_vmids);
  EXPECT_EQ(info(Instr::vale2).regime, TlbRegime::el2);
  EXPECT_EQ(info(Instr::vmalle1is).regime, TlbRegime::el1_stage1);
  EXPECT_EQ(info(Instr::aside1is).operand, OperandKind::asid);
  EXPECT_EQ(info(Instr::vaae1is).operand, OperandKind::va_all_asid);
  EXPECT_EQ(info(Instr::rvae2is).operand, OperandKind::range_all_asid);
  EXPECT_EQ(info(Instr::ic_ivau).operand, OperandKind::address);
  EXPECT_EQ(info(Instr::dsb_nsh).scope, Scope::local);
  EXPECT_EQ(info(Instr::dsb_sy).scope, Scope::full_system);
  EXPECT_EQ(info(Instr::ic_ialluis).scope, Scope::inner_shareable);
  EXPECT_EQ(info(Instr::ic_iallu).scope, Scope::local);
  EXPECT_EQ(info(Instr::isb).category, Category::barrier);
  EXPECT_EQ(info(Instr::dc_civac).category, Category::cache);
}

TEST(Catalogue, EveryIsFormIsBroadcastAndEveryOtherTlbiIsLocal) {
  for (const InstrInfo& i : catalogue()) {
    if (i.category != Category::tlbi) continue;
    const bool is_form = i.mnemonic.ends_with("is");
    EXPECT_EQ(i.scope, is_form ? Scope::inner_shareable : Scope::local) << i.mnemonic;
  }
}

// ---- Properties: decode(encode(fields)) == fields for every operand kind ----------------
//
// The reference operand is computed here straight from the layout tables of
// docs/ARCHITECTURE-FACTS.md section 1, independently of the encoder.

constexpr std::uint64_t kUpperBase = 0xffff'0000'0000'0000;

std::vector<Instr> instrs_of(OperandKind kind) {
  std::vector<Instr> out;
  for (const InstrInfo& i : catalogue()) {
    if (i.operand == kind) out.push_back(i.instr);
  }
  return out;
}

rc::Gen<Granule> gen_granule() {
  return rc::gen::element(Granule::k4K, Granule::k16K, Granule::k64K);
}

unsigned shift_of(Granule g) { return g == Granule::k4K ? 12 : g == Granule::k16K ? 14 : 16; }
std::uint64_t tg_of(Granule g) { return g == Granule::k4K ? 1 : g == Granule::k16K ? 2 : 3; }

Ttl gen_ttl() {
  if (!*rc::gen::arbitrary<bool>()) return kNoTtl;
  return TtlHint{*gen_granule(), *rc::gen::inRange(1u, 4u)};
}

// A page-aligned address (aligned to `align`) of the lower 48-bit range, or
// of the upper one when `upper_too` allows it.
std::uint64_t gen_address(std::uint64_t align, bool upper_too) {
  const std::uint64_t units = std::uint64_t{1} << 48 >> __builtin_ctzll(align);
  const std::uint64_t offset = *rc::gen::inRange<std::uint64_t>(0, units) * align;
  const bool upper = upper_too && *rc::gen::arbitrary<bool>();
  return upper ? kUpperBase + offset : offset;
}

std::uint64_t ref_ttl(const Ttl& ttl) {
  return ttl ? (tg_of(ttl->granule) << 2 | ttl->level) : 0;
}

bool two_ranges(Instr i) { return info(i).regime == TlbRegime::el1_stage1; }

RC_GTEST_PROP(Property, ByVaAndByIpaOperandsDecodeToTheFieldsTheyWereEncodedFrom, ()) {
  const OperandKind kind = *rc::gen::element(OperandKind::va, OperandKind::va_all_asid, OperandKind::ipa);
  const Instr instr = *rc::gen::elementOf(instrs_of(kind));
  OperandFields f;
  if (kind == OperandKind::va) f.asid = Asid{*rc::gen::inRange(0u, 0x1'0000u)};
  f.ttl = gen_ttl();
  f.address = gen_address(f.ttl ? (std::uint64_t{1} << shift_of(f.ttl->granule)) : 0x1000,
                          two_ranges(instr));
  const Result<Op> op = encode(instr, f);
  RC_ASSERT(op.ok());
  const std::uint64_t expected = std::uint64_t{f.asid.value} << 48 | ref_ttl(f.ttl) << 44 |
                                 ((f.address >> 12) & ((std::uint64_t{1} << 44) - 1));
  RC_ASSERT(op->operand == expected);
  const Result<DecodedOp> d = decode_checked(*op);
  RC_ASSERT(d.ok());
  RC_ASSERT(d->fields == f);
  RC_ASSERT(d->start == f.address);
}

RC_GTEST_PROP(Property, RangeOperandsDecodeToTheFieldsTheyWereEncodedFrom, ()) {
  const OperandKind kind =
      *rc::gen::element(OperandKind::range, OperandKind::range_all_asid, OperandKind::ipa_range);
  const Instr instr = *rc::gen::elementOf(instrs_of(kind));
  RangeFields r;
  r.granule = *gen_granule();
  r.scale = *rc::gen::inRange(0u, 4u);
  r.num = *rc::gen::inRange(0u, 32u);
  if (*rc::gen::arbitrary<bool>()) r.ttl_level = *rc::gen::inRange(1u, 4u);
  const unsigned shift = shift_of(r.granule);
  const std::uint64_t size = ((std::uint64_t{r.num} + 1) << (5 * r.scale + 1)) << shift;
  // A base whose range ends at or below the top of its 48-bit range.
  const std::uint64_t last_base_unit = ((std::uint64_t{1} << 48) - size) >> shift;
  const std::uint64_t offset = *rc::gen::inRange<std::uint64_t>(0, last_base_unit + 1) << shift;
  const bool upper = two_ranges(instr) && *rc::gen::arbitrary<bool>();
  OperandFields f;
  if (kind == OperandKind::range) f.asid = Asid{*rc::gen::inRange(0u, 0x1'0000u)};
  f.address = upper ? kUpperBase + offset : offset;
  f.range = r;
  const Result<Op> op = encode(instr, f);
  RC_ASSERT(op.ok());
  const std::uint64_t expected = std::uint64_t{f.asid.value} << 48 | tg_of(r.granule) << 46 |
                                 std::uint64_t{r.scale} << 44 | std::uint64_t{r.num} << 39 |
                                 std::uint64_t{r.ttl_level.value_or(0)} << 37 |
                                 ((f.address >> shift) & ((std::uint64_t{1} << 37) - 1));
  RC_ASSERT(op->operand == expected);
  const Result<DecodedOp> d = decode_checked(*op);
  RC_ASSERT(d.ok());
  RC_ASSERT(d->fields == f);
  RC_ASSERT(d->start == f.address);
  RC_ASSERT(d->size == size);
}

RC_GTEST_PROP(Property, AsidAddressAndNoOperandOpsDecodeToTheirFields, ()) {
  const Instr asid_op = *rc::gen::elementOf(instrs_of(OperandKind::asid));
  const std::uint32_t asid = *rc::gen::inRange(0u, 0x1'0000u);
  const Result<Op> a = encode_asid(asid_op, Asid{asid});
  RC_ASSERT(a.ok());
  RC_ASSERT(a->operand == std::uint64_t{asid} << 48);
  RC_ASSERT(decode_checked(*a).ok());
  RC_ASSERT(decode(*a).fields.asid == Asid{asid});

  const Instr cache_op = *rc::gen::elementOf(instrs_of(OperandKind::address));
  const std::uint64_t va = gen_address(1, true);
  const Result<Op> c = encode_address(cache_op, va);
  RC_ASSERT(c.ok());
  RC_ASSERT(c->operand == va);
  RC_ASSERT(decode_checked(*c).ok());
  RC_ASSERT(decode(*c).fields.address == va);

  const Instr plain = *rc::gen::elementOf(instrs_of(OperandKind::none));
  const Result<Op> n = make_op(plain);
  RC_ASSERT(n.ok());
  RC_ASSERT(n->operand == 0u);
  RC_ASSERT(decode_checked(*n).ok());
}

RC_GTEST_PROP(Property, DecodeReportsTheRawBitsOfAnyOperand, (std::uint64_t operand)) {
  const Instr instr = static_cast<Instr>(*rc::gen::inRange<std::size_t>(0, kInstrCount));
  const DecodedOp d = decode(Op{instr, operand});
  switch (operand_kind(instr)) {
    case OperandKind::va:
      RC_ASSERT(d.asid_field == (operand >> 48));
      RC_ASSERT(d.ttl_field == ((operand >> 44) & 0xf));
      RC_ASSERT(d.address_field == (operand & ((std::uint64_t{1} << 44) - 1)));
      break;
    case OperandKind::range:
      RC_ASSERT(d.asid_field == (operand >> 48));
      [[fallthrough]];
    case OperandKind::range_all_asid:
    case OperandKind::ipa_range:
      RC_ASSERT(d.tg == ((operand >> 46) & 3));
      RC_ASSERT(d.scale == ((operand >> 44) & 3));
      RC_ASSERT(d.num == ((operand >> 39) & 31));
      RC_ASSERT(d.range_ttl == ((operand >> 37) & 3));
      RC_ASSERT(d.address_field == (operand & ((std::uint64_t{1} << 37) - 1)));
      RC_ASSERT(d.pages == ((d.num + 1ull) << (5 * d.scale + 1)));
      break;
    default:
      break;
  }
  // Whatever decode_checked accepts re-encodes to the same operand.
  const Result<DecodedOp> checked = decode_checked(Op{instr, operand});
  if (checked.ok()) {
    const Result<Op> again = encode(instr, checked->fields);
    RC_ASSERT(again.ok());
    RC_ASSERT(again->operand == operand);
  }
}

RC_GTEST_PROP(Property, RangeDecompositionCoversEveryCountUpToTwoToTheTwentyOneExactly, ()) {
  const std::uint64_t pages = *rc::gen::inRange<std::uint64_t>(0, kMaxRangePages + 1);
  const Result<RangeDecomposition> d = range_decompose(pages);
  RC_ASSERT(d.ok());
  RC_ASSERT(d->count <= 4u);
  RC_ASSERT(d->trailing_single_page == (pages % 2 == 1));
  std::uint64_t covered = d->trailing_single_page ? 1 : 0;
  unsigned previous_scale = 4;
  for (const RangePiece& p : d->used()) {
    RC_ASSERT(p.scale < previous_scale);  // highest SCALE first, one op per SCALE
    RC_ASSERT(p.num <= 31u);
    previous_scale = p.scale;
    covered += (std::uint64_t{p.num} + 1) << (5 * p.scale + 1);
  }
  RC_ASSERT(covered == pages);

  // Encoded back to back from a base, the pieces tile [base, base + even pages).
  const std::uint64_t base = 0x40'0000'0000;
  std::uint64_t next = base;
  for (const RangePiece& p : d->used()) {
    const Result<Op> op = encode_range(Instr::rvae1is, Asid{1}, next, RangeFields{Granule::k4K, p.scale, p.num, {}});
    RC_ASSERT(op.ok());
    const DecodedOp dec = decode(*op);
    RC_ASSERT(dec.start == next);
    next += dec.size;
  }
  RC_ASSERT(next - base == (pages & ~std::uint64_t{1}) * 0x1000);
}

}  // namespace
}  // namespace tlbkit::arch
