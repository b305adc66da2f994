// The simulated machine: translation through TLBs and walks, TLBI
// completion by the issuer's DSB, and its three checkers, each shown to
// catch a deliberately broken sequence and to stay quiet on a correct one.
// MachineFixture is the two-PE rig of tests/support/stage1_machine.hpp
// (one EL1&0 stage-1 space, ASID 5, kernel pages read at EL1).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "support/stage1_machine.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/sim/machine.hpp"

namespace tlbkit::sim {
namespace {

using arch::Instr;
using namespace test;  // the rig, kVa, kData, kPage, kAsid, op() and the table helpers

// ForgetfulPolicy (support/forgetful_policy.hpp) plans nothing: every
// invalidation is forgotten.

// Known bug 7 / 6 (docs/KNOWN-BUGS.md): leaf-only ops even when a table was freed.
class LeafOnlyPolicy final : public maint::Policy {
 public:
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures&,
              Plan& plan) const override {
    // One loop step per range: a plan of one step per page would overflow
    // for a freed table and the Gather would fall back to a space-wide plan.
    Status s = plan.append(op(Instr::dsb_ishst));
    for (const maint::PendingRange& r : pending.ranges) {
      if (!s.ok()) break;
      const Result<arch::Op> first = arch::encode_va(Instr::vale1is, arch::Asid{space.asid}, r.va, arch::kNoTtl);
      if (!first.ok()) return first.error();
      s = plan.append_repeated(*first, static_cast<std::uint32_t>(r.size / kPage), 1);
    }
    if (s.ok()) s = plan.append(op(Instr::dsb_ish));
    return s;
  }
};

// Two PEs in the space, kernel pages; map(pages) maps kVa -> kData on PE 0,
// unmap(va, size, policy) unmaps on PE 0, read(pe, va) reads at EL1.
struct MachineFixture : ::testing::Test, Stage1Machine {};

TEST_F(MachineFixture, AnAccessWalksOnceThenHitsTheL1) {
  map(1);
  const Access first = read(1, kVa + 0x10);
  EXPECT_EQ(first.outcome, AccessOutcome::ok);
  EXPECT_EQ(first.served_by, ServedBy::walk);
  EXPECT_EQ(first.pa, kData + 0x10);
  const Access second = read(1, kVa + 0x20);
  EXPECT_EQ(second.served_by, ServedBy::l1);
  EXPECT_EQ(second.pa, kData + 0x20);
  // 39-bit: three levels, three descriptor reads for the one walk.
  EXPECT_EQ(machine.counters().walks, 1u);
  EXPECT_EQ(machine.counters().descriptor_reads, 3u);
  EXPECT_TRUE(machine.violations().empty());
}

TEST_F(MachineFixture, ANeighbourPageWalksFromTheWalkCache) {
  map(2);
  (void)read(1, kVa);
  (void)read(1, kVa + kPage);
  // The second walk starts at level 3 from the cached level-2 table entry.
  EXPECT_EQ(machine.counters().walk_cache_hits, 1u);
  EXPECT_EQ(machine.counters().descriptor_reads, 3u + 1u);
}

TEST_F(MachineFixture, WritingWithoutPermissionFaults) {
  arch::s1::Attributes ro = el1_rw();
  ro.access = arch::s1::Access::el1_ro;
  map(kVa, kData, kPage, ro);
  const Result<Access> w = machine.access(1, kVa, AccessKind::write);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->outcome, AccessOutcome::permission_fault);
  EXPECT_EQ(machine.counters().permission_faults, 1u);
}

