// Hand-derived vectors for the per-regime change rules: break-before-make
// (docs/ARCHITECTURE-FACTS.md section 4, Arm ARM "Using break-before-make when updating
// translation table entries"), change classification for TLB maintenance,
// and the permission model.
//
// Descriptors are written as literals. The building blocks:
//   valid | page type (level 3)           = 0b11   -> ...03
//   valid, block (levels 1, 2)            = 0b01   -> ...01
//   table (levels 0-2): valid | type      = 0b11
//   AttrIndx 4:2, NS 5, AP 7:6, SH 9:8 (inner 0x300, outer 0x200), AF 0x400,
//   nG 0x800, DBM 1<<51 = 0x0008'..., Contig 1<<52 = 0x0010'...,
//   PXN 1<<53 = 0x0020'..., UXN 1<<54 = 0x0040'..., software 1<<55 = 0x0080'...
//   Stage 2: MemAttr 5:2, S2AP 7:6 (01 R, 10 W), XN[1:0] 54:53.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "tlbkit/arch/attributes.hpp"
#include "tlbkit/arch/regime.hpp"

namespace tlbkit::arch {
namespace {

// ---- stage 1 EL1&0, output 0x8000_0000 ---------------------------------
// Kernel data page: AP 00, SH inner, AF, PXN, UXN, AttrIndx 0:
//   0x0060'... (PXN|UXN) | 0x8000'0000 | 0x700 | 0b11
constexpr Descriptor kS1Page = 0x0060'0000'8000'0703;
// Same page at the next 4 KiB frame (OA 0x8000_1000).
constexpr Descriptor kS1PageNextFrame = 0x0060'0000'8000'1703;
// AttrIndx 1 (0x004 added).
constexpr Descriptor kS1PageAttrIndx1 = 0x0060'0000'8000'0707;
// SH outer (0x200 instead of 0x300).
constexpr Descriptor kS1PageOuterShareable = 0x0060'0000'8000'0603;
// NS bit 5 (0x20) set.
constexpr Descriptor kS1PageNonSecure = 0x0060'0000'8000'0723;
// Contiguous hint (1 << 52) set.
constexpr Descriptor kS1PageContiguous = 0x0070'0000'8000'0703;
// nG (0x800) set.
constexpr Descriptor kS1PageNonGlobal = 0x0060'0000'8000'0f03;
// AP 10: EL1 read-only (0x080).
constexpr Descriptor kS1PageReadOnly = 0x0060'0000'8000'0783;
// PXN clear: EL1 executable.
constexpr Descriptor kS1PageEl1Exec = 0x0040'0000'8000'0703;
// AF clear (0x700 - 0x400 = 0x300).
constexpr Descriptor kS1PageNoAf = 0x0060'0000'8000'0303;
// DBM set on the read-only page.
constexpr Descriptor kS1PageReadOnlyDbm = 0x0068'0000'8000'0783;
// Software bit 55 set (0x0060 + 0x0080 = 0x00e0).
constexpr Descriptor kS1PageSoftware1 = 0x00e0'0000'8000'0703;
// Valid bit cleared: invalid.
constexpr Descriptor kS1PageInvalidBitClear = 0x0060'0000'8000'0702;

// Level-2 block at 0x8000_0000 (2 MiB aligned): as the page, type bit clear.
constexpr Descriptor kS1Block = 0x0060'0000'8000'0701;
// Level-2 table descriptor pointing at the table page 0x4000_1000.
constexpr Descriptor kTable = 0x0000'0000'4000'1003;
// Same table with APTable[0] (bit 61 = 0x2000'...) set.
constexpr Descriptor kTableApTable = 0x2000'0000'4000'1003;
// Table descriptor pointing at a different table page 0x4000_2000.
constexpr Descriptor kOtherTable = 0x0000'0000'4000'2003;

// ---- stage 1 EL2 -------------------------------------------------------
// RW, XN: 0x0040'... | AP[1] RES1 0x040 | SH 0x300 | AF 0x400 | 0b11 = ...0743
constexpr Descriptor kEl2Page = 0x0040'0000'8000'0743;
// AP[2] (0x080) set: read-only.
constexpr Descriptor kEl2PageReadOnly = 0x0040'0000'8000'07c3;
// AttrIndx 2 (0x008 added).
constexpr Descriptor kEl2PageAttrIndx2 = 0x0040'0000'8000'074b;

// ---- stage 2 -----------------------------------------------------------
// MemAttr 0xf (0x3c), S2AP 11 (0xc0), SH 0x300, AF 0x400 -> 0x7fc, XN 10
// (0x0040'...), | 0b11 -> ...07ff.
constexpr Descriptor kS2Page = 0x0040'0000'8000'07ff;
// S2AP 01, read-only: 0x7ff - 0x80 = 0x77f.
constexpr Descriptor kS2PageReadOnly = 0x0040'0000'8000'077f;
// MemAttr 0x5 (0x14): 0x7ff - 0x3c + 0x14 = 0x7d7.
constexpr Descriptor kS2PageNonCacheable = 0x0040'0000'8000'07d7;
// SH non-shareable: 0x7ff - 0x300 = 0x4ff.
constexpr Descriptor kS2PageNonShareable = 0x0040'0000'8000'04ff;
// XN 00: executable at EL1 and EL0.
constexpr Descriptor kS2PageExecAll = 0x0000'0000'8000'07ff;
// Next 4 KiB frame.
constexpr Descriptor kS2PageNextFrame = 0x0040'0000'8000'17ff;

constexpr std::uint8_t P(Permission p) { return static_cast<std::uint8_t>(p); }
constexpr std::uint8_t kEl1R = P(Permission::el1_read);      // 0x01
constexpr std::uint8_t kEl1W = P(Permission::el1_write);     // 0x02
constexpr std::uint8_t kEl1X = P(Permission::el1_execute);   // 0x04
constexpr std::uint8_t kEl0R = P(Permission::el0_read);      // 0x08
constexpr std::uint8_t kEl0W = P(Permission::el0_write);     // 0x10
constexpr std::uint8_t kEl0X = P(Permission::el0_execute);   // 0x20

// ===================================================== update_rule (BBM)

TEST(UpdateRule, OutputAddressChangeNeedsBreakBeforeMake) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageNextFrame),
            UpdateRule::break_before_make);
  EXPECT_EQ(update_rule(Regime::stage2, 3, kS2Page, kS2PageNextFrame),
            UpdateRule::break_before_make);
}

