// ZirconPolicy (tlbkit/baselines/zircon.hpp): Zircon arm64 at
// IntegralPilot/fuchsia@e04da11, one TEST per test vector of the research
// note (Z1..Z16), each citing the source lines it follows. Citations:
//   mmu.cc = zircon/kernel/arch/arm64/mmu.cc, mmu.h =
//   zircon/kernel/arch/arm64/include/arch/arm64/mmu.h (both at e04da11);
//   el2.S = zircon/kernel/arch/arm64/hypervisor/el2.S at misttech/mist-os@15d53de.
//
// Operands, hand-computed (docs/ARCHITECTURE-FACTS.md section 1; Zircon
// builds them as ((va >> 12) & TLBI_VADDR_MASK) | asid << 48, mmu.cc:873-875,
// and asid << 48 for ASIDE1IS, mmu.h:440-445; no TTL, never a range op):
//   user ASID 7:     7 << 48                 = 0x0007'0000'0000'0000
//   kVa 0x1000'0000: VA >> 12                = 0x10000
//     VALE1IS / VAE1IS operand               = 0x0007'0000'0001'0000
//     VAALE1IS / VAAE1IS (kernel, no ASID)   = 0x0000'0000'0001'0000
//   kBlockVa 0x4000'0000 (2 MiB aligned): VA >> 12 = 0x40000
//     VALE1IS operand                        = 0x0007'0000'0004'0000
//   kIpa 0x8000'0000: IPA >> 12 (el2.S:402)  = 0x80000
// A loop body repeated n times is a step group; its operands advance by
// one entry (VA >> 12 units: 1 per 4 KiB page) per repetition.
#include <gtest/gtest.h>

#include <vector>

#include "plan_steps.hpp"
#include "support/stage1_machine.hpp"
#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/baselines/zircon.hpp"
#include "tlbkit/sim/machine.hpp"

namespace tlbkit::baselines {
namespace {

using namespace test_support;

constexpr std::uint64_t kAsid7 = 0x0007'0000'0000'0000;
constexpr std::uint64_t kUserOp = kAsid7 | 0x10000;  // VALE1IS / VAE1IS at kVa, ASID 7

const ZirconPolicy kZircon;

// A user aspace: ASID 7.
AddressSpace user_aspace() {
  AddressSpace s;
  s.asid = 7;
  return s;
}
// Zircon's kernel aspace: the global ASID (1), global entries.
AddressSpace kernel_aspace() {
  AddressSpace s;
  s.asid = ZirconPolicy::kGlobalAsid;
  s.global = maint::GlobalEntries::present;
  return s;
}
AddressSpace guest_aspace(std::uint16_t vmid) {
  AddressSpace s;
  s.regime = arch::Regime::stage2;
  s.vmid = vmid;
  return s;
}

// The EL2 call el2_hvc_tlbi_ipa (el2.S:400-416) at `ipa_op`, terminal:
// DSB ISHST; TLBI IPAS2LE1IS; DSB ISH; TLBI VMALLE1IS; DSB ISH; ISB.
std::vector<Step> hvc_ipa(std::uint64_t ipa_op) {
  return {st(Instr::dsb_ishst), st(Instr::ipas2le1is, ipa_op), st(Instr::dsb_ish), st(Instr::vmalle1is),
          st(Instr::dsb_ish), st(Instr::isb)};
}

// ---- registry ----------------------------------------------------------------

TEST(ZirconModel, IsRegisteredUnderItsVersionWithTheOldNameAsAlias) {
  const PolicyEntry* e = find_policy("zircon");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(find_policy("zircon-e04da11"), e);
  EXPECT_EQ(e->name, "zircon-e04da11");
  EXPECT_EQ(e->system, "Zircon arm64");
  EXPECT_EQ(e->version, ZirconPolicy::kVersion);
  EXPECT_EQ(e->repository, ZirconPolicy::kRepository);
  EXPECT_EQ(e->contract, Contract::correct);
  EXPECT_TRUE(covers(e->manages, Manages::process_stage1 | Manages::kernel_stage1 | Manages::vm_stage2));
  EXPECT_EQ(e->sources.size(), 3u);
}

// ---- Z1..Z3: the 16-entry queue, user aspace -----------------------------------

// Z1: 15 pages (N-1). Unmap queues one terminal entry per page
// (mmu.cc:1026,1038); below the limit FlushEntry queues it (mmu.cc:554,572);
// Flush(): DSB ISHST (mmu.cc:590), 15 is not > 16 (mmu.cc:596), one
// FlushTLBEntry each in queue order (mmu.cc:606-610): VALE1IS (mmu.cc:873),
// each followed by ISB (ARM64_TLBI, mmu.h:434-438); DSB ISH (mmu.cc:615).
TEST(ZirconModel, Z1FifteenPagesArePerEntryEachWithItsIsb) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 15)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kUserOp), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              (std::vector<StepGroup>{grp(1, 2, 15, 1)}));
}

