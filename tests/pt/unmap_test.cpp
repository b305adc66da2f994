// Hand-derived vectors for pt::Table::unmap: splits at the edges with
// break-before-make, exact change records, and table retirement (unhook,
// report, retire through the sink; the engine frees nothing itself).
//
// 39-bit stage 1 (walk starts at level 1). Kernel data attributes
// 0x0060'0000'0000'0700; page = OA | attrs | 0b11, block = OA | attrs | 0b01.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "pt/vector_support.hpp"

namespace tlbkit::vectors {
namespace {

constexpr auto kLeaf = EntryKind::leaf;
constexpr auto kTbl = EntryKind::table;
constexpr auto kNo = ExecGain::no;

Event rec(VirtAddr va, std::uint64_t size, unsigned level, EntryKind entry, ChangeKind kind, PhysAddr out) {
  return Event{Via::record, change(va, size, level, entry, kind, kNo, out)};
}
// The unmap of table entries whose tables this operation emptied entry by
// entry, every valid entry with its own record: only walk entries are owed.
Event emptied(VirtAddr va, std::uint64_t size, unsigned level) {
  Event e = rec(va, size, level, EntryKind::table, ChangeKind::unmap, kAnyTable);
  e.change.beneath = pt::Beneath::reported;
  return e;
}
Event now(VirtAddr va, std::uint64_t size, unsigned level, EntryKind entry, ChangeKind kind, PhysAddr out) {
  return Event{Via::invalidate_now, change(va, size, level, entry, kind, kNo, out)};
}

class UnmapVectors : public ::testing::Test {
 protected:
  FakeMemory memory;
  Recorder sink{&memory};
  pt::Table table = make_table(Regime::el1_stage1, geometry_s1(39), memory);

