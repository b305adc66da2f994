// sim::walk, the simulated CPU's hardware walker: hand-derived walks over
// tables the engine built in simulated physical memory, faults of every kind,
// and a property that it agrees with pt::Table::query and the test-only
// reference walker (three independent readers of the same format).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tlbkit/sim/hw_walker.hpp"
#include "tlbkit/sim/physical_memory.hpp"
#include "support/fake_memory.hpp"
#include "support/recording_sink.hpp"
#include "support/reference_walker.hpp"
#include "tlbkit/arch/attributes.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::sim {
namespace {

using arch::Permission;
using arch::Regime;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t k2M = 0x20'0000;
constexpr std::uint64_t k1G = 0x4000'0000;

constexpr std::uint8_t bits(Permission p) { return static_cast<std::uint8_t>(p); }

arch::Geometry stage1_geometry(unsigned va_bits) {
  return arch::Geometry::stage1(arch::Granule::k4K, va_bits).value();
}

// Reads descriptors the way a PE does: the descriptor of `index` lives at
// table + index * 8 (an index past 511 reaches into the next page of a
// concatenated root). Pages that are not live cannot be read.
class MemoryReader final : public TableReader {
 public:
  explicit MemoryReader(const PhysicalMemory& memory) : memory_(memory) {}
  std::optional<Descriptor> read(PhysAddr table, unsigned index) override {
    const PhysAddr address = table + std::uint64_t{index} * sizeof(Descriptor);
    const Descriptor* words = memory_.peek(address & ~(kPage - 1));
    if (words == nullptr) return std::nullopt;
    return words[(address & (kPage - 1)) / sizeof(Descriptor)];
  }

 private:
  const PhysicalMemory& memory_;
};

// Can read nothing.
class FailingReader final : public TableReader {
 public:
  std::optional<Descriptor> read(PhysAddr, unsigned) override { return std::nullopt; }
};

// Reads through `inner` except the table at `refused`.
class RefusingReader final : public TableReader {
 public:
  RefusingReader(TableReader& inner, PhysAddr refused) : inner_(inner), refused_(refused) {}
  std::optional<Descriptor> read(PhysAddr table, unsigned index) override {
    if (table == refused_) return std::nullopt;
    return inner_.read(table, index);
  }

 private:
  TableReader& inner_;
  PhysAddr refused_;
};

// A tree the engine builds in simulated physical memory, and a reader of it.
class SimTree {
 public:
  SimTree(Regime regime, const arch::Geometry& geometry)
      : regime_(regime), table_(pt::Table::create(regime, geometry, memory_).value()) {}

  // Maps through the engine; the test fails if the engine refuses.
  void map(VirtAddr va, PhysAddr pa, std::uint64_t size, const pt::LeafAttributes& attributes) {
    const Status status = table_.map(va, pa, size, attributes, sink_);
    ASSERT_TRUE(status.ok()) << status.error().message;
  }
  // A walk of `input` from the root.
  Walk walk_root(VirtAddr input) { return walk_from(input, root_start()); }
  Walk walk_from(VirtAddr input, WalkStart start) {
    return sim::walk(regime_, table_.geometry(), input, start, reader_);
  }
  WalkStart root_start() const { return WalkStart{table_.geometry().start_level(), table_.root()}; }

  PhysicalMemory& memory() { return memory_; }
  MemoryReader& reader() { return reader_; }
  pt::Table& table() { return table_; }