// Z2: 16 pages (N): 16 > 16 is false (mmu.cc:596): still per entry.
TEST(ZirconModel, Z2SixteenPagesArePerEntry) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 16)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kUserOp), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              (std::vector<StepGroup>{grp(1, 2, 16, 1)}));
}

// Z3: 17 pages (N+1): the 17th only counts (mmu.cc:554-562), 17 > 16
// (mmu.cc:596): FlushAsid (mmu.cc:603), TLBI ASIDE1IS, 7 << 48 (mmu.cc:908)
// and its ISB (ARM64_TLBI_ASID, mmu.h:440-445). The count spans the whole
// queue: two ranges of 10 and 7 pages are 17 entries too.
TEST(ZirconModel, Z3SeventeenEntriesGoAsidWide) {
  const std::vector<Step> wide{st(Instr::dsb_ishst), st(Instr::aside1is, kAsid7), st(Instr::isb),
                               st(Instr::dsb_ish)};
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 17)}), user_aspace()), wide, {});
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 10), leaf3(0x2000'0000, 7)}), user_aspace()), wide, {});
}

// ---- Z4: a freed page table -----------------------------------------------------

// Z4: unmapping the only page of an L3 table: the terminal entry
// (mmu.cc:1038), then, after the recursion, the emptied table's
// non-terminal entry at the unmap cursor (mmu.cc:1010-1019): VALE1IS, then
// VAE1IS (mmu.cc:873,875), each with its ISB. The table page is freed after
// Flush() and RCU (mmu.cc:507-529, 629, 792): in tlbkit the Gather frees it
// after the plan ran. The table record says every entry below it was
// reported (Beneath::reported): one entry per table, at the slot's base
// 0x1000'0000 (2 MiB aligned), where Zircon uses the cursor (any address
// of the slot removes the walk entry).
TEST(ZirconModel, Z4AFreedTableIsOneNonTerminalEntryAfterItsLeaves) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 1), table2(kVa, Beneath::reported)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kUserOp), st(Instr::isb),
                                 st(Instr::vae1is, kUserOp), st(Instr::isb), st(Instr::dsb_ish)}),
              {});
}

// A table that went whole, its entries not reported (Zircon never unmaps
// so: it visits every entry), counts as its 512 pages, non-terminal: more
// than 16, ASID-wide.
TEST(ZirconModel, AnUnseenTableCountsEveryPageUnderIt) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({table2(kVa, Beneath::unseen)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::aside1is, kAsid7), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              {});
}

// The freed-table sequence on the simulated two-PE machine: PE 1 caches
// both pages and the walk; Zircon's plan leaves nothing stale and the table
// is freed only after it.
TEST(ZirconModel, Z4OnTheSimulatedMachineLeavesNothingStale) {
  test::Stage1Machine rig(test::Stage1Setup{.pages = test::Pages::user});
  rig.map(2);
  (void)rig.read(1, test::kVa);
  (void)rig.read(1, test::kVa + kPage);
  rig.unmap(test::kVa, 2 * kPage, kZircon);
  EXPECT_EQ(rig.read(1, test::kVa).outcome, sim::AccessOutcome::translation_fault);
  EXPECT_EQ(rig.read(1, test::kVa + kPage).outcome, sim::AccessOutcome::translation_fault);
  EXPECT_TRUE(test::no_violation(rig.machine));
}

