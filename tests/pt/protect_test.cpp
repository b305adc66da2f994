// Hand-derived vectors for pt::Table::protect: in-place permission changes,
// splits at the edges, break-before-make for memory-type and nG 1->0
// changes, and the exact change records.
//
// 39-bit stage 1. Kernel data attributes 0x0060'0000'0000'0700 (PXN, UXN,
// AF, SH inner, AP 00, AttrIndx 0); AP 10 (EL1 read-only) adds 0x080.

#include <gtest/gtest.h>

#include "pt/vector_support.hpp"

namespace tlbkit::vectors {
namespace {

constexpr auto kLeaf = EntryKind::leaf;
constexpr auto kNo = ExecGain::no;

Event rec(VirtAddr va, std::uint64_t size, unsigned level, ChangeKind kind, PhysAddr out,
          ExecGain exec = ExecGain::no) {
  return Event{Via::record, change(va, size, level, kLeaf, kind, exec, out)};
}
Event now(VirtAddr va, std::uint64_t size, unsigned level, PhysAddr out) {
  return Event{Via::invalidate_now, change(va, size, level, kLeaf, ChangeKind::replace, kNo, out)};
}

class ProtectVectors : public ::testing::Test {
 protected:
  FakeMemory memory;
  Recorder sink{&memory};
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(39), memory);

  void SetUp() override {
    sink.attach(table);
    // One 2 MiB block: VA 0x20_0000 -> PA 0x8_0020_0000.
    ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink)), "ok");
    ASSERT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0701});
    sink.clear();
  }
  void TearDown() override { EXPECT_TRUE(memory.problems().empty()) << memory.problems().front(); }
};

TEST_F(ProtectVectors, ReadOnlyOverAWholeBlockRewritesTheBlockInPlace) {
  const std::uint64_t allocations = memory.allocations();
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, make_read_only_s1(), sink)), "ok");

  const std::vector<Event> expected = {rec(0x20'0000, k2M, 2, ChangeKind::restrict, 0x8'0020'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(sink.count(Via::invalidate_now), 0u);
  EXPECT_EQ(memory.allocations(), allocations);  // no split
  // AP 00 -> 10: 0x...0701 + 0x080.
  const auto t = table.query(0x2f'f000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 2u);
  EXPECT_EQ(t->descriptor, Descriptor{0x0060'0008'0020'0781});
}

TEST_F(ProtectVectors, ReadOnlyOverOnePageOfABlockSplitsItFirst) {
  const std::uint64_t allocations = memory.allocations();
  // The second page of the block: [0x20_1000, 0x20_2000).
  ASSERT_EQ(code(table.protect(0x20'1000, k4K, make_read_only_s1(), sink)), "ok");

  const std::vector<Event> breaks = {now(0x20'0000, k2M, 2, 0x8'0020'0000)};
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  EXPECT_TRUE(sink.breaks()[0].last_unmapped);
  // The new table is built privately with the protected page already
  // read-only: all 512 pages are new slots (map), and the break of the
  // block covers the restriction.
  const std::vector<Event> records = {
      rec(0x20'0000, k2M, 3, ChangeKind::map, 0x8'0020'0000),
  };
  EXPECT_EQ(normalized(sink.only(Via::record)), records) << sink.dump();
  EXPECT_EQ(memory.allocations(), allocations + 1);

  // Page = OA | 0x0060'0000'0000'0700 | 0b11, the protected one + 0x080.
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0703});
  EXPECT_EQ(table.query(0x20'1000)->descriptor, Descriptor{0x0060'0008'0020'1783});
  EXPECT_EQ(table.query(0x20'2000)->descriptor, Descriptor{0x0060'0008'0020'2703});
  EXPECT_EQ(table.query(0x3f'f000)->descriptor, Descriptor{0x0060'0008'003f'f703});
  EXPECT_EQ(count_leaves(table, 0x20'0000, k2M).leaves[3], 512u);
}

TEST_F(ProtectVectors, ChangingAttrIndxUsesBreakBeforeMake) {
  // AttrIndx 0 -> 1: clear 4:2 (0x1c), set 0x004.
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0x1c, 0x4}, sink)), "ok");

  const std::vector<Event> expected = {now(0x20'0000, k2M, 2, 0x8'0020'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  ASSERT_EQ(sink.breaks().size(), 1u);
  ASSERT_TRUE(sink.breaks()[0].checked);
  EXPECT_TRUE(sink.breaks()[0].first_unmapped) << "slot must read invalid during invalidate_now";
  EXPECT_TRUE(sink.breaks()[0].last_unmapped);
  // Made after the break: 0x...0701 + 0x004.
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0705});
}

TEST_F(ProtectVectors, ChangingShareabilityUsesBreakBeforeMake) {
  // SH inner (11) -> outer (10): clear 0x300, set 0x200.
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0x300, 0x200}, sink)), "ok");
  const std::vector<Event> expected = {now(0x20'0000, k2M, 2, 0x8'0020'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0601});
}

TEST_F(ProtectVectors, SettingNgIsAnInPlaceRestrictAndClearingItABreak) {
  // nG 0 -> 1 (0x800): in place, restrict.
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0, 0x800}, sink)), "ok");
  const std::vector<Event> restrict = {rec(0x20'0000, k2M, 2, ChangeKind::restrict, 0x8'0020'0000)};
  EXPECT_EQ(sink.events(), restrict) << sink.dump();
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0f01});
  sink.clear();

  // nG 1 -> 0: break-before-make.
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0x800, 0}, sink)), "ok");
  const std::vector<Event> brk = {now(0x20'0000, k2M, 2, 0x8'0020'0000)};
  EXPECT_EQ(sink.events(), brk) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0701});
}

