// Hand-derived vectors for pt::Table::split and pt::Table::promote.
//
// 39-bit stage 1 unless said. Kernel data attributes 0x0060'0000'0000'0700;
// block = OA | attrs | 0b01, page = OA | attrs | 0b11.

#include <gtest/gtest.h>

#include "pt/vector_support.hpp"

namespace tlbkit::vectors {
namespace {

constexpr auto kLeaf = EntryKind::leaf;
constexpr auto kTbl = EntryKind::table;
constexpr auto kNo = ExecGain::no;

Event rec(VirtAddr va, std::uint64_t size, unsigned level, EntryKind entry, ChangeKind kind, PhysAddr out) {
  return Event{Via::record, change(va, size, level, entry, kind, kNo, out)};
}
Event now(VirtAddr va, std::uint64_t size, unsigned level, EntryKind entry, PhysAddr out) {
  return Event{Via::invalidate_now, change(va, size, level, entry, ChangeKind::replace, kNo, out)};
}

class SplitVectors : public ::testing::Test {
 protected:
  FakeMemory memory;
  Recorder sink{&memory};
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(39), memory);

  void SetUp() override { sink.attach(table); }
  void TearDown() override { EXPECT_TRUE(memory.problems().empty()) << memory.problems().front(); }
};

// ====================================================================== split

TEST_F(SplitVectors, GibBlockToLevel3IsOneBreakOfTheLevel1SlotThenOnlyMaps) {
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink)), "ok");
  sink.clear();
  const std::uint64_t allocations = memory.allocations();

  ASSERT_EQ(code(table.split(0x4000'0000, k1G, 3, sink)), "ok");

  // One break: the live level-1 block. Everything below it is new and can be
  // built before it is published, so nothing else needs invalidating.
  const std::vector<Event> breaks = {now(0x4000'0000, k1G, 1, kLeaf, 0x8'0000'0000)};
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks)
      << sink.only(Via::invalidate_now).size() << " synchronous invalidations";
  ASSERT_FALSE(sink.breaks().empty());
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  EXPECT_TRUE(sink.breaks()[0].last_unmapped);
  // New entries: 512 level-2 table entries and 512 * 512 pages.
  const std::vector<Event> records = {
      rec(0x4000'0000, k1G, 2, kTbl, ChangeKind::map, kAnyTable),
      rec(0x4000'0000, k1G, 3, kLeaf, ChangeKind::map, 0x8'0000'0000),
  };
  EXPECT_EQ(normalized(sink.only(Via::record)), records);
  EXPECT_TRUE(sink.retired().empty());
  EXPECT_EQ(memory.allocations(), allocations + 513);  // 1 L2 + 512 L3

  const LeafCounter n = count_leaves(table, 0x4000'0000, k1G);
  EXPECT_EQ(n.leaves[1], 0u);
  EXPECT_EQ(n.leaves[2], 0u);
  EXPECT_EQ(n.leaves[3], 262144u);
  const auto t = table.query(0x5234'5000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 3u);
  EXPECT_EQ(t->descriptor, Descriptor{0x0060'0008'1234'5703});
}

TEST_F(SplitVectors, GibBlockToLevel2IsOneBreakAnd512Blocks) {
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.split(0x4000'0000, k1G, 2, sink)), "ok");
  const std::vector<Event> expected = {
      now(0x4000'0000, k1G, 1, kLeaf, 0x8'0000'0000),
      rec(0x4000'0000, k1G, 2, kLeaf, ChangeKind::map, 0x8'0000'0000),
  };
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  // Block 0x145 of the new table: VA 0x4000_0000 + 0x145 * 2 MiB = 0x68a0_0000,
  // PA 0x8_28a0_0000.
  EXPECT_EQ(table.query(0x68a0'0000)->descriptor, Descriptor{0x0060'0008'28a0'0701});
  EXPECT_EQ(table.query(0x68a0'0000)->level, 2u);
}

TEST_F(SplitVectors, TwoMibBlockToLevel3IsOneBreakAnd512Pages) {
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.split(0x20'0000, k2M, 3, sink)), "ok");
  const std::vector<Event> expected = {
      now(0x20'0000, k2M, 2, kLeaf, 0x8'0020'0000),
      rec(0x20'0000, k2M, 3, kLeaf, ChangeKind::map, 0x8'0020'0000),
  };
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(table.query(0x3f'f000)->descriptor, Descriptor{0x0060'0008'003f'f703});
}

TEST_F(SplitVectors, PageInsideABlockSplitsThatBlockOnly) {
  // Two blocks; split(0x30_0000, 4 KiB, 3) touches only the first one.
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, 0x40'0000, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.split(0x30'0000, k4K, 3, sink)), "ok");
  const std::vector<Event> expected = {
      now(0x20'0000, k2M, 2, kLeaf, 0x8'0020'0000),
      rec(0x20'0000, k2M, 3, kLeaf, ChangeKind::map, 0x8'0020'0000),
  };
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(table.query(0x40'0000)->level, 2u);
}

TEST_F(SplitVectors, NothingToSplitReportsNothing) {
  ASSERT_EQ(code(table.map(0x1000, 0x8'0000'1000, k4K, kernel_data(), sink)), "ok");
  sink.clear();
  const std::uint64_t allocations = memory.allocations();
  ASSERT_EQ(code(table.split(0x0, k1G, 3, sink)), "ok");
  EXPECT_TRUE(sink.events().empty()) << sink.dump();
  EXPECT_EQ(memory.allocations(), allocations);
}

TEST(SplitVectorsBbm2, WithBbmLevel2TheBlockIsReplacedWithoutABreak) {
  // FEAT_BBM level 2: the size change skips the invalid step; the old block
  // still needs its TLBI, but it may wait for the batch (record()).
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(39), memory,
                               pt::TableOptions{arch::BbmLevel::level2});
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.split(0x20'0000, k2M, 3, sink)), "ok");
  EXPECT_EQ(sink.count(Via::invalidate_now), 0u);
  const std::vector<Event> records = {
      rec(0x20'0000, k2M, 2, kLeaf, ChangeKind::replace, 0x8'0020'0000),
      rec(0x20'0000, k2M, 3, kLeaf, ChangeKind::map, 0x8'0020'0000),
  };
  EXPECT_EQ(normalized(sink.events()), records) << sink.dump();
}

TEST_F(SplitVectors, SplittingExecutableMemoryGainsNoExecute) {
  // Kernel text block: AP 10, PXN clear (0x0040'0000'0000'0780). Its split
  // keeps every translation; nothing becomes executable that was not, so no
  // record may ask for I-cache maintenance.
  arch::s1::Attributes text;
  text.access = arch::s1::Access::el1_ro;
  text.el1_execute = arch::Execute::allowed;
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, text, sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.split(0x20'0000, k2M, 3, sink)), "ok");
  ASSERT_FALSE(sink.events().empty());
  for (const Event& e : sink.events()) EXPECT_EQ(e.change.exec, kNo) << e;
}

TEST_F(SplitVectors, LevelOutsideOneToThreeIsInvalidArgument) {
  EXPECT_EQ(code(table.split(0x0, k1G, 0, sink)), "invalid_argument");
  EXPECT_EQ(code(table.split(0x0, k1G, 4, sink)), "invalid_argument");
  EXPECT_TRUE(sink.events().empty());
}

// ==================================================================== promote

class PromoteVectors : public SplitVectors {
 protected:
  // 2 MiB of pages VA 0x20_0000 -> PA 0x8_0020_0000 in one level-3 table.
  void map_uniform_pages() {
    ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink,
                             pt::MapOptions{pt::BlockMappings::forbidden})),
              "ok");
    l2 = table_of(entry_at(memory, table.root(), 0));
    l3 = table_of(entry_at(memory, l2, 1));
    sink.clear();
  }
  // A refused promote changes nothing and reports nothing.
  void expect_refused(VirtAddr va, unsigned level, const char* errc) {
    const std::uint64_t before = memory.contents_hash();
    EXPECT_EQ(code(table.promote(va, level, sink)), errc);
    EXPECT_TRUE(sink.events().empty()) << sink.dump();
    EXPECT_TRUE(sink.retired().empty());
    EXPECT_EQ(memory.contents_hash(), before);
  }
  PhysAddr l2 = 0;
  PhysAddr l3 = 0;
};

TEST_F(PromoteVectors, UniformPagesBecomeOneBlockWithOneReplaceOfTheTableEntry) {
  map_uniform_pages();
  // Any address inside the 2 MiB names the slot.
  ASSERT_EQ(code(table.promote(0x20'5000, 2, sink)), "ok");

  // One replace of the level-2 slot; what may be cached there is the table
  // entry (walk cache), and its old output is the level-3 table.
  const std::vector<Event> expected = {now(0x20'0000, k2M, 2, kTbl, l3)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  EXPECT_TRUE(sink.breaks()[0].last_unmapped);
  const std::vector<Retired> retired = {{l3, 1}};
  EXPECT_EQ(sink.retired(), retired);
  EXPECT_EQ(memory.frees(), 0u);
  EXPECT_TRUE(memory.is_live_page(l3));

  // Block = 0x8_0020_0000 | 0x0060'0000'0000'0700 | 0b01.
  EXPECT_EQ(entry_at(memory, l2, 1), Descriptor{0x0060'0008'0020'0701});
  const auto t = table.query(0x20'5000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 2u);
  EXPECT_EQ(t->output, 0x8'0020'5000u);
  EXPECT_EQ(t->leaf_va, 0x20'0000u);
}

TEST(PromoteVectorsBbm2, WithBbmLevel2TheReplaceIsRecordedWithoutABreak) {
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(39), memory,
                               pt::TableOptions{arch::BbmLevel::level2});
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");
  const PhysAddr l3 = table_of(entry_at(memory, table_of(entry_at(memory, table.root(), 0)), 1));
  sink.clear();
  ASSERT_EQ(code(table.promote(0x20'0000, 2, sink)), "ok");
  const std::vector<Event> expected = {rec(0x20'0000, k2M, 2, kTbl, ChangeKind::replace, l3)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  const std::vector<Retired> retired = {{l3, 1}};
  EXPECT_EQ(sink.retired(), retired);
}

TEST_F(PromoteVectors, Level2BlocksBecomeALevel1Block) {
  // Two 512 MiB halves: neither is 1 GiB, so map makes 512 level-2 blocks.
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, 0x2000'0000, kernel_data(), sink)), "ok");
  ASSERT_EQ(code(table.map(0x6000'0000, 0x8'2000'0000, 0x2000'0000, kernel_data(), sink)), "ok");
  const PhysAddr l2_table = table_of(entry_at(memory, table.root(), 1));
  sink.clear();

  ASSERT_EQ(code(table.promote(0x7fff'f000, 1, sink)), "ok");

  const std::vector<Event> expected = {now(0x4000'0000, k1G, 1, kTbl, l2_table)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  const std::vector<Retired> retired = {{l2_table, 1}};
  EXPECT_EQ(sink.retired(), retired);
  EXPECT_EQ(entry_at(memory, table.root(), 1), Descriptor{0x0060'0008'0000'0701});
  EXPECT_EQ(table.query(0x7fff'f000)->level, 1u);
}

TEST_F(PromoteVectors, Level1PromotionRetiresEveryTableBelowIt) {
  // 1 GiB of pages: one L2 table and 512 L3 tables below root[1].
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");
  const PhysAddr l2_table = table_of(entry_at(memory, table.root(), 1));
  sink.clear();

  ASSERT_EQ(code(table.promote(0x4000'0000, 1, sink)), "ok");

  const std::vector<Event> expected = {now(0x4000'0000, k1G, 1, kTbl, l2_table)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(sink.retired().size(), 513u);
  for (const Retired& r : sink.retired()) EXPECT_EQ(r.pages, 1u);
  EXPECT_EQ(memory.frees(), 0u);
  EXPECT_EQ(entry_at(memory, table.root(), 1), Descriptor{0x0060'0008'0000'0701});
}

TEST_F(PromoteVectors, MixedBlocksAndPagesPromoteToOneGibBlock) {
  // Under root[1]: the first 2 MiB as pages (an L3 table), the remaining
  // 1022 MiB as 511 level-2 blocks, all contiguous from PA 0x8_0000_0000.
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k2M, kernel_data(), sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");
  ASSERT_EQ(code(table.map(0x4020'0000, 0x8'0020'0000, k1G - k2M, kernel_data(), sink)), "ok");
  const PhysAddr l2_table = table_of(entry_at(memory, table.root(), 1));
  const PhysAddr l3_table = table_of(entry_at(memory, l2_table, 0));
  ASSERT_EQ(table.query(0x4020'0000)->level, 2u);
  sink.clear();

  ASSERT_EQ(code(table.promote(0x4000'0000, 1, sink)), "ok");

  const std::vector<Event> expected = {now(0x4000'0000, k1G, 1, kTbl, l2_table)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  std::vector<Retired> retired = {{l2_table, 1}, {l3_table, 1}};
  std::sort(retired.begin(), retired.end());
  EXPECT_EQ(sink.retired_sorted(), retired);
  EXPECT_EQ(entry_at(memory, table.root(), 1), Descriptor{0x0060'0008'0000'0701});
}

TEST_F(PromoteVectors, ExecutablePagesPromoteWithoutGainingExecute) {
  // Same translations before and after: no I-cache maintenance is due.
  arch::s1::Attributes text;
  text.access = arch::s1::Access::el1_ro;
  text.el1_execute = arch::Execute::allowed;
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, text, sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");
  sink.clear();
  ASSERT_EQ(code(table.promote(0x20'0000, 2, sink)), "ok");
  ASSERT_EQ(sink.events().size(), 1u) << sink.dump();
  EXPECT_EQ(sink.events()[0].change.exec, kNo) << sink.dump();
}

TEST_F(PromoteVectors, NonUniformAttributesAreInvalidArgument) {
  map_uniform_pages();
  ASSERT_EQ(code(table.protect(0x20'3000, k4K, make_read_only_s1(), sink)), "ok");
  sink.clear();
  expect_refused(0x20'0000, 2, "invalid_argument");
}

TEST_F(PromoteVectors, DifferentAccessFlagIsNonUniformAndInvalidArgument) {
  map_uniform_pages();
  // AF clear on the last page (0x400).
  ASSERT_EQ(code(table.protect(0x3f'f000, k4K, pt::AttributeChange{0x400, 0}, sink)), "ok");
  sink.clear();
  expect_refused(0x20'0000, 2, "invalid_argument");
}

TEST_F(PromoteVectors, NonContiguousOutputIsInvalidArgument) {
  // First 1 MiB -> 0x8_0020_0000, second 1 MiB -> 0x8_0050_0000 (should be
  // 0x8_0030_0000 for a block).
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, 0x10'0000, kernel_data(), sink)), "ok");
  ASSERT_EQ(code(table.map(0x30'0000, 0x8'0050'0000, 0x10'0000, kernel_data(), sink)), "ok");
  sink.clear();
  expect_refused(0x20'0000, 2, "invalid_argument");
}

TEST_F(PromoteVectors, HoleIsInvalidArgument) {
  // 511 pages: the last one (0x3f_f000) missing.
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M - k4K, kernel_data(), sink)), "ok");
  sink.clear();
  expect_refused(0x20'0000, 2, "invalid_argument");
}

TEST_F(PromoteVectors, HoleAtTheFirstPageIsInvalidArgument) {
  ASSERT_EQ(code(table.map(0x20'1000, 0x8'0020'1000, k2M - k4K, kernel_data(), sink)), "ok");
  sink.clear();
  expect_refused(0x20'0000, 2, "invalid_argument");
}

TEST_F(PromoteVectors, OutputNotAlignedToTheBlockIsInvalidArgument) {
  // Contiguous and uniform, but starting at PA 0x8_0000_1000.
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0000'1000, k2M, kernel_data(), sink)), "ok");
  sink.clear();
  expect_refused(0x20'0000, 2, "invalid_argument");
}

TEST_F(PromoteVectors, Level3IsUnsupported) {
  map_uniform_pages();
  expect_refused(0x20'0000, 3, "unsupported");
}

TEST_F(PromoteVectors, LevelZeroIsUnsupported) {
  // No block at level 0 with 4 KiB tables (and a 39-bit tree has no level 0).
  map_uniform_pages();
  expect_refused(0x20'0000, 0, "unsupported");
}

TEST_F(PromoteVectors, EmptySlotIsNotMapped) {
  map_uniform_pages();
  // L2 slot 2 (0x40_0000) is invalid; root[1] (0x4000_0000) too.
  expect_refused(0x40'0000, 2, "not_mapped");
  expect_refused(0x4000'0000, 1, "not_mapped");
  // No level-2 table at all under root[1].
  expect_refused(0x4000'0000, 2, "not_mapped");
}

TEST_F(PromoteVectors, SlotHoldingABlockIsNotMapped) {
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink)), "ok");
  sink.clear();
  expect_refused(0x20'0000, 2, "not_mapped");
}

TEST_F(PromoteVectors, AddressOutsideTheInputSpaceIsOutOfRange) {
  map_uniform_pages();
  expect_refused(0x80'0000'0000, 2, "out_of_range");  // 2^39
}

TEST(PromoteVectorsSmallSpace, LevelAboveTheStartLevelIsUnsupported) {
  // 25-bit VA: the walk starts at level 2 (16 root entries); there is no
  // level-1 slot to promote.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(25), memory);
  ASSERT_EQ(code(table.map(0x0, 0x8'0000'0000, k2M, kernel_data(), sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");
  sink.clear();
  EXPECT_EQ(code(table.promote(0x0, 1, sink)), "unsupported");
  EXPECT_TRUE(sink.events().empty());
  // Level 2 is the root level and works.
  ASSERT_EQ(code(table.promote(0x0, 2, sink)), "ok");
  EXPECT_EQ(entry_at(memory, table.root(), 0), Descriptor{0x0060'0008'0000'0701});
}

// ======================================================= stage 2, concatenated

TEST(PromoteVectorsStage2, PromotionInsideTheSecondConcatenatedRootTable) {
  // 40-bit IPA at level 1 (2 root pages). IPA 0x80_4020_0000: root page 2
  // entry 1, L2 entry 1. Pages -> PA 0x1_0000_0000, then one block:
  // 0x0040'0000'0000'07fc | 0x1_0000_0000 | 0b01.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::stage2, geometry_s2(40, 1), memory);
  sink.attach(table);
  ASSERT_EQ(code(table.map(0x80'4020'0000, 0x1'0000'0000, k2M, arch::s2::Attributes{}, sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");
  const PhysAddr l2 = table_of(entry_at(memory, table.root() + 0x1000, 1));
  const PhysAddr l3 = table_of(entry_at(memory, l2, 1));
  EXPECT_EQ(entry_at(memory, l3, 7), Descriptor{0x0040'0001'0000'77ff});  // page 7
  sink.clear();

  ASSERT_EQ(code(table.promote(0x80'4020'0000, 2, sink)), "ok");

  const std::vector<Event> expected = {now(0x80'4020'0000, k2M, 2, kTbl, l3)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  const std::vector<Retired> retired = {{l3, 1}};
  EXPECT_EQ(sink.retired(), retired);
  EXPECT_EQ(entry_at(memory, l2, 1), Descriptor{0x0040'0001'0000'07fd});
  EXPECT_EQ(table.query(0x80'4020'7000)->output, 0x1'0000'7000u);
}

TEST(ReleaseVectorsStage2, ReleaseRetiresTheConcatenatedRootWithItsPageCount) {
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::stage2, geometry_s2(40, 1), memory);
  const PhysAddr root = table.root();
  ASSERT_EQ(code(table.map(0x80'4020'0000, 0x1'0000'0000, k2M, arch::s2::Attributes{}, sink)), "ok");
  const PhysAddr l2 = table_of(entry_at(memory, root + 0x1000, 1));
  sink.clear();
  table.release(sink);
  std::vector<Retired> retired = {{root, 2}, {l2, 1}};
  std::sort(retired.begin(), retired.end());
  EXPECT_EQ(sink.retired_sorted(), retired) << sink.dump();
  EXPECT_EQ(memory.frees(), 0u);
  // The only root entry in use is unhooked as a whole (output = its L2 table).
  const std::vector<Event> records = {rec(0x80'4000'0000, k1G, 1, kTbl, ChangeKind::unmap, l2)};
  EXPECT_EQ(sink.events(), records) << sink.dump();
}

}  // namespace
}  // namespace tlbkit::vectors
