// Hand-derived vectors for translation granules and table-tree geometry.
//
// Every expected value below is worked out from the Arm ARM (VMSAv8-64, 4 KiB
// granule: 9 bits resolved per level, level 3 maps 2^12 bytes) or from the
// VTCR_EL2 field layout, and written as a literal with its derivation.

#include <gtest/gtest.h>

#include <cstdint>

#include "tlbkit/arch/granule.hpp"

namespace tlbkit::arch {
namespace {

// ---------------------------------------------------------------- granules

TEST(Granule, ShiftsAndSizesAreTwelveFourteenSixteenBits) {
  EXPECT_EQ(granule_shift(Granule::k4K), 12u);
  EXPECT_EQ(granule_shift(Granule::k16K), 14u);
  EXPECT_EQ(granule_shift(Granule::k64K), 16u);
  EXPECT_EQ(granule_size(Granule::k4K), 0x1000u);
  EXPECT_EQ(granule_size(Granule::k16K), 0x4000u);
  EXPECT_EQ(granule_size(Granule::k64K), 0x10000u);
}

TEST(Granule, TlbiTgFieldIs01For4K10For16K11For64K) {
  // docs/ARCHITECTURE-FACTS.md section 1: TG / TTL granule field 01 4K, 10 16K, 11 64K.
  EXPECT_EQ(granule_tg_field(Granule::k4K), 0b01u);
  EXPECT_EQ(granule_tg_field(Granule::k16K), 0b10u);
  EXPECT_EQ(granule_tg_field(Granule::k64K), 0b11u);
}

// ------------------------------------------------------- stage-1 geometry

TEST(Stage1Geometry, ThirtyNineBitVaStartsAtLevelOneWith512RootEntries) {
  // A level-1 entry maps 2^30; 39 - 30 = 9 index bits at the root = 512 entries.
  const auto g = Geometry::stage1(Granule::k4K, 39);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->stage(), Stage::stage1);
  EXPECT_EQ(g->granule(), Granule::k4K);
  EXPECT_EQ(g->input_bits(), 39u);
  EXPECT_EQ(g->start_level(), 1u);
  EXPECT_EQ(g->root_tables(), 1u);
  EXPECT_EQ(g->root_entries(), 512u);
  EXPECT_EQ(g->input_size(), 0x80'0000'0000u);  // 2^39 = 512 GiB
}

TEST(Stage1Geometry, FortyEightBitVaStartsAtLevelZeroWith512RootEntries) {
  // A level-0 entry maps 2^39; 48 - 39 = 9 index bits.
  const auto g = Geometry::stage1(Granule::k4K, 48);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->start_level(), 0u);
  EXPECT_EQ(g->root_tables(), 1u);
  EXPECT_EQ(g->root_entries(), 512u);
  EXPECT_EQ(g->input_size(), 0x1'0000'0000'0000u);  // 2^48 = 256 TiB
}

TEST(Stage1Geometry, FortyTwoBitVaStartsAtLevelZeroWithEightRootEntries) {
  // 42 > 39 bits a level-1 root can resolve, so level 0; 42 - 39 = 3 bits = 8.
  const auto g = Geometry::stage1(Granule::k4K, 42);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->start_level(), 0u);
  EXPECT_EQ(g->root_entries(), 8u);
  EXPECT_EQ(g->root_tables(), 1u);
}

TEST(Stage1Geometry, TwentyFiveBitVaIsTheSmallestAndStartsAtLevelTwoWith16Entries) {
  // T0SZ = 39 is the largest without FEAT_TTST: 25 bits; level 2 entry maps
  // 2^21, 25 - 21 = 4 bits = 16 root entries.
  const auto g = Geometry::stage1(Granule::k4K, 25);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->start_level(), 2u);
  EXPECT_EQ(g->root_entries(), 16u);
}

