// TLBI matching and the simulated TLB, against hand-derived vectors.
//
// Every op is built with the real encoders and decoded (arch::decode), as the
// machine sees it. Expected outcomes come from docs/ARCHITECTURE-FACTS.md section 2 and the
// contract in sim/tlb.hpp, never from running the code. Addresses:
// 4 KiB = 0x1000, 2 MiB = 0x20'0000, 1 GiB = 0x4000'0000, 8 GiB = 0x2'0000'0000.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "tlbkit/sim/tlb.hpp"
#include "tlbkit/arch/ops.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::sim {
namespace {

using arch::DecodedOp;
using arch::Granule;
using arch::Instr;
using arch::RangeFields;
using arch::Regime;
using arch::TtlHint;

constexpr std::uint64_t k4K = 0x1000;
constexpr std::uint64_t k2M = 0x20'0000;
constexpr std::uint64_t k1G = 0x4000'0000;

// ---- Entries -----------------------------------------------------------------------

// An EL1&0 stage-1 leaf of `size` at `input` (level from the 4 KiB granule).
TlbEntry s1_leaf(VirtAddr input, std::uint64_t size, std::uint16_t asid, std::uint16_t vmid = 0) {
  TlbEntry e;
  e.regime = Regime::el1_stage1;
  e.stage = EntryStage::stage1;
  e.kind = CachedKind::leaf;
  e.level = size == k4K ? 3 : size == k2M ? 2 : 1;
  e.vmid = vmid;
  e.asid = asid;
  e.input = input;
  e.size = size;
  e.output = 0x8000'0000;
  return e;
}

TlbEntry s1_page(VirtAddr va, std::uint16_t asid, std::uint16_t vmid = 0) {
  return s1_leaf(va, k4K, asid, vmid);
}

TlbEntry global(TlbEntry e) {
  e.global = true;
  return e;
}

TlbEntry combined(TlbEntry e) {
  e.stage = EntryStage::combined;
  return e;
}

// A stage-1 walk-cache entry: the table descriptor at `level` for the
// `size` bytes at `input` (level 2 tables map 2 MiB, level 1 1 GiB).
TlbEntry s1_walk(unsigned level, VirtAddr input, std::uint64_t size, std::uint16_t asid,
                 std::uint16_t vmid = 0) {
  TlbEntry e = s1_leaf(input, size, asid, vmid);
  e.kind = CachedKind::walk;
  e.level = static_cast<std::uint8_t>(level);
  e.output = 0x7000'0000;
  return e;
}

TlbEntry s2_leaf(VirtAddr ipa, std::uint64_t size, std::uint16_t vmid) {
  TlbEntry e = s1_leaf(ipa, size, 0, vmid);
  e.regime = Regime::stage2;
  e.stage = EntryStage::stage2;
  return e;
}

TlbEntry s2_walk(unsigned level, VirtAddr ipa, std::uint64_t size, std::uint16_t vmid) {
  TlbEntry e = s2_leaf(ipa, size, vmid);
  e.kind = CachedKind::walk;
  e.level = static_cast<std::uint8_t>(level);
  return e;
}

TlbEntry el2_page(VirtAddr va) {
  TlbEntry e = s1_page(va, 0, 0);
  e.regime = Regime::el2_stage1;
  e.global = true;
  return e;
}

TlbEntry el2_walk(unsigned level, VirtAddr va, std::uint64_t size) {
  TlbEntry e = el2_page(va);
  e.kind = CachedKind::walk;
  e.global = false;
  e.level = static_cast<std::uint8_t>(level);
  e.size = size;
  return e;
}

// ---- Ops ---------------------------------------------------------------------------------

DecodedOp decoded(const Result<arch::Op>& op) {
  EXPECT_TRUE(op.ok()) << "encoder refused: " << (op.ok() ? "" : op.error().message);
  return arch::decode(op.ok() ? *op : arch::Op{Instr::dsb_ish, 0});
}

DecodedOp va_op(Instr instr, std::uint32_t asid, VirtAddr va, arch::Ttl ttl = arch::kNoTtl) {
  return decoded(arch::encode_va(instr, arch::Asid{asid}, va, ttl));
}

DecodedOp all_asid_op(Instr instr, VirtAddr va, arch::Ttl ttl = arch::kNoTtl) {
  return decoded(arch::encode_va_all_asid(instr, va, ttl));
}

DecodedOp asid_op(Instr instr, std::uint32_t asid) {
  return decoded(arch::encode_asid(instr, arch::Asid{asid}));
}

constexpr RangeFields range4k(unsigned scale, unsigned num,
                              std::optional<unsigned> ttl_level = std::nullopt) {
  return RangeFields{Granule::k4K, scale, num, ttl_level};
}

DecodedOp range_op(Instr instr, std::uint32_t asid, VirtAddr base, RangeFields range) {
  return decoded(arch::encode_range(instr, arch::Asid{asid}, base, range));
}

DecodedOp range_all_asid_op(Instr instr, VirtAddr base, RangeFields range) {
  return decoded(arch::encode_range_all_asid(instr, base, range));
}

DecodedOp ipa_op(Instr instr, VirtAddr ipa, arch::Ttl ttl = arch::kNoTtl) {
  return decoded(arch::encode_ipa(instr, ipa, ttl));
}

DecodedOp ipa_range_op(Instr instr, VirtAddr ipa, RangeFields range) {
  return decoded(arch::encode_ipa_range(instr, ipa, range));
}

DecodedOp plain_op(Instr instr) { return decoded(arch::make_op(instr)); }

bool removes(const DecodedOp& op, const TlbEntry& e, std::uint16_t vmid = 0) {
  return tlbi_removes(op, TlbiContext{vmid}, e);
}

// ---- By VA ---------------------------------------------------------------------------------

TEST(TlbiMatching, VaeRemovesThePageOfItsAsidInTheCurrentVmid) {
  const TlbEntry page = s1_page(0x1000'0000, 5);
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 5, 0x1000'0000), page));
  EXPECT_TRUE(removes(va_op(Instr::vae1, 5, 0x1000'0000), page));
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 5, 0x1000'0000), combined(page)));
}

TEST(TlbiMatching, VaeSparesNonGlobalEntryOfAnotherAsid) {
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 6, 0x1000'0000), s1_page(0x1000'0000, 5)));
}

TEST(TlbiMatching, VaeSparesTheNeighbouringPages) {
  const DecodedOp op = va_op(Instr::vae1is, 5, 0x1000'0000);
  EXPECT_FALSE(removes(op, s1_page(0x1000'1000, 5)));
  EXPECT_FALSE(removes(op, s1_page(0x0fff'f000, 5)));
}

TEST(TlbiMatching, VaeOfAnyPageInsideA2MiBBlockRemovesTheBlock) {
  // Block [0x4020'0000, 0x4040'0000).
  const TlbEntry block = s1_leaf(0x4020'0000, k2M, 5);
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 5, 0x4020'0000), block));
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 5, 0x4031'7000), block));
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 5, 0x403f'f000), block));
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 5, 0x4040'0000), block));
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 5, 0x401f'f000), block));
}

TEST(TlbiMatching, GlobalEntrySurvivesAsideButNotVaeOfAnotherAsid) {
  const TlbEntry g = global(s1_page(0x1000'0000, 0));
  EXPECT_FALSE(removes(asid_op(Instr::aside1is, 0), g));
  EXPECT_FALSE(removes(asid_op(Instr::aside1is, 7), g));
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 7, 0x1000'0000), g));
}

TEST(TlbiMatching, VmidMismatchSparesTheEntry) {
  const TlbEntry page = s1_page(0x1000'0000, 5, 1);
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 5, 0x1000'0000), page, 2));
  EXPECT_FALSE(removes(asid_op(Instr::aside1is, 5), page, 2));
  EXPECT_FALSE(removes(plain_op(Instr::vmalle1is), page, 2));
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 5, 0x1000'0000), page, 1));
}

TEST(TlbiMatching, VaLeafOnlySparesWalkEntries) {
  // The level-2 table descriptor for [0x1000'0000, 0x1020'0000).
  const TlbEntry walk = s1_walk(2, 0x1000'0000, k2M, 5);
  EXPECT_FALSE(removes(va_op(Instr::vale1is, 5, 0x1000'5000), walk));
  EXPECT_FALSE(removes(all_asid_op(Instr::vaale1is, 0x1000'5000), walk));
  EXPECT_FALSE(removes(range_op(Instr::rvale1is, 5, 0x1000'0000, range4k(0, 1)), walk));
  EXPECT_TRUE(removes(va_op(Instr::vale1is, 5, 0x1000'5000), s1_page(0x1000'5000, 5)));
}

TEST(TlbiMatching, VaNonLeafFormsRemoveWalkEntriesCoveringTheAddress) {
  const DecodedOp op = va_op(Instr::vae1is, 5, 0x1000'5000);
  EXPECT_TRUE(removes(op, s1_walk(2, 0x1000'0000, k2M, 5)));
  EXPECT_TRUE(removes(op, s1_walk(1, 0, k1G, 5)));
  EXPECT_FALSE(removes(op, s1_walk(2, 0x1020'0000, k2M, 5)));
  EXPECT_FALSE(removes(op, s1_walk(2, 0x1000'0000, k2M, 6)));
}

TEST(TlbiMatching, WalkEntriesCountAsNonGlobal) {
  const TlbEntry walk = global(s1_walk(2, 0x1000'0000, k2M, 1));
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 2, 0x1000'0000), walk));
  EXPECT_TRUE(removes(asid_op(Instr::aside1is, 1), walk));
  EXPECT_TRUE(removes(all_asid_op(Instr::vaae1is, 0x1000'0000), walk));
}

TEST(TlbiMatching, AllAsidFormsIgnoreTheAsid) {
  const TlbEntry page = s1_page(0x1000'0000, 7);
  EXPECT_TRUE(removes(all_asid_op(Instr::vaae1is, 0x1000'0000), page));
  EXPECT_TRUE(removes(all_asid_op(Instr::vaale1, 0x1000'0000), page));
  EXPECT_TRUE(removes(range_all_asid_op(Instr::rvaae1is, 0x1000'0000, range4k(0, 0)), page));
  EXPECT_FALSE(removes(range_op(Instr::rvae1is, 8, 0x1000'0000, range4k(0, 0)), page));
}

TEST(TlbiMatching, UpperRangeVaMatchesOnlyTheUpperRangeEntry) {
  const DecodedOp op = va_op(Instr::vae1is, 1, 0xffff'8000'1234'5000);
  EXPECT_TRUE(removes(op, s1_page(0xffff'8000'1234'5000, 1)));
  EXPECT_FALSE(removes(op, s1_page(0x0000'8000'1234'5000, 1)));
}

// ---- TTL hints ---------------------------------------------------------------------------

TEST(TlbiMatching, TtlLevel3HintSparesLevel2BlockAndWalkEntries) {
  const DecodedOp op = va_op(Instr::vae1is, 5, 0x4020'3000, TtlHint{Granule::k4K, 3});
  ASSERT_EQ(op.ttl_field, 0b0111);  // 4K (01), level 3 (11)
  EXPECT_FALSE(removes(op, s1_leaf(0x4020'0000, k2M, 5)));
  EXPECT_FALSE(removes(op, s1_walk(2, 0x4020'0000, k2M, 5)));
  EXPECT_FALSE(removes(op, s1_walk(1, 0x4000'0000, k1G, 5)));
  EXPECT_TRUE(removes(op, s1_page(0x4020'3000, 5)));
}

TEST(TlbiMatching, TtlHintAtTableLevelRemovesWalkEntryButNotLeaves) {
  const DecodedOp op = va_op(Instr::vae1is, 5, 0x4020'0000, TtlHint{Granule::k4K, 2});
  ASSERT_EQ(op.ttl_field, 0b0110);
  EXPECT_TRUE(removes(op, s1_walk(2, 0x4020'0000, k2M, 5)));
  EXPECT_TRUE(removes(op, s1_leaf(0x4020'0000, k2M, 5)));
  EXPECT_FALSE(removes(op, s1_page(0x4020'0000, 5)));
  EXPECT_FALSE(removes(op, s1_walk(1, 0x4000'0000, k1G, 5)));
}

TEST(TlbiMatching, RangeTtlHintSparesEntriesAtOtherLevels) {
  // 4 pages from 0x4020'0000, TTL level 3.
  const DecodedOp hinted = range_op(Instr::rvae1is, 5, 0x4020'0000, range4k(0, 1, 3));
  ASSERT_EQ(hinted.range_ttl, 3);
  EXPECT_TRUE(removes(hinted, s1_page(0x4020'1000, 5)));
  EXPECT_FALSE(removes(hinted, s1_leaf(0x4020'0000, k2M, 5)));
  const DecodedOp unhinted = range_op(Instr::rvae1is, 5, 0x4020'0000, range4k(0, 1));
  EXPECT_TRUE(removes(unhinted, s1_leaf(0x4020'0000, k2M, 5)));
}

// ---- Range ops ---------------------------------------------------------------------------

TEST(TlbiMatching, RangeOpSparesTheEntriesJustOutsideIt) {
  // SCALE 0, NUM 1: (1 + 1) << 1 = 4 pages: [0x1000'0000, 0x1000'4000).
  const DecodedOp op = range_op(Instr::rvae1is, 5, 0x1000'0000, range4k(0, 1));
  EXPECT_TRUE(removes(op, s1_page(0x1000'0000, 5)));
  EXPECT_TRUE(removes(op, s1_page(0x1000'3000, 5)));
  EXPECT_FALSE(removes(op, s1_page(0x1000'4000, 5)));
  EXPECT_FALSE(removes(op, s1_page(0x0fff'f000, 5)));
  EXPECT_FALSE(removes(op, s1_page(0x1000'1000, 6)));
}

TEST(TlbiMatching, RangeOpRemovesABlockItOnlyPartlyCovers) {
  // 2 pages at 0x4030'0000, inside the block [0x4020'0000, 0x4040'0000).
  const DecodedOp op = range_op(Instr::rvae1is, 5, 0x4030'0000, range4k(0, 0));
  EXPECT_TRUE(removes(op, s1_leaf(0x4020'0000, k2M, 5)));
}

TEST(TlbiMatching, RangeOfNum31Scale3Covers8GiB) {
  // Known bug 1 (docs/KNOWN-BUGS.md): (31 + 1) << (5 * 3 + 1) = 2^21 pages = 8 GiB, not 1 GiB.
  const VirtAddr base = 0x2'0000'0000;
  const DecodedOp op = range_op(Instr::rvae1is, 5, base, range4k(3, 31));
  ASSERT_EQ(op.size, 0x2'0000'0000u);
  EXPECT_TRUE(removes(op, s1_page(base, 5)));
  EXPECT_TRUE(removes(op, s1_page(base + 0x4000'1000, 5)));  // past the first GiB
  EXPECT_TRUE(removes(op, s1_page(base + 0x1'ffff'f000, 5)));  // the last page
  EXPECT_TRUE(removes(op, s1_leaf(base + 0x1'c000'0000, k1G, 5)));  // the last GiB
  EXPECT_FALSE(removes(op, s1_page(base + 0x2'0000'0000, 5)));
  EXPECT_FALSE(removes(op, s1_page(base - k4K, 5)));
}

TEST(TlbiMatching, ReservedRangeGranuleRemovesNothing) {
  // ASID 5 << 48 | TG 00 | SCALE 0 | NUM 1 << 39 | BaseADDR 0x1'0000 (0x1000'0000 >> 12).
  const DecodedOp op = arch::decode(arch::Op{Instr::rvae1is, 0x0005'0080'0001'0000});
  ASSERT_EQ(op.num, 1);
  EXPECT_FALSE(removes(op, s1_page(0x1000'0000, 5)));
}

// ---- By ASID, whole regime -------------------------------------------------------------

TEST(TlbiMatching, AsideRemovesNonGlobalEntriesOfItsAsidAndVmidOnly) {
  const DecodedOp op = asid_op(Instr::aside1is, 3);
  EXPECT_TRUE(removes(op, s1_page(0x1000'0000, 3)));
  EXPECT_TRUE(removes(op, combined(s1_page(0x1000'0000, 3))));
  EXPECT_TRUE(removes(op, s1_walk(2, 0x1000'0000, k2M, 3)));
  EXPECT_FALSE(removes(op, s1_page(0x1000'0000, 3, 1)));
  EXPECT_FALSE(removes(op, s1_page(0x1000'0000, 4)));
  EXPECT_FALSE(removes(op, global(s1_page(0x1000'0000, 3))));
  EXPECT_FALSE(removes(op, s2_leaf(0x1000'0000, k4K, 0)));
}

TEST(TlbiMatching, Vmalle1RemovesStage1AndCombinedEntriesOfItsVmidOnly) {
  const DecodedOp op = plain_op(Instr::vmalle1is);
  EXPECT_TRUE(removes(op, s1_page(0x1000'0000, 1, 3), 3));
  EXPECT_TRUE(removes(op, global(combined(s1_page(0x1000'0000, 1, 3))), 3));
  EXPECT_TRUE(removes(op, s1_walk(1, 0, k1G, 9, 3), 3));
  EXPECT_FALSE(removes(op, s1_page(0x1000'0000, 1, 4), 3));
  EXPECT_FALSE(removes(op, s2_leaf(0x1000'0000, k4K, 3), 3));
  EXPECT_FALSE(removes(op, el2_page(0x1000'0000), 3));
}

TEST(TlbiMatching, Vmalls12e1RemovesStage2AndCombinedOfItsVmidOnly) {
  const DecodedOp op = plain_op(Instr::vmalls12e1is);
  EXPECT_TRUE(removes(op, s2_leaf(0x8000'0000, k4K, 3), 3));
  EXPECT_TRUE(removes(op, s2_walk(2, 0x8000'0000, k2M, 3), 3));
  EXPECT_TRUE(removes(op, combined(s1_page(0x1000'0000, 1, 3)), 3));
  EXPECT_TRUE(removes(op, s1_page(0x1000'0000, 1, 3), 3));
  EXPECT_FALSE(removes(op, s2_leaf(0x8000'0000, k4K, 4), 3));
  EXPECT_FALSE(removes(op, combined(s1_page(0x1000'0000, 1, 4)), 3));
  EXPECT_FALSE(removes(op, el2_page(0x1000'0000), 3));
}

TEST(TlbiMatching, Alle1RemovesEveryVmidButNotEl2Entries) {
  for (const Instr instr : {Instr::alle1is, Instr::alle1}) {
    const DecodedOp op = plain_op(instr);
    EXPECT_TRUE(removes(op, s1_page(0x1000'0000, 1, 7), 3));
    EXPECT_TRUE(removes(op, global(combined(s1_page(0x1000'0000, 0, 0))), 3));
    EXPECT_TRUE(removes(op, s2_walk(1, 0, k1G, 9), 3));
    EXPECT_FALSE(removes(op, el2_page(0x1000'0000), 3));
  }
}

// ---- Stage 2 -------------------------------------------------------------------------------

TEST(TlbiMatching, Ipas2e1SparesCombinedEntries) {
  const DecodedOp op = ipa_op(Instr::ipas2e1is, 0x8000'0000);
  ASSERT_EQ(op.operand, 0x8'0000u);  // IPA >> 12 in bits 35:0
  EXPECT_TRUE(removes(op, s2_leaf(0x8000'0000, k4K, 0)));
  EXPECT_TRUE(removes(op, s2_leaf(0x8000'0000, k2M, 0)));
  EXPECT_FALSE(removes(op, combined(s1_page(0x8000'0000, 0))));
  EXPECT_FALSE(removes(op, global(combined(s1_page(0x8000'0000, 0)))));
  EXPECT_FALSE(removes(op, s1_page(0x8000'0000, 0)));
}

TEST(TlbiMatching, Ipas2e1SparesOtherIpasAndVmids) {
  const DecodedOp op = ipa_op(Instr::ipas2e1, 0x8000'0000);
  EXPECT_FALSE(removes(op, s2_leaf(0x8000'1000, k4K, 0)));
  EXPECT_FALSE(removes(op, s2_leaf(0x8000'0000, k4K, 1)));
  EXPECT_TRUE(removes(op, s2_leaf(0x8000'0000, k4K, 1), 1));
}

TEST(TlbiMatching, Ipas2LeafOnlySparesStage2WalkEntries) {
  const TlbEntry walk = s2_walk(2, 0x8000'0000, k2M, 0);
  EXPECT_TRUE(removes(ipa_op(Instr::ipas2e1is, 0x8000'5000), walk));
  EXPECT_FALSE(removes(ipa_op(Instr::ipas2le1is, 0x8000'5000), walk));
  EXPECT_TRUE(removes(ipa_op(Instr::ipas2le1is, 0x8000'5000), s2_leaf(0x8000'5000, k4K, 0)));
}

TEST(TlbiMatching, Ipas2TtlHintSparesOtherLevels) {
  const DecodedOp op = ipa_op(Instr::ipas2e1is, 0x8000'0000, TtlHint{Granule::k4K, 3});
  EXPECT_TRUE(removes(op, s2_leaf(0x8000'0000, k4K, 0)));
  EXPECT_FALSE(removes(op, s2_leaf(0x8000'0000, k2M, 0)));
}

TEST(TlbiMatching, Ripas2e1RemovesStage2EntriesOfItsRangeOnly) {
  // SCALE 0, NUM 3: (3 + 1) << 1 = 8 pages: [0x8000'0000, 0x8000'8000).
  const DecodedOp op = ipa_range_op(Instr::ripas2e1is, 0x8000'0000, range4k(0, 3));
  EXPECT_TRUE(removes(op, s2_leaf(0x8000'7000, k4K, 0)));
  EXPECT_FALSE(removes(op, s2_leaf(0x8000'8000, k4K, 0)));
  EXPECT_FALSE(removes(op, combined(s1_page(0x8000'0000, 0))));
  EXPECT_TRUE(removes(op, s2_walk(2, 0x8000'0000, k2M, 0)));
  const DecodedOp leaf_only = ipa_range_op(Instr::ripas2le1is, 0x8000'0000, range4k(0, 3));
  EXPECT_FALSE(removes(leaf_only, s2_walk(2, 0x8000'0000, k2M, 0)));
  EXPECT_TRUE(removes(leaf_only, s2_leaf(0x8000'0000, k4K, 0)));
}

// ---- EL2 -------------------------------------------------------------------------------------

TEST(TlbiMatching, El2OpsSpareEl1Entries) {
  const DecodedOp op = all_asid_op(Instr::vae2is, 0x1000'0000);
  EXPECT_TRUE(removes(op, el2_page(0x1000'0000)));
  EXPECT_FALSE(removes(op, global(s1_page(0x1000'0000, 0))));
  EXPECT_FALSE(removes(op, global(combined(s1_page(0x1000'0000, 0)))));
  EXPECT_FALSE(removes(op, s2_leaf(0x1000'0000, k4K, 0)));
  const DecodedOp all = plain_op(Instr::alle2is);
  EXPECT_TRUE(removes(all, el2_page(0x5000'0000)));
  EXPECT_TRUE(removes(all, el2_walk(1, 0, k1G)));
  EXPECT_FALSE(removes(all, global(s1_page(0x1000'0000, 0))));
  EXPECT_FALSE(removes(all, s2_leaf(0x1000'0000, k4K, 0)));
}

TEST(TlbiMatching, El2ByVaIgnoresVmidAndLeafFormsSpareWalkEntries) {
  EXPECT_TRUE(removes(all_asid_op(Instr::vae2, 0x1000'0000), el2_page(0x1000'0000), 9));
  EXPECT_TRUE(removes(all_asid_op(Instr::vae2is, 0x1000'0000), el2_walk(2, 0x1000'0000, k2M)));
  EXPECT_FALSE(removes(all_asid_op(Instr::vale2is, 0x1000'0000), el2_walk(2, 0x1000'0000, k2M)));
  EXPECT_TRUE(removes(range_all_asid_op(Instr::rvae2is, 0x1000'0000, range4k(0, 0)),
                      el2_page(0x1000'1000)));
  EXPECT_FALSE(removes(range_all_asid_op(Instr::rvale2is, 0x1000'0000, range4k(0, 0)),
                       el2_walk(2, 0x1000'0000, k2M)));
}

TEST(TlbiMatching, BarriersAndCacheOpsRemoveNothing) {
  const TlbEntry page = global(s1_page(0x1000'0000, 0));
  EXPECT_FALSE(removes(plain_op(Instr::dsb_ish), page));
  EXPECT_FALSE(removes(plain_op(Instr::isb), page));
  EXPECT_FALSE(removes(plain_op(Instr::ic_iallu), page));
  EXPECT_FALSE(removes(decoded(arch::encode_address(Instr::ic_ivau, 0x1000'0000)), page));
}

// ---- Tlb: lookup -------------------------------------------------------------------------

LookupKey s1_key(VirtAddr va, std::uint16_t asid, std::uint16_t vmid = 0) {
  LookupKey k;
  k.regime = Regime::el1_stage1;
  k.stage = EntryStage::stage1;
  k.kind = CachedKind::leaf;
  k.vmid = vmid;
  k.asid = asid;
  k.input = va;
  return k;
}

LookupKey walk_key(VirtAddr va, std::uint16_t asid, std::uint8_t level) {
  LookupKey k = s1_key(va, asid);
  k.kind = CachedKind::walk;
  k.level = level;
  return k;
}

TlbEntry with_output(TlbEntry e, PhysAddr output) {
  e.output = output;
  return e;
}

// The PA a hit gives for `va`.
PhysAddr pa_of(const TlbEntry& e, VirtAddr va) { return e.output + (va - e.input); }

TEST(TlbLookup, EmptyTlbReturnsNull) {
  Tlb tlb(TlbGeometry{1, 48});
  EXPECT_EQ(tlb.lookup(s1_key(0x1000'0000, 5)), nullptr);
  EXPECT_EQ(tlb.size(), 0u);
}

TEST(TlbLookup, HitReturnsTheEntryWhoseOutputGivesThePa) {
  Tlb tlb(TlbGeometry{1, 48});
  tlb.insert(with_output(s1_page(0x1000'0000, 5), 0x8123'4000));
  const TlbEntry* hit = tlb.lookup(s1_key(0x1000'0abc, 5));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(pa_of(*hit, 0x1000'0abc), 0x8123'4abcu);
  EXPECT_EQ(tlb.lookup(s1_key(0x1000'1000, 5)), nullptr);
}

TEST(TlbLookup, BlockIsFoundFromAnyAddressInsideIt) {
  Tlb tlb(TlbGeometry{4, 2});
  tlb.insert(with_output(s1_leaf(0x4020'0000, k2M, 5), 0x9000'0000));
  const TlbEntry* hit = tlb.lookup(s1_key(0x403f'ffff, 5));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(pa_of(*hit, 0x403f'ffff), 0x901f'ffffu);
  EXPECT_NE(tlb.lookup(s1_key(0x4020'0000, 5)), nullptr);
  EXPECT_EQ(tlb.lookup(s1_key(0x4040'0000, 5)), nullptr);
  EXPECT_EQ(tlb.lookup(s1_key(0x401f'ffff, 5)), nullptr);
}

TEST(TlbLookup, NonGlobalEntryNeedsItsAsidGlobalEntryMatchesAny) {
  Tlb tlb(TlbGeometry{1, 8});
  tlb.insert(s1_page(0x1000'0000, 5));
  tlb.insert(global(s1_page(0x2000'0000, 5)));
  EXPECT_EQ(tlb.lookup(s1_key(0x1000'0000, 6)), nullptr);
  EXPECT_NE(tlb.lookup(s1_key(0x1000'0000, 5)), nullptr);
  EXPECT_NE(tlb.lookup(s1_key(0x2000'0000, 6)), nullptr);
}

TEST(TlbLookup, RegimeStageKindAndVmidMustMatch) {
  Tlb tlb(TlbGeometry{1, 8});
  tlb.insert(s1_page(0x1000'0000, 5, 2));
  LookupKey key = s1_key(0x1000'0000, 5, 2);
  EXPECT_NE(tlb.lookup(key), nullptr);
  key.vmid = 3;
  EXPECT_EQ(tlb.lookup(key), nullptr);
  key = s1_key(0x1000'0000, 5, 2);
  key.stage = EntryStage::combined;
  EXPECT_EQ(tlb.lookup(key), nullptr);
  key = s1_key(0x1000'0000, 5, 2);
  key.regime = Regime::el2_stage1;
  EXPECT_EQ(tlb.lookup(key), nullptr);
  key = s1_key(0x1000'0000, 5, 2);
  key.kind = CachedKind::walk;
  key.level = 3;
  EXPECT_EQ(tlb.lookup(key), nullptr);
}

TEST(TlbLookup, WalkEntryIsFoundOnlyAtItsLevelAndAsid) {
  Tlb tlb(TlbGeometry{2, 4});
  tlb.insert(global(s1_walk(2, 0x1000'0000, k2M, 5)));
  EXPECT_NE(tlb.lookup(walk_key(0x1010'0000, 5, 2)), nullptr);
  EXPECT_EQ(tlb.lookup(walk_key(0x1010'0000, 5, 1)), nullptr);
  EXPECT_EQ(tlb.lookup(walk_key(0x1010'0000, 6, 2)), nullptr);  // walk entries are non-global
  EXPECT_EQ(tlb.lookup(s1_key(0x1010'0000, 5)), nullptr);       // not a leaf
}

TEST(TlbLookup, Stage2EntriesIgnoreAsidAndEl2EntriesIgnoreVmid) {
  Tlb tlb(TlbGeometry{1, 8});
  tlb.insert(s2_leaf(0x8000'0000, k4K, 3));
  tlb.insert(el2_page(0x1000'0000));
  LookupKey s2 = s1_key(0x8000'0123, 77, 3);
  s2.regime = Regime::stage2;
  s2.stage = EntryStage::stage2;
  EXPECT_NE(tlb.lookup(s2), nullptr);
  s2.vmid = 4;
  EXPECT_EQ(tlb.lookup(s2), nullptr);
  LookupKey el2 = s1_key(0x1000'0000, 0, 9);
  el2.regime = Regime::el2_stage1;
  EXPECT_NE(tlb.lookup(el2), nullptr);
}

TEST(TlbLookup, TwoMatchingEntriesGiveTheLowerSlot) {
  // Fully associative: the first insert takes way 0, the second way 1.
  Tlb tlb(TlbGeometry{1, 4});
  tlb.insert(with_output(s1_page(0x1000'0000, 5), 0xa000'0000));
  tlb.insert(with_output(global(s1_page(0x1000'0000, 0)), 0xb000'0000));
  const TlbEntry* hit = tlb.lookup(s1_key(0x1000'0000, 5));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->output, 0xa000'0000u);
  tlb.invalidate(asid_op(Instr::aside1is, 5), TlbiContext{0});
  hit = tlb.lookup(s1_key(0x1000'0000, 5));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->output, 0xb000'0000u);
  // A non-global entry again: it takes the freed way 0, below the global
  // entry inserted before it, and wins.
  tlb.insert(with_output(s1_page(0x1000'0000, 5), 0xc000'0000));
  hit = tlb.lookup(s1_key(0x1000'0000, 5));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->output, 0xc000'0000u);
  hit = tlb.lookup(s1_key(0x1000'0000, 6));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->output, 0xb000'0000u);
}

// ---- Tlb: replacement --------------------------------------------------------------------

TEST(TlbReplacement, FullSetEvictsTheLeastRecentlyUsedWay) {
  Tlb tlb(TlbGeometry{1, 4});
  for (VirtAddr va : {0x1000, 0x2000, 0x3000, 0x4000}) EXPECT_FALSE(tlb.insert(s1_page(va, 5)));
  const std::optional<TlbEntry> evicted = tlb.insert(s1_page(0x5000, 5));
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(evicted->input, 0x1000u);
  EXPECT_EQ(tlb.size(), 4u);
  EXPECT_EQ(tlb.lookup(s1_key(0x1000, 5)), nullptr);
  EXPECT_NE(tlb.lookup(s1_key(0x5000, 5)), nullptr);
}

TEST(TlbReplacement, LookupRefreshesRecency) {
  Tlb tlb(TlbGeometry{1, 4});
  for (VirtAddr va : {0x1000, 0x2000, 0x3000, 0x4000}) tlb.insert(s1_page(va, 5));
  ASSERT_NE(tlb.lookup(s1_key(0x1000, 5)), nullptr);
  const std::optional<TlbEntry> evicted = tlb.insert(s1_page(0x5000, 5));
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(evicted->input, 0x2000u);
  EXPECT_NE(tlb.lookup(s1_key(0x1000, 5)), nullptr);
}

TEST(TlbReplacement, MissDoesNotRefreshRecency) {
  Tlb tlb(TlbGeometry{1, 2});
  tlb.insert(s1_page(0x1000, 5));
  tlb.insert(s1_page(0x2000, 5));
  EXPECT_EQ(tlb.lookup(s1_key(0x1000, 6)), nullptr);  // other ASID: a miss
  const std::optional<TlbEntry> evicted = tlb.insert(s1_page(0x3000, 5));
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(evicted->input, 0x1000u);
}

TEST(TlbReplacement, InsertOfTheSameTagsReplacesInPlace) {
  Tlb tlb(TlbGeometry{1, 2});
  tlb.insert(with_output(s1_page(0x1000, 5), 0xa000'0000));
  tlb.insert(s1_page(0x2000, 5));
  EXPECT_FALSE(tlb.insert(with_output(s1_page(0x1000, 5), 0xc000'0000)).has_value());
  EXPECT_EQ(tlb.size(), 2u);
  const TlbEntry* hit = tlb.lookup(s1_key(0x1000, 5));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->output, 0xc000'0000u);
  // Another ASID is other tags: it takes a way (evicting 0x2000, now the LRU).
  const std::optional<TlbEntry> evicted = tlb.insert(s1_page(0x1000, 6));
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(evicted->input, 0x2000u);
}

TEST(TlbReplacement, EntriesCompeteOnlyWithinTheirSet) {
  // 2 sets x 1 way: set = (input >> log2(size)) & 1.
  Tlb tlb(TlbGeometry{2, 1});
  EXPECT_FALSE(tlb.insert(s1_page(0x0000, 5)));  // page 0 -> set 0
  EXPECT_FALSE(tlb.insert(s1_page(0x1000, 5)));  // page 1 -> set 1
  std::optional<TlbEntry> evicted = tlb.insert(s1_page(0x2000, 5));  // page 2 -> set 0
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(evicted->input, 0x0000u);
  evicted = tlb.insert(s1_leaf(0x20'0000, k2M, 5));  // 2 MiB unit 1 -> set 1
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(evicted->input, 0x1000u);
}

TEST(TlbReplacement, FreedWayIsReusedBeforeEvicting) {
  Tlb tlb(TlbGeometry{1, 2});
  tlb.insert(s1_page(0x1000, 5));
  tlb.insert(s1_page(0x2000, 5));
  EXPECT_EQ(tlb.invalidate(va_op(Instr::vae1is, 5, 0x2000), TlbiContext{0}), 1u);
  EXPECT_FALSE(tlb.insert(s1_page(0x3000, 5)).has_value());
  EXPECT_NE(tlb.lookup(s1_key(0x1000, 5)), nullptr);
  EXPECT_NE(tlb.lookup(s1_key(0x3000, 5)), nullptr);
}

// ---- Tlb: invalidation -------------------------------------------------------------------

TEST(TlbInvalidate, ReportsTheRemovedEntriesInSlotOrder) {
  Tlb tlb(TlbGeometry{1, 8});
  tlb.insert(s1_page(0x1000, 5));             // way 0
  tlb.insert(s1_page(0x2000, 6));             // way 1
  tlb.insert(global(s1_page(0x3000, 0)));     // way 2
  tlb.insert(s1_walk(2, 0, k2M, 5));          // way 3
  std::vector<TlbEntry> removed;
  EXPECT_EQ(tlb.invalidate(asid_op(Instr::aside1is, 5), TlbiContext{0}, &removed), 2u);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0], s1_page(0x1000, 5));
  EXPECT_EQ(removed[1], s1_walk(2, 0, k2M, 5));
  EXPECT_EQ(tlb.size(), 2u);
  EXPECT_EQ(tlb.lookup(s1_key(0x1000, 5)), nullptr);
  EXPECT_EQ(tlb.lookup(walk_key(0x1000, 5, 2)), nullptr);
  EXPECT_NE(tlb.lookup(s1_key(0x2000, 6)), nullptr);
  EXPECT_NE(tlb.lookup(s1_key(0x3000, 5)), nullptr);
}

TEST(TlbInvalidate, BarrierRemovesNothing) {
  Tlb tlb(TlbGeometry{1, 4});
  tlb.insert(s1_page(0x1000, 5));
  std::vector<TlbEntry> removed;
  EXPECT_EQ(tlb.invalidate(plain_op(Instr::dsb_ish), TlbiContext{0}, &removed), 0u);
  EXPECT_TRUE(removed.empty());
  EXPECT_EQ(tlb.size(), 1u);
}

TEST(TlbInvalidate, ClearEmptiesTheTlb) {
  Tlb tlb(TlbGeometry{2, 2});
  tlb.insert(s1_page(0x1000, 5));
  tlb.insert(s1_leaf(0x20'0000, k2M, 5));
  tlb.clear();
  EXPECT_EQ(tlb.size(), 0u);
  EXPECT_EQ(tlb.lookup(s1_key(0x1000, 5)), nullptr);
  EXPECT_EQ(tlb.lookup(s1_key(0x20'0000, 5)), nullptr);
  std::size_t visited = 0;
  tlb.for_each([&](const TlbEntry&) { ++visited; });
  EXPECT_EQ(visited, 0u);
}

// ---- Tlb against a naive model ------------------------------------------------------------

// The contract of sim/tlb.hpp as a plain scan: slots in set-major order,
// a per-slot LRU stamp, lookups returning the first match in slot order.
class NaiveTlb {
 public:
  explicit NaiveTlb(TlbGeometry g) : g_(g), slots_(std::size_t{g.sets} * g.ways) {}

  std::optional<TlbEntry> lookup(const LookupKey& key) {
    for (Slot& s : slots_) {
      if (s.entry && matches(*s.entry, key)) {
        s.stamp = ++clock_;
        return s.entry;
      }
    }
    return std::nullopt;
  }

  std::optional<TlbEntry> insert(const TlbEntry& e) {
    const std::size_t set =
        (e.input >> std::countr_zero(e.size)) & (std::uint64_t{g_.sets} - 1);
    Slot* const first = &slots_[set * g_.ways];
    for (Slot* s = first; s != first + g_.ways; ++s) {
      if (s->entry && same_tags(*s->entry, e)) {
        *s = Slot{e, ++clock_};
        return std::nullopt;
      }
    }
    Slot* victim = first;
    for (Slot* s = first; s != first + g_.ways; ++s) {
      if (!s->entry) {
        victim = s;
        break;
      }
      if (s->stamp < victim->stamp) victim = s;
    }
    const std::optional<TlbEntry> evicted = victim->entry;
    *victim = Slot{e, ++clock_};
    return evicted;
  }

  std::vector<TlbEntry> invalidate(const DecodedOp& op, const TlbiContext& ctx) {
    std::vector<TlbEntry> removed;
    for (Slot& s : slots_) {
      if (s.entry && tlbi_removes(op, ctx, *s.entry)) {
        removed.push_back(*s.entry);
        s.entry.reset();
      }
    }
    return removed;
  }

  std::vector<TlbEntry> contents() const {
    std::vector<TlbEntry> out;
    for (const Slot& s : slots_) {
      if (s.entry) out.push_back(*s.entry);
    }
    return out;
  }

 private:
  struct Slot {
    std::optional<TlbEntry> entry;
    std::uint64_t stamp = 0;
  };

  static bool asid_compared(const TlbEntry& e) {
    return e.regime == Regime::el1_stage1 && e.stage != EntryStage::stage2 &&
           !(e.global && e.kind == CachedKind::leaf);
  }
  static bool same_vmid(Regime r, std::uint16_t a, std::uint16_t b) {
    return r == Regime::el2_stage1 || a == b;
  }
  static bool matches(const TlbEntry& e, const LookupKey& k) {
    return e.regime == k.regime && e.stage == k.stage && e.kind == k.kind &&
           same_vmid(e.regime, e.vmid, k.vmid) && (!asid_compared(e) || e.asid == k.asid) &&
           k.input >= e.input && k.input - e.input < e.size &&
           (e.kind == CachedKind::leaf || e.level == k.level);
  }
  static bool same_tags(const TlbEntry& a, const TlbEntry& b) {
    return a.regime == b.regime && a.stage == b.stage && a.kind == b.kind &&
           a.level == b.level && same_vmid(a.regime, a.vmid, b.vmid) && a.global == b.global &&
           (!asid_compared(a) || a.asid == b.asid) && a.input == b.input && a.size == b.size;
  }

  TlbGeometry g_;
  std::vector<Slot> slots_;
  std::uint64_t clock_ = 0;
};

std::vector<TlbEntry> contents(const Tlb& tlb) {
  std::vector<TlbEntry> out;
  tlb.for_each([&](const TlbEntry& e) { out.push_back(e); });
  return out;
}

// A small space so entries collide: regimes, stages, VMIDs 0..1, ASIDs
// 0..2, inputs in the first 8 MiB (and one TTBR1 page), 4K / 2M / 1G.
struct Shape {
  Regime regime;
  EntryStage stage;
};

Shape gen_shape() {
  return *rc::gen::element(Shape{Regime::el1_stage1, EntryStage::stage1},
                           Shape{Regime::el1_stage1, EntryStage::combined},
                           Shape{Regime::stage2, EntryStage::stage2},
                           Shape{Regime::el2_stage1, EntryStage::stage1});
}

VirtAddr gen_address() {
  const bool upper = *rc::gen::inRange(0, 16) == 0;
  const VirtAddr low = std::uint64_t{*rc::gen::inRange<std::uint32_t>(0, 0x800)} << 12;
  return upper ? 0xffff'ffff'ffe0'0000 + (low & 0x1f'f000) : low;
}

TlbEntry gen_entry() {
  const Shape shape = gen_shape();
  TlbEntry e;
  e.regime = shape.regime;
  e.stage = shape.stage;
  e.kind = *rc::gen::element(CachedKind::leaf, CachedKind::walk);
  e.level = static_cast<std::uint8_t>(*rc::gen::inRange(1, 4));
  if (e.kind == CachedKind::walk) e.level = static_cast<std::uint8_t>(e.level - 1);  // tables 0..2
  // Leaf at level L maps 4K << 9 * (3 - L); a walk entry at L maps what
  // its table does (capped at 1 GiB to keep entries colliding).
  const unsigned shift =
      e.kind == CachedKind::leaf ? 12 + 9 * (3u - e.level) : 21 + 9 * (2u - e.level);
  e.size = std::uint64_t{1} << std::min(shift, 30u);
  e.vmid = static_cast<std::uint16_t>(*rc::gen::inRange(0, 2));
  e.asid = static_cast<std::uint16_t>(*rc::gen::inRange(0, 3));
  e.global = *rc::gen::inRange(0, 3) == 0;
  e.input = gen_address() & ~(e.size - 1);
  e.output = std::uint64_t{*rc::gen::inRange<std::uint32_t>(0, 64)} << 30;
  return e;
}

LookupKey gen_key() {
  const Shape shape = gen_shape();
  LookupKey k;
  k.regime = shape.regime;
  k.stage = shape.stage;
  k.kind = *rc::gen::element(CachedKind::leaf, CachedKind::walk);
  k.vmid = static_cast<std::uint16_t>(*rc::gen::inRange(0, 2));
  k.asid = static_cast<std::uint16_t>(*rc::gen::inRange(0, 3));
  k.input = gen_address() + *rc::gen::inRange<std::uint64_t>(0, 0x1000);
  k.level = static_cast<std::uint8_t>(*rc::gen::inRange(0, 3));
  return k;
}

// Any TLBI of the catalogue with small operands (encoder refusals become a
// VMALLE1, which is itself a useful op).
DecodedOp gen_tlbi() {
  std::vector<Instr> tlbis;
  for (const arch::InstrInfo& i : arch::catalogue()) {
    if (i.category == arch::Category::tlbi) tlbis.push_back(i.instr);
  }
  const Instr instr = *rc::gen::elementOf(tlbis);
  arch::OperandFields f;
  const arch::OperandKind kind = arch::operand_kind(instr);
  const bool asid_kind = kind == arch::OperandKind::va || kind == arch::OperandKind::asid ||
                         kind == arch::OperandKind::range;
  if (asid_kind) f.asid = arch::Asid{*rc::gen::inRange<std::uint32_t>(0, 3)};
  const bool page_kind = kind == arch::OperandKind::va || kind == arch::OperandKind::va_all_asid ||
                         kind == arch::OperandKind::ipa;
  const bool range_kind = kind == arch::OperandKind::range ||
                          kind == arch::OperandKind::range_all_asid ||
                          kind == arch::OperandKind::ipa_range;
  if (page_kind || range_kind) f.address = gen_address();
  if (page_kind && *rc::gen::inRange(0, 3) == 0) {
    f.ttl = TtlHint{Granule::k4K, *rc::gen::inRange(1u, 4u)};
  }
  if (range_kind) {
    std::optional<unsigned> ttl;
    if (*rc::gen::inRange(0, 3) == 0) ttl = *rc::gen::inRange(1u, 4u);
    f.range = RangeFields{Granule::k4K, *rc::gen::inRange(0u, 2u), *rc::gen::inRange(0u, 32u), ttl};
  }
  const Result<arch::Op> op = arch::encode(instr, f);
  return arch::decode(op.ok() ? *op : arch::Op{Instr::vmalle1is, 0});
}

RC_GTEST_PROP(TlbModel, BehavesAsANaiveScanWithLru, ()) {
  const TlbGeometry g = *rc::gen::element(TlbGeometry{2, 2}, TlbGeometry{1, 4}, TlbGeometry{4, 1},
                                          TlbGeometry{2, 3}, TlbGeometry{1, 8});
  Tlb tlb(g);
  NaiveTlb model(g);
  const int steps = *rc::gen::inRange(1, 120);
  for (int i = 0; i < steps; ++i) {
    switch (*rc::gen::inRange(0, 10)) {
      case 0: case 1: case 2: case 3: {
        const TlbEntry e = gen_entry();
        RC_ASSERT(tlb.insert(e) == model.insert(e));
        break;
      }
      case 4: case 5: case 6: case 7: {
        const LookupKey k = gen_key();
        const TlbEntry* got = tlb.lookup(k);
        const std::optional<TlbEntry> want = model.lookup(k);
        RC_ASSERT((got != nullptr) == want.has_value());
        if (got != nullptr) RC_ASSERT(*got == *want);
        break;
      }
      default: {
        const DecodedOp op = gen_tlbi();
        const TlbiContext ctx{static_cast<std::uint16_t>(*rc::gen::inRange(0, 2))};
        std::vector<TlbEntry> removed;
        const std::size_t n = tlb.invalidate(op, ctx, &removed);
        RC_ASSERT(removed == model.invalidate(op, ctx));
        RC_ASSERT(n == removed.size());
        break;
      }
    }
    const std::vector<TlbEntry> now = model.contents();
    RC_ASSERT(contents(tlb) == now);
    RC_ASSERT(tlb.size() == now.size());
  }
}

}  // namespace
}  // namespace tlbkit::sim