TEST(UpdateRule, BlockToTableSplitNeedsBreakBeforeMake) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 2, kS1Block, kTable), UpdateRule::break_before_make);
}

TEST(UpdateRule, TableToBlockMergeNeedsBreakBeforeMake) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 2, kTable, kS1Block), UpdateRule::break_before_make);
}

TEST(UpdateRule, AttrIndxChangeNeedsBreakBeforeMake) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageAttrIndx1),
            UpdateRule::break_before_make);
  EXPECT_EQ(update_rule(Regime::el2_stage1, 3, kEl2Page, kEl2PageAttrIndx2),
            UpdateRule::break_before_make);
}

TEST(UpdateRule, ShareabilityChangeNeedsBreakBeforeMake) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageOuterShareable),
            UpdateRule::break_before_make);
  EXPECT_EQ(update_rule(Regime::stage2, 3, kS2Page, kS2PageNonShareable),
            UpdateRule::break_before_make);
}

TEST(UpdateRule, NonSecureBitChangeNeedsBreakBeforeMake) {
  // NS selects the output address space: an output change.
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageNonSecure),
            UpdateRule::break_before_make);
}

TEST(UpdateRule, ContiguousHintChangeNeedsBreakBeforeMakeBothWays) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageContiguous),
            UpdateRule::break_before_make);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1PageContiguous, kS1Page),
            UpdateRule::break_before_make);
}