TEST(Stage1Geometry, StartLevelChangesExactlyWhereTheRootWouldOverflow512Entries) {
  // 30 bits: level 2 resolves 21 + 9 = 30 -> level 2, 512 entries.
  // 31 bits: needs level 1, 31 - 30 = 1 bit -> 2 entries.
  // 39 bits: level 1 full; 40 bits: level 0 with 2 entries.
  const auto g30 = Geometry::stage1(Granule::k4K, 30);
  const auto g31 = Geometry::stage1(Granule::k4K, 31);
  const auto g40 = Geometry::stage1(Granule::k4K, 40);
  ASSERT_TRUE(g30.ok());
  ASSERT_TRUE(g31.ok());
  ASSERT_TRUE(g40.ok());
  EXPECT_EQ(g30->start_level(), 2u);
  EXPECT_EQ(g30->root_entries(), 512u);
  EXPECT_EQ(g31->start_level(), 1u);
  EXPECT_EQ(g31->root_entries(), 2u);
  EXPECT_EQ(g40->start_level(), 0u);
  EXPECT_EQ(g40->root_entries(), 2u);
}

TEST(Stage1Geometry, LevelShiftsAreThirtyNineThirtyTwentyOneTwelve) {
  const auto g = Geometry::stage1(Granule::k4K, 48);
  ASSERT_TRUE(g.ok());
  // 12 + 9 * (3 - level)
  EXPECT_EQ(g->level_shift(0), 39u);
  EXPECT_EQ(g->level_shift(1), 30u);
  EXPECT_EQ(g->level_shift(2), 21u);
  EXPECT_EQ(g->level_shift(3), 12u);
  EXPECT_EQ(g->level_size(0), 0x80'0000'0000u);  // 512 GiB
  EXPECT_EQ(g->level_size(1), 0x4000'0000u);     // 1 GiB
  EXPECT_EQ(g->level_size(2), 0x20'0000u);       // 2 MiB
  EXPECT_EQ(g->level_size(3), 0x1000u);          // 4 KiB
}

TEST(Stage1Geometry, IndexSplitsA48BitVaIntoFourNineBitFields) {
  const auto g = Geometry::stage1(Granule::k4K, 48);
  ASSERT_TRUE(g.ok());
  // VA 0x1234_5678_9000, nibbles from bit 47 down: 1 2 3 4 5 6 7 8 9 0 0 0.
  // L0 = VA[47:39] = 0001 0010 0          = 0b000100100 = 36
  // L1 = VA[38:30] = 011 0100 01          = 0b011010001 = 209
  // L2 = VA[29:21] = 01 0110 011          = 0b010110011 = 179
  // L3 = VA[20:12] = 1 1000 1001          = 0b110001001 = 393
  constexpr VirtAddr va = 0x1234'5678'9000;
  EXPECT_EQ(g->index(va, 0), 36u);
  EXPECT_EQ(g->index(va, 1), 209u);
  EXPECT_EQ(g->index(va, 2), 179u);
  EXPECT_EQ(g->index(va, 3), 393u);
}

TEST(Stage1Geometry, IndexOfTheLastPageOfA39BitSpaceIs511AtEveryLevel) {
  const auto g = Geometry::stage1(Granule::k4K, 39);
  ASSERT_TRUE(g.ok());
  constexpr VirtAddr last = 0x7f'ffff'f000;  // 2^39 - 4 KiB: bits 38:12 all ones
  EXPECT_EQ(g->index(last, 1), 511u);
  EXPECT_EQ(g->index(last, 2), 511u);
  EXPECT_EQ(g->index(last, 3), 511u);
  // 0x40_0000_0000 = 256 GiB = entry 256 of the level-1 root.
  EXPECT_EQ(g->index(0x40'0000'0000, 1), 256u);
}

TEST(Stage1Geometry, RootIndexOfA42BitSpaceHasOnlyThreeBits) {
  const auto g = Geometry::stage1(Granule::k4K, 42);
  ASSERT_TRUE(g.ok());
  // VA[41:39] of the last page 0x3ff_ffff_f000 = 0b111 = 7.
  EXPECT_EQ(g->index(0x3ff'ffff'f000, 0), 7u);
  // 0x80_0000_0000 = 2^39 -> root entry 1; 0x180_0000_0000 = 3 * 2^39 -> 3.
  EXPECT_EQ(g->index(0x80'0000'0000, 0), 1u);
  EXPECT_EQ(g->index(0x180'0000'0000, 0), 3u);
}

TEST(Stage1Geometry, BlocksAreAllowedAtLevelsOneAndTwoOnly) {
  const auto g = Geometry::stage1(Granule::k4K, 48);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->block_allowed(0));
  EXPECT_TRUE(g->block_allowed(1));
  EXPECT_TRUE(g->block_allowed(2));
  EXPECT_FALSE(g->block_allowed(3));  // level 3 holds pages, not blocks
}

TEST(Stage1Geometry, SixteenKGranuleIsUnsupported) {
  const auto g = Geometry::stage1(Granule::k16K, 39);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::unsupported);
}

