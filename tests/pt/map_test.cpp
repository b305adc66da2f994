// Hand-derived vectors for pt::Table::map (and query / walk of the result).
//
// Conventions (4 KiB granule): a level-1 entry maps 1 GiB (0x4000_0000), a
// level-2 entry 2 MiB (0x20_0000), a level-3 entry 4 KiB. Leaf descriptors:
//   block (levels 1, 2) = OA | attributes | 0b01
//   page  (level 3)     = OA | attributes | 0b11
// Kernel data attributes (s1::Attributes{}) = 0x0060'0000'0000'0700
// (PXN | UXN | AF | SH inner). With a 39-bit VA the walk starts at level 1,
// so VA[38:30] indexes the root directly.

#include <gtest/gtest.h>

#include "pt/vector_support.hpp"

namespace tlbkit::vectors {
namespace {

using arch::s1::Attributes;

constexpr auto kMap = ChangeKind::map;
constexpr auto kLeaf = EntryKind::leaf;
constexpr auto kTbl = EntryKind::table;
constexpr auto kNo = ExecGain::no;

Event rec(VirtAddr va, std::uint64_t size, unsigned level, EntryKind entry, PhysAddr out,
          ChangeKind kind = ChangeKind::map, ExecGain exec = ExecGain::no) {
  return Event{Via::record, change(va, size, level, entry, kind, exec, out)};
}

class MapVectors : public ::testing::Test {
 protected:
  FakeMemory memory;
  Recorder sink{&memory};
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(39), memory);