TEST_F(MachineFixture, UnmapWithThePlannerLeavesNoStaleTranslation) {
  map(1);
  (void)read(1, kVa);
  unmap(kVa, kPage, planner);
  EXPECT_EQ(read(1, kVa).outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(machine.violations().empty()) << machine.violations().front().message;
}

TEST_F(MachineFixture, AForgottenInvalidationIsAStaleTranslationOnTheCachingPe) {
  map(2);
  (void)read(1, kVa);
  unmap(kVa, kPage, ForgetfulPolicy{});
  const Access a = read(1, kVa);
  EXPECT_EQ(a.outcome, AccessOutcome::ok) << "the stale entry still translates";
  ASSERT_FALSE(machine.violations().empty());
  const Violation& v = machine.violations().front();
  EXPECT_EQ(v.kind, ViolationKind::stale_translation);
  EXPECT_EQ(v.pe, 1u);
  EXPECT_EQ(v.va, kVa);
  ASSERT_TRUE(v.stale.has_value());
  EXPECT_EQ(v.stale->output, kData);
  EXPECT_FALSE(v.current.has_value());
}

TEST_F(MachineFixture, AnL1HitVerifiedBeforeTheTablesChangedIsCheckedAgain) {
  map(2);  // two pages: the unmap of one leaves the tables in place
  (void)read(1, kVa);                                  // walk: fills the L1
  EXPECT_EQ(read(1, kVa).served_by, ServedBy::l1);     // verified hit
  EXPECT_EQ(read(1, kVa).served_by, ServedBy::l1);     // the verified-hit path
  unmap(kVa, kPage, ForgetfulPolicy{});
  EXPECT_EQ(read(1, kVa).outcome, AccessOutcome::ok) << "the stale entry still translates";
  ASSERT_FALSE(machine.violations().empty()) << "checked again: the tables moved";
  EXPECT_EQ(machine.violations().front().kind, ViolationKind::stale_translation);
  const std::size_t once = machine.violations().size();
  (void)read(1, kVa);
  EXPECT_EQ(machine.violations().size(), once + 1) << "a hit that failed the check is never taken as verified";
}

TEST_F(MachineFixture, HitsDuringAnOpenOperationAreNotTakenAsVerifiedAfterIt) {
  map(2);
  (void)read(1, kVa);
  machine.begin_operation(0, "unmap");
  unmap_in_operation(kVa, kPage, ForgetfulPolicy{});
  // Inside the operation the stale entry may be used: nothing is checked.
  EXPECT_EQ(read(1, kVa).served_by, ServedBy::l1);
  EXPECT_EQ(read(1, kVa).served_by, ServedBy::l1);
  EXPECT_TRUE(machine.violations().empty());
  machine.end_operation();
  (void)read(1, kVa);
  ASSERT_FALSE(machine.violations().empty()) << "after the operation the same hit is checked";
  EXPECT_EQ(machine.violations().front().kind, ViolationKind::stale_translation);
}

TEST_F(MachineFixture, ATlbiIsCompleteOnlyAfterTheIssuersOwnDsb) {
  // Known bug 8: PE 1's DSB does not complete PE 0's TLBI.
  map(2);  // two pages: the unmap of one empties no table
  (void)read(1, kVa);
  machine.begin_operation(0, "unmap by hand");
  unmap_in_operation(kVa, kPage, forgetful);
  const arch::Op tlbi = *arch::encode_va(Instr::vae1is, arch::Asid{kAsid}, kVa, arch::kNoTtl);
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ishst)).ok());
  ASSERT_TRUE(machine.issue(0, tlbi).ok());
  ASSERT_TRUE(machine.issue(1, op(Instr::dsb_ish)).ok());  // the wrong PE
  machine.end_operation();
  (void)read(1, kVa);
  ASSERT_EQ(machine.violations().size(), 1u);
  EXPECT_EQ(machine.violations()[0].kind, ViolationKind::stale_translation);
  // The issuer's DSB completes it.
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ish)).ok());
  EXPECT_EQ(read(1, kVa).outcome, AccessOutcome::translation_fault);
  EXPECT_EQ(machine.violations().size(), 1u);
}