TEST(Stage1Geometry, SixtyFourKGranuleIsUnsupported) {
  const auto g = Geometry::stage1(Granule::k64K, 42);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::unsupported);
}

TEST(Stage1Geometry, FiftyTwoBitVaIsUnsupported) {
  const auto g52 = Geometry::stage1(Granule::k4K, 52);
  ASSERT_FALSE(g52.ok());
  EXPECT_EQ(g52.error().code, Errc::unsupported);
  const auto g49 = Geometry::stage1(Granule::k4K, 49);  // first width past 48
  ASSERT_FALSE(g49.ok());
  EXPECT_EQ(g49.error().code, Errc::unsupported);
}

TEST(Stage1Geometry, VaNarrowerThan25BitsIsOutOfRange) {
  const auto g24 = Geometry::stage1(Granule::k4K, 24);  // T0SZ = 40 > 39
  ASSERT_FALSE(g24.ok());
  EXPECT_EQ(g24.error().code, Errc::out_of_range);
  const auto g0 = Geometry::stage1(Granule::k4K, 0);
  ASSERT_FALSE(g0.ok());
  EXPECT_EQ(g0.error().code, Errc::out_of_range);
}

// ------------------------------------------------------- stage-2 geometry

TEST(Stage2Geometry, FortyBitIpaAtLevelOneConcatenatesTwoRootTables) {
  // Level-1 entry maps 2^30; 40 - 30 = 10 root bits = 1024 entries = 2 tables.
  const auto g = Geometry::stage2(Granule::k4K, 40, 1);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->stage(), Stage::stage2);
  EXPECT_EQ(g->input_bits(), 40u);
  EXPECT_EQ(g->start_level(), 1u);
  EXPECT_EQ(g->root_tables(), 2u);
  EXPECT_EQ(g->root_entries(), 1024u);
  EXPECT_EQ(g->input_size(), 0x100'0000'0000u);  // 1 TiB
}

TEST(Stage2Geometry, RootIndexOfConcatenatedTablesSpansAllOfThem) {
  const auto g = Geometry::stage2(Granule::k4K, 40, 1);
  ASSERT_TRUE(g.ok());
  // IPA 0x80_4000_0000: IPA[39:30] = 0b10_0000_0001 = 513 = entry 1 of the
  // second root table (513 - 512).
  EXPECT_EQ(g->index(0x80'4000'0000, 1), 513u);
  // Below the root the index is still 9 bits: IPA 0x80_4020_0000 -> L2 index 1.
  EXPECT_EQ(g->index(0x80'4020'0000, 2), 1u);
}

TEST(Stage2Geometry, FortyFourBitIpaAtLevelZeroIsOneTableOf32Entries) {
  // 44 - 39 = 5 root bits = 32 entries in one table.
  const auto g = Geometry::stage2(Granule::k4K, 44, 0);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->start_level(), 0u);
  EXPECT_EQ(g->root_tables(), 1u);
  EXPECT_EQ(g->root_entries(), 32u);
}

TEST(Stage2Geometry, ThirtyFourBitIpaAtLevelTwoConcatenatesSixteenTables) {
  // 34 - 21 = 13 root bits = 8192 entries = 16 tables of 512.
  const auto g = Geometry::stage2(Granule::k4K, 34, 2);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->start_level(), 2u);
  EXPECT_EQ(g->root_tables(), 16u);
  EXPECT_EQ(g->root_entries(), 8192u);
  // Last 2 MiB of 16 GiB: 0x3_ffe0_0000 >> 21 = 0x1fff = 8191.
  EXPECT_EQ(g->index(0x3'ffe0'0000, 2), 8191u);
}

TEST(Stage2Geometry, FortyThreeBitIpaAtLevelOneIsTheLargestSixteenTableRoot) {
  // 43 - 30 = 13 root bits = 16 tables.
  const auto g = Geometry::stage2(Granule::k4K, 43, 1);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->root_tables(), 16u);
}

