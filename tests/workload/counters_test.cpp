// workload::Counters: how ops are classified and counted.
#include <gtest/gtest.h>

#include <vector>

#include "tlbkit/workload/counters.hpp"

namespace tlbkit::workload {
namespace {

using arch::Instr;
using arch::Op;

TEST(TlbiReach, ByVaAndByIpaOpsArePerVa) {
  for (const Instr i : {Instr::vae1is, Instr::vale1is, Instr::vaae1is, Instr::vale2is, Instr::ipas2le1is, Instr::vae1}) {
    EXPECT_EQ(tlbi_reach(i), TlbiReach::per_va) << arch::mnemonic(i);
  }
}

TEST(TlbiReach, RangeOpsAreRange) {
  for (const Instr i : {Instr::rvae1is, Instr::rvaae1is, Instr::rvale2is, Instr::ripas2e1is}) {
    EXPECT_EQ(tlbi_reach(i), TlbiReach::range) << arch::mnemonic(i);
  }
}

TEST(TlbiReach, AsidAndCurrentVmidOpsAreContextWide) {
  for (const Instr i : {Instr::aside1is, Instr::vmalle1is, Instr::vmalls12e1is, Instr::vmalle1}) {
    EXPECT_EQ(tlbi_reach(i), TlbiReach::context) << arch::mnemonic(i);
  }
}

TEST(TlbiReach, AllVmidAndWholeEl2OpsAreFull) {
  for (const Instr i : {Instr::alle1is, Instr::alle2is, Instr::alle2}) {
    EXPECT_EQ(tlbi_reach(i), TlbiReach::full) << arch::mnemonic(i);
  }
}

TEST(CountOps, CountsTlbisByReachBarriersCacheOpsAndBroadcasts) {
  const std::vector<Op> ops{{Instr::dsb_ishst}, {Instr::vale1is, 1}, {Instr::vale1, 2}, {Instr::aside1is},
                                  {Instr::alle2is},   {Instr::dsb_ish},    {Instr::ic_ialluis}, {Instr::ic_iallu},
                                  {Instr::dc_civac},  {Instr::dsb_ish},    {Instr::isb}};
  Counters c;
  count_ops(ops, c);
  EXPECT_EQ(c.tlbi_per_va, 2u);
  EXPECT_EQ(c.tlbi_context, 1u);
  EXPECT_EQ(c.tlbi_full, 1u);
  EXPECT_EQ(c.tlbi_range, 0u);
  EXPECT_EQ(c.dsb, 3u);
  EXPECT_EQ(c.isb, 1u);
  EXPECT_EQ(c.icache, 2u);
  EXPECT_EQ(c.dcache, 1u);
  // The IS TLBIs vale1is, aside1is, alle2is; not the local vale1, nor cache ops.
  EXPECT_EQ(c.broadcast, 3u);
  EXPECT_EQ(c.plans, 0u);
  EXPECT_EQ(c.tlbis(), 4u);
}

TEST(CountPlan, CountsEachStepAsManyOpsAsItRepeats) {
  Plan plan;
  ASSERT_TRUE(plan.append(Op{Instr::dsb_ishst}).ok());
  ASSERT_TRUE(plan.append_repeated(Op{Instr::vale1is, 0x10}, 32, 1).ok());
  ASSERT_TRUE(plan.append(Op{Instr::dsb_ish}).ok());
  ASSERT_TRUE(plan.append_repeated(Op{Instr::dc_civac, 0x4000'0000}, 64, 64).ok());
  Counters c;
  count_plan(plan, c);
  EXPECT_EQ(c.tlbi_per_va, 32u);
  EXPECT_EQ(c.broadcast, 32u);
  EXPECT_EQ(c.dsb, 2u);
  EXPECT_EQ(c.dcache, 64u);
}

TEST(CountPlan, CountsAGroupBodyOncePerRepetition) {
  // KVM's per-entry sequence for 3 entries: 3 x (DSB ISHST; IPAS2E1IS; DSB
  // ISH; VMALLE1IS; DSB ISH; ISB) = 6 TLBIs, 9 DSBs, 3 ISBs.
  Plan plan;
  for (const Instr i : {Instr::dsb_ishst, Instr::ipas2e1is, Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish,
                        Instr::isb}) {
    ASSERT_TRUE(plan.append(Op{i, i == Instr::ipas2e1is ? 0x100u : 0u}).ok());
  }
  ASSERT_TRUE(plan.repeat_last(6, 3, 1).ok());
  Counters c;
  count_plan(plan, c);
  EXPECT_EQ(c.tlbi_per_va, 3u);
  EXPECT_EQ(c.tlbi_context, 3u);  // VMALLE1IS: the whole VMID
  EXPECT_EQ(c.tlbis(), 6u);
  EXPECT_EQ(c.dsb, 9u);
  EXPECT_EQ(c.isb, 3u);
}

TEST(Counters, AddUpFieldByField) {
  Counters a;
  a.plans = 1;
  a.tlbi_per_va = 3;
  a.tables_freed = 1;
  Counters b = a;
  b += a;
  EXPECT_EQ(b.plans, 2u);
  EXPECT_EQ(b.tlbi_per_va, 6u);
  EXPECT_EQ(b.tables_freed, 2u);
}

}  // namespace
}  // namespace tlbkit::workload