 private:
  Regime regime_;
  PhysicalMemory memory_;
  test::RecordingSink sink_;
  pt::Table table_;
  MemoryReader reader_{memory_};
};

// Levels and indices of the steps a walk took, for comparison.
std::vector<std::pair<unsigned, unsigned>> levels_and_indices(const Walk& w) {
  std::vector<std::pair<unsigned, unsigned>> out;
  for (unsigned i = 0; i < w.step_count; ++i) out.emplace_back(w.steps[i].level, w.steps[i].index);
  return out;
}

// Every step after the first reads the table its predecessor points at.
void expect_chained(const Walk& w, PhysAddr first_table) {
  ASSERT_GE(w.step_count, 1u);
  EXPECT_EQ(w.steps[0].table, first_table);
  for (unsigned i = 1; i < w.step_count; ++i) {
    EXPECT_EQ(w.steps[i].table, w.steps[i - 1].descriptor & arch::kOutputAddressMask) << "step " << i;
  }
}

using Steps = std::vector<std::pair<unsigned, unsigned>>;

// --- translations -----------------------------------------------------------

TEST(HwWalker, PageIn48BitSpaceTakesFourStepsWithHandDerivedIndices) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  tree.map(0x4000'1000, 0x9'0000'3000, kPage, arch::s1::Attributes{});
  // VA 0x4000_1000: [47:39] = 0, [38:30] = 1, [29:21] = 0, [20:12] = 1.
  const Walk w = tree.walk_root(0x4000'1abc);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  EXPECT_EQ(levels_and_indices(w), (Steps{{0, 0}, {1, 1}, {2, 0}, {3, 1}}));
  expect_chained(w, tree.table().root());
  EXPECT_EQ(w.level, 3u);
  EXPECT_EQ(w.input, 0x4000'1000u);
  EXPECT_EQ(w.size, 4096u);
  EXPECT_EQ(w.output, 0x9'0000'3000u);
  EXPECT_EQ(w.leaf, w.steps[3].descriptor);
  EXPECT_EQ(w.leaf & 0x3, 0x3u) << "a page descriptor";
  EXPECT_EQ(w.leaf & arch::kOutputAddressMask, 0x9'0000'3000u);
}

TEST(HwWalker, TwoMiBBlockEndsTheWalkAtLevel2AfterThreeSteps) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  tree.map(0x8020'0000, 0x1'2340'0000, k2M, arch::s1::Attributes{});
  // VA 0x8023_4567: [47:39] = 0, [38:30] = 2, [29:21] = 1.
  const Walk w = tree.walk_root(0x8023'4567);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  EXPECT_EQ(levels_and_indices(w), (Steps{{0, 0}, {1, 2}, {2, 1}}));
  expect_chained(w, tree.table().root());
  EXPECT_EQ(w.level, 2u);
  EXPECT_EQ(w.size, 0x20'0000u);
  EXPECT_EQ(w.input, 0x8020'0000u);
  EXPECT_EQ(w.output, 0x1'2340'0000u);
  EXPECT_EQ(w.leaf & 0x3, 0x1u) << "a block descriptor";
}

TEST(HwWalker, ThirtyNineBitSpaceStartsAtLevel1) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(39));
  ASSERT_EQ(tree.root_start().level, 1u);
  tree.map(0x7f'c000'5000, 0x4'0000'0000, kPage, arch::s1::Attributes{});
  // VA 0x7f_c000_5000: [38:30] = 511, [29:21] = 0, [20:12] = 5.
  const Walk w = tree.walk_root(0x7f'c000'5000);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  EXPECT_EQ(levels_and_indices(w), (Steps{{1, 511}, {2, 0}, {3, 5}}));
  expect_chained(w, tree.table().root());
  EXPECT_EQ(w.output, 0x4'0000'0000u);
}

TEST(HwWalker, OneGiBBlockIn39BitSpaceIsFoundInOneStep) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(39));
  tree.map(3 * k1G, 7 * k1G, k1G, arch::s1::Attributes{});
  const Walk w = tree.walk_root(3 * k1G + 0x1234'5678);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  EXPECT_EQ(levels_and_indices(w), (Steps{{1, 3}}));
  EXPECT_EQ(w.level, 1u);
  EXPECT_EQ(w.size, k1G);
  EXPECT_EQ(w.input, 3 * k1G);
  EXPECT_EQ(w.output, 7 * k1G);
}

TEST(HwWalker, Stage2IndexBeyond511ReachesTheSecondPageOfAConcatenatedRoot) {
  const arch::Geometry geometry = arch::Geometry::stage2(arch::Granule::k4K, 40, 1).value();
  ASSERT_EQ(geometry.root_tables(), 2u);
  SimTree tree(Regime::stage2, geometry);
  // IPA 0x80_4000_2000: [39:30] = 0x201 = 513, [29:21] = 0, [20:12] = 2.
  tree.map(0x80'4000'2000, 0x5'0000'0000, kPage, arch::s2::Attributes{});
  const Walk w = tree.walk_root(0x80'4000'2000);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  EXPECT_EQ(levels_and_indices(w), (Steps{{1, 513}, {2, 0}, {3, 2}}));
  expect_chained(w, tree.table().root());
  EXPECT_EQ(w.output, 0x5'0000'0000u);
  // Entry 513 of the root is entry 1 of its second page.
  EXPECT_EQ(tree.memory().peek(tree.table().root() + kPage)[1], w.steps[0].descriptor);
  EXPECT_TRUE(w.global) << "stage-2 entries are not tagged by ASID";
}

// --- faults ------------------------------------------------------------------

TEST(HwWalker, UnmappedAddressIsInvalidAtTheLevelOfTheFirstInvalidDescriptor) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  tree.map(0x4000'1000, 0x9'0000'3000, kPage, arch::s1::Attributes{});

  const Walk in_level3 = tree.walk_root(0x4000'3000);  // same level-3 table, index 3
  EXPECT_EQ(in_level3.outcome, WalkOutcome::invalid);
  EXPECT_EQ(in_level3.fault_level, 3u);
  EXPECT_EQ(levels_and_indices(in_level3), (Steps{{0, 0}, {1, 1}, {2, 0}, {3, 3}}));
  EXPECT_EQ(in_level3.steps[3].descriptor, 0u);

  const Walk in_level2 = tree.walk_root(0x4020'0000);  // level-2 index 1
  EXPECT_EQ(in_level2.outcome, WalkOutcome::invalid);
  EXPECT_EQ(in_level2.fault_level, 2u);
  EXPECT_EQ(in_level2.step_count, 3u);

  const Walk in_level1 = tree.walk_root(0x8000'0000);  // level-1 index 2
  EXPECT_EQ(in_level1.outcome, WalkOutcome::invalid);
  EXPECT_EQ(in_level1.fault_level, 1u);
  EXPECT_EQ(in_level1.step_count, 2u);

  const Walk in_level0 = tree.walk_root(0x80'0000'0000);  // level-0 index 1
  EXPECT_EQ(in_level0.outcome, WalkOutcome::invalid);
  EXPECT_EQ(in_level0.fault_level, 0u);
  EXPECT_EQ(levels_and_indices(in_level0), (Steps{{0, 1}}));
}

TEST(HwWalker, EmptyTreeIsInvalidAtTheStartLevel) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(39));
  const Walk w = tree.walk_root(0x1000);
  EXPECT_EQ(w.outcome, WalkOutcome::invalid);
  EXPECT_EQ(w.fault_level, 1u);
  EXPECT_EQ(w.step_count, 1u);
}

TEST(HwWalker, ReaderThatCannotReadTheRootIsUnreadableAtTheStartLevelWithNoSteps) {
  const arch::Geometry geometry = stage1_geometry(48);
  FailingReader reader;
  const Walk w = walk(Regime::el1_stage1, geometry, 0x4000'1000, WalkStart{0, 0x8000'0000}, reader);
  EXPECT_EQ(w.outcome, WalkOutcome::unreadable);
  EXPECT_EQ(w.fault_level, 0u);
  EXPECT_EQ(w.step_count, 0u);
}

TEST(HwWalker, UnreadableLevel3TableStopsTheWalkAtLevel3AfterThreeSteps) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  tree.map(0x4000'1000, 0x9'0000'3000, kPage, arch::s1::Attributes{});
  const PhysAddr level3_table = tree.walk_root(0x4000'1000).steps[3].table;
  RefusingReader reader(tree.reader(), level3_table);
  const Walk w = walk(Regime::el1_stage1, tree.table().geometry(), 0x4000'1000, tree.root_start(), reader);
  EXPECT_EQ(w.outcome, WalkOutcome::unreadable);
  EXPECT_EQ(w.fault_level, 3u);
  EXPECT_EQ(w.step_count, 3u);
}

TEST(HwWalker, TableAddressOutsideLiveMemoryIsUnreadable) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  const PhysAddr never_allocated = tree.memory().base() + (tree.memory().capacity_pages() - 1) * kPage;
  ASSERT_FALSE(tree.memory().is_live(never_allocated));
  const Walk w = tree.walk_from(0x4000'1000, WalkStart{2, never_allocated});
  EXPECT_EQ(w.outcome, WalkOutcome::unreadable);
  EXPECT_EQ(w.fault_level, 2u);
}

TEST(HwWalker, Level3DescriptorWithBits01IsABadDescriptor) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  tree.map(0x4000'1000, 0x9'0000'3000, kPage, arch::s1::Attributes{});
  const WalkStep leaf_step = tree.walk_root(0x4000'1000).steps[3];
  // Rewrite the page as the reserved level-3 encoding 0b01.
  tree.memory().descriptors(leaf_step.table)[leaf_step.index] = leaf_step.descriptor & ~arch::kTypeBit;
  const Walk w = tree.walk_root(0x4000'1000);
  EXPECT_EQ(w.outcome, WalkOutcome::bad_descriptor);
  EXPECT_EQ(w.fault_level, 3u);
  EXPECT_EQ(w.step_count, 4u);
}

TEST(HwWalker, BlockAtLevel0IsABadDescriptor) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  const arch::s1::Attributes attributes{};
  const Descriptor block = 0x80'0000'0000 | arch::s1::encode(attributes).value() | arch::kValidBit;
  tree.memory().descriptors(tree.table().root())[5] = block;
  const Walk w = tree.walk_root(5 * 0x80'0000'0000 + 0x1000);
  EXPECT_EQ(w.outcome, WalkOutcome::bad_descriptor);
  EXPECT_EQ(w.fault_level, 0u);
  EXPECT_EQ(levels_and_indices(w), (Steps{{0, 5}}));
}

TEST(HwWalker, InputOutsideTheSpaceIsRefusedAsBadDescriptorWithoutReading) {
  const arch::Geometry geometry = stage1_geometry(39);
  FailingReader reader;
  const Walk w = walk(Regime::el1_stage1, geometry, geometry.input_size(), WalkStart{1, 0x8000'0000}, reader);
  EXPECT_EQ(w.outcome, WalkOutcome::bad_descriptor);
  EXPECT_EQ(w.fault_level, 1u);
  EXPECT_EQ(w.step_count, 0u);
}

TEST(HwWalker, StartLevelOutsideTheGeometryIsRefusedAsBadDescriptor) {
  const arch::Geometry geometry = stage1_geometry(39);
  FailingReader reader;
  const Walk above_root = walk(Regime::el1_stage1, geometry, 0x1000, WalkStart{0, 0x8000'0000}, reader);
  EXPECT_EQ(above_root.outcome, WalkOutcome::bad_descriptor);
  EXPECT_EQ(above_root.fault_level, 0u);
  const Walk below_pages = walk(Regime::el1_stage1, geometry, 0x1000, WalkStart{4, 0x8000'0000}, reader);
  EXPECT_EQ(below_pages.outcome, WalkOutcome::bad_descriptor);
  EXPECT_EQ(below_pages.fault_level, 4u);
  EXPECT_EQ(below_pages.step_count, 0u);
}

// --- walk-cache starts ----------------------------------------------------------

TEST(HwWalker, WalkCacheStartGivesTheSameTranslationWithFewerSteps) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  tree.map(0x4000'1000, 0x9'0000'3000, kPage, arch::s1::Attributes{});
  const Walk full = tree.walk_root(0x4000'1000);
  ASSERT_EQ(full.step_count, 4u);

  const WalkStart level2{2, full.steps[2].table};
  const Walk from_level2 = tree.walk_from(0x4000'1000, level2);
  ASSERT_EQ(from_level2.outcome, WalkOutcome::translated);
  EXPECT_EQ(levels_and_indices(from_level2), (Steps{{2, 0}, {3, 1}}));
  EXPECT_EQ(from_level2.output, full.output);
  EXPECT_EQ(from_level2.input, full.input);
  EXPECT_EQ(from_level2.size, full.size);
  EXPECT_EQ(from_level2.leaf, full.leaf);

  const Walk from_level3 = tree.walk_from(0x4000'1000, WalkStart{3, full.steps[3].table});
  ASSERT_EQ(from_level3.outcome, WalkOutcome::translated);
  EXPECT_EQ(from_level3.step_count, 1u);
  EXPECT_EQ(from_level3.output, full.output);
}

// --- scope and permissions ------------------------------------------------------

TEST(HwWalker, El1LeafIsGlobalExactlyWhenNgIsClear) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  arch::s1::Attributes global;
  global.scope = arch::s1::Scope::global;
  arch::s1::Attributes non_global;
  non_global.scope = arch::s1::Scope::non_global;
  tree.map(0x1000, 0x10'0000, kPage, global);
  tree.map(0x2000, 0x20'0000, kPage, non_global);

  const Walk g = tree.walk_root(0x1000);
  ASSERT_EQ(g.outcome, WalkOutcome::translated);
  EXPECT_EQ(g.leaf & (Descriptor{1} << 11), 0u);
  EXPECT_TRUE(g.global);

  const Walk ng = tree.walk_root(0x2000);
  ASSERT_EQ(ng.outcome, WalkOutcome::translated);
  EXPECT_NE(ng.leaf & (Descriptor{1} << 11), 0u);
  EXPECT_FALSE(ng.global);
}

TEST(HwWalker, El2LeafIsGlobalWhateverBit11Holds) {
  SimTree tree(Regime::el2_stage1, stage1_geometry(48));
  tree.map(0x1000, 0x10'0000, kPage, arch::el2::Attributes{});
  // Bit 11 is RES0 in the EL2 regime: set it by hand to show it is ignored.
  const WalkStep leaf_step = tree.walk_root(0x1000).steps[3];
  tree.memory().descriptors(leaf_step.table)[leaf_step.index] |= Descriptor{1} << 11;
  const Walk w = tree.walk_root(0x1000);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  EXPECT_TRUE(w.global);
}

TEST(HwWalker, El1ReadOnlyMappingGrantsEl1ReadAndNothingElse) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  arch::s1::Attributes read_only;
  read_only.access = arch::s1::Access::el1_ro;
  read_only.el1_execute = arch::Execute::never;
  read_only.el0_execute = arch::Execute::never;
  tree.map(0x4000'0000, 0x9'0000'0000, kPage, read_only);
  const Walk w = tree.walk_root(0x4000'0000);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  // AP[2:1] = 10: EL1 read-only, no EL0 access; PXN and UXN set.
  EXPECT_EQ(w.permissions, bits(Permission::el1_read));
  EXPECT_EQ(w.permissions & bits(Permission::el1_write), 0);
  EXPECT_EQ(w.permissions, arch::permissions(Regime::el1_stage1, 3, w.leaf));
}

TEST(HwWalker, El1ReadOnlyExecutableBlockGrantsEl1ReadAndExecute) {
  SimTree tree(Regime::el1_stage1, stage1_geometry(48));
  arch::s1::Attributes text;
  text.access = arch::s1::Access::el1_ro;
  text.el1_execute = arch::Execute::allowed;
  text.el0_execute = arch::Execute::never;
  tree.map(0x4000'0000, 0x9'0000'0000, k2M, text);
  const Walk w = tree.walk_root(0x4000'0000);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  ASSERT_EQ(w.level, 2u);
  EXPECT_EQ(w.permissions, bits(Permission::el1_read) | bits(Permission::el1_execute));
  EXPECT_EQ(w.permissions, arch::permissions(Regime::el1_stage1, 2, w.leaf));
}

TEST(HwWalker, Stage2ReadOnlyMappingGrantsReadAtBothLevelsAndNoExecute) {
  const arch::Geometry geometry = arch::Geometry::stage2(arch::Granule::k4K, 40, 1).value();
  SimTree tree(Regime::stage2, geometry);
  arch::s2::Attributes read_only;
  read_only.access = arch::s2::Access::ro;
  read_only.execute = arch::s2::Execute::none;
  tree.map(0x1000, 0x7000, kPage, read_only);
  const Walk w = tree.walk_root(0x1000);
  ASSERT_EQ(w.outcome, WalkOutcome::translated);
  // S2AP = 01 (read), XN = 10 (nobody executes).
  EXPECT_EQ(w.permissions, bits(Permission::el1_read) | bits(Permission::el0_read));
  EXPECT_EQ(w.permissions, arch::permissions(Regime::stage2, 3, w.leaf));
}

// --- agreement with the library and the reference walker ----------------------

// One operation of a random tree: map or unmap [va, va + size).
struct TreeOp {
  bool unmap = false;
  VirtAddr va = 0;
  PhysAddr pa = 0;
  std::uint64_t size = 0;
  arch::s1::Attributes attributes;
};

// A value uniform in [min, max) whatever the current size (rapidcheck
// scales inRange and element down for small sizes, which would keep early
// cases to the first address and the first kind of operation).
template <class T>
T uniform(T min, T max) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(min, max));
}
template <class T>
T pick(T a, T b) {
  return uniform(0u, 2u) == 0 ? a : b;
}

// Random EL1 attributes: scope, access and execute vary.
arch::s1::Attributes random_attributes() {
  arch::s1::Attributes a;
  a.scope = pick(arch::s1::Scope::global, arch::s1::Scope::non_global);
  a.access = static_cast<arch::s1::Access>(uniform(0u, 4u));
  a.el1_execute = pick(arch::Execute::allowed, arch::Execute::never);
  a.el0_execute = pick(arch::Execute::allowed, arch::Execute::never);
  return a;
}

// A random operation inside the 4 GiB window at `base`: runs of pages, 2 MiB
// blocks, a 1 GiB block, or an unmap that may split blocks. Output addresses
// keep the input's alignment (so blocks appear), except that one operation in
// four shifts its output by a few pages so that only pages fit.
TreeOp random_op(VirtAddr base, PhysAddr pa_base) {
  TreeOp op;
  const std::uint64_t gib = uniform<std::uint64_t>(0, 4);
  const unsigned kind = uniform(0u, 20u);
  if (kind < 9) {  // a run of pages
    op.va = base + gib * k1G + uniform<std::uint64_t>(0, 4) * k2M +
            uniform<std::uint64_t>(0, 512) * kPage;
    op.size = uniform<std::uint64_t>(1, 17) * kPage;
  } else if (kind < 15) {  // 2 MiB blocks
    op.va = base + gib * k1G + uniform<std::uint64_t>(0, 16) * k2M;
    op.size = uniform<std::uint64_t>(1, 4) * k2M;
  } else if (kind < 17) {  // a 1 GiB block
    op.va = base + gib * k1G;
    op.size = k1G;
  } else {  // an unmap of up to 4 MiB
    op.unmap = true;
    op.va = base + gib * k1G + uniform<std::uint64_t>(0, 4 * 512) * kPage;
    op.size = uniform<std::uint64_t>(1, 1025) * kPage;
  }
  op.size = std::min(op.size, base + 4 * k1G - op.va);
  const bool scatter = uniform(0u, 4u) == 0;
  op.pa = pa_base + (op.va - base) + (scatter ? uniform<std::uint64_t>(1, 512) * kPage : 0);
  op.attributes = random_attributes();
  return op;
}

// Applies `op` to `table`; whether it succeeded.
bool apply(pt::Table& table, const TreeOp& op, test::RecordingSink& sink) {
  if (op.unmap) return table.unmap(op.va, op.size, sink).ok();
  return table.map(op.va, op.pa, op.size, op.attributes, sink).ok();
}

// Addresses worth translating: the edges of every operation and random ones
// in the window and in the whole space.
std::vector<VirtAddr> probe_addresses(const std::vector<TreeOp>& ops, VirtAddr base,
                                      std::uint64_t input_size) {
  std::vector<VirtAddr> out;
  for (const TreeOp& op : ops) {
    for (const VirtAddr a : {op.va - 1, op.va, op.va + kPage, op.va + op.size - 1, op.va + op.size}) {
      if (a < input_size) out.push_back(a);
    }
  }
  for (int i = 0; i < 24; ++i) {
    out.push_back(base + uniform<std::uint64_t>(0, 4) * k1G +
                  uniform<std::uint64_t>(0, 20 * k2M));
  }
  for (int i = 0; i < 8; ++i) out.push_back(uniform<std::uint64_t>(0, input_size));
  return out;
}

// The sim walk of `va` agrees with the library's query and the reference
// walker's leaf, and a walk resumed at any table it passed gives the same.
void check_agreement(const Walk& w, VirtAddr va, const Result<pt::Translation>& library,
                     const std::optional<test::Leaf>& reference) {
  RC_ASSERT(library.ok() == reference.has_value());
  if (!library.ok()) {
    RC_ASSERT(library.error().code == Errc::not_mapped);
    RC_ASSERT(w.outcome == WalkOutcome::invalid);
    return;
  }
  RC_ASSERT(w.outcome == WalkOutcome::translated);
  RC_ASSERT(w.output + (va - w.input) == library->output);
  RC_ASSERT(w.level == library->level);
  RC_ASSERT(w.leaf == library->descriptor);
  RC_ASSERT(w.input == library->leaf_va);
  RC_ASSERT(w.size == library->leaf_size);
  RC_ASSERT(w.level == reference->level);
  RC_ASSERT(w.input == reference->va);
  RC_ASSERT(w.size == reference->size());
  RC_ASSERT(w.leaf == reference->descriptor);
  RC_ASSERT(w.output == reference->output());
  RC_ASSERT(w.permissions == arch::permissions(Regime::el1_stage1, w.level, w.leaf));
  RC_ASSERT(w.global == ((w.leaf & arch::kNgBit) == 0));
}

RC_GTEST_PROP(HwWalkerProperty, AgreesWithTableQueryAndReferenceWalkerOnRandomTrees, ()) {
  const unsigned va_bits = pick(39u, 48u);
  const arch::Geometry geometry = stage1_geometry(va_bits);
  const VirtAddr base = uniform<std::uint64_t>(0, geometry.input_size() / k1G - 3) * k1G;
  const PhysAddr pa_base = uniform<std::uint64_t>(1, 1u << 16) * k1G;

  // The same operations build one tree in simulated physical memory (read by
  // the sim walker and the library) and one in test memory (read by the
  // reference walker).
  SimTree sim_tree(Regime::el1_stage1, geometry);
  test::FakeMemory fake_memory;
  test::RecordingSink fake_sink;
  pt::Table fake_table = pt::Table::create(Regime::el1_stage1, geometry, fake_memory).value();
  test::RecordingSink sim_sink;

  std::vector<TreeOp> ops;
  const std::size_t count = *rc::gen::inRange<std::size_t>(1, 25);
  for (std::size_t i = 0; i < count; ++i) {
    ops.push_back(random_op(base, pa_base));
    const bool sim_ok = apply(sim_tree.table(), ops.back(), sim_sink);
    RC_ASSERT(sim_ok == apply(fake_table, ops.back(), fake_sink));
  }
  const test::Snapshot snapshot =
      test::take_snapshot(fake_memory, fake_table.root(), test::WalkGeometry::stage1(va_bits));
  RC_ASSERT(snapshot.problems().empty());

  bool saw_level1 = false;
  bool saw_level2 = false;
  for (const VirtAddr va : probe_addresses(ops, base, geometry.input_size())) {
    const Walk w = sim_tree.walk_root(va);
    check_agreement(w, va, sim_tree.table().query(va), snapshot.leaf_at(va));
    const bool translated = w.outcome == WalkOutcome::translated;
    saw_level1 = saw_level1 || (translated && w.level == 1);
    saw_level2 = saw_level2 || (translated && w.level == 2);
    // Resuming at any table the walk passed (a walk-cache hit) changes
    // nothing but the steps taken.
    for (unsigned i = 1; i < w.step_count; ++i) {
      const Walk resumed = sim_tree.walk_from(va, WalkStart{w.steps[i].level, w.steps[i].table});
      RC_ASSERT(resumed.outcome == w.outcome);
      RC_ASSERT(resumed.fault_level == w.fault_level);
      RC_ASSERT(resumed.output == w.output);
      RC_ASSERT(resumed.leaf == w.leaf);
      RC_ASSERT(resumed.step_count == w.step_count - i);
    }
  }
  RC_CLASSIFY(saw_level1, "1 GiB block walked");
  RC_CLASSIFY(saw_level2, "2 MiB block walked");
}

}  // namespace
}  // namespace tlbkit::sim
