// on_permission_fault: the local, non-broadcast maintenance for a stale
// stricter entry. Operands derived by hand (docs/ARCHITECTURE-FACTS.md section 1).
#include <gtest/gtest.h>

#include <vector>

#include "support/coverage_oracle.hpp"
#include "tlbkit/maint/spurious_fault.hpp"

namespace tlbkit::maint {
namespace {

using arch::Instr;
using arch::Op;

std::vector<Op> fault_plan(VirtAddr va, const AddressSpace& space) {
  Plan plan;
  EXPECT_TRUE(on_permission_fault(va, space, plan).ok());
  return test::expand(plan);
}

TEST(SpuriousPermissionFault, El1DropsTheFaultingPageLocallyForItsAsid) {
  AddressSpace space;
  space.asid = 5;
  // ASID 5 << 48 | 0x1000_0123 >> 12 (the page holding the faulting VA).
  const std::vector<Op> expected{{Instr::vale1, 0x0005'0000'0001'0000}, {Instr::dsb_nsh, 0}};
  EXPECT_EQ(fault_plan(0x1000'0123, space), expected);
}

TEST(SpuriousPermissionFault, El2UsesVale2) {
  AddressSpace space;
  space.regime = arch::Regime::el2_stage1;
  const std::vector<Op> expected{{Instr::vale2, 0x40000}, {Instr::dsb_nsh, 0}};
  EXPECT_EQ(fault_plan(0x4000'0000, space), expected);
}

TEST(SpuriousPermissionFault, StageTwoDropsTheIpaEntryThenCombinedEntriesLocally) {
  AddressSpace space;
  space.regime = arch::Regime::stage2;
  const std::vector<Op> expected{
      {Instr::ipas2le1, 0x80000}, {Instr::dsb_nsh, 0}, {Instr::vmalle1, 0}, {Instr::dsb_nsh, 0}};
  EXPECT_EQ(fault_plan(0x8000'0fff, space), expected);
}

TEST(SpuriousPermissionFault, NeverBroadcasts) {
  for (const arch::Regime regime : {arch::Regime::el1_stage1, arch::Regime::el2_stage1, arch::Regime::stage2}) {
    AddressSpace space;
    space.regime = regime;
    for (const Op& op : fault_plan(0x4000'0000, space)) {
      EXPECT_NE(arch::info(op.instr).scope, arch::Scope::inner_shareable) << arch::mnemonic(op.instr);
    }
  }
}

TEST(SpuriousPermissionFault, RefusesAnAddressOutsideTheRegimesRange) {
  AddressSpace space;
  space.regime = arch::Regime::el2_stage1;
  Plan plan;
  EXPECT_FALSE(on_permission_fault(0xffff'8000'0000'0000, space, plan).ok());
  EXPECT_TRUE(plan.empty());
}

}  // namespace
}  // namespace tlbkit::maint