// ---- Z5, Z6: the kernel aspace -------------------------------------------------

// Z5: kernel aspace, 15 / 16 / 17 pages. The global ASID never goes wide: at
// the 17th entry FlushEntry calls Flush() first (mmu.cc:559,565), so a
// Flush() every 16 entries. Per entry VAALE1IS without ASID
// (FlushTLBEntryForAllAsids, mmu.cc:856,881-882), ISB each; Flush() ends
// with DSB ISH; ISB for the kernel (mmu.cc:615,619-621).
// 17 pages: 0x10000..0x1000F in the first Flush(), 0x10010 in the second.
TEST(ZirconModel, Z5KernelFlushesEverySixteenEntriesAndNeverGoesWide) {
  for (const std::uint32_t n : {15u, 16u}) {
    EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, n)}), kernel_aspace()),
                (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vaale1is, 0x10000), st(Instr::isb),
                                   st(Instr::dsb_ish), st(Instr::isb)}),
                (std::vector<StepGroup>{grp(1, 2, n, 1)}));
  }
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 17)}), kernel_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vaale1is, 0x10000), st(Instr::isb),
                                 st(Instr::dsb_ish), st(Instr::isb), st(Instr::dsb_ishst),
                                 st(Instr::vaale1is, 0x10010), st(Instr::isb), st(Instr::dsb_ish),
                                 st(Instr::isb)}),
              (std::vector<StepGroup>{grp(1, 2, 16, 1)}));
}

// When the kernel's per-16 flushes do not fit a Plan (a 2 MiB table whose
// entries were not reported: 512 entries, 32 flushes of 5 steps), the model
// falls back to DSB ISHST; VMALLE1IS; ISB; DSB ISH; ISB: tlbkit's, not
// Zircon's (its FlushAsid panics for the kernel, mmu.cc:911-915).
TEST(ZirconModel, KernelBatchTooBigForAPlanFallsBackToVmalle1is) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({table2(kVa, Beneath::unseen)}), kernel_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vmalle1is), st(Instr::isb),
                                 st(Instr::dsb_ish), st(Instr::isb)}),
              {});
}

// Z6: a kernel Map of new pages issues no TLBI (mmu.cc:1186,1189): MapEntry
// only adds DSB ISHST and a deferred ISB (mmu.cc:544-546, 581-588), barriers
// for the table write that a Pending (no range: nothing to invalidate)
// cannot ask for. Nothing to invalidate: no plan; exec gained: only the
// I-cache tail.
TEST(ZirconModel, Z6AMapIssuesNoTlbi) {
  maint::Pending map;
  EXPECT_PLAN(plan_of(kZircon, map, kernel_aspace()), {}, {});
  map.exec = maint::ExecGain::yes;
  EXPECT_PLAN(plan_of(kZircon, map, kernel_aspace()),
              (std::vector<Step>{st(Instr::ic_ialluis), st(Instr::dsb_ish), st(Instr::isb)}), {});
}

// ---- Z7, Z8, Z8b: protect, break-before-make, read-only replacement ----------------

// Z7: Protect of 3 pages RW -> RO rewrites each leaf in place and queues a
// terminal entry (mmu.cc:1251-1259); Flush() as Z1 (mmu.cc:590-615).
TEST(ZirconModel, Z7ProtectIsOneTerminalEntryPerPage) {
  maint::Pending p = pending_of({leaf3(kVa, 3)});
  p.call = maint::CallSpan{maint::CallKind::protect, kVa, kVa + 3 * kPage};
  std::vector<PendingRange> keep{leaf3(kVa, 3)};
  p.ranges = keep;
  EXPECT_PLAN(plan_of(kZircon, p, user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kUserOp), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              (std::vector<StepGroup>{grp(1, 2, 3, 1)}));
}

