// The exact plans of built-in scenarios, derived by hand from
// docs/ARCHITECTURE-FACTS.md section 1 (by-VA operand = ASID << 48 | TTL << 44 | VA >> 12; by-IPA
// operand = IPA >> 12; TTL = granule 0b01 (4K) << 2 | level) and from the
// simple policy's documented plan shape:
//   DSB ISHST; TLBIs; [stage 2: DSB ISH; TLBI VMALLE1IS]; DSB ISH;
//   [execute gained: IC IALLUIS; DSB ISH; ISB]
// with leaf forms and one op per leaf entry when only leaves changed, and
// the ASID / VMID / regime-wide op past 32 ops.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tlbkit/text/ops_text.hpp"
#include "tlbkit/maint/simple_policy.hpp"
#include "tlbkit/workload/runner.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::arch {
// gtest prints ops as assembler.
void PrintTo(const Op& op, std::ostream* os) { *os << text::to_asm(op); }
}  // namespace tlbkit::arch

namespace tlbkit::workload {
namespace {

using arch::Instr;
using arch::Op;
using Ops = std::vector<Op>;

constexpr Op kDsbIshst{Instr::dsb_ishst, 0};
constexpr Op kDsbIsh{Instr::dsb_ish, 0};
constexpr Op kIsb{Instr::isb, 0};
constexpr Op kIcIalluis{Instr::ic_ialluis, 0};
constexpr Op kVmalle1is{Instr::vmalle1is, 0};

arch::CpuFeatures no_features() { return arch::CpuFeatures{}; }

arch::CpuFeatures with_ttl() {
  arch::CpuFeatures f;
  f.ttl = arch::Presence::present;
  return f;
}

arch::CpuFeatures with_bbm2() {
  arch::CpuFeatures f;
  f.bbm = arch::BbmLevel::level2;
  return f;
}

ScenarioResult run(const std::string& name, arch::CpuFeatures features = no_features(),
                   unsigned threshold = maint::SimplePolicy::kDefaultThreshold) {
  const std::optional<Scenario> s = find_builtin(name);
  EXPECT_TRUE(s.has_value()) << name;
  const maint::SimplePolicy policy(threshold);
  RunOptions options;
  options.features = features;
  ScenarioResult r = run_scenario(s.value_or(Scenario{}), policy, options);
  for (const std::string& p : r.problems) ADD_FAILURE() << name << ": " << p;
  return r;
}

// The one plan a batch executed.
const ExecutedPlan& only_plan(const ScenarioResult& r, std::size_t batch) {
  static const ExecutedPlan kNone{};
  if (batch >= r.batches.size() || r.batches[batch].plans.size() != 1) {
    ADD_FAILURE() << "batch " << batch + 1 << " did not execute exactly one plan";
    return kNone;
  }
  return r.batches[batch].plans[0];
}

// DSB ISHST; `tlbis`; DSB ISH.
Ops fenced(const Ops& tlbis) {
  Ops ops{kDsbIshst};
  ops.insert(ops.end(), tlbis.begin(), tlbis.end());
  ops.push_back(kDsbIsh);
  return ops;
}

// VALE1IS of `pages` consecutive pages from `va` in `asid`, no TTL.
Ops vale1is_pages(std::uint64_t asid, std::uint64_t va, unsigned pages) {
  Ops ops;
  for (unsigned i = 0; i < pages; ++i) ops.push_back(Op{Instr::vale1is, asid << 48 | ((va >> 12) + i)});
  return ops;
}

// ---- madvise-dontneed-page (EL1, ASID 5) --------------------------------------

TEST(MadviseDontneedPage, OnePageUnmapIsOneLeafTlbiOfThatPageInItsAsid) {
  const ScenarioResult r = run("madvise-dontneed-page");
  const ExecutedPlan& plan = only_plan(r, 1);
  EXPECT_EQ(plan.trigger, Trigger::batch_end);
  EXPECT_EQ(plan.ops(), fenced({Op{Instr::vale1is, 0x0005'0000'0001'0000}}));
  const Counters& c = r.batches[1].counters;
  EXPECT_EQ(c.changes, 1u);
  EXPECT_EQ(c.tlbi_per_va, 1u);
  EXPECT_EQ(c.broadcast, 1u);
  EXPECT_EQ(c.dsb, 2u);
  EXPECT_EQ(c.isb, 0u);
  EXPECT_EQ(c.immediate_plans, 0u);
  EXPECT_EQ(c.tables_freed, 0u);  // the PTE table still maps the other 127 pages
}

TEST(MadviseDontneedPage, WithFeatTtlTheOperandCarriesGranule4KLevel3) {
  const ScenarioResult r = run("madvise-dontneed-page", with_ttl());
  // TTL 0b0111 in bits 47:44.
  EXPECT_EQ(only_plan(r, 1).ops(), fenced({Op{Instr::vale1is, 0x0005'7000'0001'0000}}));
}

TEST(MadviseDontneedPage, ThirtyFourScatteredPagesInOneBatchGoAsidWide) {
  const ScenarioResult r = run("madvise-dontneed-page");
  EXPECT_EQ(only_plan(r, 2).ops(), fenced({Op{Instr::aside1is, 0x0005'0000'0000'0000}}));
  const Counters& c = r.batches[2].counters;
  EXPECT_EQ(c.changes, 34u);  // one per page: none of them adjacent
  EXPECT_EQ(c.tlbi_per_va, 0u);
  EXPECT_EQ(c.tlbi_context, 1u);
  EXPECT_EQ(c.plans, 1u);
}

// ---- relro-mprotect (EL1, ASID 0x21) -------------------------------------------

TEST(RelroMprotect, MappingTheTextSegmentOnlyInvalidatesTheICache) {
  const ScenarioResult r = run("relro-mprotect");
  EXPECT_EQ(only_plan(r, 0).ops(), (Ops{kIcIalluis, kDsbIsh, kIsb}));
  const Counters& c = r.batches[0].counters;
  EXPECT_EQ(c.tlbis(), 0u);
  EXPECT_EQ(c.icache, 1u);
  EXPECT_EQ(c.isb, 1u);
}

TEST(RelroMprotect, ReadOnlyRelroIsOneLeafTlbiPerPage) {
  const ScenarioResult r = run("relro-mprotect");
  EXPECT_EQ(only_plan(r, 1).ops(), fenced({Op{Instr::vale1is, 0x0021'0000'0000'0410},
                                         Op{Instr::vale1is, 0x0021'0000'0000'0411},
                                         Op{Instr::vale1is, 0x0021'0000'0000'0412}}));
  ASSERT_EQ(r.batches[1].changes.size(), 1u);
  EXPECT_EQ(r.batches[1].changes[0].change.kind, arch::ChangeKind::restrict);
  EXPECT_EQ(r.totals.tlbi_per_va, 3u);
  EXPECT_EQ(r.totals.plans, 2u);
}

// ---- munmap-threshold-edge (EL1, ASID 0x30) ------------------------------------

TEST(MunmapThresholdEdge, ThirtyTwoPagesStayPerPage) {
  const ScenarioResult r = run("munmap-threshold-edge");
  EXPECT_EQ(only_plan(r, 1).ops(), fenced(vale1is_pages(0x30, 0x2000'0000, 32)));
  EXPECT_EQ(r.batches[1].counters.tlbi_per_va, 32u);
  EXPECT_EQ(r.batches[1].counters.broadcast, 32u);
}

TEST(MunmapThresholdEdge, ThirtyThreePagesGoAsidWide) {
  const ScenarioResult r = run("munmap-threshold-edge");
  EXPECT_EQ(only_plan(r, 2).ops(), fenced({Op{Instr::aside1is, 0x0030'0000'0000'0000}}));
}

TEST(MunmapThresholdEdge, AThresholdOf33KeepsThirtyThreePagesPerPage) {
  const ScenarioResult r = run("munmap-threshold-edge", no_features(), 33);
  EXPECT_EQ(only_plan(r, 2).ops(), fenced(vale1is_pages(0x30, 0x2002'0000, 33)));
}

// ---- munmap-2m-4k-pages: a freed PTE table -------------------------------------

TEST(Munmap2mIn4kPages, UnhookedPteTableNeedsNonLeafCoverageSoTheAsidGoesAndTheTableIsFreed) {
  const ScenarioResult r = run("munmap-2m-4k-pages");
  const BatchResult& b = r.batches[1];
  ASSERT_EQ(b.changes.size(), 1u);
  EXPECT_EQ(b.changes[0].change.entry, pt::EntryKind::table);
  EXPECT_EQ(b.changes[0].change.level, 2u);
  EXPECT_EQ(b.changes[0].change.size, 0x20'0000u);
  EXPECT_EQ(only_plan(r, 1).ops(), fenced({Op{Instr::aside1is, 0x0031'0000'0000'0000}}));
  EXPECT_EQ(b.tables_retired, 1u);
  EXPECT_EQ(b.counters.tables_freed, 1u);
  // Five table pages in all (root, L1, L2, the region's and the stack's L3
  // tables): one freed by the munmap, the other four by the release.
  EXPECT_EQ(r.memory.allocated_pages, 5u);
  EXPECT_EQ(r.teardown.pages_freed, 4u);
}

// ---- thp-split-mprotect: break-before-make of a block ----------------------------

TEST(ThpSplitMprotect, TheBlockIsInvalidatedInsideTheStepWithOneLeafTlbi) {
  const ScenarioResult r = run("thp-split-mprotect");
  const ExecutedPlan& plan = only_plan(r, 1);
  EXPECT_EQ(plan.trigger, Trigger::break_before_make);
  EXPECT_EQ(plan.step, std::optional<std::size_t>{0});
  // One op at the block's first page retires the whole 2 MiB block.
  EXPECT_EQ(plan.ops(), fenced({Op{Instr::vale1is, 0x0040'0000'0004'0000}}));
  const Counters& c = r.batches[1].counters;
  EXPECT_EQ(c.immediate_plans, 1u);
  EXPECT_EQ(c.plans, 1u);  // the new PTEs are maps: nothing is left for the batch end
}

TEST(ThpSplitMprotect, WithFeatTtlTheBreakNamesTheBlockLevel) {
  const ScenarioResult r = run("thp-split-mprotect", with_ttl());
  // TTL 0b0110: 4K granule, level 2.
  EXPECT_EQ(only_plan(r, 1).ops(), fenced({Op{Instr::vale1is, 0x0040'6000'0004'0000}}));
}

TEST(ThpSplitMprotect, BbmLevel2DoesNotSkipTheBreakWhenThePermissionOfAPageChanges) {
  const ScenarioResult r = run("thp-split-mprotect", with_bbm2());
  EXPECT_EQ(only_plan(r, 1).trigger, Trigger::break_before_make);
}

// ---- khugepaged-collapse: promotion -------------------------------------------

TEST(KhugepagedCollapse, TableToBlockBreakCoversEveryPageSoTheAsidGoesThenTheTableIsFreed) {
  const ScenarioResult r = run("khugepaged-collapse");
  const ExecutedPlan& plan = only_plan(r, 1);
  EXPECT_EQ(plan.trigger, Trigger::break_before_make);
  EXPECT_EQ(plan.ops(), fenced({Op{Instr::aside1is, 0x0041'0000'0000'0000}}));
  EXPECT_EQ(r.batches[1].counters.tables_freed, 1u);
  EXPECT_EQ(r.batches[1].counters.immediate_plans, 1u);
}

TEST(KhugepagedCollapse, BbmLevel2DefersTheSameInvalidationToTheBatchEnd) {
  const ScenarioResult r = run("khugepaged-collapse", with_bbm2());
  const ExecutedPlan& plan = only_plan(r, 1);
  EXPECT_EQ(plan.trigger, Trigger::batch_end);
  EXPECT_EQ(plan.ops(), fenced({Op{Instr::aside1is, 0x0041'0000'0000'0000}}));
  EXPECT_EQ(r.batches[1].counters.tables_freed, 1u);
}

// ---- fork-cow-wrprotect: one batch across three VMAs ---------------------------

TEST(ForkCowWrprotect, ThreeVmasShareOnePlanWithOneOpForTheBlockAndOnePerPage) {
  const ScenarioResult r = run("fork-cow-wrprotect");
  Ops tlbis{Op{Instr::vale1is, 0x0050'0000'0005'5600}};
  for (const Op& op : vale1is_pages(0x50, 0x5580'0000, 16)) tlbis.push_back(op);
  for (const Op& op : vale1is_pages(0x50, 0x7ff0'0000, 8)) tlbis.push_back(op);
  EXPECT_EQ(only_plan(r, 1).ops(), fenced(tlbis));
  EXPECT_EQ(r.batches[1].counters.tlbi_per_va, 25u);
  EXPECT_EQ(r.batches[1].counters.changes, 3u);
}

// ---- jit-w-xor-x: execute gained ------------------------------------------------

TEST(JitWXorX, RwToRxInvalidatesEachPageThenTheICache) {
  const ScenarioResult r = run("jit-w-xor-x");
  Ops expected = fenced(vale1is_pages(0x2a, 0x7000'0000, 4));
  expected.insert(expected.end(), {kIcIalluis, kDsbIsh, kIsb});
  EXPECT_EQ(only_plan(r, 1).ops(), expected);
  const Counters& c = r.batches[1].counters;
  EXPECT_EQ(c.tlbi_per_va, 4u);
  EXPECT_EQ(c.broadcast, 4u);  // the TLBIs; IC IALLUIS counts as an I-cache op
  EXPECT_EQ(c.dsb, 3u);
  EXPECT_EQ(c.isb, 1u);
  EXPECT_EQ(c.icache, 1u);
}

// ---- unikernel-global-39bit: global entries --------------------------------------

TEST(UnikernelGlobal39bit, GlobalEntriesNeedVmalle1isNotAside1is) {
  const ScenarioResult r = run("unikernel-global-39bit");
  EXPECT_EQ(only_plan(r, 1).ops(), fenced(vale1is_pages(0, 0x8000'0000, 32)));
  EXPECT_EQ(only_plan(r, 2).ops(), fenced({kVmalle1is}));
  EXPECT_EQ(r.batches[2].counters.tables_freed, 2u);  // the level 2 and level 3 tables
}

// ---- el2-memtype-bbm (EL2: no ASID) ------------------------------------------------

TEST(El2MemtypeBbm, MemoryTypeChangeIsABreakWithOneVale2is) {
  const ScenarioResult r = run("el2-memtype-bbm");
  const ExecutedPlan& plan = only_plan(r, 1);
  EXPECT_EQ(plan.trigger, Trigger::break_before_make);
  EXPECT_EQ(plan.ops(), fenced({Op{Instr::vale2is, 0x0000'0000'000c'0001}}));
}

TEST(El2MemtypeBbm, UnmapOf256PagesInvalidatesTheWholeEl2Regime) {
  const ScenarioResult r = run("el2-memtype-bbm");
  EXPECT_EQ(only_plan(r, 2).ops(), fenced({Op{Instr::alle2is, 0}}));
  EXPECT_EQ(r.batches[2].counters.tlbi_full, 1u);
  EXPECT_EQ(r.totals.immediate_plans, 1u);
  EXPECT_EQ(r.totals.tlbi_per_va, 1u);
  EXPECT_EQ(r.totals.tlbi_full, 1u);
  EXPECT_EQ(r.totals.dsb, 4u);
}

// ---- kvm-s2-unmap-block (stage 2, VMID 7) ---------------------------------------

// The TLBIs of a stage-2 unmap of the 2 MiB block at IPA 0x8000_0000.
const Ops kS2BlockTlbis{kDsbIshst, Op{Instr::ipas2le1is, 0x8'0000}, kDsbIsh, kVmalle1is, kDsbIsh};

TEST(KvmS2UnmapBlock, WithFwbBlockUnmapIsOneIpaOpThenVmalle1isForCombinedEntries) {
  arch::CpuFeatures fwb;
  fwb.fwb = arch::Presence::present;
  const ScenarioResult r = run("kvm-s2-unmap-block", fwb);
  EXPECT_EQ(only_plan(r, 1).ops(), kS2BlockTlbis);
  const Counters& c = r.batches[1].counters;
  EXPECT_EQ(c.tlbi_per_va, 1u);
  EXPECT_EQ(c.tlbi_context, 1u);
  EXPECT_EQ(c.broadcast, 2u);
  EXPECT_EQ(c.dsb, 3u);
  EXPECT_EQ(c.dcache, 0u);
}

TEST(KvmS2UnmapBlock, WithoutFwbTheCacheableBlockIsCleanedLineByLineAfterTheTlbis) {
  const ScenarioResult r = run("kvm-s2-unmap-block");
  // 2 MiB / 64-byte lines = 32768 DC CIVAC of the old output 0x4200_0000
  // (identity linear map), then DSB ISH.
  Ops expected = kS2BlockTlbis;
  for (std::uint64_t line = 0; line < 32768; ++line) expected.push_back(Op{Instr::dc_civac, 0x4200'0000 + line * 64});
  expected.push_back(kDsbIsh);
  EXPECT_EQ(only_plan(r, 1).ops(), expected);
  const Counters& c = r.batches[1].counters;
  EXPECT_EQ(c.dcache, 32768u);
  EXPECT_EQ(c.dsb, 4u);
}

// ---- kvm-dirty-log-eager-split (stage 2, VMID 3) ---------------------------------

TEST(KvmDirtyLogEagerSplit, EachBlockSplitIsItsOwnBreakBeforeMake) {
  const ScenarioResult r = run("kvm-dirty-log-eager-split");
  const BatchResult& b = r.batches[1];
  ASSERT_EQ(b.plans.size(), 2u);
  EXPECT_EQ(b.plans[0].ops(),
            (Ops{kDsbIshst, Op{Instr::ipas2le1is, 0x10'0000}, kDsbIsh, kVmalle1is, kDsbIsh}));
  EXPECT_EQ(b.plans[1].ops(),
            (Ops{kDsbIshst, Op{Instr::ipas2le1is, 0x10'0200}, kDsbIsh, kVmalle1is, kDsbIsh}));
  EXPECT_EQ(b.counters.immediate_plans, 2u);
}

TEST(KvmDirtyLogEagerSplit, WriteProtectOf1024PagesInvalidatesTheVmid) {
  const ScenarioResult r = run("kvm-dirty-log-eager-split");
  EXPECT_EQ(only_plan(r, 2).ops(), fenced({Op{Instr::vmalls12e1is, 0}}));
}

}  // namespace
}  // namespace tlbkit::workload