TEST_F(ProtectVectors, ReadOnlyBackToReadWriteIsARelaxRecord) {
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, make_read_only_s1(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0xc0, 0x0}, sink)), "ok");
  const std::vector<Event> expected = {rec(0x20'0000, k2M, 2, ChangeKind::relax, 0x8'0020'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0701});
}

TEST_F(ProtectVectors, ClearingPxnIsARelaxThatGainsExecute) {
  // PXN = 1 << 53 = 0x0020'0000'0000'0000.
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0x0020'0000'0000'0000, 0}, sink)), "ok");
  const std::vector<Event> expected = {
      rec(0x20'0000, k2M, 2, ChangeKind::relax, 0x8'0020'0000, ExecGain::yes)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0040'0008'0020'0701});
}

TEST_F(ProtectVectors, SoftwareBitsOnlyIsAnInPlaceRelax) {
  // Software bit 55 = 0x0080'0000'0000'0000.
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0, 0x0080'0000'0000'0000}, sink)), "ok");
  const std::vector<Event> expected = {rec(0x20'0000, k2M, 2, ChangeKind::relax, 0x8'0020'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x00e0'0008'0020'0701});
}

TEST_F(ProtectVectors, ChangeThatChangesNothingReportsNothing) {
  // AP is already 00; "set AP 00" rewrites nothing.
  ASSERT_EQ(code(table.protect(0x20'0000, k2M, pt::AttributeChange{0xc0, 0x0}, sink)), "ok");
  EXPECT_TRUE(sink.events().empty()) << sink.dump();
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0701});
}

TEST_F(ProtectVectors, HolesAreSkippedAndSeparatePagesGetSeparateRuns) {
  // Pages 0x1000 and 0x3000 (hole at 0x2000), protect [0x1000, 0x4000).
  ASSERT_EQ(code(table.map(0x1000, 0x9'0000'1000, k4K, kernel_data(), sink)), "ok");
  ASSERT_EQ(code(table.map(0x3000, 0x9'0000'3000, k4K, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.protect(0x1000, 0x3000, make_read_only_s1(), sink)), "ok");
  const std::vector<Event> expected = {
      rec(0x1000, k4K, 3, ChangeKind::restrict, 0x9'0000'1000),
      rec(0x3000, k4K, 3, ChangeKind::restrict, 0x9'0000'3000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
  EXPECT_EQ(code(table.query(0x2000)), "not_mapped");
}

TEST_F(ProtectVectors, RangeCoveringTwoBlockEdgesSplitsBoth) {
  // Second block at 0x40_0000 -> 0x8_0040_0000 (physically contiguous with
  // the first). Protect [0x3f_f000, 0x40_1000): last page of block 1, first
  // page of block 2.
  ASSERT_EQ(code(table.map(0x40'0000, 0x8'0040'0000, k2M, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.protect(0x3f'f000, 0x2000, make_read_only_s1(), sink)), "ok");
  const std::vector<Event> breaks = {
      now(0x20'0000, k2M, 2, 0x8'0020'0000),
      now(0x40'0000, k2M, 2, 0x8'0040'0000),
  };
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks) << sink.dump();
  // Both new tables' pages, built with the two protected pages already
  // read-only: one map run, contiguous in VA and PA.
  const std::vector<Event> records = {
      rec(0x20'0000, 0x40'0000, 3, ChangeKind::map, 0x8'0020'0000),
  };
  EXPECT_EQ(normalized(sink.only(Via::record)), records) << sink.dump();
  EXPECT_EQ(table.query(0x3f'f000)->descriptor, Descriptor{0x0060'0008'003f'f783});
  EXPECT_EQ(table.query(0x40'0000)->descriptor, Descriptor{0x0060'0008'0040'0783});
  EXPECT_EQ(table.query(0x40'1000)->descriptor, Descriptor{0x0060'0008'0040'1703});
}

TEST_F(ProtectVectors, TwoSplitBlocksWithAlikeNewLeavesReportEachBlocksOwnExecGain) {
  // Regression (TablePropertiesEl1Va39, seed 31): the engine memoised
  // "does this new leaf gain execute?" by the leaf's attributes and level
  // only, so the second block split by one operation got the first
  // block's answer. Block 1 is kernel data (PXN); block 2 at 0x40_0000 is
  // kernel text (no PXN). Clearing PXN and making [0x3f_f000, 0x40_1000)
  // read-only gives both rewritten pages the same attributes; only block
  // 1's page gains execute.
  arch::s1::Attributes text = kernel_data();
  text.el1_execute = arch::Execute::allowed;
  ASSERT_EQ(code(table.map(0x40'0000, 0x8'0040'0000, k2M, text, sink)), "ok");
  sink.clear();
  constexpr Descriptor kPxn = 0x0020'0000'0000'0000;
  ASSERT_EQ(code(table.protect(0x3f'f000, 0x2000, pt::AttributeChange{kPxn | 0xc0, 0x80}, sink)), "ok");
  ASSERT_EQ(table.query(0x3f'f000)->descriptor, table.query(0x40'0000)->descriptor - 0x1000);

  const std::vector<Event> breaks = {
      Event{Via::invalidate_now, change(0x20'0000, k2M, 2, kLeaf, ChangeKind::replace, ExecGain::yes, 0x8'0020'0000)},
      Event{Via::invalidate_now, change(0x40'0000, k2M, 2, kLeaf, ChangeKind::replace, kNo, 0x8'0040'0000)},
  };
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks) << sink.dump();
  const std::vector<Event> records = {
      rec(0x20'0000, k2M - k4K, 3, ChangeKind::map, 0x8'0020'0000),
      rec(0x40'0000, k2M, 3, ChangeKind::map, 0x8'0040'0000),
      rec(0x3f'f000, k4K, 3, ChangeKind::map, 0x8'003f'f000, ExecGain::yes),
  };
  EXPECT_EQ(normalized(sink.only(Via::record)), records) << sink.dump();
}

TEST_F(ProtectVectors, AttrIndxOverHalfABlockBreaksOnlyTheBlock) {
  // AttrIndx 0 -> 1 over [0x20_0000, 0x30_0000), the first 256 pages. The
  // block must go through break-before-make once; the table that replaces it
  // is private until published, so its entries can be written with their
  // final attributes: no page needs a second, synchronous invalidation.
  ASSERT_EQ(code(table.protect(0x20'0000, 0x10'0000, pt::AttributeChange{0x1c, 0x4}, sink)), "ok");

  const std::vector<Event> breaks = {now(0x20'0000, k2M, 2, 0x8'0020'0000)};
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks)
      << sink.count(Via::invalidate_now) << " synchronous invalidations";
  for (const Event& e : sink.only(Via::record)) {
    EXPECT_EQ(e.change.kind, ChangeKind::map) << e;
  }
  // Pages 0..255: 0x...0707 (AttrIndx 1); pages 256..511 unchanged 0x...0703.
  EXPECT_EQ(table.query(0x20'0000)->descriptor, Descriptor{0x0060'0008'0020'0707});
  EXPECT_EQ(table.query(0x2f'f000)->descriptor, Descriptor{0x0060'0008'002f'f707});
  EXPECT_EQ(table.query(0x30'0000)->descriptor, Descriptor{0x0060'0008'0030'0703});
  EXPECT_EQ(table.query(0x3f'f000)->descriptor, Descriptor{0x0060'0008'003f'f703});
}

TEST(ProtectVectorsStage2, ReadWriteToReadOnlyIsAnInPlaceRestrict) {
  // Stage-2 page IPA 0x1000 -> PA 0x4_0000_0000: 0x0040'0004'0000'07ff.
  // S2AP 11 -> 01: clear 0x80.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::stage2, geometry_s2(40, 1), memory);
  ASSERT_EQ(code(table.map(0x1000, 0x4'0000'0000, k4K, arch::s2::Attributes{}, sink)), "ok");
  ASSERT_EQ(table.query(0x1000)->descriptor, Descriptor{0x0040'0004'0000'07ff});
  sink.clear();
  ASSERT_EQ(code(table.protect(0x1000, k4K, pt::AttributeChange{0x80, 0}, sink)), "ok");
  const std::vector<Event> expected = {rec(0x1000, k4K, 3, ChangeKind::restrict, 0x4'0000'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(table.query(0x1000)->descriptor, Descriptor{0x0040'0004'0000'077f});
}

TEST(ProtectVectorsStage2, MemAttrChangeUsesBreakBeforeMake) {
  // MemAttr 0xf -> 0x5 (Normal NC): clear 0x3c, set 0x14.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::stage2, geometry_s2(40, 1), memory);
  sink.attach(table);
  ASSERT_EQ(code(table.map(0x1000, 0x4'0000'0000, k4K, arch::s2::Attributes{}, sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.protect(0x1000, k4K, pt::AttributeChange{0x3c, 0x14}, sink)), "ok");
  const std::vector<Event> expected = {now(0x1000, k4K, 3, 0x4'0000'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  // 0x7ff - 0x3c + 0x14 = 0x7d7.
  EXPECT_EQ(table.query(0x1000)->descriptor, Descriptor{0x0040'0004'0000'07d7});
}

}  // namespace
}  // namespace tlbkit::vectors