// Z8: break-before-make of one page (Map Upgrade to a new address, RW):
// INVALID, FlushEntry, Flush() at once (mmu.cc:1174-1183): one plan for the
// one entry, as tlbkit's engine asks it (ChangeSink::invalidate_now).
TEST(ZirconModel, Z8BreakBeforeMakeFlushesItsOneEntryAtOnce) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 1)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kUserOp), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              {});
}

// Z8b: with a read-only new entry Zircon overwrites the valid leaf with no
// TLBI at all (mmu.cc:1174 skipped, 1186). Whether a change is invalidated
// is the table code's decision, not a plan's: a policy asked about a
// replaced leaf cannot answer "nothing" and stay a Policy. The model
// invalidates it as Z8; the behaviour is not reproduced
// (docs/baselines/zircon.md).
TEST(ZirconModel, Z8bAReplacedLeafIsStillInvalidatedBecauseThePlanIsAsked) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kVa, 1)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kUserOp), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              {});
}

// ---- Z9, Z10: blocks ------------------------------------------------------------

// Z9: an aligned 2 MiB block is one terminal entry at its VA
// (mmu.cc:1026,1038): one VALE1IS, 0x0007'0000'0004'0000.
TEST(ZirconModel, Z9ABlockIsOneTerminalEntry) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({block2(kBlockVa)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kAsid7 | 0x40000),
                                 st(Instr::isb), st(Instr::dsb_ish)}),
              {});
}

// Z10: unmapping the first page of a block splits it (SplitLargePage,
// mmu.cc:801-852): the block's break-before-make is a terminal entry and an
// immediate Flush() (mmu.cc:831-840), then the unmap's page at the end.
// Two plans: the engine's invalidate_now for the block, then the call's.
// Zircon also queues a non-terminal entry for the new table descriptor
// (mmu.cc:849); tlbkit records a new table as a map (nothing to
// invalidate), so that VAE1IS is not in the model.
TEST(ZirconModel, Z10ASplitIsABreakBeforeMakeFlushThenTheUnmapsFlush) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({block2(kBlockVa)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kAsid7 | 0x40000),
                                 st(Instr::isb), st(Instr::dsb_ish)}),
              {});
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kBlockVa, 1)}), user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kAsid7 | 0x40000),
                                 st(Instr::isb), st(Instr::dsb_ish)}),
              {});
}

// ---- Z11, Z12: guest stage 2 -----------------------------------------------------

// Z11: guest VMID 5, 3 pages: per entry the HVC arm64_el2_tlbi_ipa
// (mmu.cc:886-887; el2.S:377-381, 400-416) between the EL1 Flush()'s DSB
// ISHST and DSB ISH (mmu.cc:590,615). The VTTBR_EL2 writes and their ISBs
// around each call (el2.S:161-169) are not Plan ops.
TEST(ZirconModel, Z11GuestEntriesAreOneEl2CallEach) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kIpa, 3)}), guest_aspace(5)),
              cat({{st(Instr::dsb_ishst)}, hvc_ipa(0x80000), {st(Instr::dsb_ish)}}),
              (std::vector<StepGroup>{grp(1, 6, 3, 1)}));
}

// Z12: 15 and 16 entries per entry; 17: FlushAsid -> arm64_el2_tlbi_vmid
// (mmu.cc:596,917-921; el2.S:384-388, 418-424): DSB ISHST; VMALLS12E1IS;
// DSB ISH; ISB inside the EL1 DSB ISHST ... DSB ISH.
TEST(ZirconModel, Z12GuestSixteenPerEntrySeventeenVmidWide) {
  for (const std::uint32_t n : {15u, 16u}) {
    EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kIpa, n)}), guest_aspace(5)),
                cat({{st(Instr::dsb_ishst)}, hvc_ipa(0x80000), {st(Instr::dsb_ish)}}),
                (std::vector<StepGroup>{grp(1, 6, n, 1)}));
  }
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kIpa, 17)}), guest_aspace(5)),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::dsb_ishst), st(Instr::vmalls12e1is),
                                 st(Instr::dsb_ish), st(Instr::isb), st(Instr::dsb_ish)}),
              {});
}

