// Gather: batching, immediate break-before-make maintenance, and freeing
// retired tables only after the plan that retires them has executed.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "support/fake_memory.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/exec/recorder.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/simple_policy.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::maint {
namespace {

using arch::Instr;
using arch::Op;

constexpr std::uint64_t kPage = 0x1000;

// Records plans and calls a hook before each one "executes".
class HookedExecutor final : public Executor {
 public:
  void execute(const Plan& plan) override {
    if (before) before();
    plans.emplace_back(plan.ops().begin(), plan.ops().end());
  }
  std::function<void()> before;
  std::vector<std::vector<Op>> plans;
};

AddressSpace asid5() {
  AddressSpace s;
  s.asid = 5;
  return s;
}

Change leaf_change(VirtAddr va, std::uint64_t size, ChangeKind kind, unsigned level = 3) {
  Change c;
  c.va = va;
  c.size = size;
  c.level = static_cast<std::uint8_t>(level);
  c.kind = kind;
  return c;
}

struct GatherFixture : ::testing::Test {
  test::FakeMemory memory;
  HookedExecutor executor;
  SimplePolicy policy;
};

TEST_F(GatherFixture, AdjacentUnmapsOfTwoOperationsBecomeOnePlanAtFinish) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  gather.record(leaf_change(0x1000'1000, kPage, ChangeKind::unmap));
  EXPECT_TRUE(executor.plans.empty()) << "nothing runs before finish()";
  ASSERT_EQ(gather.pending().ranges.size(), 1u);
  EXPECT_EQ(gather.pending().ranges[0], (PendingRange{0x1000'0000, 2 * kPage, 3, EntryKind::leaf}));
  ASSERT_TRUE(gather.finish().ok());
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<Op> expected{{Instr::dsb_ishst, 0},
                                 {Instr::vale1is, 0x0005'0000'0001'0000},
                                 {Instr::vale1is, 0x0005'0000'0001'0001},
                                 {Instr::dsb_ish, 0}};
  EXPECT_EQ(executor.plans[0], expected);
}

TEST_F(GatherFixture, ChangesMergeOnlyWhenTheyContinueTheLastRangeAtItsLevelAndKind) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  gather.record(leaf_change(0x1000'1000, 2 * kPage, ChangeKind::unmap));  // continues: 3 pages
  gather.record(leaf_change(0x1000'3000, kPage, ChangeKind::unmap, 2));   // adjacent, other level
  Change table = leaf_change(0x1000'4000, kPage, ChangeKind::unmap, 2);
  table.entry = EntryKind::table;
  gather.record(table);                                                   // adjacent, other kind
  gather.record(leaf_change(0x1000'6000, kPage, ChangeKind::unmap));      // a gap
  gather.record(leaf_change(0x1000'7000, kPage, ChangeKind::restrict));  // continues the gap's range
  gather.record(leaf_change(0x1000'8000, kPage, ChangeKind::map));        // needs nothing
  gather.record(leaf_change(0x1000'9000, kPage, ChangeKind::unmap));      // not adjacent to 0x8000's end
  const std::vector<PendingRange> want{{0x1000'0000, 3 * kPage, 3, EntryKind::leaf},
                                       {0x1000'3000, kPage, 2, EntryKind::leaf},
                                       {0x1000'4000, kPage, 2, EntryKind::table},
                                       {0x1000'6000, 2 * kPage, 3, EntryKind::leaf},
                                       {0x1000'9000, kPage, 3, EntryKind::leaf}};
  const Pending p = gather.pending();
  EXPECT_EQ(std::vector<PendingRange>(p.ranges.begin(), p.ranges.end()), want);
  // Asking twice changes nothing; a later change still extends the last range.
  EXPECT_EQ(gather.pending().ranges.size(), want.size());
  gather.record(leaf_change(0x1000'A000, kPage, ChangeKind::unmap));
  EXPECT_EQ(gather.pending().ranges.back(), (PendingRange{0x1000'9000, 2 * kPage, 3, EntryKind::leaf}));
}

TEST_F(GatherFixture, AfterFinishAChangeAtTheOldEndStartsAFreshRange) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  ASSERT_TRUE(gather.finish().ok());
  gather.record(leaf_change(0x1000'1000, kPage, ChangeKind::unmap));
  const Pending p = gather.pending();
  ASSERT_EQ(p.ranges.size(), 1u);
  EXPECT_EQ(p.ranges[0], (PendingRange{0x1000'1000, kPage, 3, EntryKind::leaf}));
}

TEST_F(GatherFixture, OnceEverythingIsCoveredTheRangesSoFarStayAsTheyWere) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  gather.record(leaf_change(0x1000'1000, kPage, ChangeKind::unmap));
  gather.cover_whole_space();
  gather.record(leaf_change(0x1000'2000, kPage, ChangeKind::unmap));  // would have continued the range
  const Pending p = gather.pending();
  EXPECT_EQ(p.coverage, Coverage::everything);
  ASSERT_EQ(p.ranges.size(), 1u);
  EXPECT_EQ(p.ranges[0], (PendingRange{0x1000'0000, 2 * kPage, 3, EntryKind::leaf}));
}

// Records each release with how many plans had executed by then.
struct CountingPageSink final : PageSink {
  explicit CountingPageSink(const HookedExecutor& e) : executor(e) {}
  void release(PhysAddr pa, std::uint64_t size) override {
    released.push_back({pa, size});
    plans_before.push_back(executor.plans.size());
  }
  const HookedExecutor& executor;
  std::vector<PhysRange> released;
  std::vector<std::size_t> plans_before;
};

TEST_F(GatherFixture, DataPagesAreReleasedOnlyAfterThePlanThatUnmapsThem) {
  CountingPageSink pages(executor);
  Gather gather(asid5(), {}, policy, executor, memory, &pages);
  gather.record(leaf_change(0x1000'0000, 2 * kPage, ChangeKind::unmap));
  ASSERT_TRUE(gather.free_after_flush(0x8000'0000, kPage).ok());
  ASSERT_TRUE(gather.free_after_flush(0x8000'1000, kPage).ok());  // merges with the first
  ASSERT_TRUE(gather.free_after_flush(0x9000'0000, kPage).ok());
  executor.before = [&] { EXPECT_TRUE(pages.released.empty()) << "released before the flush"; };
  ASSERT_TRUE(gather.finish().ok());
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<PhysRange> want{{0x8000'0000, 2 * kPage}, {0x9000'0000, kPage}};
  EXPECT_EQ(pages.released, want);
  EXPECT_EQ(pages.plans_before, (std::vector<std::size_t>{1, 1}));
  EXPECT_EQ(gather.pages_released(), 3u);
}

TEST_F(GatherFixture, AFullHeldPageListFlushesEarly) {
  CountingPageSink pages(executor);
  Gather gather(asid5(), {}, policy, executor, memory, &pages);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  for (std::size_t i = 0; i < Gather::kMaxHeldPages; ++i) {
    ASSERT_TRUE(gather.free_after_flush(0x8000'0000 + i * 2 * kPage, kPage).ok());
  }
  EXPECT_TRUE(pages.released.empty());
  ASSERT_TRUE(gather.free_after_flush(0x9000'0000, kPage).ok());
  EXPECT_EQ(executor.plans.size(), 1u) << "the early finish ran the pending flush";
  EXPECT_EQ(pages.released.size(), Gather::kMaxHeldPages);
  EXPECT_EQ(pages.plans_before.front(), 1u);
  ASSERT_TRUE(gather.finish().ok());
  EXPECT_EQ(pages.released.back(), (PhysRange{0x9000'0000, kPage}));
}

TEST_F(GatherFixture, BadPagesToFreeAreRefusedAndNothingIsHeld) {
  Gather without_sink(asid5(), {}, policy, executor, memory);
  EXPECT_EQ(without_sink.free_after_flush(0x8000'0000, kPage).error().code, Errc::invalid_argument);
  CountingPageSink pages(executor);
  Gather gather(asid5(), {}, policy, executor, memory, &pages);
  EXPECT_EQ(gather.free_after_flush(0x8000'0000, 0).error().code, Errc::invalid_argument);
  EXPECT_EQ(gather.free_after_flush(0x8000'0000, 100).error().code, Errc::invalid_argument);
  EXPECT_EQ(gather.free_after_flush(0x8000'0800, kPage).error().code, Errc::invalid_argument);
  ASSERT_TRUE(gather.finish().ok());
  EXPECT_TRUE(pages.released.empty());
  EXPECT_EQ(gather.pages_released(), 0u);
}

TEST_F(GatherFixture, MapsAndRelaxationsNeedNoTlbi) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::map));
  gather.record(leaf_change(0x1000'1000, kPage, ChangeKind::relax));
  EXPECT_FALSE(gather.pending().needs_invalidation());
  ASSERT_TRUE(gather.finish().ok());
  EXPECT_TRUE(executor.plans.empty());
}

TEST_F(GatherFixture, ExecGainedByAMapBringsICacheMaintenance) {
  Gather gather(asid5(), {}, policy, executor, memory);
  Change c = leaf_change(0x1000'0000, kPage, ChangeKind::map);
  c.exec = ExecGain::yes;
  gather.record(c);
  ASSERT_TRUE(gather.finish().ok());
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<Op> expected{{Instr::ic_ialluis, 0}, {Instr::dsb_ish, 0}, {Instr::isb, 0}};
  EXPECT_EQ(executor.plans[0], expected);
}

TEST_F(GatherFixture, BreakBeforeMakeIsInvalidatedBeforeInvalidateNowReturns) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.invalidate_now(leaf_change(0x4000'0000, 0x20'0000, ChangeKind::replace, 2));
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<Op> expected{
      {Instr::dsb_ishst, 0}, {Instr::vale1is, 0x0005'0000'0004'0000}, {Instr::dsb_ish, 0}};
  EXPECT_EQ(executor.plans[0], expected);
  ASSERT_TRUE(gather.finish().ok());
  EXPECT_EQ(executor.plans.size(), 1u) << "the immediate maintenance is not repeated";
}

TEST_F(GatherFixture, RetiredTablesAreFreedOnlyAfterThePlanExecuted) {
  auto table = memory.allocate(1);
  ASSERT_TRUE(table.ok());
  const PhysAddr page = *table;
  bool live_when_executed = false;
  executor.before = [&] { live_when_executed = memory.is_live_page(page); };
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    Change c = leaf_change(0x4000'0000, 0x20'0000, ChangeKind::unmap, 2);
    c.entry = EntryKind::table;
    gather.record(c);
    gather.retire_table(page, 1);
    EXPECT_TRUE(memory.is_live_page(page));
    ASSERT_TRUE(gather.finish().ok());
  }
  EXPECT_TRUE(live_when_executed);
  EXPECT_FALSE(memory.is_live_page(page));
  EXPECT_TRUE(memory.problems().empty());
}

TEST_F(GatherFixture, DestructionFinishesPendingWork) {
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  }
  EXPECT_EQ(executor.plans.size(), 1u);
}

TEST_F(GatherFixture, MoreDisjointRangesThanFitCoverTheWholeAddressSpace) {
  Gather gather(asid5(), {}, policy, executor, memory);
  for (std::size_t i = 0; i <= Gather::kMaxRanges; ++i) {
    gather.record(leaf_change(0x1000'0000 + i * 2 * kPage, kPage, ChangeKind::unmap));
  }
  EXPECT_EQ(gather.pending().coverage, Coverage::everything);
  ASSERT_TRUE(gather.finish().ok());
  const std::vector<Op> expected{
      {Instr::dsb_ishst, 0}, {Instr::aside1is, 0x0005'0000'0000'0000}, {Instr::dsb_ish, 0}};
  ASSERT_EQ(executor.plans.size(), 1u);
  EXPECT_EQ(executor.plans[0], expected);
}

TEST_F(GatherFixture, ATornDownSpaceStaysCoveredWholeAcrossAnEarlyFlushUntilFinish) {
  CountingPageSink sink(executor);
  Gather gather(asid5(), {}, policy, executor, memory, &sink);
  gather.cover_whole_space();
  // One more held page than the list holds: the last one flushes early.
  for (std::uint64_t i = 0; i <= Gather::kMaxHeldPages; ++i) {
    ASSERT_TRUE(gather.free_after_flush(0x9000'0000 + 2 * i * kPage, kPage).ok());
  }
  ASSERT_EQ(executor.plans.size(), 1u) << "the early flush";
  // A root entry emptied after the early flush: still the whole space.
  Change root = leaf_change(0, 0x80'0000'0000, ChangeKind::unmap, 0);
  root.entry = EntryKind::table;
  gather.record(root);
  EXPECT_EQ(gather.pending().coverage, Coverage::everything);
  ASSERT_TRUE(gather.finish().ok());
  const std::vector<Op> whole{
      {Instr::dsb_ishst, 0}, {Instr::aside1is, 0x0005'0000'0000'0000}, {Instr::dsb_ish, 0}};
  ASSERT_EQ(executor.plans.size(), 2u);
  EXPECT_EQ(executor.plans[0], whole);
  EXPECT_EQ(executor.plans[1], whole);
  EXPECT_EQ(gather.pending().coverage, Coverage::exact) << "the next batch starts exact again";
}

TEST_F(GatherFixture, ATornDownSpaceIsInvalidatedWholeNotPerEntryUnderItsRoot) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.cover_whole_space();
  // A root entry of a 48-bit space: 2^27 pages under it.
  Change root = leaf_change(0, 0x80'0000'0000, ChangeKind::unmap, 0);
  root.entry = EntryKind::table;
  gather.record(root);
  EXPECT_EQ(gather.pending().coverage, Coverage::everything);
  ASSERT_TRUE(gather.finish().ok());
  const std::vector<Op> expected{
      {Instr::dsb_ishst, 0}, {Instr::aside1is, 0x0005'0000'0000'0000}, {Instr::dsb_ish, 0}};
  ASSERT_EQ(executor.plans.size(), 1u);
  EXPECT_EQ(executor.plans[0], expected);
  EXPECT_EQ(gather.pending().coverage, Coverage::exact) << "the next batch starts exact again";
}

TEST_F(GatherFixture, AFullRetiredListFlushesEarlyAndFreesOnlyAfterThatPlan) {
  std::vector<PhysAddr> pages;
  for (std::size_t i = 0; i <= Gather::kMaxRetired; ++i) pages.push_back(*memory.allocate(1));
  std::size_t freed_before_first_plan = 0;
  const std::uint64_t frees_at_start = memory.frees();
  executor.before = [&] {
    if (executor.plans.empty()) freed_before_first_plan = memory.frees() - frees_at_start;
  };
  Gather gather(asid5(), {}, policy, executor, memory);
  Change c = leaf_change(0x4000'0000, 0x4000'0000, ChangeKind::unmap, 1);
  c.entry = EntryKind::table;
  gather.record(c);
  for (const PhysAddr p : pages) gather.retire_table(p, 1);
  EXPECT_EQ(executor.plans.size(), 1u) << "the 65th table forced a flush";
  EXPECT_EQ(freed_before_first_plan, 0u);
  EXPECT_EQ(memory.frees() - frees_at_start, Gather::kMaxRetired);
  ASSERT_TRUE(gather.finish().ok());
  EXPECT_EQ(memory.frees() - frees_at_start, Gather::kMaxRetired + 1);
}

// A policy that cannot build any plan while `fail` is set (a broken or
// exhausted policy: every real one can always issue a space-wide op).
class FailingPolicy final : public Policy {
 public:
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override {
    ++calls;
    if (fail) return Error{Errc::out_of_range, "test policy: no plan"};
    return SimplePolicy{}.plan(pending, space, features, plan);
  }
  bool fail = true;
  mutable int calls = 0;
};

Change table_change(VirtAddr va, std::uint64_t size, unsigned level) {
  Change c = leaf_change(va, size, ChangeKind::unmap, level);
  c.entry = EntryKind::table;
  return c;
}

TEST_F(GatherFixture, FinishReturnsThePolicysErrorAndFreesNothingWhenNoPlanCanBeBuilt) {
  FailingPolicy failing;
  CountingPageSink pages(executor);
  const PhysAddr table = *memory.allocate(1);
  Gather gather(asid5(), {}, failing, executor, memory, &pages);
  gather.record(table_change(0x4000'0000, 0x20'0000, 2));
  gather.retire_table(table, 1);
  ASSERT_TRUE(gather.free_after_flush(0x8000'0000, kPage).ok());

  const Status finished = gather.finish();
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.error().code, Errc::out_of_range);
  EXPECT_EQ(failing.calls, 2) << "the precise plan, then the space-wide one";
  EXPECT_TRUE(executor.plans.empty());
  EXPECT_TRUE(memory.is_live_page(table)) << "a table a walk cache may hold was freed";
  EXPECT_EQ(gather.tables_freed(), 0u);
  EXPECT_TRUE(pages.released.empty());
  ASSERT_EQ(gather.pending().ranges.size(), 1u) << "the work stays pending for a retry";
  EXPECT_EQ(gather.pending().ranges[0], (PendingRange{0x4000'0000, 0x20'0000, 2, EntryKind::table}));

  // Once a plan can be built, a retry runs it and only then frees.
  failing.fail = false;
  bool live_when_executed = false;
  executor.before = [&] { live_when_executed = memory.is_live_page(table); };
  ASSERT_TRUE(gather.finish().ok());
  ASSERT_EQ(executor.plans.size(), 1u);
  EXPECT_TRUE(live_when_executed);
  EXPECT_FALSE(memory.is_live_page(table));
  EXPECT_EQ(pages.released, (std::vector<PhysRange>{{0x8000'0000, kPage}}));
  EXPECT_TRUE(memory.problems().empty());
}

TEST_F(GatherFixture, AGatherDestroyedWithoutAPlanLeaksWhatItHeldRatherThanFreeIt) {
  FailingPolicy failing;
  const PhysAddr table = *memory.allocate(1);
  {
    Gather gather(asid5(), {}, failing, executor, memory);
    gather.record(table_change(0x4000'0000, 0x20'0000, 2));
    gather.retire_table(table, 1);
  }
  EXPECT_TRUE(executor.plans.empty());
  EXPECT_TRUE(memory.is_live_page(table));
}

TEST_F(GatherFixture, AFailedEarlyFlushLeaksTheTableItCannotHoldAndTheNextFinishSaysSo) {
  FailingPolicy failing;
  std::vector<PhysAddr> tables;
  for (std::size_t i = 0; i <= Gather::kMaxRetired; ++i) tables.push_back(*memory.allocate(1));
  const std::uint64_t frees_at_start = memory.frees();
  Gather gather(asid5(), {}, failing, executor, memory);
  gather.record(table_change(0x4000'0000, 0x4000'0000, 1));
  for (const PhysAddr t : tables) gather.retire_table(t, 1);
  EXPECT_TRUE(executor.plans.empty());
  EXPECT_EQ(gather.tables_leaked(), 1u);
  EXPECT_EQ(memory.frees(), frees_at_start);

  failing.fail = false;
  const Status finished = gather.finish();
  ASSERT_FALSE(finished.ok()) << "the leak is reported even though this plan ran";
  EXPECT_EQ(executor.plans.size(), 1u);
  EXPECT_EQ(memory.frees() - frees_at_start, Gather::kMaxRetired) << "every held table, not the leaked one";
  EXPECT_TRUE(memory.is_live_page(tables.back()));
  EXPECT_TRUE(gather.finish().ok()) << "reported once";
}

TEST_F(GatherFixture, AFullHeldListWhoseFlushFailsHandsThePageBackToTheCaller) {
  FailingPolicy failing;
  CountingPageSink pages(executor);
  Gather gather(asid5(), {}, failing, executor, memory, &pages);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  for (std::size_t i = 0; i < Gather::kMaxHeldPages; ++i) {
    ASSERT_TRUE(gather.free_after_flush(0x8000'0000 + i * 2 * kPage, kPage).ok());
  }
  const Status refused = gather.free_after_flush(0x9000'0000, kPage);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::out_of_range);
  EXPECT_TRUE(pages.released.empty());
  failing.fail = false;
  ASSERT_TRUE(gather.finish().ok());
  EXPECT_EQ(pages.released.size(), Gather::kMaxHeldPages);
  for (const PhysRange& r : pages.released) EXPECT_NE(r.pa, 0x9000'0000u) << "the refused page was held";
}

TEST_F(GatherFixture, ABreakBeforeMakeThatCannotBePlannedStaysPendingAndIsReported) {
  FailingPolicy failing;
  Gather gather(asid5(), {}, failing, executor, memory);
  gather.invalidate_now(leaf_change(0x4000'0000, 0x20'0000, ChangeKind::replace, 2));
  EXPECT_TRUE(executor.plans.empty());
  ASSERT_EQ(gather.pending().ranges.size(), 1u);
  EXPECT_EQ(gather.pending().ranges[0], (PendingRange{0x4000'0000, 0x20'0000, 2, EntryKind::leaf}));
  failing.fail = false;
  EXPECT_FALSE(gather.finish().ok()) << "the break-before-make sequence was broken";
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<Op> expected{
      {Instr::dsb_ishst, 0}, {Instr::vale1is, 0x0005'0000'0004'0000}, {Instr::dsb_ish, 0}};
  EXPECT_EQ(executor.plans[0], expected) << "the later plan invalidates the range";
  EXPECT_TRUE(gather.finish().ok());
}

TEST_F(GatherFixture, AFullCleanListWhoseFlushFailsWidensTheLastRangeRatherThanLoseOne) {
  FailingPolicy failing;
  Gather gather(asid5(), {}, failing, executor, memory);
  Change c = leaf_change(0x1000'0000, kPage, ChangeKind::unmap);
  c.cmo = CacheMaintenance::clean_invalidate;
  for (std::size_t i = 0; i < Gather::kMaxCleanRanges; ++i) {
    c.va = 0x1000'0000 + i * 2 * kPage;
    c.output = 0x8000'0000 + i * 2 * kPage;
    gather.record(c);
  }
  c.va = 0x2000'0000;
  c.output = 0x9000'0000;
  gather.record(c);
  const Pending p = gather.pending();
  ASSERT_EQ(p.clean.size(), Gather::kMaxCleanRanges);
  const PhysAddr last = 0x8000'0000 + (Gather::kMaxCleanRanges - 1) * 2 * kPage;
  EXPECT_EQ(p.clean.back(), (PhysRange{last, 0x9000'1000 - last}));
}

TEST_F(GatherFixture, EndToEndUnmapOfOnePageOfATableProducesTheExactPlan) {
  auto geometry = arch::Geometry::stage1(arch::Granule::k4K, 39);
  ASSERT_TRUE(geometry.ok());
  auto table = pt::Table::create(arch::Regime::el1_stage1, *geometry, memory);
  ASSERT_TRUE(table.ok());
  arch::s1::Attributes attributes;
  attributes.scope = arch::s1::Scope::non_global;
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    ASSERT_TRUE(table->map(0x1000'0000, 0x9000'0000, 4 * kPage, attributes, gather).ok());
    ASSERT_TRUE(gather.finish().ok());
  }
  EXPECT_TRUE(executor.plans.empty()) << "mapping needs no invalidation";
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    ASSERT_TRUE(table->unmap(0x1000'1000, kPage, gather).ok());
    ASSERT_TRUE(gather.finish().ok());
  }
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<Op> expected{
      {Instr::dsb_ishst, 0}, {Instr::vale1is, 0x0005'0000'0001'0001}, {Instr::dsb_ish, 0}};
  EXPECT_EQ(executor.plans[0], expected);
  EXPECT_FALSE(table->query(0x1000'1000).ok());
  EXPECT_TRUE(table->query(0x1000'2000).ok());
}

TEST_F(GatherFixture, AnEmptiedTableDoesNotMergeWithAnAdjacentTableWhoseLeavesWereNotReported) {
  Gather gather(asid5(), {}, policy, executor, memory);
  Change whole = leaf_change(0x4000'0000, 0x20'0000, ChangeKind::unmap, 2);
  whole.entry = EntryKind::table;  // unhooked whole: every page under it owed
  Change emptied = whole;
  emptied.va = 0x4020'0000;
  emptied.beneath = Beneath::reported;  // emptied entry by entry: its walk entry owed
  Change emptied_next = emptied;
  emptied_next.va = 0x4040'0000;
  gather.record(whole);
  gather.record(emptied);
  gather.record(emptied_next);  // continues the emptied range
  const std::vector<PendingRange> want{{0x4000'0000, 0x20'0000, 2, EntryKind::table, Beneath::unseen},
                                       {0x4020'0000, 0x40'0000, 2, EntryKind::table, Beneath::reported}};
  const Pending p = gather.pending();
  EXPECT_EQ(std::vector<PendingRange>(p.ranges.begin(), p.ranges.end()), want);
}

TEST_F(GatherFixture, EndToEndUnmapThatEmptiesTablesPageByPageOwesOneNonLeafOpPerTable) {
  auto geometry = arch::Geometry::stage1(arch::Granule::k4K, 39);
  auto table = pt::Table::create(arch::Regime::el1_stage1, *geometry, memory);
  ASSERT_TRUE(table.ok());
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    ASSERT_TRUE(table->map(0x1000'0000, 0x9000'0000, 2 * kPage, arch::s1::Attributes{}, gather).ok());
  }
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    ASSERT_TRUE(table->unmap(0x1000'0000, 2 * kPage, gather).ok());
    ASSERT_TRUE(gather.finish().ok());
    EXPECT_EQ(gather.tables_freed(), 2u) << "the level-3 and level-2 tables";
  }
  // The two pages, each with a record, emptied the level-3 table, whose
  // entry emptied the level-2 table: 4 entries, under the threshold of 32.
  // Tables changed, so non-leaf VAE1IS throughout: the pages, then one op
  // for the level-2 slot [0x1000_0000, +2 MiB) at its first address, one for
  // the root slot [0, 1 GiB) at 0.
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<Op> expected{{Instr::dsb_ishst, 0},
                                 {Instr::vae1is, 0x0005'0000'0001'0000},
                                 {Instr::vae1is, 0x0005'0000'0001'0001},
                                 {Instr::vae1is, 0x0005'0000'0001'0000},
                                 {Instr::vae1is, 0x0005'0000'0000'0000},
                                 {Instr::dsb_ish, 0}};
  EXPECT_EQ(executor.plans[0], expected);
  EXPECT_TRUE(memory.problems().empty());
}

TEST_F(GatherFixture, EndToEndUnmapOfAWholeTableUsesNonLeafOpsAndFreesItAfter) {
  auto geometry = arch::Geometry::stage1(arch::Granule::k4K, 39);
  auto table = pt::Table::create(arch::Regime::el1_stage1, *geometry, memory);
  ASSERT_TRUE(table.ok());
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    ASSERT_TRUE(table->map(0x1000'0000, 0x9000'0000, 2 * kPage, arch::s1::Attributes{}, gather).ok());
  }
  const std::set<PhysAddr> live_before = memory.live_pages();
  std::size_t live_during_plan = 0;
  executor.before = [&] { live_during_plan = memory.live_pages().size(); };
  {
    Gather gather(asid5(), {}, policy, executor, memory);
    // The whole 2 MiB the level-3 table maps: unhooked whole, its pages unseen.
    ASSERT_TRUE(table->unmap(0x1000'0000, 0x20'0000, gather).ok());
    ASSERT_TRUE(gather.finish().ok());
    EXPECT_EQ(gather.tables_freed(), 2u) << "the level-3 and level-2 tables";
  }
  // The level-2 slot held a table unhooked whole: every page under it
  // (2 MiB = 512 pages) must go with non-leaf ops, more than the threshold:
  // ASID-wide.
  ASSERT_EQ(executor.plans.size(), 1u);
  const std::vector<Op> expected{
      {Instr::dsb_ishst, 0}, {Instr::aside1is, 0x0005'0000'0000'0000}, {Instr::dsb_ish, 0}};
  EXPECT_EQ(executor.plans[0], expected);
  EXPECT_EQ(live_during_plan, live_before.size());
  EXPECT_EQ(memory.live_pages().size(), live_before.size() - 2);
  EXPECT_TRUE(memory.problems().empty());
}

}  // namespace
}  // namespace tlbkit::maint

namespace tlbkit::maint {
namespace {

TEST_F(GatherFixture, AnOverflowedBatchKeepsTheExtentAndLevelsOfEveryChange) {
  Gather gather(asid5(), {}, policy, executor, memory);
  // kMaxRanges + 2 disjoint leaf pages, then a 2 MiB block and a table
  // entry past them: the extent runs from the first page to the table's end.
  const VirtAddr first = 0x1000'0000;
  for (std::size_t i = 0; i <= Gather::kMaxRanges + 1; ++i) {
    gather.record(leaf_change(first + i * 2 * kPage, kPage, ChangeKind::unmap));
  }
  gather.record(leaf_change(0x1020'0000, 0x20'0000, ChangeKind::unmap, 2));
  Change table = leaf_change(0x1040'0000, 0x20'0000, ChangeKind::unmap, 2);
  table.entry = EntryKind::table;
  gather.record(table);
  const Pending p = gather.pending();
  EXPECT_EQ(p.coverage, Coverage::everything);
  EXPECT_EQ(p.overflowed, (Extent{first, 0x1060'0000, 0b1100, 0b0100}));
  ASSERT_TRUE(gather.finish().ok());
  EXPECT_TRUE(gather.pending().overflowed.empty()) << "forgotten at the flush";
}

TEST_F(GatherFixture, AnExactBatchAndATeardownHaveNoExtent) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.record(leaf_change(0x1000'0000, kPage, ChangeKind::unmap));
  EXPECT_TRUE(gather.pending().overflowed.empty());
  gather.cover_whole_space();
  gather.record(leaf_change(0x2000'0000, kPage, ChangeKind::unmap));
  EXPECT_EQ(gather.pending().coverage, Coverage::everything);
  EXPECT_TRUE(gather.pending().overflowed.empty()) << "a teardown covers the whole space, not an extent";
}

TEST_F(GatherFixture, TheNotedCallWidensForItsOwnPiecesAndIsUnknownOnceAnotherCallJoins) {
  Gather gather(asid5(), {}, policy, executor, memory);
  EXPECT_EQ(gather.pending().call, CallSpan{}) << "nothing noted";
  gather.note_call(CallSpan{CallKind::protect, 0x1000, 0x3000});
  gather.note_call(CallSpan{CallKind::protect, 0x3000, 0x8000});
  EXPECT_EQ(gather.pending().call, (CallSpan{CallKind::protect, 0x1000, 0x8000}));
  gather.note_call(CallSpan{CallKind::unmap, 0x8000, 0x9000});
  EXPECT_EQ(gather.pending().call, CallSpan{}) << "an unmap joined the mprotect";
  gather.note_call(CallSpan{CallKind::protect, 0x1000, 0x3000});
  EXPECT_EQ(gather.pending().call, CallSpan{}) << "unknown until the flush";
  gather.record(leaf_change(0x1000, kPage, ChangeKind::unmap));
  ASSERT_TRUE(gather.finish().ok());
  gather.note_call(CallSpan{CallKind::unmap, 0x5000, 0x6000});
  EXPECT_EQ(gather.pending().call, (CallSpan{CallKind::unmap, 0x5000, 0x6000})) << "a fresh batch";
}

TEST_F(GatherFixture, ReclaimCallsOfOneBatchStayOneReclaimCallWhateverTheirRanges) {
  Gather gather(asid5(), {}, policy, executor, memory);
  gather.note_call(CallSpan{CallKind::reclaim, 0x9000, 0xa000});
  gather.note_call(CallSpan{CallKind::reclaim, 0x1000, 0x2000});  // apart, and below
  EXPECT_EQ(gather.pending().call, (CallSpan{CallKind::reclaim, 0x1000, 0xa000})) << "one reclaimer's batch";
  gather.note_call(CallSpan{CallKind::unmap, 0x1000, 0x2000});
  EXPECT_EQ(gather.pending().call, CallSpan{}) << "an unmap joined the reclaim";
  Gather apart(asid5(), {}, policy, executor, memory);
  apart.note_call(CallSpan{CallKind::unmap, 0x1000, 0x2000});
  apart.note_call(CallSpan{CallKind::unmap, 0x9000, 0xa000});
  EXPECT_EQ(apart.pending().call, CallSpan{}) << "two munmaps apart stay two calls";
}

}  // namespace
}  // namespace tlbkit::maint