TEST_F(MachineFixture, ALocalTlbiLeavesOtherPesStale) {
  // Known bug 11: VAE1 (no IS) on an SMP system.
  map(2);
  (void)read(1, kVa);
  machine.begin_operation(0, "unmap, local TLBI");
  unmap_in_operation(kVa, kPage, forgetful);
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ishst)).ok());
  ASSERT_TRUE(machine.issue(0, *arch::encode_va(Instr::vae1, arch::Asid{kAsid}, kVa, arch::kNoTtl)).ok());
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ish)).ok());
  machine.end_operation();
  (void)read(1, kVa);
  ASSERT_EQ(machine.violations().size(), 1u);
  EXPECT_EQ(machine.violations()[0].pe, 1u);
}

// Known bug 13: without DSB ISHST the TLBI can run before the table write
// is visible, and another PE refills the old entry after it.
void unmap_racing_a_refill(MachineFixture& f, bool store_barrier) {
  f.map(2);
  (void)f.read(1, kVa);
  f.machine.begin_operation(0, "unmap");
  f.unmap_in_operation(kVa, kPage, f.forgetful);
  if (store_barrier) {
    ASSERT_TRUE(f.machine.issue(0, op(Instr::dsb_ishst)).ok());
  }
  ASSERT_TRUE(f.machine.issue(0, *arch::encode_va(Instr::vae1is, arch::Asid{kAsid}, kVa, arch::kNoTtl)).ok());
  // PE 1 loses its entry to eviction pressure here and walks again.
  ASSERT_TRUE(f.machine.issue(1, *arch::encode_va(Instr::vae1, arch::Asid{kAsid}, kVa, arch::kNoTtl)).ok());
  ASSERT_TRUE(f.machine.issue(1, op(Instr::dsb_nsh)).ok());
  (void)f.read(1, kVa);
  ASSERT_TRUE(f.machine.issue(0, op(Instr::dsb_ish)).ok());
  f.machine.end_operation();
  (void)f.read(1, kVa);
}

TEST_F(MachineFixture, WithoutAStoreBarrierAnotherPeRefillsTheOldEntry) {
  unmap_racing_a_refill(*this, false);
  ASSERT_FALSE(machine.violations().empty());
  EXPECT_EQ(machine.violations().back().kind, ViolationKind::stale_translation);
}

TEST_F(MachineFixture, WithAStoreBarrierTheRefillSeesTheNewTable) {
  unmap_racing_a_refill(*this, true);
  EXPECT_TRUE(machine.violations().empty()) << machine.violations().front().message;
}

TEST_F(MachineFixture, FreeingATableStillInAWalkCacheIsAUseAfterFree) {
  // Known bug 7: leaf-only TLBIs spare the walk cache, the table is freed.
  map(1);
  (void)read(1, kVa);
  unmap(kVa, kPage, LeafOnlyPolicy{});
  EXPECT_GT(machine.counters().tlbi_broadcast, 0u) << "the leaf-only TLBIs ran";
  bool found = false;
  for (const Violation& v : machine.violations()) {
    if (v.kind != ViolationKind::use_after_free) continue;
    found = true;
    ASSERT_TRUE(v.stale.has_value());
    EXPECT_EQ(v.stale->kind, CachedKind::walk);
  }
  EXPECT_TRUE(found);
}

TEST_F(MachineFixture, ThePlannerFreesTheTableOnlyAfterTheWalkCacheIsClean) {
  map(1);
  (void)read(1, kVa);
  unmap(kVa, kPage, planner);
  EXPECT_TRUE(machine.violations().empty()) << machine.violations().front().message;
  EXPECT_GT(memory.counters().frees, 0u) << "the unmap did free its emptied table";
}

// A policy that can build no plan at all, not even the space-wide one.
class PlanlessPolicy final : public maint::Policy {
 public:
  Status plan(const maint::Pending&, const maint::AddressSpace&, const arch::CpuFeatures&, Plan&) const override {
    return Error{Errc::out_of_range, "test policy: no plan fits"};
  }
};