TEST(UpdateRule, Stage2MemAttrChangeNeedsBreakBeforeMake) {
  EXPECT_EQ(update_rule(Regime::stage2, 3, kS2Page, kS2PageNonCacheable),
            UpdateRule::break_before_make);
}

TEST(UpdateRule, NonGlobalToGlobalNeedsBreakBeforeMake) {
  // nG 1 -> 0: docs/ARCHITECTURE-FACTS.md section 4.
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1PageNonGlobal, kS1Page),
            UpdateRule::break_before_make);
}

TEST(UpdateRule, GlobalToNonGlobalIsInPlace) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageNonGlobal), UpdateRule::in_place);
}

TEST(UpdateRule, PermissionOnlyChangesAreInPlace) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageReadOnly), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1PageReadOnly, kS1Page), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageEl1Exec), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el2_stage1, 3, kEl2Page, kEl2PageReadOnly), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::stage2, 3, kS2Page, kS2PageReadOnly), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::stage2, 3, kS2Page, kS2PageExecAll), UpdateRule::in_place);
}

TEST(UpdateRule, PermissionChangeOfABlockIsInPlace) {
  // Level-2 block, AP 00 -> 10: 0x...0701 -> 0x...0781.
  EXPECT_EQ(update_rule(Regime::el1_stage1, 2, kS1Block, 0x0060'0000'8000'0781),
            UpdateRule::in_place);
}

TEST(UpdateRule, AccessFlagDirtyBitModifierAndSoftwareBitsAreInPlace) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageNoAf), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1PageNoAf, kS1Page), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1PageReadOnly, kS1PageReadOnlyDbm),
            UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageSoftware1), UpdateRule::in_place);
  // Stage 2 software bit 55: 0x0040 + 0x0080 = 0x00c0.
  EXPECT_EQ(update_rule(Regime::stage2, 3, kS2Page, 0x00c0'0000'8000'07ff), UpdateRule::in_place);
}

TEST(UpdateRule, InvalidOnEitherSideIsInPlace) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kInvalidDescriptor, kS1Page), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kInvalidDescriptor), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, kS1Page, kS1PageInvalidBitClear),
            UpdateRule::in_place);
  // A level-3 descriptor with the type bit clear is invalid (reserved).
  EXPECT_EQ(update_rule(Regime::el1_stage1, 3, 0x0060'0000'8000'0701, kS1PageNextFrame),
            UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::el1_stage1, 2, kInvalidDescriptor, kTable), UpdateRule::in_place);
  EXPECT_EQ(update_rule(Regime::stage2, 3, kS2Page, kInvalidDescriptor), UpdateRule::in_place);
}

TEST(UpdateRule, TableAttributeChangeOnTheSameTableIsInPlace) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 2, kTable, kTableApTable), UpdateRule::in_place);
}

TEST(UpdateRule, TablePointingElsewhereNeedsBreakBeforeMake) {
  EXPECT_EQ(update_rule(Regime::el1_stage1, 1, kTable, kOtherTable), UpdateRule::break_before_make);
}

// ============================================================== classify

TEST(Classify, InvalidToValidIsMap) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kInvalidDescriptor, kS1Page), ChangeKind::map);
  EXPECT_EQ(classify(Regime::el1_stage1, 2, kInvalidDescriptor, kTable), ChangeKind::map);
  EXPECT_EQ(classify(Regime::stage2, 2, kInvalidDescriptor, 0x0040'0000'8000'07fd),  // L2 block
            ChangeKind::map);
}

TEST(Classify, ValidToInvalidIsUnmap) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kInvalidDescriptor), ChangeKind::unmap);
  EXPECT_EQ(classify(Regime::el1_stage1, 2, kTable, kInvalidDescriptor), ChangeKind::unmap);
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageInvalidBitClear), ChangeKind::unmap);
}

TEST(Classify, ReadWriteToReadOnlyIsRestrict) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageReadOnly), ChangeKind::restrict);
  EXPECT_EQ(classify(Regime::el2_stage1, 3, kEl2Page, kEl2PageReadOnly), ChangeKind::restrict);
}