  void TearDown() override { EXPECT_TRUE(memory.problems().empty()) << memory.problems().front(); }
};

TEST_F(MapVectors, OneGibAlignedRangeWithBlocksAllowedIsOneLevel1Block) {
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink)), "ok");

  // Exactly one record: a map of one level-1 leaf.
  const std::vector<Event> expected = {rec(0x4000'0000, k1G, 1, kLeaf, 0x8'0000'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_TRUE(sink.retired().empty());
  EXPECT_EQ(memory.allocations(), 1u);  // the root only

  // Root index = VA[38:30] = 1. Block = 0x8'0000'0000 | 0x0060'0000'0000'0700 | 0b01.
  EXPECT_EQ(entry_at(memory, table.root(), 1), Descriptor{0x0060'0008'0000'0701});

  // query of VA 0x4000_0000 + 0x1234_5000: the block, output = pa + offset.
  const auto t = table.query(0x5234'5000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 1u);
  EXPECT_EQ(t->output, 0x8'1234'5000u);
  EXPECT_EQ(t->descriptor, Descriptor{0x0060'0008'0000'0701});
  EXPECT_EQ(t->leaf_va, 0x4000'0000u);
  EXPECT_EQ(t->leaf_size, k1G);
  // Last byte's page of the block: 0x7fff_f000 -> 0x8_3fff_f000.
  EXPECT_EQ(table.query(0x7fff'f000)->output, 0x8'3fff'f000u);

  // Neighbours stay unmapped.
  EXPECT_EQ(code(table.query(0x3fff'f000)), "not_mapped");
  EXPECT_EQ(code(table.query(0x8000'0000)), "not_mapped");
}

TEST_F(MapVectors, OneGibWithBlocksForbiddenIs512Level3TablesOfPages) {
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");

  // Tables: 1 level-2 table + 512 level-3 tables, plus the root.
  EXPECT_EQ(memory.allocations(), 514u);
  const LeafCounter n = count_leaves(table, 0x4000'0000, k1G);
  EXPECT_EQ(n.leaves[1], 0u);
  EXPECT_EQ(n.leaves[2], 0u);
  EXPECT_EQ(n.leaves[3], 262144u);  // 2^30 / 2^12
  EXPECT_EQ(n.tables[1], 1u);
  EXPECT_EQ(n.tables[2], 512u);

  // VA 0x5234_5000 = 0x4000_0000 + 0x1234_5000 -> page at 0x8_1234_5000.
  const auto t = table.query(0x5234'5000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 3u);
  EXPECT_EQ(t->output, 0x8'1234'5000u);
  EXPECT_EQ(t->descriptor, Descriptor{0x0060'0008'1234'5703});
  EXPECT_EQ(t->leaf_va, 0x5234'5000u);
  EXPECT_EQ(t->leaf_size, k4K);

  // Records: the level-1 table, the level-2 tables, the pages; nothing to
  // invalidate.
  EXPECT_EQ(sink.count(Via::invalidate_now), 0u);
  const std::vector<Event> expected = {
      rec(0x4000'0000, k1G, 1, kTbl, kAnyTable),
      rec(0x4000'0000, k1G, 2, kTbl, kAnyTable),
      rec(0x4000'0000, k1G, 3, kLeaf, 0x8'0000'0000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
}

TEST_F(MapVectors, TwoMibPlusEightKibAcrossAGibBoundaryIsPageBlockPage) {
  // [0x3fff_f000, 0x4020_1000): 4 KiB below the 1 GiB line, then the 2 MiB
  // block 0x4000_0000, then 4 KiB. pa - va = 0x1_0000_0000 (2 MiB aligned).
  ASSERT_EQ(code(table.map(0x3fff'f000, 0x1'3fff'f000, 0x20'2000, kernel_data(), sink)), "ok");

  // Tables: L2 under root[0], L3 under its slot 511; L2 under root[1], L3
  // under its slot 1. Plus the root: 5.
  EXPECT_EQ(memory.allocations(), 5u);
  const LeafCounter n = count_leaves(table, 0x3fe0'0000, 0x60'0000);
  EXPECT_EQ(n.leaves[1], 0u);
  EXPECT_EQ(n.leaves[2], 1u);
  EXPECT_EQ(n.leaves[3], 2u);

  const auto below = table.query(0x3fff'f000);
  ASSERT_EQ(code(below), "ok");
  EXPECT_EQ(below->level, 3u);
  EXPECT_EQ(below->output, 0x1'3fff'f000u);
  EXPECT_EQ(below->descriptor, Descriptor{0x0060'0001'3fff'f703});

  const auto block = table.query(0x401f'f000);
  ASSERT_EQ(code(block), "ok");
  EXPECT_EQ(block->level, 2u);
  EXPECT_EQ(block->output, 0x1'401f'f000u);
  EXPECT_EQ(block->descriptor, Descriptor{0x0060'0001'4000'0701});
  EXPECT_EQ(block->leaf_va, 0x4000'0000u);

  const auto above = table.query(0x4020'0000);
  ASSERT_EQ(code(above), "ok");
  EXPECT_EQ(above->level, 3u);
  EXPECT_EQ(above->output, 0x1'4020'0000u);

  EXPECT_EQ(code(table.query(0x3fff'e000)), "not_mapped");
  EXPECT_EQ(code(table.query(0x4020'1000)), "not_mapped");

  // Records (sorted, adjacent runs merged): both root entries (adjacent, one
  // run of 2 GiB), two level-2 tables, one block, two pages.
  EXPECT_EQ(sink.count(Via::invalidate_now), 0u);
  const std::vector<Event> expected = {
      rec(0x0, 0x8000'0000, 1, kTbl, kAnyTable),
      rec(0x4000'0000, k2M, 2, kLeaf, 0x1'4000'0000),
      rec(0x3fe0'0000, k2M, 2, kTbl, kAnyTable),
      rec(0x4020'0000, k2M, 2, kTbl, kAnyTable),
      rec(0x3fff'f000, k4K, 3, kLeaf, 0x1'3fff'f000),
      rec(0x4020'0000, k4K, 3, kLeaf, 0x1'4020'0000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
}

TEST_F(MapVectors, OutputOnlyPageAlignedFallsBackToPagesEvenWhereVaIsBlockAligned) {
  // va 1 GiB aligned, pa = 0x8_0000_1000 only 4 KiB aligned: no block fits.
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'1000, 0x40'0000, kernel_data(), sink)), "ok");
  const LeafCounter n = count_leaves(table, 0x4000'0000, 0x40'0000);
  EXPECT_EQ(n.leaves[1], 0u);
  EXPECT_EQ(n.leaves[2], 0u);
  EXPECT_EQ(n.leaves[3], 1024u);  // 4 MiB / 4 KiB
  EXPECT_EQ(memory.allocations(), 4u);  // root, one L2, two L3

  EXPECT_EQ(table.query(0x4000'0000)->output, 0x8'0000'1000u);
  // Last page: 0x403f_f000 -> 0x8_0000_1000 + 0x3f_f000 = 0x8_0040_0000.
  EXPECT_EQ(table.query(0x403f'f000)->output, 0x8'0040'0000u);
  EXPECT_EQ(table.query(0x403f'f000)->descriptor, Descriptor{0x0060'0008'0040'0703});

  const std::vector<Event> expected = {
      rec(0x4000'0000, k1G, 1, kTbl, kAnyTable),
      rec(0x4000'0000, 0x40'0000, 2, kTbl, kAnyTable),
      rec(0x4000'0000, 0x40'0000, 3, kLeaf, 0x8'0000'1000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
}

TEST_F(MapVectors, OutputTwoMibButNotGibAlignedGives512Level2BlocksNotALevel1Block) {
  // pa 0x8_0020_0000: 2 MiB aligned, not 1 GiB aligned.
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0020'0000, k1G, kernel_data(), sink)), "ok");
  const LeafCounter n = count_leaves(table, 0x4000'0000, k1G);
  EXPECT_EQ(n.leaves[1], 0u);
  EXPECT_EQ(n.leaves[2], 512u);
  EXPECT_EQ(n.leaves[3], 0u);
  EXPECT_EQ(memory.allocations(), 2u);  // root + one L2 table

  // 0x7fff_f000 -> 0x8_0020_0000 + 0x3fff_f000 = 0x8_401f_f000, in the block
  // at 0x7fe0_0000 whose OA is 0x8_0020_0000 + 0x3fe0_0000 = 0x8_4000_0000.
  const auto t = table.query(0x7fff'f000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 2u);
  EXPECT_EQ(t->output, 0x8'401f'f000u);
  EXPECT_EQ(t->descriptor, Descriptor{0x0060'0008'4000'0701});

  const std::vector<Event> expected = {
      rec(0x4000'0000, k1G, 1, kTbl, kAnyTable),
      rec(0x4000'0000, k1G, 2, kLeaf, 0x8'0020'0000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
}

TEST_F(MapVectors, VaNotBlockAlignedButPaIsFallsBackToPages) {
  // va 0x20_1000 (not 2 MiB aligned), pa 0x8_0020_0000 (2 MiB aligned):
  // pa - va is not 2 MiB aligned, so no 2 MiB of the range can be a block.
  ASSERT_EQ(code(table.map(0x20'1000, 0x8'0020'0000, k2M, kernel_data(), sink)), "ok");
  const LeafCounter n = count_leaves(table, 0x20'0000, 0x40'0000);
  EXPECT_EQ(n.leaves[2], 0u);
  EXPECT_EQ(n.leaves[3], 512u);
  // 0x40_0000 is 0x1f_f000 into the range: 0x8_0020_0000 + 0x1f_f000.
  EXPECT_EQ(table.query(0x40'0000)->output, 0x8'003f'f000u);
}

TEST_F(MapVectors, SecondMapNextToTheFirstReusesItsTables) {
  ASSERT_EQ(code(table.map(0x1000, 0x8'0000'0000, k4K, kernel_data(), sink)), "ok");
  EXPECT_EQ(memory.allocations(), 3u);  // root, L2, L3
  sink.clear();
  ASSERT_EQ(code(table.map(0x2000, 0x8'0000'5000, k4K, kernel_data(), sink)), "ok");
  EXPECT_EQ(memory.allocations(), 3u);
  const std::vector<Event> expected = {rec(0x2000, k4K, 3, kLeaf, 0x8'0000'5000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
}

TEST_F(MapVectors, ExecutableAttributesReportExecGainOnEveryNewLeaf) {
  Attributes text;
  text.access = arch::s1::Access::el1_ro;  // AP 10
  text.el1_execute = arch::Execute::allowed;
  // 0x0040'... (UXN) | 0x780 -> page 0x0040'0008'0000'0783
  ASSERT_EQ(code(table.map(0x1000, 0x8'0000'0000, k4K, text, sink)), "ok");
  const auto events = sink.only(Via::record);
  std::vector<Event> leaves;
  for (const Event& e : events) {
    if (e.change.entry == kLeaf) leaves.push_back(e);
  }
  const std::vector<Event> expected = {rec(0x1000, k4K, 3, kLeaf, 0x8'0000'0000, kMap, ExecGain::yes)};
  EXPECT_EQ(leaves, expected) << sink.dump();
  // The table entries themselves grant nothing.
  for (const Event& e : events) {
    if (e.change.entry == kTbl) {
      EXPECT_EQ(e.change.exec, kNo) << sink.dump();
    }
  }
  EXPECT_EQ(table.query(0x1000)->descriptor, Descriptor{0x0040'0008'0000'0783});
}

TEST_F(MapVectors, MapOverAnExistingPageIsOverlapAndChangesNothing) {
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0000'0000, k2M, kernel_data(), sink)), "ok");
  sink.clear();
  const std::uint64_t before = memory.contents_hash();
  const std::uint64_t allocations = memory.allocations();
  // Overlaps only the last page of the block.
  EXPECT_EQ(code(table.map(0x3f'f000, 0x9'0000'0000, 0x2000, kernel_data(), sink)), "overlap");
  EXPECT_TRUE(sink.events().empty());
  EXPECT_EQ(memory.contents_hash(), before);
  EXPECT_EQ(memory.allocations(), allocations);
}

TEST(MapVectors48Bit, LevelZeroNeverHoldsABlock) {
  // 48-bit VA: root at level 0, where 4 KiB tables allow no block. 512 GiB
  // at 0x80_0000_0000 (root index 1) becomes one L1 table of 512 1 GiB blocks.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(48), memory);
  ASSERT_EQ(code(table.map(0x80'0000'0000, 0x80'0000'0000, 0x80'0000'0000, kernel_data(), sink)), "ok");
  EXPECT_EQ(memory.allocations(), 2u);
  const LeafCounter n = count_leaves(table, 0x80'0000'0000, 0x80'0000'0000);
  EXPECT_EQ(n.leaves[1], 512u);
  EXPECT_EQ(n.tables[0], 1u);
  const std::vector<Event> expected = {
      rec(0x80'0000'0000, 0x80'0000'0000, 0, kTbl, kAnyTable),
      rec(0x80'0000'0000, 0x80'0000'0000, 1, kLeaf, 0x80'0000'0000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
  // Block at 0x80_4000_0000: 0x0060'0080'4000'0701.
  EXPECT_EQ(table.query(0x80'4000'0000)->descriptor, Descriptor{0x0060'0080'4000'0701});
}

TEST(MapVectorsEl2, El2BlockCarriesApRes1AndXn) {
  // EL2 defaults: XN | AF | SH inner | AP[1] RES1 = 0x0040'0000'0000'0740.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::el2_stage1, geometry_s1(48), memory);
  ASSERT_EQ(code(table.map(0x20'0000, 0x20'0000, k2M, arch::el2::Attributes{}, sink)), "ok");
  const auto t = table.query(0x20'0000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 2u);
  EXPECT_EQ(t->descriptor, Descriptor{0x0040'0000'0020'0741});
}

// ------------------------------------------------ stage 2, concatenated roots

TEST(MapVectorsStage2, IpaInTheSecondConcatenatedRootTableLandsInRootPageTwo) {
  // 40-bit IPA, start level 1: 1024 root entries in 2 pages. IPA
  // 0x80_4020_0000: IPA[39:30] = 513 -> page 2 (root + 0x1000), entry 1;
  // IPA[29:21] = 1 -> L2 entry 1.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::stage2, geometry_s2(40, 1), memory);
  EXPECT_EQ(memory.allocation_pages(table.root()), 2u);

  ASSERT_EQ(code(table.map(0x80'4020'0000, 0x1'0000'0000, k2M, arch::s2::Attributes{}, sink)), "ok");

  // The first root page's entry 1 (IPA 0x4000_0000) stays invalid.
  EXPECT_EQ(entry_at(memory, table.root(), 1), 0u);
  const Descriptor root_entry = entry_at(memory, table.root() + 0x1000, 1);
  const PhysAddr l2 = table_of(root_entry);
  // s2 defaults 0x0040'0000'0000'07fc | OA 0x1_0000_0000 | 0b01.
  EXPECT_EQ(entry_at(memory, l2, 1), Descriptor{0x0040'0001'0000'07fd});
  EXPECT_EQ(entry_at(memory, l2, 0), 0u);

  const auto t = table.query(0x80'4020'1000);
  ASSERT_EQ(code(t), "ok");
  EXPECT_EQ(t->level, 2u);
  EXPECT_EQ(t->output, 0x1'0000'1000u);
  EXPECT_EQ(code(table.query(0x4020'1000)), "not_mapped");  // same indices, first page

  const std::vector<Event> expected = {
      rec(0x80'4000'0000, k1G, 1, kTbl, kAnyTable),
      rec(0x80'4020'0000, k2M, 2, kLeaf, 0x1'0000'0000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
}

TEST(MapVectorsStage2, RangeCrossingFromTheFirstIntoTheSecondRootTable) {
  // 40-bit IPA at level 1: the first root page spans 512 GiB, so IPA
  // 0x80_0000_0000 is the first entry of the second page. Map 4 MiB
  // [0x7f_ffe0_0000, 0x80_0020_0000) -> 0x2_0000_0000 as two 2 MiB blocks:
  //   page 1 entry 511 -> L2 entry 511: 0x0040'0002'0000'07fd
  //   page 2 entry 0   -> L2 entry 0:   0x0040'0002'0020'07fd
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::stage2, geometry_s2(40, 1), memory);
  ASSERT_EQ(code(table.map(0x7f'ffe0'0000, 0x2'0000'0000, 0x40'0000, arch::s2::Attributes{}, sink)), "ok");

  const PhysAddr low = table_of(entry_at(memory, table.root(), 511));
  const PhysAddr high = table_of(entry_at(memory, table.root() + 0x1000, 0));
  EXPECT_EQ(entry_at(memory, low, 511), Descriptor{0x0040'0002'0000'07fd});
  EXPECT_EQ(entry_at(memory, high, 0), Descriptor{0x0040'0002'0020'07fd});
  EXPECT_EQ(table.query(0x80'0000'0000)->output, 0x2'0020'0000u);

  // Root entries 511 and 512 are adjacent (one 2 GiB run), so are the blocks.
  const std::vector<Event> expected = {
      rec(0x7f'c000'0000, 0x8000'0000, 1, kTbl, kAnyTable),
      rec(0x7f'ffe0'0000, 0x40'0000, 2, kLeaf, 0x2'0000'0000),
  };
  EXPECT_EQ(normalized(sink.events()), expected) << sink.dump();
}

TEST(MapVectorsStage2, SixteenConcatenatedLevel2RootsHoldBlocksDirectly) {
  // 34-bit IPA at level 2: 8192 root entries in 16 pages. IPA 0x3_ffe0_0000
  // >> 21 = 8191 -> page 15 (root + 0xf000), entry 511.
  FakeMemory memory;
  Recorder sink(&memory);
  pt::Table table = make_table(Regime::stage2, geometry_s2(34, 2), memory);
  EXPECT_EQ(memory.allocation_pages(table.root()), 16u);

  ASSERT_EQ(code(table.map(0x3'ffe0'0000, 0x2'0000'0000, k2M, arch::s2::Attributes{}, sink)), "ok");
  EXPECT_EQ(memory.allocations(), 1u);  // no table below the root
  EXPECT_EQ(entry_at(memory, table.root() + 0xf000, 511), Descriptor{0x0040'0002'0000'07fd});
  const std::vector<Event> expected = {rec(0x3'ffe0'0000, k2M, 2, kLeaf, 0x2'0000'0000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_EQ(table.query(0x3'ffff'f000)->output, 0x2'001f'f000u);
}

}  // namespace
}  // namespace tlbkit::vectors