TEST_F(MachineFixture, AGatherWhosePolicyCannotPlanFreesNothingAWalkCacheStillReaches) {
  map(2);
  (void)read(1, kVa);  // PE 1 caches the walk down to the last-level table
  const std::uint64_t frees_before = memory.counters().frees;
  const PlanlessPolicy planless;
  Status finished;
  machine.begin_operation(0, "unmap the table's last pages");
  {
    maint::Gather gather(space, features, planless, machine.executor(0), memory, &machine);
    ASSERT_TRUE(table.unmap(kVa, 2 * kPage, gather).ok());
    ASSERT_TRUE(gather.free_after_flush(kData, 2 * kPage).ok());
    finished = gather.finish();
  }
  machine.end_operation();
  for (const Violation& v : machine.violations()) {
    EXPECT_NE(v.kind, ViolationKind::use_after_free) << v.message;
  }
  EXPECT_EQ(memory.counters().frees, frees_before) << "the emptied table was freed without its invalidation";
  EXPECT_EQ(machine.counters().plans, 0u) << "no plan ran";
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.error().code, Errc::out_of_range);
}

TEST_F(MachineFixture, APolicyThatClaimsSuccessWithoutPlanningLetsTheCheckerSeeTheFreedTable) {
  // The contrast: the same batch freed after an empty "successful" plan.
  map(2);
  (void)read(1, kVa);
  unmap(kVa, 2 * kPage, forgetful);
  bool walk_entry_into_freed_table = false;
  for (const Violation& v : machine.violations()) {
    if (v.kind == ViolationKind::use_after_free && v.pe == 1 && v.stale && v.stale->kind == CachedKind::walk) {
      walk_entry_into_freed_table = true;
    }
  }
  EXPECT_TRUE(walk_entry_into_freed_table);
}

TEST_F(MachineFixture, ReleasingADataPageStillTranslatedIsAUseAfterFree) {
  map(2);
  (void)read(1, kVa);
  unmap(kVa, kPage, forgetful, nullptr, maint::PhysRange{kData, kPage});  // and free the data page
  ASSERT_EQ(machine.violations().size(), 1u);
  EXPECT_EQ(machine.violations().front().kind, ViolationKind::use_after_free);
  EXPECT_EQ(machine.violations().front().pe, 1u);
  EXPECT_EQ(machine.violations().front().stale->output, kData);
}

TEST_F(MachineFixture, ReleasingADataPageAfterThePlannersFlushIsClean) {
  map(1);
  (void)read(1, kVa);
  unmap(kVa, kPage, planner, nullptr, maint::PhysRange{kData, kPage});  // and free the data page
  EXPECT_TRUE(machine.violations().empty()) << machine.violations().front().message;
}

// Writes `value` into the level-2 slot of kVa directly (a broken editor).
void write_level2_slot(MachineFixture& f, Descriptor value) {
  // Level-1 table entry -> level-2 table; slot index of kVa at level 2.
  const arch::Geometry g = geometry39();
  const Descriptor* root = f.memory.peek(f.table.root());
  const PhysAddr l2 = arch::output_address(root[g.index(kVa, 1)]);
  f.memory.descriptors(l2)[g.index(kVa, 2)] = value;
}

TEST_F(MachineFixture, ReplacingACachedTableEntryWithABlockInPlaceBreaksBbm) {
  // Known bug 14: a live table entry replaced by a block without BBM.
  map(1);
  (void)read(1, kVa);
  machine.begin_operation(0, "collapse without BBM");
  const Descriptor block = arch::make_leaf_descriptor(kData, *arch::s1::encode(el1_rw()), 2);
  write_level2_slot(*this, block);
  (void)machine.access(0, kVa, AccessKind::read);  // any sync point
  machine.end_operation();
  ASSERT_FALSE(machine.violations().empty());
  EXPECT_EQ(machine.violations().front().kind, ViolationKind::break_before_make);
  ASSERT_TRUE(machine.violations().front().stale.has_value());
  EXPECT_EQ(machine.violations().front().stale->kind, CachedKind::walk);
}