TEST(Classify, Stage2ReadWriteToReadOnlyIsRestrict) {
  EXPECT_EQ(classify(Regime::stage2, 3, kS2Page, kS2PageReadOnly), ChangeKind::restrict);
}

TEST(Classify, RemovingExecuteIsRestrict) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageEl1Exec, kS1Page), ChangeKind::restrict);
  EXPECT_EQ(classify(Regime::stage2, 3, kS2PageExecAll, kS2Page), ChangeKind::restrict);
  // EL2 XN 0 -> 1: 0x0000'... -> 0x0040'...
  EXPECT_EQ(classify(Regime::el2_stage1, 3, 0x0000'0000'8000'0743, kEl2Page), ChangeKind::restrict);
}

TEST(Classify, ClearingTheAccessFlagIsRestrict) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageNoAf), ChangeKind::restrict);
  // Stage 2: 0x7ff - 0x400 = 0x3ff.
  EXPECT_EQ(classify(Regime::stage2, 3, kS2Page, 0x0040'0000'8000'03ff), ChangeKind::restrict);
}

TEST(Classify, GlobalToNonGlobalIsRestrict) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageNonGlobal), ChangeKind::restrict);
}

TEST(Classify, ClearingDbmOnAReadOnlyPageIsRestrict) {
  // DBM counts as write permission: losing it loses a write.
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageReadOnlyDbm, kS1PageReadOnly),
            ChangeKind::restrict);
}

TEST(Classify, GrantingEl0WriteToAKernelExecutablePageIsRestrict) {
  // AP 00 -> 01 with PXN clear: EL0 gains RW, but EL1 loses execute (EL0
  // writable memory is never EL1 executable) and, under PAN, data access.
  // 0x0040'0000'8000'0703 -> 0x0040'0000'8000'0743
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageEl1Exec, 0x0040'0000'8000'0743),
            ChangeKind::restrict);
}

TEST(Classify, RemovingEl0ExecuteFromAnEl0ExecuteOnlyPageIsRestrict) {
  // Arm ARM stage-1 execute permissions: EL0 may execute wherever UXN = 0,
  // whatever AP[1] says (Linux PAGE_EXECONLY = AP 10, PXN, UXN clear).
  // Setting UXN on such a page removes EL0 execute: a stale TLB entry would
  // keep letting EL0 run it, so this must be restrict (TLBI needed).
  // Old: PXN only (0x0020'...), AP 10 -> 0x0020'0000'8000'0783; new: + UXN.
  EXPECT_EQ(classify(Regime::el1_stage1, 3, 0x0020'0000'8000'0783, 0x0060'0000'8000'0783),
            ChangeKind::restrict);
}

TEST(Classify, ReadOnlyToReadWriteIsRelax) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageReadOnly, kS1Page), ChangeKind::relax);
  EXPECT_EQ(classify(Regime::el2_stage1, 3, kEl2PageReadOnly, kEl2Page), ChangeKind::relax);
  EXPECT_EQ(classify(Regime::stage2, 3, kS2PageReadOnly, kS2Page), ChangeKind::relax);
}

TEST(Classify, AddingExecuteIsRelax) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageEl1Exec), ChangeKind::relax);
  EXPECT_EQ(classify(Regime::stage2, 3, kS2Page, kS2PageExecAll), ChangeKind::relax);
}

TEST(Classify, SettingTheAccessFlagIsRelax) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageNoAf, kS1Page), ChangeKind::relax);
}

TEST(Classify, SettingDbmOnAReadOnlyPageIsRelax) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageReadOnly, kS1PageReadOnlyDbm),
            ChangeKind::relax);
}

TEST(Classify, SoftwareBitsOnlyIsRelax) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageSoftware1), ChangeKind::relax);
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageSoftware1, kS1Page), ChangeKind::relax);
}

TEST(Classify, OutputAddressChangeIsReplace) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageNextFrame), ChangeKind::replace);
  EXPECT_EQ(classify(Regime::stage2, 3, kS2Page, kS2PageNextFrame), ChangeKind::replace);
}

