// Allocation failure at every point of an operation: for k = 0, 1, ... the
// (k+1)-th table allocation of the operation fails, until the operation needs
// no more than k. Each failed attempt must return no_memory, leave the tree
// bit-identical, emit no record, retire nothing and leak no page (the live
// page set of the fake memory is exactly what it was); the same operation
// then succeeds on the same tree once memory is available again, with every
// rule of the harness checked.
#include <gtest/gtest.h>

#include <cstring>

#include "pt/pt_harness.hpp"

namespace tlbkit::test {
namespace {

using arch::Regime;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t k2M = std::uint64_t{1} << 21;
constexpr std::uint64_t k1G = std::uint64_t{1} << 30;
constexpr std::uint64_t k512G = std::uint64_t{512} << 30;

const arch::s1::Attributes kS1{};
const arch::s2::Attributes kS2{};

struct Scenario {
  TreeConfig tree;
  std::vector<Op> setup;  // run with unlimited memory
  Op op;                  // run with failures injected
  std::uint64_t allocations = 0;  // table allocations the operation needs
};

// Runs the scenario for every failure point; returns the allocations the
// operation needed.
void run(const Scenario& s) {
  std::uint64_t needed = 0;
  for (std::uint64_t k = 0;; ++k) {
    ASSERT_LT(k, 64u) << "the operation never succeeded";
    SCOPED_TRACE("failure injected at allocation #" + std::to_string(k) + " of " + describe(s.op));
    Harness h(s.tree);
    for (const Op& op : s.setup) {
      const std::vector<std::string> problems = h.apply(op);
      ASSERT_TRUE(problems.empty()) << "setup" << join(problems);
    }
    const std::uint64_t allocations_before = h.memory().allocations();
    h.memory().fail_after(k);
    bool failed = false;
    const std::vector<std::string> problems = h.apply(s.op, &failed);
    EXPECT_TRUE(problems.empty()) << join(problems);
    if (!failed) {
      needed = h.memory().allocations() - allocations_before;
      EXPECT_EQ(needed, k) << "succeeded although allocation #" << k << " failed";
      break;
    }
    EXPECT_GE(h.memory().failed_allocations(), 1u) << "no_memory without a failed allocation";
    // Memory is back: the same operation on the same tree succeeds.
    h.memory().never_fail();
    const std::vector<std::string> retry = h.apply(s.op);
    EXPECT_TRUE(retry.empty()) << "retry" << join(retry);
    EXPECT_EQ(h.memory().allocations() - allocations_before, k + s.allocations)
        << "the retry needed a different number of tables";
    const std::vector<std::string> release = h.release_all();
    EXPECT_TRUE(release.empty()) << "release" << join(release);
  }
  EXPECT_EQ(needed, s.allocations) << "the scenario does not allocate what it is meant to";
}

TreeConfig va48() { return stage1_tree(Regime::el1_stage1, 48); }
TreeConfig va39() { return stage1_tree(Regime::el1_stage1, 39); }

constexpr VirtAddr kBase = std::uint64_t{0x40} << 30;  // 256 GiB: level-0 entry 0
constexpr PhysAddr kPa = std::uint64_t{0x10} << 30;

Descriptor read_only_change_clear(Regime regime) {
  return regime == Regime::stage2 ? arch::s2::kS2apMask : arch::s1::kApMask;
}

TEST(AllocationFailure, MapOfPagesIntoAnEmptyStage1Va48TreeRollsBackAtEveryLevel) {
  run({va48(), {}, Op::map(kBase + kPage, kPa + kPage, 16 * kPage, kS1, pt::BlockMappings::forbidden), 3});
}

TEST(AllocationFailure, MapOfPagesBlocksAndAGigabyteBlockRollsBackEveryTable) {
  // page | 2 MiB block | 1 GiB block | 2 MiB block | page: one level-1 table,
  // two level-2 tables and two level-3 tables.
  const VirtAddr va = kBase + k1G - k2M - kPage;
  run({va48(), {}, Op::map(va, kPa + k1G - k2M - kPage, kPage + k2M + k1G + k2M + kPage, kS1), 5});
}

TEST(AllocationFailure, MapAcrossTwoLevel0EntriesRollsBackTheFirstHalfWhenTheSecondFails) {
  run({va48(), {}, Op::map(k512G - 2 * kPage, kPa, 4 * kPage, kS1), 6});
}

TEST(AllocationFailure, MapAcrossSeveralLevel3TablesRollsBackAllOfThem) {
  // Output not congruent to the input modulo 2 MiB: pages only, in five
  // level-3 tables.
  run({va48(), {}, Op::map(kBase + k2M - kPage, kPa + kPage, 3 * k2M + 2 * kPage, kS1), 7});
}

TEST(AllocationFailure, MapOfPagesIntoAnEmptyStage1Va39TreeRollsBack) {
  run({va39(), {}, Op::map(kBase + kPage, kPa + kPage, 16 * kPage, kS1), 2});
}

TEST(AllocationFailure, UnmapInsideAGigabyteBlockSplitsBothEdgesToPagesOrChangesNothing) {
  run({va48(), {Op::map(kBase, kPa, k1G, kS1)}, Op::unmap(kBase + kPage, k1G - 2 * kPage), 3});
}

TEST(AllocationFailure, ProtectInsideAGigabyteBlockSplitsBothEdgesToPagesOrChangesNothing) {
  run({va48(),
       {Op::map(kBase, kPa, k1G, kS1)},
       Op::protect(kBase + kPage, k1G - 2 * kPage, arch::s1::kApMask,
                   Descriptor{static_cast<unsigned>(arch::s1::Access::el1_ro)} << 6),
       3});
}

TEST(AllocationFailure, SplitAcrossTwoBlocksOfAGigabyteBlockToPagesOrChangesNothing) {
  run({va48(), {Op::map(kBase, kPa, k1G, kS1)}, Op::split(kBase + k2M - kPage, 2 * kPage, 3), 3});
}

TEST(AllocationFailure, UnmapInsideAGigabyteBlockOfAVa39TreeOrChangesNothing) {
  run({va39(), {Op::map(kBase, kPa, k1G, kS1)}, Op::unmap(kBase + kPage, k1G - 2 * kPage), 3});
}

TEST(AllocationFailure, Stage2MapAcrossTheConcatenatedRootBoundaryRollsBack) {
  // Root entries 511 and 512 live in different pages of the two-page root.
  run({stage2_tree(40, 1), {}, Op::map(k512G - kPage, kPa, 2 * kPage, kS2), 4});
}

TEST(AllocationFailure, Stage2UnmapInsideAGigabyteBlockSplitsBothEdgesOrChangesNothing) {
  run({stage2_tree(40, 1), {Op::map(kBase, kPa, k1G, kS2)}, Op::unmap(kBase + kPage, k1G - 2 * kPage), 3});
}

TEST(AllocationFailure, Stage2ProtectInsideA2MiBBlockOfAStartLevel2TreeOrChangesNothing) {
  run({stage2_tree_from_vtcr(32),
       {Op::map(k1G, kPa, 2 * k2M, kS2)},
       Op::protect(k1G + k2M - kPage, 2 * kPage, read_only_change_clear(Regime::stage2),
                   Descriptor{static_cast<unsigned>(arch::s2::Access::ro)} << 6),
       2});
}

TEST(AllocationFailure, CreateOfAConcatenatedStage2RootFailsCleanlyThenSucceeds) {
  for (const TreeConfig& tree : {stage2_tree(40, 1), stage2_tree_from_vtcr(32), va48()}) {
    SCOPED_TRACE(tree.name);
    FakeMemory memory;
    memory.fail_after(0);
    const Result<pt::Table> failed = pt::Table::create(tree.regime, tree.geometry, memory);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, Errc::no_memory);
    ASSERT_NE(failed.error().message, nullptr);
    EXPECT_GT(std::strlen(failed.error().message), 0u);
    EXPECT_EQ(memory.live_page_count(), 0u);
    memory.never_fail();
    const Result<pt::Table> created = pt::Table::create(tree.regime, tree.geometry, memory);
    ASSERT_TRUE(created.ok());
    EXPECT_EQ(memory.live_page_count(), tree.walk.root_pages());
    EXPECT_TRUE(memory.problems().empty()) << join(memory.problems());
  }
}

TEST(AllocationFailure, OperationsThatNeedNoTableSucceedWithNoMemoryAtAll) {
  // Unmapping whole blocks and pages, protecting whole leaves, promoting and
  // releasing never allocate.
  Harness h(va48());
  for (const Op& op : {Op::map(kBase, kPa, k1G, kS1), Op::map(kBase + k1G, kPa + k1G, k2M, kS1,
                                                              pt::BlockMappings::forbidden)}) {
    const std::vector<std::string> problems = h.apply(op);
    ASSERT_TRUE(problems.empty()) << join(problems);
  }
  h.memory().fail_after(0);
  for (const Op& op : {Op::protect(kBase, k1G, arch::s1::kApMask, Descriptor{2} << 6),
                       Op::promote(kBase + k1G, 2),
                       Op::unmap(kBase, k1G), Op::unmap(kBase + k1G, k2M)}) {
    const std::vector<std::string> problems = h.apply(op);
    EXPECT_TRUE(problems.empty()) << join(problems);
  }
  EXPECT_EQ(h.memory().failed_allocations(), 0u);
  const std::vector<std::string> release = h.release_all();
  EXPECT_TRUE(release.empty()) << join(release);
}

}  // namespace
}  // namespace tlbkit::test