TEST(MachineBbm, FeatBbmLevel2AllowsASizeOnlyChange) {
  PhysicalMemory memory;
  MachineOptions options{2, arch::BbmLevel::level2};
  Machine machine(memory, *find_profile("mobile-8"), options);
  pt::Table table = make_stage1_table(memory);
  PeContext ctx;
  ctx.asid = kAsid;
  ctx.stage1 = geometry39();
  ctx.stage1_root = table.root();
  ASSERT_TRUE(machine.set_context(1, ctx).ok());
  maint::AddressSpace space;
  space.asid = kAsid;
  const maint::Planner planner;
  {
    maint::Gather gather(space, {}, planner, machine.executor(0), memory, &machine);
    ASSERT_TRUE(table.map(kVa, kData, kPage, el1_rw(), gather).ok());
  }
  ASSERT_TRUE(machine.access(1, kVa, AccessKind::read).ok());
  const arch::Geometry g = geometry39();
  const PhysAddr l2 = arch::output_address(memory.peek(table.root())[g.index(kVa, 1)]);
  memory.descriptors(l2)[g.index(kVa, 2)] = arch::make_leaf_descriptor(kData, *arch::s1::encode(el1_rw()), 2);
  ASSERT_TRUE(machine.access(1, kVa + 0x1000, AccessKind::read).ok());
  for (const Violation& v : machine.violations()) EXPECT_NE(v.kind, ViolationKind::break_before_make);
}

TEST_F(MachineFixture, AnAsidWideFlushCountsTheRefillsOfUntouchedPagesAsCollateral) {
  map(2);
  (void)read(1, kVa);
  (void)read(1, kVa + kPage);
  machine.begin_operation(0, "flush the ASID");
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ishst)).ok());
  ASSERT_TRUE(machine.issue(0, *arch::encode_asid(Instr::aside1is, arch::Asid{kAsid})).ok());
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ish)).ok());
  machine.end_operation();
  (void)read(1, kVa);
  (void)read(1, kVa + kPage);
  EXPECT_EQ(machine.counters().refills_collateral, 2u);
  EXPECT_EQ(machine.counters().refills_needed, 0u);
  EXPECT_EQ(machine.counters().dsb_broadcast_waits, 1u);
  // One broadcast TLBI (500) + DSB ISHST (20) + DSB waiting on 2 PEs (500 + 2 * 60).
  EXPECT_EQ(machine.counters().maintenance_cycles, 500u + 20u + 620u);
}

TEST(MachineProfiles, TheErratumProfileRepeatsEveryBroadcastTlbiAndItsDsb) {
  PhysicalMemory memory;
  Machine machine(memory, *find_profile("erratum-repeat-tlbi"), MachineOptions{2});
  ASSERT_TRUE(machine.issue(0, *arch::encode_asid(Instr::aside1is, arch::Asid{kAsid})).ok());
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ish)).ok());
  EXPECT_EQ(machine.counters().tlbi_broadcast, 2u);
  EXPECT_EQ(machine.counters().maintenance_cycles, 2u * 500u + 2u * 620u);
}

TEST(MachineProfiles, TheShimProfilePaysARoundTripPerPlan) {
  PhysicalMemory memory;
  Machine machine(memory, *find_profile("hvf-shim"), MachineOptions{2});
  Plan plan;
  ASSERT_TRUE(plan.append(op(Instr::isb)).ok());
  ASSERT_TRUE(machine.execute(0, plan).ok());
  EXPECT_EQ(machine.counters().maintenance_cycles, 5000u + 20u);
  EXPECT_EQ(machine.counters().plans, 1u);
}

// Four broadcast TLBIs between a DSB ISHST and a DSB ISH, run twice.
Plan four_tlbis_between_two_dsbs() {
  Plan plan;
  EXPECT_TRUE(plan.append(op(Instr::dsb_ishst)).ok());
  EXPECT_TRUE(plan.append_repeated(*arch::encode_asid(Instr::aside1is, arch::Asid{kAsid}), 4, 0).ok());
  EXPECT_TRUE(plan.append(op(Instr::dsb_ish)).ok());
  return plan;
}