TEST(Classify, MemoryTypeChangeIsReplace) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1PageAttrIndx1), ChangeKind::replace);
  EXPECT_EQ(classify(Regime::stage2, 3, kS2Page, kS2PageNonCacheable), ChangeKind::replace);
}

TEST(Classify, NonGlobalToGlobalIsReplace) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1PageNonGlobal, kS1Page), ChangeKind::replace);
}

TEST(Classify, BlockToTableAndBackIsReplace) {
  EXPECT_EQ(classify(Regime::el1_stage1, 2, kS1Block, kTable), ChangeKind::replace);
  EXPECT_EQ(classify(Regime::el1_stage1, 2, kTable, kS1Block), ChangeKind::replace);
}

TEST(Classify, TableAttributeChangeIsConservativelyRestrict) {
  EXPECT_EQ(classify(Regime::el1_stage1, 2, kTable, kTableApTable), ChangeKind::restrict);
}

TEST(Classify, EqualDescriptorsAreNoChange) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kS1Page, kS1Page), std::nullopt);
  EXPECT_EQ(classify(Regime::el1_stage1, 2, kTable, kTable), std::nullopt);
  EXPECT_EQ(classify(Regime::stage2, 3, kS2Page, kS2Page), std::nullopt);
}

TEST(Classify, BothInvalidIsNoChangeEvenIfTheBitsDiffer) {
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kInvalidDescriptor, kInvalidDescriptor), std::nullopt);
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kInvalidDescriptor, kS1PageInvalidBitClear),
            std::nullopt);
  // Level 3 with type bit clear and level 0 block: both reserved -> invalid.
  EXPECT_EQ(classify(Regime::el1_stage1, 3, kInvalidDescriptor, 0x0060'0000'8000'0701),
            std::nullopt);
  EXPECT_EQ(classify(Regime::el1_stage1, 0, kInvalidDescriptor, 0x0060'0000'8000'0701),
            std::nullopt);
}

TEST(NeedsInvalidation, OnlyUnmapRestrictAndReplace) {
  EXPECT_FALSE(needs_invalidation(ChangeKind::map));
  EXPECT_TRUE(needs_invalidation(ChangeKind::unmap));
  EXPECT_TRUE(needs_invalidation(ChangeKind::restrict));
  EXPECT_FALSE(needs_invalidation(ChangeKind::relax));
  EXPECT_TRUE(needs_invalidation(ChangeKind::replace));
}

// =========================================================== permissions

TEST(Stage1Permissions, Ap00GrantsEl1ReadWriteAndPxnClearGrantsEl1Execute) {
  // kS1PageEl1Exec: AP 00, PXN 0, UXN 1.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, kS1PageEl1Exec), kEl1R | kEl1W | kEl1X);
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, kS1Page), kEl1R | kEl1W);
}

TEST(Stage1Permissions, Ap10IsEl1ReadOnly) {
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, kS1PageReadOnly), kEl1R);
}

TEST(Stage1Permissions, Ap01GrantsEl0ReadWriteButNoEl1DataAccessUnderPan) {
  // AP 01, PXN 1, UXN 1: 0x0060'0000'8000'0743.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, 0x0060'0000'8000'0743), kEl0R | kEl0W);
}

TEST(Stage1Permissions, El0WritableIsNeverEl1ExecutableEvenWithPxnClear) {
  // AP 01, PXN 0, UXN 0: 0x0000'0000'8000'0743. EL1 gets nothing at all.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, 0x0000'0000'8000'0743), kEl0R | kEl0W | kEl0X);
}

TEST(Stage1Permissions, Ap11WithPxnClearIsEl1ExecutableButNotEl1ReadableUnderPan) {
  // AP 11, PXN 0, UXN 0: 0x0000'0000'8000'07c3.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, 0x0000'0000'8000'07c3), kEl0R | kEl0X | kEl1X);
  // AP 11, PXN 1, UXN 1: 0x0060'0000'8000'07c3 -> EL0 read only.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, 0x0060'0000'8000'07c3), kEl0R);
}