// A guest with VMID 1 (= MMU_ARM64_GLOBAL_ASID, mmu.h:449): FlushEntry
// compares the aspace's asid_, a guest's VMID, with it (mmu.cc:559), so it
// flushes every 16 entries like the kernel (without the kernel's ISB):
// 0x80000.. in the first Flush(), 0x80010 in the second.
TEST(ZirconModel, Z12GuestWithVmidOneFlushesEverySixteen) {
  EXPECT_PLAN(plan_of(kZircon, pending_of({leaf3(kIpa, 17)}), guest_aspace(1)),
              cat({{st(Instr::dsb_ishst)}, hvc_ipa(0x80000), {st(Instr::dsb_ish), st(Instr::dsb_ishst)},
                   hvc_ipa(0x80010), {st(Instr::dsb_ish)}}),
              (std::vector<StepGroup>{grp(1, 6, 16, 1)}));
}

// ---- Z13: the hypervisor aspace ------------------------------------------------

// Z13: the hypervisor aspace always takes FlushAsid (mmu.cc:596), HVC #8
// (mmu.cc:923-927; el2.S:577-580) whose handler runs TLBI ALLE2 (the local
// form), DSB SY, ISB (el2.S:582-588). The coverage oracle rejects it: a
// local TLBI when other PEs may hold EL2 entries.
TEST(ZirconModel, Z13HypervisorAspaceIsALocalAlle2) {
  const Planned got = plan_of(kZircon, pending_of({leaf3(kVa, 1)}), el2());
  EXPECT_TRUE(same(got,
                                {st(Instr::dsb_ishst), st(Instr::alle2), st(Instr::dsb_sy), st(Instr::isb),
                                 st(Instr::dsb_ish)},
                                {}));
  EXPECT_FALSE(got.problems.empty());
}

// The registered model (El2Flush::broadcast, the policy behind
// "zircon-e04da11") issues ALLE2IS there instead: correct, as a
// correct-contract policy must be on every regime (EL2 is replayed by no
// tlbkit trace, so the as-read form could show on no workload).
TEST(ZirconModel, Z13TheRegisteredModelBroadcastsTheEl2Flush) {
  const PolicyEntry* e = find_policy("zircon-e04da11");
  ASSERT_NE(e, nullptr);
  EXPECT_PLAN(plan_of(e->policy, pending_of({leaf3(kVa, 1)}), el2()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::alle2is), st(Instr::dsb_sy), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              {});
  // Everywhere else it is the as-read model.
  EXPECT_EQ(plan_of(e->policy, pending_of({leaf3(kIpa, 17)}), guest_aspace(1)).steps,
            plan_of(kZircon, pending_of({leaf3(kIpa, 17)}), guest_aspace(1)).steps);
}