TEST(MachineDropInjection, EveryThirdTlbiCountsAcrossPlansAndIsLeftOut) {
  PhysicalMemory memory;
  MachineOptions options{2};
  options.drop = DropInjection{DropInjection::Kind::tlbi, 3};
  Machine machine(memory, *find_profile("mobile-8"), options);
  const Plan plan = four_tlbis_between_two_dsbs();
  ASSERT_TRUE(machine.execute(0, plan).ok());
  ASSERT_TRUE(machine.execute(0, plan).ok());
  // TLBIs 1..8: the 3rd and the 6th are dropped; barriers all run.
  EXPECT_EQ(machine.counters().dropped_ops, 2u);
  EXPECT_EQ(machine.counters().tlbi_broadcast, 6u);
  EXPECT_EQ(machine.counters().dsb, 4u);
}

TEST(MachineDropInjection, DroppingDsbsSparesTheTlbisAndSingleIssuedOps) {
  PhysicalMemory memory;
  MachineOptions options{2};
  options.drop = DropInjection{DropInjection::Kind::dsb, 1};
  Machine machine(memory, *find_profile("mobile-8"), options);
  ASSERT_TRUE(machine.execute(0, four_tlbis_between_two_dsbs()).ok());
  EXPECT_EQ(machine.counters().dropped_ops, 2u);
  EXPECT_EQ(machine.counters().dsb, 0u);
  EXPECT_EQ(machine.counters().tlbi_broadcast, 4u);
  ASSERT_TRUE(machine.issue(0, op(Instr::dsb_ish)).ok());  // not a plan: runs
  EXPECT_EQ(machine.counters().dsb, 1u);
}

TEST(MachineDropInjection, ADroppedTlbiOfThePlannersUnmapIsCaughtAsAStaleTranslation) {
  test::Stage1Setup setup;
  setup.options.drop = DropInjection{DropInjection::Kind::tlbi, 1};
  test::Stage1Machine dropping(setup);
  dropping.map(2);
  (void)dropping.read(1, kVa);
  dropping.unmap(kVa, kPage, dropping.planner);
  EXPECT_EQ(dropping.read(1, kVa).outcome, AccessOutcome::ok) << "the stale entry still translates";
  ASSERT_FALSE(dropping.machine.violations().empty());
  EXPECT_EQ(dropping.machine.violations().front().kind, ViolationKind::stale_translation);
  EXPECT_GE(dropping.machine.counters().dropped_ops, 1u);
}

// Execution::bound: the cache-aware lower bound.
TEST(MachineBound, OnlyThePeHoldingTheStaleEntryRemovesItLocallyAndKeepsTheRest) {
  test::Stage1Setup setup;
  setup.options.execution = Execution::bound;
  test::Stage1Machine m(setup);
  m.map(2);  // kVa and kVa + 4 KiB
  (void)m.read(1, kVa);
  (void)m.read(1, kVa + kPage);
  const SimCounters before = m.machine.counters();
  m.unmap(kVa, kPage, m.planner);
  const SimCounters& after = m.machine.counters();
  // The planner's plan had broadcast TLBIs; instead: PE 0's DSB ISHST
  // (its writes must be seen), then PE 1 alone (it held the page) one
  // local TLBI and one DSB. PE 0 held nothing stale and did nothing.
  EXPECT_EQ(after.tlbi_broadcast - before.tlbi_broadcast, 0u);
  EXPECT_EQ(after.tlbi_local - before.tlbi_local, 1u);
  EXPECT_EQ(after.dsb - before.dsb, 2u);
  EXPECT_EQ(m.read(1, kVa).outcome, AccessOutcome::translation_fault) << "the stale entry is gone";
  EXPECT_EQ(m.read(1, kVa + kPage).served_by, ServedBy::l1) << "the neighbour's entry was kept";
  EXPECT_TRUE(m.machine.violations().empty()) << m.machine.violations().front().message;
}