TEST(Stage1Permissions, DbmCountsAsWritePermission) {
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, kS1PageReadOnlyDbm), kEl1R | kEl1W);
  // AP 11 + DBM, PXN, UXN: 0x0068'0000'8000'07c3 -> EL0 read and (dirty) write.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, 0x0068'0000'8000'07c3), kEl0R | kEl0W);
}

TEST(Stage1Permissions, UxnClearGrantsEl0ExecuteEvenWithoutEl0DataAccess) {
  // Arm ARM stage-1 execute permission table: EL0 execute depends on UXN
  // only. AP 10 + PXN + UXN clear is Linux's PAGE_EXECONLY:
  // 0x0020'0000'8000'0783 -> EL1 read, EL0 execute.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, 0x0020'0000'8000'0783), kEl1R | kEl0X);
  // AP 00 + PXN + UXN clear: 0x0020'0000'8000'0703 -> EL1 RW, EL0 execute.
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, 0x0020'0000'8000'0703), kEl1R | kEl1W | kEl0X);
}

TEST(Stage1Permissions, BlocksCountTablesAndInvalidDoNot) {
  EXPECT_EQ(permissions(Regime::el1_stage1, 2, kS1Block), kEl1R | kEl1W);
  EXPECT_EQ(permissions(Regime::el1_stage1, 2, kTable), 0);
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, kInvalidDescriptor), 0);
  EXPECT_EQ(permissions(Regime::el1_stage1, 3, kS1PageInvalidBitClear), 0);
}