TEST(Stage2Geometry, FortyBitIpaAtLevelZeroHasATwoEntryRoot) {
  // 40 - 39 = 1 root bit: the smallest legal root.
  const auto g = Geometry::stage2(Granule::k4K, 40, 0);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->root_tables(), 1u);
  EXPECT_EQ(g->root_entries(), 2u);
}

TEST(Stage2Geometry, MoreThanSixteenConcatenatedTablesIsInvalidArgument) {
  // 35 bits at level 2: 14 root bits = 32 tables.
  const auto g35 = Geometry::stage2(Granule::k4K, 35, 2);
  ASSERT_FALSE(g35.ok());
  EXPECT_EQ(g35.error().code, Errc::invalid_argument);
  // 44 bits at level 1: 14 root bits = 32 tables.
  const auto g44 = Geometry::stage2(Granule::k4K, 44, 1);
  ASSERT_FALSE(g44.ok());
  EXPECT_EQ(g44.error().code, Errc::invalid_argument);
  // 40 bits at level 2: 19 root bits = 1024 tables.
  const auto g40 = Geometry::stage2(Granule::k4K, 40, 2);
  ASSERT_FALSE(g40.ok());
  EXPECT_EQ(g40.error().code, Errc::invalid_argument);
}

TEST(Stage2Geometry, StartLevelTooLowForTheIpaSizeIsInvalidArgument) {
  // 39 bits at level 0: a level-0 entry alone covers 2^39 -> one-entry root.
  const auto g39 = Geometry::stage2(Granule::k4K, 39, 0);
  ASSERT_FALSE(g39.ok());
  EXPECT_EQ(g39.error().code, Errc::invalid_argument);
  // 30 bits at level 1: one level-1 entry covers it all.
  const auto g30 = Geometry::stage2(Granule::k4K, 30, 1);
  ASSERT_FALSE(g30.ok());
  EXPECT_EQ(g30.error().code, Errc::invalid_argument);
  // 34 bits at level 0: far below a level-0 entry.
  const auto g34 = Geometry::stage2(Granule::k4K, 34, 0);
  ASSERT_FALSE(g34.ok());
  EXPECT_EQ(g34.error().code, Errc::invalid_argument);
}

TEST(Stage2Geometry, StartLevelThreeIsInvalidArgument) {
  const auto g = Geometry::stage2(Granule::k4K, 25, 3);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::invalid_argument);
}

TEST(Stage2Geometry, SixteenKAndSixtyFourKGranulesAreUnsupported) {
  const auto g16 = Geometry::stage2(Granule::k16K, 40, 1);
  ASSERT_FALSE(g16.ok());
  EXPECT_EQ(g16.error().code, Errc::unsupported);
  const auto g64 = Geometry::stage2(Granule::k64K, 40, 1);
  ASSERT_FALSE(g64.ok());
  EXPECT_EQ(g64.error().code, Errc::unsupported);
}

TEST(Stage2Geometry, IpaWiderThan48BitsIsUnsupported) {
  const auto g = Geometry::stage2(Granule::k4K, 49, 0);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::unsupported);
}

// ------------------------------------------------------------- from_vtcr

// VTCR_EL2 fields used below: T0SZ [5:0], SL0 [7:6], TG0 [15:14].
// 4 KiB SL0: 00 -> level 2, 01 -> level 1, 10 -> level 0.

TEST(Stage2FromVtcr, T0sz24Sl0OneIsA40BitIpaAtLevelOneWithTwoTables) {
  // T0SZ = 64 - 40 = 24 = 0x18; SL0 = 01 -> 0x40; TG0 = 00. VTCR = 0x58.
  const auto g = Geometry::from_vtcr(0x58);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->stage(), Stage::stage2);
  EXPECT_EQ(g->granule(), Granule::k4K);
  EXPECT_EQ(g->input_bits(), 40u);
  EXPECT_EQ(g->start_level(), 1u);
  EXPECT_EQ(g->root_tables(), 2u);
  const auto direct = Geometry::stage2(Granule::k4K, 40, 1);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(*g, *direct);
}