  void SetUp() override { sink.attach(table); }
  void TearDown() override { EXPECT_TRUE(memory.problems().empty()) << memory.problems().front(); }
};

TEST_F(UnmapVectors, MiddlePageOfA2MibBlockSplitsTheBlockAndLeaves511Pages) {
  // Block: VA 0x20_0000 -> PA 0x8_0020_0000 (L1 slot 0 -> L2 slot 1).
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink)), "ok");
  ASSERT_EQ(table.query(0x20'0000)->level, 2u);
  sink.clear();
  const std::uint64_t allocations = memory.allocations();

  // Hole at 0x30_0000 = block + 0x10_0000 (page 256 of 512).
  ASSERT_EQ(code(table.unmap(0x30'0000, k4K, sink)), "ok");

  // One break of the level-2 block, invalidated while the slot read invalid.
  const std::vector<Event> breaks = {now(0x20'0000, k2M, 2, kLeaf, ChangeKind::replace, 0x8'0020'0000)};
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks) << sink.dump();
  ASSERT_EQ(sink.breaks().size(), 1u);
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  EXPECT_TRUE(sink.breaks()[0].last_unmapped);
  // The new table was built privately with the hole already in it: map
  // records for the 511 new pages on both sides of the hole, nothing for
  // the hole (its translation went with the block's invalidation).
  const std::vector<Event> records = {
      rec(0x20'0000, 0x10'0000, 3, kLeaf, ChangeKind::map, 0x8'0020'0000),
      rec(0x30'1000, 0xf'f000, 3, kLeaf, ChangeKind::map, 0x8'0030'1000),
  };
  EXPECT_EQ(normalized(sink.only(Via::record)), records) << sink.dump();
  EXPECT_EQ(sink.events().size(), 3u) << sink.dump();
  EXPECT_TRUE(sink.retired().empty());
  EXPECT_EQ(memory.allocations(), allocations + 1);  // the new level-3 table

  // Both sides of the hole, exactly.
  const auto before = table.query(0x2f'f000);
  ASSERT_EQ(code(before), "ok");
  EXPECT_EQ(before->level, 3u);
  EXPECT_EQ(before->output, 0x8'002f'f000u);
  EXPECT_EQ(before->descriptor, Descriptor{0x0060'0008'002f'f703});
  EXPECT_EQ(code(table.query(0x30'0000)), "not_mapped");
  const auto after = table.query(0x30'1000);
  ASSERT_EQ(code(after), "ok");
  EXPECT_EQ(after->level, 3u);
  EXPECT_EQ(after->output, 0x8'0030'1000u);
  EXPECT_EQ(after->descriptor, Descriptor{0x0060'0008'0030'1703});
  // First and last pages of the old block are unchanged translations.
  EXPECT_EQ(table.query(0x20'0000)->output, 0x8'0020'0000u);
  EXPECT_EQ(table.query(0x3f'f000)->output, 0x8'003f'f000u);

  const LeafCounter n = count_leaves(table, 0x20'0000, k2M);
  EXPECT_EQ(n.leaves[2], 0u);
  EXPECT_EQ(n.leaves[3], 511u);
}

TEST_F(UnmapVectors, RangeEndingInsideAGibBlockSplitsItIntoLevel2BlocksOnly) {
  // 1 GiB block at 0x4000_0000 -> 0x8_0000_0000; unmap [0x7fe0_0000,
  // 0x8020_0000): the block's last 2 MiB plus 2 MiB of nothing. The cut is
  // 2 MiB aligned, so one level-2 table is enough.
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink)), "ok");
  sink.clear();
  const std::uint64_t allocations = memory.allocations();

  ASSERT_EQ(code(table.unmap(0x7fe0'0000, 0x40'0000, sink)), "ok");

  const std::vector<Event> breaks = {now(0x4000'0000, k1G, 1, kLeaf, ChangeKind::replace, 0x8'0000'0000)};
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks) << sink.dump();
  EXPECT_TRUE(sink.breaks()[0].first_unmapped);
  EXPECT_TRUE(sink.breaks()[0].last_unmapped);
  // The new level-2 table is built without its last block (VA 0x7fe0_0000):
  // map records for blocks 0..510 only.
  const std::vector<Event> records = {
      rec(0x4000'0000, k1G - k2M, 2, kLeaf, ChangeKind::map, 0x8'0000'0000),
  };
  EXPECT_EQ(normalized(sink.only(Via::record)), records) << sink.dump();
  EXPECT_EQ(memory.allocations(), allocations + 1);

  const auto below = table.query(0x7fdf'f000);
  ASSERT_EQ(code(below), "ok");
  EXPECT_EQ(below->level, 2u);
  EXPECT_EQ(below->output, 0x8'3fdf'f000u);
  EXPECT_EQ(below->descriptor, Descriptor{0x0060'0008'3fc0'0701});  // block at 0x7fc0_0000
  EXPECT_EQ(code(table.query(0x7fe0'0000)), "not_mapped");
  EXPECT_EQ(code(table.query(0x7fff'f000)), "not_mapped");
}

TEST_F(UnmapVectors, RangeInsideAGibBlockWithPageEdgesBreaksOnlyTheGibBlock) {
  // 1 GiB block 0x4000_0000 -> 0x8_0000_0000; unmap [0x4000_1000,
  // 0x7fff_f000): everything but the first and the last page. The result
  // needs one level-2 table and two level-3 tables (one per edge). Only the
  // live level-1 block needs break-before-make: everything below it is new.
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink)), "ok");
  sink.clear();
  const std::uint64_t allocations = memory.allocations();

  ASSERT_EQ(code(table.unmap(0x4000'1000, k1G - 0x2000, sink)), "ok");

  EXPECT_EQ(memory.allocations(), allocations + 3);
  const std::vector<Event> breaks = {now(0x4000'0000, k1G, 1, kLeaf, ChangeKind::replace, 0x8'0000'0000)};
  EXPECT_EQ(sink.only(Via::invalidate_now), breaks)
      << sink.count(Via::invalidate_now) << " synchronous invalidations";
  for (const Event& e : sink.only(Via::record)) {
    EXPECT_TRUE(e.change.kind == ChangeKind::map || e.change.kind == ChangeKind::unmap) << e;
  }

  const auto first = table.query(0x4000'0000);
  ASSERT_EQ(code(first), "ok");
  EXPECT_EQ(first->level, 3u);
  EXPECT_EQ(first->descriptor, Descriptor{0x0060'0008'0000'0703});
  const auto last = table.query(0x7fff'f000);
  ASSERT_EQ(code(last), "ok");
  EXPECT_EQ(last->level, 3u);
  EXPECT_EQ(last->descriptor, Descriptor{0x0060'0008'3fff'f703});
  EXPECT_EQ(code(table.query(0x4000'1000)), "not_mapped");
  EXPECT_EQ(code(table.query(0x5000'0000)), "not_mapped");
  EXPECT_EQ(code(table.query(0x7fff'e000)), "not_mapped");
  const LeafCounter n = count_leaves(table, 0x4000'0000, k1G);
  EXPECT_EQ(n.leaves[1], 0u);
  EXPECT_EQ(n.leaves[2], 0u);
  EXPECT_EQ(n.leaves[3], 2u);
}

TEST_F(UnmapVectors, WholeBlockIsClearedWithoutSplittingAndItsEmptyTableRetired) {
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, k2M, kernel_data(), sink)), "ok");
  const PhysAddr l2 = table_of(entry_at(memory, table.root(), 0));
  sink.clear();
  const std::uint64_t allocations = memory.allocations();

  ASSERT_EQ(code(table.unmap(0x20'0000, k2M, sink)), "ok");

  // The block goes; the level-2 table it lived in is now empty, so the root
  // entry is unhooked (an unmap of a table entry) and the table retired.
  // The block has its own record: the root entry's says it owes only its
  // walk entry.
  EXPECT_EQ(sink.count(Via::invalidate_now), 0u);
  const std::vector<Event> records = {
      emptied(0x0, k1G, 1),
      rec(0x20'0000, k2M, 2, kLeaf, ChangeKind::unmap, 0x8'0020'0000),
  };
  EXPECT_EQ(normalized(sink.events()), records) << sink.dump();
  const std::vector<Retired> retired = {{l2, 1}};
  EXPECT_EQ(sink.retired(), retired);
  EXPECT_EQ(memory.allocations(), allocations);
  EXPECT_EQ(memory.frees(), 0u);
  EXPECT_TRUE(memory.is_live_page(l2));  // the caller frees it after the TLBI
  EXPECT_EQ(entry_at(memory, table.root(), 0), 0u);
}

TEST_F(UnmapVectors, OnlyPageOfATreeRetiresBothTablesLeftEmpty) {
  ASSERT_EQ(code(table.map(0x1000, 0x8'0000'0000, k4K, kernel_data(), sink)), "ok");
  const PhysAddr l2 = table_of(entry_at(memory, table.root(), 0));
  const PhysAddr l3 = table_of(entry_at(memory, l2, 0));
  sink.clear();

  ASSERT_EQ(code(table.unmap(0x1000, k4K, sink)), "ok");

  // Both tables were emptied entry by entry (the page, then the level-3
  // table's entry): both table records owe only their walk entries.
  const std::vector<Event> records = {
      emptied(0x0, k1G, 1),
      emptied(0x0, k2M, 2),
      rec(0x1000, k4K, 3, kLeaf, ChangeKind::unmap, 0x8'0000'0000),
  };
  EXPECT_EQ(normalized(sink.events()), records) << sink.dump();
  std::vector<Retired> retired = {{l2, 1}, {l3, 1}};
  std::sort(retired.begin(), retired.end());
  EXPECT_EQ(sink.retired_sorted(), retired) << sink.dump();
  EXPECT_EQ(memory.frees(), 0u);
  EXPECT_EQ(entry_at(memory, table.root(), 0), 0u);
}

TEST_F(UnmapVectors, EverythingRetiresEveryTableButTheRootAndFreesNone) {
  // Page 0x1f_f000 (L2 slot 0 -> L3 table A), block 0x20_0000 (L2 slot 1),
  // page 0x40_0000 (L2 slot 2 -> L3 table B); all under root[0] -> L2 table.
  ASSERT_EQ(code(table.map(0x1f'f000, 0x8'001f'f000, 0x20'2000, kernel_data(), sink)), "ok");
  const PhysAddr l2 = table_of(entry_at(memory, table.root(), 0));
  const PhysAddr l3a = table_of(entry_at(memory, l2, 0));
  const PhysAddr l3b = table_of(entry_at(memory, l2, 2));
  ASSERT_EQ(memory.live_pages(), (std::set<PhysAddr>{table.root(), l2, l3a, l3b}));
  sink.clear();

  // All 512 GiB of the input space.
  ASSERT_EQ(code(table.unmap(0x0, 0x80'0000'0000, sink)), "ok");

  // root[0] covers the whole range: unhooking it removes every translation
  // below it, so one unmap of that table entry (output = the level-2 table,
  // beneath unseen: nothing below was reported) is the complete record. (The engine may also report the entries below;
  // this test states the minimum: nothing else but unmaps, nothing now.)
  EXPECT_EQ(sink.count(Via::invalidate_now), 0u);
  const std::vector<Event> records = {rec(0x0, k1G, 1, kTbl, ChangeKind::unmap, l2)};
  EXPECT_EQ(sink.events(), records) << sink.dump();

  std::vector<Retired> retired = {{l2, 1}, {l3a, 1}, {l3b, 1}};
  std::sort(retired.begin(), retired.end());
  EXPECT_EQ(sink.retired_sorted(), retired) << sink.dump();
  // Unhook before retire: each table was retired only after a table-entry
  // unmap covering every address it translates had been reported.
  struct Span {
    PhysAddr table;
    VirtAddr va;
    std::uint64_t size;
  };
  const Span spans[] = {{l2, 0x0, k1G}, {l3a, 0x0, k2M}, {l3b, 0x40'0000, k2M}};
  for (std::size_t i = 0; i < sink.retired().size(); ++i) {
    bool unhooked_first = false;
    for (const Span& span : spans) {
      if (span.table != sink.retired()[i].table) continue;
      for (std::size_t e = 0; e < sink.retire_positions()[i]; ++e) {
        const Change& c = sink.events()[e].change;
        if (c.entry == kTbl && c.kind == ChangeKind::unmap && c.va <= span.va &&
            span.va + span.size <= c.va + c.size) {
          unhooked_first = true;
        }
      }
    }
    EXPECT_TRUE(unhooked_first) << "table " << sink.retired()[i] << " retired before its unhook";
  }

  // Nothing freed by the engine; every retired table is still there for the
  // caller to free after the maintenance. The root stays, empty.
  EXPECT_EQ(memory.frees(), 0u);
  EXPECT_FALSE(sink.freed_before_retire());
  EXPECT_EQ(memory.live_pages(), (std::set<PhysAddr>{table.root(), l2, l3a, l3b}));
  for (unsigned i = 0; i < 512; ++i) ASSERT_EQ(entry_at(memory, table.root(), i), 0u) << i;
  EXPECT_EQ(code(table.query(0x20'0000)), "not_mapped");
  EXPECT_EQ(code(table.query(0x1f'f000)), "not_mapped");
}

TEST_F(UnmapVectors, CoveredLevel3TableIsUnhookedAsOneTableEntry) {
  // 4 MiB of pages 0x20_0000..0x60_0000 -> 0x8_0020_0000 (two L3 tables, in
  // L2 slots 1 and 2). Unmap [0x20_0000, 0x40_1000): all of slot 1's table
  // and the first page of slot 2's.
  ASSERT_EQ(code(table.map(0x20'0000, 0x8'0020'0000, 0x40'0000, kernel_data(), sink,
                           pt::MapOptions{pt::BlockMappings::forbidden})),
            "ok");
  const PhysAddr l2 = table_of(entry_at(memory, table.root(), 0));
  const PhysAddr l3a = table_of(entry_at(memory, l2, 1));
  sink.clear();

  ASSERT_EQ(code(table.unmap(0x20'0000, k2M + k4K, sink)), "ok");

  // Slot 1's table entry goes (it covers every page below it; output = the
  // table); slot 2 loses one page. Only the emptied table is retired.
  EXPECT_EQ(sink.count(Via::invalidate_now), 0u);
  const std::vector<Event> records = {
      rec(0x20'0000, k2M, 2, kTbl, ChangeKind::unmap, l3a),
      rec(0x40'0000, k4K, 3, kLeaf, ChangeKind::unmap, 0x8'0040'0000),
  };
  EXPECT_EQ(sorted(sink.events()), records) << sink.dump();
  const std::vector<Retired> retired = {{l3a, 1}};
  EXPECT_EQ(sink.retired(), retired) << sink.dump();
  EXPECT_EQ(entry_at(memory, l2, 1), 0u);
  EXPECT_EQ(code(table.query(0x3f'f000)), "not_mapped");
  EXPECT_EQ(code(table.query(0x40'0000)), "not_mapped");
  EXPECT_EQ(table.query(0x40'1000)->output, 0x8'0040'1000u);
}

TEST_F(UnmapVectors, ReleaseUnhooksEveryRootEntryAndRetiresTheRootLast) {
  // A 1 GiB block in root[1] and a page under root[0].
  ASSERT_EQ(code(table.map(0x4000'0000, 0x8'0000'0000, k1G, kernel_data(), sink)), "ok");
  ASSERT_EQ(code(table.map(0x1000, 0x9'0000'0000, k4K, kernel_data(), sink)), "ok");
  const PhysAddr root = table.root();
  const PhysAddr l2 = table_of(entry_at(memory, root, 0));
  const PhysAddr l3 = table_of(entry_at(memory, l2, 0));
  sink.clear();

  table.release(sink);

  // root[1] (the block) and root[0] (a table: output = the L2 table).
  const std::vector<Event> records = {
      rec(0x4000'0000, k1G, 1, kLeaf, ChangeKind::unmap, 0x8'0000'0000),
      rec(0x0, k1G, 1, kTbl, ChangeKind::unmap, l2),
  };
  EXPECT_EQ(sorted(sink.events()), records) << sink.dump();
  ASSERT_EQ(sink.retired().size(), 3u) << sink.dump();
  const Retired root_retired{root, 1};
  EXPECT_EQ(sink.retired().back(), root_retired);  // the root last
  std::vector<Retired> all = {{root, 1}, {l2, 1}, {l3, 1}};
  std::sort(all.begin(), all.end());
  EXPECT_EQ(sink.retired_sorted(), all);
  EXPECT_EQ(memory.frees(), 0u);
}

TEST_F(UnmapVectors, OnePageOfATableWithOthersLeftKeepsTheTable) {
  ASSERT_EQ(code(table.map(0x1000, 0x8'0000'1000, 0x2000, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.unmap(0x1000, k4K, sink)), "ok");
  const std::vector<Event> expected = {rec(0x1000, k4K, 3, kLeaf, ChangeKind::unmap, 0x8'0000'1000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
  EXPECT_TRUE(sink.retired().empty());
  EXPECT_EQ(table.query(0x2000)->output, 0x8'0000'2000u);
}

TEST_F(UnmapVectors, AdjacentPagesAreReportedAsOneRun) {
  // 16 pages 0x10_0000..0x11_0000 -> 0x8_0010_0000; unmap the middle 8.
  ASSERT_EQ(code(table.map(0x10'0000, 0x8'0010'0000, 0x1'0000, kernel_data(), sink)), "ok");
  sink.clear();
  ASSERT_EQ(code(table.unmap(0x10'4000, 0x8000, sink)), "ok");
  const std::vector<Event> expected = {rec(0x10'4000, 0x8000, 3, kLeaf, ChangeKind::unmap, 0x8'0010'4000)};
  EXPECT_EQ(sink.events(), expected) << sink.dump();
}

TEST_F(UnmapVectors, HoleIsSkippedWithoutAnyRecord) {
  ASSERT_EQ(code(table.unmap(0x4000'0000, k1G, sink)), "ok");
  EXPECT_TRUE(sink.events().empty());
  EXPECT_TRUE(sink.retired().empty());
  EXPECT_EQ(memory.allocations(), 1u);
}

}  // namespace
}  // namespace tlbkit::vectors