TEST(El2Permissions, ReadWriteNoExecuteAndReadOnlyExecutable) {
  // The regime's own level is reported in the el1_* bits.
  EXPECT_EQ(permissions(Regime::el2_stage1, 3, kEl2Page), kEl1R | kEl1W);
  // RO + XN clear: 0x0000'0000'8000'07c3.
  EXPECT_EQ(permissions(Regime::el2_stage1, 3, 0x0000'0000'8000'07c3), kEl1R | kEl1X);
}

TEST(Stage2Permissions, XnEncodings00All01El0Only10None11El1Only) {
  // S2AP 11 everywhere (R W for both levels = 0x1b).
  const std::uint8_t rw = kEl1R | kEl1W | kEl0R | kEl0W;
  EXPECT_EQ(permissions(Regime::stage2, 3, 0x0000'0000'8000'07ff), rw | kEl1X | kEl0X);  // 00
  EXPECT_EQ(permissions(Regime::stage2, 3, 0x0020'0000'8000'07ff), rw | kEl0X);          // 01
  EXPECT_EQ(permissions(Regime::stage2, 3, 0x0040'0000'8000'07ff), rw);                  // 10
  EXPECT_EQ(permissions(Regime::stage2, 3, 0x0060'0000'8000'07ff), rw | kEl1X);          // 11
}

TEST(Stage2Permissions, S2apReadAndWriteApplyToBothExceptionLevels) {
  EXPECT_EQ(permissions(Regime::stage2, 3, kS2PageReadOnly), kEl1R | kEl0R);
  // S2AP 10 (write-only): 0x7ff - 0x40 = 0x7bf.
  EXPECT_EQ(permissions(Regime::stage2, 3, 0x0040'0000'8000'07bf), kEl1W | kEl0W);
  // S2AP 00, XN 01: 0x7ff - 0xc0 = 0x73f -> only EL0 execute.
  EXPECT_EQ(permissions(Regime::stage2, 3, 0x0020'0000'8000'073f), kEl0X);
  // S2AP 01 + DBM (0x0008'...): writable too.
  EXPECT_EQ(permissions(Regime::stage2, 3, 0x0048'0000'8000'077f), kEl1R | kEl0R | kEl1W | kEl0W);
}

// ============================================================ exec_gain

TEST(ExecGain, ClearingPxnGainsExecute) {
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, kS1Page, kS1PageEl1Exec), ExecGain::yes);
}

TEST(ExecGain, SettingPxnOrUnmappingGainsNothing) {
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, kS1PageEl1Exec, kS1Page), ExecGain::no);
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, kS1PageEl1Exec, kInvalidDescriptor), ExecGain::no);
}

TEST(ExecGain, MappingAnExecutablePageGainsExecuteFromNothing) {
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, kInvalidDescriptor, kS1PageEl1Exec), ExecGain::yes);
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, kInvalidDescriptor, kS1Page), ExecGain::no);
}

TEST(ExecGain, MakingAnEl0WritablePageReadOnlyRevealsEl1Execute) {
  // AP 01 -> 11 with PXN 0 and UXN 1: EL1 may now execute (no longer EL0
  // writable). 0x0040'0000'8000'0743 -> 0x0040'0000'8000'07c3.
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, 0x0040'0000'8000'0743, 0x0040'0000'8000'07c3),
            ExecGain::yes);
}

TEST(ExecGain, GrantingEl0WriteHidesEl1ExecuteAndGainsNothing) {
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, kS1PageEl1Exec, 0x0040'0000'8000'0743), ExecGain::no);
}

TEST(ExecGain, ClearingUxnOnAnEl1OnlyPageGainsEl0Execute) {
  // AP 00, PXN 1: UXN 1 -> 0 makes the page EL0-executable (execute needs no
  // AP[1]). 0x0060'0000'8000'0703 -> 0x0020'0000'8000'0703: I-cache due.
  EXPECT_EQ(exec_gain(Regime::el1_stage1, 3, kS1Page, 0x0020'0000'8000'0703), ExecGain::yes);
}

TEST(ExecGain, Stage2XnChangesFollowTheFourEncodings) {
  // 10 (none) -> 01 (EL0): gain.
  EXPECT_EQ(exec_gain(Regime::stage2, 3, 0x0040'0000'8000'07ff, 0x0020'0000'8000'07ff),
            ExecGain::yes);
  // 01 (EL0) -> 11 (EL1): EL1 gained.
  EXPECT_EQ(exec_gain(Regime::stage2, 3, 0x0020'0000'8000'07ff, 0x0060'0000'8000'07ff),
            ExecGain::yes);
  // 00 (all) -> 11 (EL1 only): loss only.
  EXPECT_EQ(exec_gain(Regime::stage2, 3, 0x0000'0000'8000'07ff, 0x0060'0000'8000'07ff),
            ExecGain::no);
  // 00 -> 10: loss only.
  EXPECT_EQ(exec_gain(Regime::stage2, 3, kS2PageExecAll, kS2Page), ExecGain::no);
}

TEST(ExecGain, El2ClearingXnGainsExecute) {
  EXPECT_EQ(exec_gain(Regime::el2_stage1, 3, kEl2Page, 0x0000'0000'8000'0743), ExecGain::yes);
}

// ============================================================ masks

TEST(MemoryTypeMask, Stage1IsAttrIndxNsAndSh) {
  // 0x1c | 0x20 | 0x300 = 0x33c
  EXPECT_EQ(memory_type_mask(Regime::el1_stage1), Descriptor{0x33c});
  EXPECT_EQ(memory_type_mask(Regime::el2_stage1), Descriptor{0x33c});
}

TEST(MemoryTypeMask, Stage2IsMemAttrAndSh) {
  // 0x3c | 0x300 = 0x33c as well: MemAttr covers 5:2.
  EXPECT_EQ(memory_type_mask(Regime::stage2), Descriptor{0x33c});
}

TEST(AttributeMask, El2HasNoNgNoPxnButApRes1AndXn) {
  // 0x1c | 0x20 | 0x40 | 0x80 | 0x300 | 0x400 = 0x7fc;
  // DBM 0x0008 | Contig 0x0010 | XN 0x0040 | SW 0x0780 = 0x07d8.
  EXPECT_EQ(attribute_mask(Regime::el2_stage1), Descriptor{0x07d8'0000'0000'07fc});
}

}  // namespace
}  // namespace tlbkit::arch