TEST(MachineBound, AnEmptiedTableLeavesNoWalkEntryToTheFreedPages) {
  test::Stage1Setup setup;
  setup.options.execution = Execution::bound;
  test::Stage1Machine m(setup);
  m.map(1);
  (void)m.read(1, kVa);  // leaf and walk entries on PE 1
  // The only page: the unmap empties and retires the tables below the
  // root; freed after the bound's removal, with no walk entry left to them.
  m.unmap(kVa, kPage, m.planner);
  EXPECT_EQ(m.read(1, kVa).outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(m.machine.violations().empty()) << m.machine.violations().front().message;
}

// Whether `pe` holds a leaf for `va` tagged with `asid`.
bool holds_leaf(const Machine& machine, unsigned pe, VirtAddr va, std::uint16_t asid) {
  const std::vector<TlbEntry> held = machine.entries(pe);
  return std::any_of(held.begin(), held.end(), [&](const TlbEntry& e) {
    return e.kind == CachedKind::leaf && e.asid == asid && va - e.input < e.size;
  });
}

// Puts `pe` in ASID `asid` of the space rooted at `root`.
void enter_asid(Machine& machine, unsigned pe, PhysAddr root, std::uint16_t asid) {
  PeContext ctx;
  ctx.asid = asid;
  ctx.stage1 = geometry39();
  ctx.stage1_root = root;
  ASSERT_TRUE(machine.set_context(pe, ctx).ok());
}

// The bound removes what checker 1 would flag and nothing the tables let
// linger. PE 1 holds (a) kVa read-only in ASID 5, which PE 0 then relaxes
// to read/write (the stale entry is stricter: a spurious fault at worst,
// which correct policies may leave), and (b) kVa in ASID 6 to kData + 16
// pages, whose ASID is then reused, unflushed, for a space mapping kVa to
// kData + 32 pages (another output). At a broadcast plan, (b) goes, (a)
// stays.
TEST(MachineBound, AStricterEntryAfterARelaxStaysAndAnEntryToAnotherOutputGoes) {
  test::Stage1Setup setup;
  setup.options.execution = Execution::bound;
  test::Stage1Machine m(setup);
  arch::s1::Attributes read_only = el1_rw();
  read_only.access = arch::s1::Access::el1_ro;
  m.map(kVa, kData, kPage, read_only);
  pt::Table first = make_stage1_table(m.memory);
  pt::Table reused = make_stage1_table(m.memory);
  m.machine.begin_operation(0, "map the ASID-6 spaces");
  for (auto [table, offset] : {std::pair{&first, 16 * kPage}, std::pair{&reused, 32 * kPage}}) {
    maint::Gather gather(m.space, m.features, m.forgetful, m.machine.executor(0), m.memory, &m.machine);
    ASSERT_TRUE(table->map(kVa, kData + offset, kPage, el1_rw(), gather).ok());
  }
  m.machine.end_operation();
  enter_asid(m.machine, 1, first.root(), 6);
  EXPECT_EQ(m.read(1, kVa).pa, kData + 16 * kPage);
  enter_asid(m.machine, 1, reused.root(), 6);  // nothing invalidated
  enter_asid(m.machine, 1, m.table.root(), kAsid);
  EXPECT_EQ(m.read(1, kVa).pa, kData);
  m.machine.begin_operation(0, "relax");
  {
    maint::Gather gather(m.space, m.features, m.forgetful, m.machine.executor(0), m.memory, &m.machine);
    ASSERT_TRUE(m.table.protect(kVa, kPage, pt::AttributeChange::to(el1_rw()), gather).ok());
  }
  Plan broadcast;  // of an unrelated ASID: the bound replaces it
  ASSERT_TRUE(broadcast.append(*arch::encode_asid(Instr::aside1is, arch::Asid{7})).ok());
  ASSERT_TRUE(broadcast.append(op(Instr::dsb_ish)).ok());
  ASSERT_TRUE(m.machine.execute(0, broadcast).ok());
  m.machine.end_operation();
  EXPECT_TRUE(holds_leaf(m.machine, 1, kVa, kAsid)) << "the stricter entry stays";
  EXPECT_FALSE(holds_leaf(m.machine, 1, kVa, 6)) << "the entry to another output goes";
  EXPECT_EQ(m.read(1, kVa).served_by, ServedBy::l1);
  enter_asid(m.machine, 1, reused.root(), 6);
  EXPECT_EQ(m.read(1, kVa).pa, kData + 32 * kPage);
  EXPECT_TRUE(no_violation(m.machine));
}

TEST(MachineProfiles, EveryNamedProfileExists) {
  for (const char* name : {"mobile-8", "server-64", "hvf-shim", "erratum-repeat-tlbi"}) {
    ASSERT_NE(find_profile(name), nullptr) << name;
  }
  EXPECT_EQ(find_profile("mobile-9"), nullptr);
  EXPECT_EQ(find_profile("server-64")->pes, 64u);
  EXPECT_GT(find_profile("server-64")->dsb_broadcast(64), find_profile("mobile-8")->dsb_broadcast(8));
}

TEST_F(MachineFixture, BadCallsAreRefusedAndChangeNothing) {
  EXPECT_EQ(machine.access(2, kVa, AccessKind::read).error().code, Errc::out_of_range);
  EXPECT_EQ(machine.access(0, std::uint64_t{1} << 39, AccessKind::read).error().code, Errc::out_of_range);
  EXPECT_EQ(machine.issue(7, op(Instr::isb)).error().code, Errc::out_of_range);
  PeContext none;
  EXPECT_EQ(machine.set_context(0, none).error().code, Errc::invalid_argument);
  PeContext wrong;
  wrong.stage1 = *arch::Geometry::stage2(arch::Granule::k4K, 40, 1);
  EXPECT_EQ(machine.set_context(0, wrong).error().code, Errc::invalid_argument);
  // Two stages whose stage-2 root (0 here) is no table page of the
  // simulated memory: a walk there would be an external abort, not modelled.
  PeContext both;
  both.stage1 = geometry39();
  both.stage2 = *arch::Geometry::stage2(arch::Granule::k4K, 40, 1);
  EXPECT_EQ(machine.set_context(0, both).error().code, Errc::unsupported);
  EXPECT_EQ(machine.counters(), SimCounters{});
  EXPECT_EQ(machine.events(), 0u);
  PhysicalMemory other;
  Machine fresh(other, *find_profile("mobile-8"), MachineOptions{1});
  EXPECT_EQ(fresh.access(0, 0, AccessKind::read).error().code, Errc::invalid_argument);
}

// The same calls twice give the same counters and violations.
TEST(MachineDeterminism, EqualRunsGiveEqualResults) {
  auto run = [] {
    PhysicalMemory memory;
    Machine machine(memory, *find_profile("server-64"), MachineOptions{4});
    pt::Table table = make_stage1_table(memory);
    maint::AddressSpace space;
    space.asid = kAsid;
    const maint::Planner planner;
    for (unsigned pe = 0; pe < 4; ++pe) enter_stage1(machine, pe, table.root());
    {
      maint::Gather gather(space, {}, planner, machine.executor(0), memory, &machine);
      EXPECT_TRUE(table.map(kVa, kData, 64 * kPage, el1_rw(), gather).ok());
    }
    for (unsigned i = 0; i < 256; ++i) (void)machine.access(i % 4, kVa + (i * 7 % 64) * kPage, AccessKind::read);
    machine.begin_operation(1, "unmap");
    {
      const ForgetfulPolicy forgetful;
      maint::Gather gather(space, {}, forgetful, machine.executor(1), memory, &machine);
      EXPECT_TRUE(table.unmap(kVa, 8 * kPage, gather).ok());
    }
    machine.end_operation();
    for (unsigned i = 0; i < 64; ++i) (void)machine.access(i % 4, kVa + (i % 16) * kPage, AccessKind::read);
    std::vector<std::string> messages;
    for (const Violation& v : machine.violations()) messages.push_back(v.message);
    return std::make_pair(machine.counters(), messages);
  };
  const auto a = run();
  const auto b = run();
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_FALSE(a.second.empty());
}

}  // namespace
}  // namespace tlbkit::sim
