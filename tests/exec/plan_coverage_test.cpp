// The independent coverage check the shim tests rely on must be able to
// fail: each way a replacement can fall short is refused.
#include <gtest/gtest.h>

#include <vector>

#include "exec/plan_coverage.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::exec::test {
namespace {

using arch::Instr;
using arch::Op;

Op va_op(Instr i, std::uint16_t asid, arch::VirtAddr va, arch::Ttl ttl = arch::kNoTtl) {
  return *arch::encode_va(i, arch::Asid{asid}, va, ttl);
}

Op range_op(Instr i, std::uint16_t asid, arch::VirtAddr va, unsigned num) {
  return *arch::encode_range(i, arch::Asid{asid}, va, {arch::Granule::k4K, 0, num, std::nullopt});
}

TEST(PlanCoverage, AnOpCoversItself) {
  const std::vector<Op> ops{va_op(Instr::vae1is, 1, 0x2000)};
  EXPECT_EQ(uncovered(ops, ops), "");
}

TEST(PlanCoverage, NothingCoversATlbi) {
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000)}, {}), "");
}

TEST(PlanCoverage, AnotherPageOrAnotherAsidDoesNotCover) {
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000)}, {va_op(Instr::vae1is, 1, 0x3000)}), "");
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000)}, {va_op(Instr::vae1is, 2, 0x2000)}), "");
}

TEST(PlanCoverage, LeafOnlyDoesNotCoverNonLeaf) {
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000)}, {va_op(Instr::vale1is, 1, 0x2000)}), "");
  EXPECT_EQ(uncovered({va_op(Instr::vale1is, 1, 0x2000)}, {va_op(Instr::vae1is, 1, 0x2000)}), "");
}

TEST(PlanCoverage, AHintCoversOnlyTheSameHint) {
  const arch::Ttl l3 = arch::TtlHint{arch::Granule::k4K, 3};
  const arch::Ttl l2 = arch::TtlHint{arch::Granule::k4K, 2};
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000)}, {va_op(Instr::vae1is, 1, 0x2000, l3)}), "");
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000, l2)}, {va_op(Instr::vae1is, 1, 0x2000, l3)}), "");
  EXPECT_EQ(uncovered({va_op(Instr::vae1is, 1, 0x2000, l3)}, {va_op(Instr::vae1is, 1, 0x2000)}), "");
}

TEST(PlanCoverage, LocalDoesNotCoverBroadcast) {
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000)}, {va_op(Instr::vae1, 1, 0x2000)}), "");
  EXPECT_EQ(uncovered({va_op(Instr::vae1, 1, 0x2000)}, {va_op(Instr::vae1is, 1, 0x2000)}), "");
}

TEST(PlanCoverage, AsidWideDoesNotCoverPagesBecauseItSparesGlobals) {
  EXPECT_NE(uncovered({va_op(Instr::vae1is, 1, 0x2000)}, {*arch::encode_asid(Instr::aside1is, arch::Asid{1})}),
            "");
}

TEST(PlanCoverage, ARangeWithAHoleDoesNotCover) {
  // 4 pages from 0x10000; replacements cover pages 0-1 and 3 only.
  EXPECT_NE(uncovered({range_op(Instr::rvae1is, 1, 0x10000, 1)},
                      {range_op(Instr::rvae1is, 1, 0x10000, 0), va_op(Instr::vae1is, 1, 0x13000)}),
            "");
  EXPECT_EQ(uncovered({range_op(Instr::rvae1is, 1, 0x10000, 1)},
                      {range_op(Instr::rvae1is, 1, 0x10000, 0), va_op(Instr::vae1is, 1, 0x12000),
                       va_op(Instr::vae1is, 1, 0x13000)}),
            "");
}

TEST(PlanCoverage, AllAsidOpsNeedAllAsidOrBroadcastCover) {
  const Op all = *arch::encode_va_all_asid(Instr::vaae1is, 0x2000, arch::kNoTtl);
  EXPECT_NE(uncovered({all}, {va_op(Instr::vae1is, 1, 0x2000)}), "");
  EXPECT_EQ(uncovered({all}, {Op{Instr::vmalle1is, 0}}), "");
}

TEST(PlanCoverage, ICacheMaintenanceNeedsIcIalluis) {
  EXPECT_NE(uncovered({Op{Instr::ic_iallu, 0}}, {}), "");
  EXPECT_EQ(uncovered({Op{Instr::ic_iallu, 0}}, {Op{Instr::ic_ialluis, 0}}), "");
}

}  // namespace
}  // namespace tlbkit::exec::test
