// local_form(): the non-broadcast sibling of each Inner Shareable
// operation, checked by name (the Arm ARM names a TLBI's local form by
// dropping the "IS" suffix) rather than by the enum's layout.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tlbkit/arch/ops.hpp"

namespace tlbkit::arch {
namespace {

bool ends_with_is(std::string_view name) { return name.size() > 2 && name.substr(name.size() - 2) == "is"; }

TEST(LocalForm, EveryBroadcastTlbiBecomesTheSameNameWithoutIs) {
  int broadcast_tlbis = 0;
  for (const InstrInfo& i : catalogue()) {
    if (i.category != Category::tlbi || i.scope != Scope::inner_shareable) continue;
    ++broadcast_tlbis;
    ASSERT_TRUE(ends_with_is(i.mnemonic)) << i.mnemonic;
    const InstrInfo& local = info(local_form(i.instr));
    EXPECT_EQ(std::string(local.mnemonic), std::string(i.mnemonic.substr(0, i.mnemonic.size() - 2)));
    EXPECT_EQ(local.scope, Scope::local) << local.mnemonic;
    EXPECT_EQ(local.operand, i.operand) << local.mnemonic;
    EXPECT_EQ(local.regime, i.regime) << local.mnemonic;
    EXPECT_EQ(local.leaf_only, i.leaf_only) << local.mnemonic;
  }
  EXPECT_EQ(broadcast_tlbis, 21);  // 6 EL1 by-VA/ASID/all, 4 EL1 range, 6 stage 2, 5 EL2
}

TEST(LocalForm, CompletionBarrierAndICacheInvalidateBecomeLocal) {
  EXPECT_EQ(local_form(Instr::dsb_ish), Instr::dsb_nsh);
  EXPECT_EQ(local_form(Instr::ic_ialluis), Instr::ic_iallu);
}

TEST(LocalForm, LocalAndOtherOperationsAreLeftAsTheyAre) {
  for (const InstrInfo& i : catalogue()) {
    if (i.scope == Scope::inner_shareable && (i.category == Category::tlbi || i.instr == Instr::dsb_ish ||
                                              i.instr == Instr::ic_ialluis)) {
      continue;
    }
    EXPECT_EQ(local_form(i.instr), i.instr) << i.mnemonic;
  }
  // Named: the store barrier and the by-address cache operations stay.
  EXPECT_EQ(local_form(Instr::dsb_ishst), Instr::dsb_ishst);
  EXPECT_EQ(local_form(Instr::dc_civac), Instr::dc_civac);
  EXPECT_EQ(local_form(Instr::vale1), Instr::vale1);
}

}  // namespace
}  // namespace tlbkit::arch