TEST(Stage2FromVtcr, T0sz20Sl0TwoIsA44BitIpaAtLevelZero) {
  // T0SZ = 64 - 44 = 20 = 0x14; SL0 = 10 -> 0x80. VTCR = 0x94.
  const auto g = Geometry::from_vtcr(0x94);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->input_bits(), 44u);
  EXPECT_EQ(g->start_level(), 0u);
  EXPECT_EQ(g->root_tables(), 1u);
  EXPECT_EQ(g->root_entries(), 32u);
}

TEST(Stage2FromVtcr, T0sz30Sl0ZeroIsA34BitIpaAtLevelTwoWithSixteenTables) {
  // T0SZ = 64 - 34 = 30 = 0x1e; SL0 = 00. VTCR = 0x1e.
  const auto g = Geometry::from_vtcr(0x1e);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->input_bits(), 34u);
  EXPECT_EQ(g->start_level(), 2u);
  EXPECT_EQ(g->root_tables(), 16u);
}

TEST(Stage2FromVtcr, T0sz16Sl0TwoIsA48BitIpaAtLevelZero) {
  // T0SZ = 16 = 0x10; SL0 = 10 -> 0x80. VTCR = 0x90. 48 - 39 = 9 bits.
  const auto g = Geometry::from_vtcr(0x90);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->input_bits(), 48u);
  EXPECT_EQ(g->start_level(), 0u);
  EXPECT_EQ(g->root_entries(), 512u);
}

TEST(Stage2FromVtcr, FieldsOtherThanT0szSl0Tg0AreIgnored) {
  // A KVM-like value: RES1 bit 31 (0x8000_0000), PS [18:16] = 010 (0x2_0000),
  // SH0 [13:12] = 11 (0x3000), ORGN0 [11:10] = 01 (0x400), IRGN0 [9:8] = 01
  // (0x100), SL0 = 01 (0x40), T0SZ = 24 (0x18): 0x8002_3558.
  const auto g = Geometry::from_vtcr(0x8002'3558);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->input_bits(), 40u);
  EXPECT_EQ(g->start_level(), 1u);
  EXPECT_EQ(g->root_tables(), 2u);
}

TEST(Stage2FromVtcr, Tg0SixtyFourKIsUnsupported) {
  // TG0 = 01 (64 KiB) -> 0x4000 | 0x58.
  const auto g = Geometry::from_vtcr(0x4058);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::unsupported);
}

TEST(Stage2FromVtcr, Tg0SixteenKIsUnsupported) {
  // TG0 = 10 (16 KiB) -> 0x8000 | 0x58.
  const auto g = Geometry::from_vtcr(0x8058);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::unsupported);
}

TEST(Stage2FromVtcr, Tg0ReservedIsInvalidArgument) {
  // TG0 = 11 (reserved) -> 0xc000 | 0x58.
  const auto g = Geometry::from_vtcr(0xc058);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::invalid_argument);
}

TEST(Stage2FromVtcr, Sl0ThreeIsAReservedEncodingAndInvalidArgument) {
  // SL0 = 11 with 4 KiB is reserved without FEAT_TTST (Arm ARM: a reserved
  // SL0 gives a stage-2 level-0 translation fault); the header documents
  // invalid_argument for a reserved SL0 encoding, and stage2(.., 3) agrees.
  // VTCR = 0xc0 | 0x27 (T0SZ 39: 25-bit IPA) = 0xe7.
  const auto g = Geometry::from_vtcr(0xe7);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::invalid_argument);
}

TEST(Stage2FromVtcr, T0szBelowSixteenIsUnsupported) {
  // T0SZ = 15 -> 49-bit IPA; SL0 = 10 -> 0x80 | 0x0f = 0x8f.
  const auto g = Geometry::from_vtcr(0x8f);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, Errc::unsupported);
}

TEST(Stage2FromVtcr, InconsistentT0szAndSl0AreInvalidArgument) {
  // T0SZ = 24 (40 bits) with SL0 = 00 (level 2): 40 - 21 = 19 root bits.
  const auto too_many = Geometry::from_vtcr(0x18);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, Errc::invalid_argument);
  // T0SZ = 30 (34 bits) with SL0 = 10 (level 0): 34 <= 39, one-entry root.
  const auto too_low = Geometry::from_vtcr(0x9e);
  ASSERT_FALSE(too_low.ok());
  EXPECT_EQ(too_low.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace tlbkit::arch