// Z13 on the simulated machine: two PEs run at EL2 on one EL2 table; PE 1
// caches a page; PE 0 unmaps it with Zircon's plan. TLBI ALLE2 acts on PE 0
// only: PE 1 keeps walk-cache entries for the freed tables (use after
// free) and translates through its stale entry. Reproduced as read
// (el2.S at misttech/mist-os@15d53de); whether Zircon ever unmaps EL2 pages
// another PE may have cached is unconfirmed by its maintainers.
TEST(ZirconModel, Z13OnTheSimulatedMachineAnotherPeKeepsItsEl2Entry) {
  sim::PhysicalMemory memory;
  sim::MachineOptions options;
  options.pes = 2;
  sim::Machine machine(memory, *sim::find_profile("mobile-8"), options);
  pt::Table table = std::move(pt::Table::create(arch::Regime::el2_stage1, test::geometry39(), memory)).value();
  for (unsigned pe = 0; pe < 2; ++pe) {
    sim::PeContext ctx;
    ctx.regime = arch::Regime::el2_stage1;
    ctx.stage1 = test::geometry39();
    ctx.stage1_root = table.root();
    ASSERT_TRUE(machine.set_context(pe, ctx).ok());
  }
  const AddressSpace space = el2();
  const arch::CpuFeatures features;
  const maint::Planner planner;
  machine.begin_operation(0, "map");
  {
    maint::Gather gather(space, features, planner, machine.executor(0), memory, &machine);
    ASSERT_TRUE(table.map(test::kVa, test::kData, kPage, arch::el2::Attributes{}, gather).ok());
  }
  machine.end_operation();
  const Result<sim::Access> before = machine.access(1, test::kVa, sim::AccessKind::read, sim::Privilege::el1);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->outcome, sim::AccessOutcome::ok);
  machine.begin_operation(0, "unmap");
  {
    maint::Gather gather(space, features, kZircon, machine.executor(0), memory, &machine);
    ASSERT_TRUE(table.unmap(test::kVa, kPage, gather).ok());
  }
  machine.end_operation();
  // The tables the unmap emptied were freed while PE 1's walk cache still
  // held them, and PE 1 still translates the page; PE 0 ran the ALLE2
  // itself and is clean.
  (void)machine.access(0, test::kVa, sim::AccessKind::read, sim::Privilege::el1);
  (void)machine.access(1, test::kVa, sim::AccessKind::read, sim::Privilege::el1);
  ASSERT_FALSE(machine.violations().empty());
  bool stale_page = false;
  for (const sim::Violation& v : machine.violations()) {
    EXPECT_EQ(v.pe, 1u) << test::list(machine);
    stale_page = stale_page || (v.kind == sim::ViolationKind::stale_translation && v.va == test::kVa);
  }
  EXPECT_TRUE(stale_page) << test::list(machine);
  EXPECT_EQ(machine.violations().front().kind, sim::ViolationKind::use_after_free) << test::list(machine);
}

// ---- Z14..Z16 ------------------------------------------------------------------

// Z14 (shared user aspaces: VAALE1IS per entry, VMALLE1IS beyond 16,
// mmu.cc:600-601, 854-860, 898-901): tlbkit has no shared aspace (an
// AddressSpace is one ASID, or global entries), so it is not modelled.

// Z15: Destroy of a user aspace (mmu.cc:2249-2255): DSB ISH; ASIDE1IS (with
// its ISB); DSB ISH. tlbkit says "whole space" as coverage everything with no
// overflow extent. An overflowed batch (an extent known) is Flush()'s wide
// path instead: DSB ISHST first.
TEST(ZirconModel, Z15DestroyIsDsbIshAsidFlushDsbIsh) {
  maint::Pending teardown;
  teardown.coverage = Coverage::everything;
  EXPECT_PLAN(plan_of(kZircon, teardown, user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ish), st(Instr::aside1is, kAsid7), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              {});
  maint::Pending overflow = teardown;
  overflow.overflowed = maint::Extent{kVa, kVa + 40 * kPage, 1u << 3, 0};
  EXPECT_PLAN(plan_of(kZircon, overflow, user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::aside1is, kAsid7), st(Instr::isb),
                                 st(Instr::dsb_ish)}),
              {});
}

// Z16 (context switch with ASIDs disabled: TLBI ASIDE1, local, mmu.cc:
// 2333-2340) is a context switch, not a batch of table changes: no Policy
// call; tlbkit's replay kernel owns context switches.

// ---- cache maintenance -------------------------------------------------------------

// Exec gained: after the TLBIs, IC IALLUIS; DSB ISH; ISB (tlbkit's tail; Zircon
// syncs in Map before writing the entry, mmu.cc:1570-1581, and its global
// I-cache invalidate is in lib/arch, not read).
TEST(ZirconModel, ExecGainedAddsTheICacheTail) {
  maint::Pending p = pending_of({leaf3(kVa, 1)});
  std::vector<PendingRange> keep{leaf3(kVa, 1)};
  p.ranges = keep;
  p.exec = maint::ExecGain::yes;
  EXPECT_PLAN(plan_of(kZircon, p, user_aspace()),
              (std::vector<Step>{st(Instr::dsb_ishst), st(Instr::vale1is, kUserOp), st(Instr::isb),
                                 st(Instr::dsb_ish), st(Instr::ic_ialluis), st(Instr::dsb_ish),
                                 st(Instr::isb)}),
              {});
}

}  // namespace
}  // namespace tlbkit::baselines
