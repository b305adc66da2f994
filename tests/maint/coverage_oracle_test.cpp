// The coverage oracle itself: it accepts hand-checked correct plans and
// rejects a hand-made wrong plan for every rule (so it can fail).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/coverage_oracle.hpp"
#include "tlbkit/arch/ops.hpp"

namespace tlbkit::test {
namespace {

using arch::Instr;
using arch::Op;
using arch::Presence;
using pt::Beneath;
using pt::EntryKind;
using maint::PendingRange;

constexpr std::uint64_t kPage = 0x1000;
const Op kIshst{Instr::dsb_ishst, 0};
const Op kIsh{Instr::dsb_ish, 0};

struct Case {
  std::vector<PendingRange> ranges;
  maint::AddressSpace space;
  arch::CpuFeatures features;
  std::vector<maint::PhysRange> clean;
  maint::ExecGain exec = maint::ExecGain::no;
  maint::Coverage coverage = maint::Coverage::exact;
  maint::Extent overflowed;

  std::vector<std::string> check(const std::vector<Op>& ops) const {
    maint::Pending p;
    p.ranges = ranges;
    p.clean = clean;
    p.exec = exec;
    p.coverage = coverage;
    p.overflowed = overflowed;
    return plan_problems(ops, p, space, features);
  }
};

Case one_page_asid5() {
  Case c;
  c.ranges = {{0x1000'0000, kPage, 3, EntryKind::leaf}};
  c.space.asid = 5;
  return c;
}

TEST(CoverageOracle, AcceptsTheTextbookOnePagePlan) {
  EXPECT_TRUE(one_page_asid5().check({kIshst, {Instr::vale1is, 0x0005'0000'0001'0000}, kIsh}).empty());
}

// An overflowed batch with its extent: pages 0x10000..0x10002 at level 3.
Case overflow_of_three_pages() {
  Case c;
  c.space.asid = 5;
  c.coverage = maint::Coverage::everything;
  c.overflowed = maint::Extent{0x1000'0000, 0x1000'3000, 0b1000, 0};
  return c;
}

TEST(CoverageOracle, AnOverflowWithAnExtentIsCoveredByTheExtentAlone) {
  EXPECT_TRUE(overflow_of_three_pages()
                  .check({kIshst, {Instr::vale1is, 0x0005'0000'0001'0000}, {Instr::vale1is, 0x0005'0000'0001'0001},
                          {Instr::vale1is, 0x0005'0000'0001'0002}, kIsh})
                  .empty());
  EXPECT_TRUE(overflow_of_three_pages().check({kIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsAPlanMissingPartOfAnOverflowsExtent) {
  EXPECT_FALSE(overflow_of_three_pages()
                   .check({kIshst, {Instr::vale1is, 0x0005'0000'0001'0000}, {Instr::vale1is, 0x0005'0000'0001'0001},
                           kIsh})
                   .empty());
  // A table in the extent: leaf-only ops do not retire its walk entries.
  Case table = overflow_of_three_pages();
  table.overflowed.table_levels = 0b0100;
  EXPECT_FALSE(table
                   .check({kIshst, {Instr::vale1is, 0x0005'0000'0001'0000}, {Instr::vale1is, 0x0005'0000'0001'0001},
                           {Instr::vale1is, 0x0005'0000'0001'0002}, kIsh})
                   .empty());
}

TEST(CoverageOracle, RejectsAPlanForAnotherPage) {
  EXPECT_FALSE(one_page_asid5().check({kIshst, {Instr::vale1is, 0x0005'0000'0001'0001}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsAnotherAsid) {
  EXPECT_FALSE(one_page_asid5().check({kIshst, {Instr::vale1is, 0x0006'0000'0001'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsALocalTlbiOnAnSmpSystem_KnownBug11) {
  EXPECT_FALSE(one_page_asid5().check({kIshst, {Instr::vale1, 0x0005'0000'0001'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsAMissingDsbIshstBeforeTheTlbi_KnownBug13) {
  EXPECT_FALSE(one_page_asid5().check({{Instr::vale1is, 0x0005'0000'0001'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsAMissingDsbAfterTheTlbi) {
  EXPECT_FALSE(one_page_asid5().check({kIshst, {Instr::vale1is, 0x0005'0000'0001'0000}}).empty());
}

TEST(CoverageOracle, ARangeOpsTtlLevelNeedsNoFeatTtl) {
  Case c = one_page_asid5();
  c.features.tlbi_range = Presence::present;
  // RVALE1IS TG 01, SCALE 0, NUM 0, range TTL level 3 (0x60'0000'0000).
  EXPECT_TRUE(c.check({kIshst, {Instr::rvale1is, 0x0005'4060'0001'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsARangeOpWithoutFeatTlbirange) {
  const Case c = one_page_asid5();
  // RVALE1IS TG 01, SCALE 0, NUM 0 (2 pages) from 0x1000_0000.
  const std::vector<Op> ops{kIshst, {Instr::rvale1is, 0x0005'4000'0001'0000}, kIsh};
  EXPECT_FALSE(c.check(ops).empty());
  Case with_range = c;
  with_range.features.tlbi_range = Presence::present;
  EXPECT_TRUE(with_range.check(ops).empty());
}

TEST(CoverageOracle, RejectsATtlHintWithoutFeatTtl) {
  const Case c = one_page_asid5();
  const std::vector<Op> ops{kIshst, {Instr::vale1is, 0x0005'7000'0001'0000}, kIsh};
  EXPECT_FALSE(c.check(ops).empty());
  Case with_ttl = c;
  with_ttl.features.ttl = Presence::present;
  EXPECT_TRUE(with_ttl.check(ops).empty());
}

TEST(CoverageOracle, RejectsATtlHintNamingTheWrongLevel) {
  Case c = one_page_asid5();
  c.features.ttl = Presence::present;
  // TTL 0110: level 2, but the page is a level-3 entry.
  EXPECT_FALSE(c.check({kIshst, {Instr::vale1is, 0x0005'6000'0001'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsATtlHintForAChangedTable_KnownBug10) {
  Case c;
  c.ranges = {{0x4000'0000, kPage, 2, EntryKind::table}};
  c.space.asid = 5;
  c.features.ttl = Presence::present;
  // A level-2 hint for the table entry's slot: the walk-cache entry survives.
  EXPECT_FALSE(c.check({kIshst, {Instr::vae1is, 0x0005'6000'0004'0000}, kIsh}).empty());
  EXPECT_TRUE(c.check({kIshst, {Instr::vae1is, 0x0005'0000'0004'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsALeafOnlyOpForAFreedTable_KnownBugs6And7) {
  Case c;
  c.ranges = {{0x4000'0000, kPage, 2, EntryKind::table}};
  c.space.asid = 5;
  EXPECT_FALSE(c.check({kIshst, {Instr::vale1is, 0x0005'0000'0004'0000}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsOnePageOpsForOnlyPartOfAFreedTable) {
  Case c;
  c.ranges = {{0x4000'0000, 2 * kPage, 2, EntryKind::table}};
  c.space.asid = 5;
  EXPECT_FALSE(c.check({kIshst, {Instr::vae1is, 0x0005'0000'0004'0000}, kIsh}).empty());
}

TEST(CoverageOracle, OneNonLeafOpAnywhereInEachSlotOfAnEmptiedTableRetiresItsWalkEntry) {
  Case c;
  // Two level-2 slots whose tables were emptied entry by entry.
  c.ranges = {{0x4000'0000, 2 * 0x20'0000, 2, EntryKind::table, Beneath::reported}};
  c.space.asid = 5;
  EXPECT_TRUE(c.check({kIshst,
                       {Instr::vae1is, 0x0005'0000'0004'0123},
                       {Instr::vae1is, 0x0005'0000'0004'03ff},
                       kIsh})
                  .empty());
  // One slot left: its walk entry survives.
  EXPECT_FALSE(c.check({kIshst, {Instr::vae1is, 0x0005'0000'0004'0123}, kIsh}).empty());
  // Leaf-only forms and TTL hints spare walk entries (known bugs 6, 7, 10).
  EXPECT_FALSE(c.check({kIshst,
                        {Instr::vale1is, 0x0005'0000'0004'0000},
                        {Instr::vale1is, 0x0005'0000'0004'0200},
                        kIsh})
                   .empty());
  c.features.ttl = Presence::present;
  EXPECT_FALSE(c.check({kIshst,
                        {Instr::vae1is, 0x0005'6000'0004'0000},
                        {Instr::vae1is, 0x0005'6000'0004'0200},
                        kIsh})
                   .empty());
}

TEST(CoverageOracle, OneOpPerSlotIsNotEnoughForATableUnhookedWhole) {
  Case c;
  c.ranges = {{0x4000'0000, 0x20'0000, 2, EntryKind::table, Beneath::unseen}};
  c.space.asid = 5;
  EXPECT_FALSE(c.check({kIshst, {Instr::vae1is, 0x0005'0000'0004'0000}, kIsh}).empty());
  EXPECT_TRUE(c.check({kIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kIsh}).empty());
}

TEST(CoverageOracle, OneOpRetiresAWholeBlockEntry) {
  Case c;
  c.ranges = {{0x4000'0000, 0x20'0000, 2, EntryKind::leaf}};
  c.space.asid = 5;
  // Any page inside the 2 MiB block retires it.
  EXPECT_TRUE(c.check({kIshst, {Instr::vale1is, 0x0005'0000'0004'0123}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsAside1isWhenTheSpaceHasGlobalEntries) {
  Case c = one_page_asid5();
  const std::vector<Op> ops{kIshst, {Instr::aside1is, 0x0005'0000'0000'0000}, kIsh};
  EXPECT_TRUE(c.check(ops).empty());
  c.space.global = maint::GlobalEntries::present;
  EXPECT_FALSE(c.check(ops).empty());
  EXPECT_TRUE(c.check({kIshst, {Instr::vmalle1is, 0}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsStageTwoWithoutTheStageOneInvalidation) {
  Case c;
  c.ranges = {{0x8000'0000, kPage, 3, EntryKind::leaf}};
  c.space.regime = arch::Regime::stage2;
  EXPECT_FALSE(c.check({kIshst, {Instr::ipas2le1is, 0x80000}, kIsh}).empty());
  EXPECT_FALSE(c.check({kIshst, {Instr::ipas2le1is, 0x80000}, {Instr::vmalle1is, 0}, kIsh}).empty())
      << "VMALLE1IS before the IPA op completed may refill from the old stage-2 entry";
  EXPECT_TRUE(c.check({kIshst, {Instr::ipas2le1is, 0x80000}, kIsh, {Instr::vmalle1is, 0}, kIsh}).empty());
  EXPECT_TRUE(c.check({kIshst, {Instr::vmalls12e1is, 0}, kIsh}).empty());
}

TEST(CoverageOracle, RejectsCleaningBeforeTheInvalidationCompleted) {
  Case c;
  c.ranges = {{0x8000'0000, kPage, 3, EntryKind::leaf}};
  c.space.regime = arch::Regime::stage2;
  c.clean = {{0x9000'0000, 128}};
  const std::vector<Op> good{kIshst, {Instr::vmalls12e1is, 0}, kIsh, {Instr::dc_civac, 0x9000'0000},
                             {Instr::dc_civac, 0x9000'0040}, kIsh};
  EXPECT_TRUE(c.check(good).empty());
  const std::vector<Op> early{kIshst, {Instr::dc_civac, 0x9000'0000}, {Instr::dc_civac, 0x9000'0040},
                              {Instr::vmalls12e1is, 0}, kIsh};
  EXPECT_FALSE(c.check(early).empty());
  const std::vector<Op> half{kIshst, {Instr::vmalls12e1is, 0}, kIsh, {Instr::dc_civac, 0x9000'0000}, kIsh};
  EXPECT_FALSE(c.check(half).empty());
}

TEST(CoverageOracle, RejectsExecGainedWithoutICacheMaintenance) {
  Case c;
  c.exec = maint::ExecGain::yes;
  EXPECT_FALSE(c.check({}).empty());
  EXPECT_FALSE(c.check({{Instr::ic_ialluis, 0}, {Instr::isb, 0}}).empty());
  EXPECT_TRUE(c.check({{Instr::ic_ialluis, 0}, kIsh, {Instr::isb, 0}}).empty());
}

TEST(CoverageOracle, El2ChangesNeedEl2Ops) {
  Case c;
  c.ranges = {{0x4000'0000, kPage, 3, EntryKind::leaf}};
  c.space.regime = arch::Regime::el2_stage1;
  EXPECT_FALSE(c.check({kIshst, {Instr::vaae1is, 0x40000}, kIsh}).empty());
  EXPECT_TRUE(c.check({kIshst, {Instr::vale2is, 0x40000}, kIsh}).empty());
}

}  // namespace
}  // namespace tlbkit::test
