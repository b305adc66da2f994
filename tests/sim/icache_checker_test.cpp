// The instruction-cache checker (sim::Machine::contents_written): a PE that
// fetches from memory the kernel rewrote, before its own instruction cache
// was invalidated, is caught; each way of invalidating it clears exactly
// the PEs (and pages) the architecture says it does. The rig is the
// two-PE stage-1 machine of tests/support/stage1_machine.hpp, with
// executable kernel pages fetched at EL1.
#include <gtest/gtest.h>

#include "support/stage1_machine.hpp"
#include "tlbkit/sim/machine.hpp"

namespace tlbkit::sim {
namespace {

using arch::Instr;
using namespace test;

class ICacheChecker : public ::testing::Test, public Stage1Machine {
 protected:
  ICacheChecker() {
    arch::s1::Attributes code = el1_rw();
    code.el1_execute = arch::Execute::allowed;
    map(kVa, kData, 2 * kPage, code);
  }
  AccessOutcome fetch(unsigned pe, VirtAddr va = kVa) {
    const Result<Access> a = machine.access(pe, va, AccessKind::fetch, Privilege::el1);
    EXPECT_TRUE(a.ok());
    return a.ok() ? a->outcome : AccessOutcome::translation_fault;
  }
  std::size_t stale_fetches() const {
    std::size_t n = 0;
    for (const Violation& v : machine.violations()) n += v.kind == ViolationKind::stale_instruction ? 1 : 0;
    return n;
  }
};

TEST_F(ICacheChecker, AFetchOfRewrittenMemoryWithoutAnInvalidationIsStaleOnEveryPe) {
  machine.contents_written(kData, kPage);
  EXPECT_EQ(fetch(0), AccessOutcome::ok);
  EXPECT_EQ(fetch(1), AccessOutcome::ok);
  ASSERT_EQ(stale_fetches(), 2u) << list(machine);
  EXPECT_EQ(machine.violations()[0].pe, 0u);
  EXPECT_EQ(machine.violations()[1].pe, 1u);
  EXPECT_EQ(machine.violations()[1].va, kVa);
}

TEST_F(ICacheChecker, EachStaleWriteIsReportedOncePerPeAndAgainAfterTheNextWrite) {
  machine.contents_written(kData, kPage);
  fetch(1);
  fetch(1);
  fetch(1);
  EXPECT_EQ(stale_fetches(), 1u) << list(machine);
  machine.contents_written(kData, kPage);
  fetch(1);
  EXPECT_EQ(stale_fetches(), 2u) << list(machine);
}

TEST_F(ICacheChecker, OnlyTheRewrittenPageIsStale) {
  machine.contents_written(kData, kPage);
  fetch(1, kVa + kPage);  // the second page: not rewritten
  EXPECT_TRUE(no_violation(machine));
}

TEST_F(ICacheChecker, ReadsAndWritesOfRewrittenMemoryAreNotFetches) {
  machine.contents_written(kData, kPage);
  read(1);
  EXPECT_TRUE(machine.access(1, kVa, AccessKind::write, Privilege::el1).ok());
  EXPECT_TRUE(no_violation(machine));
}

TEST_F(ICacheChecker, ICIallIsOnAnyPeCleansEveryPe) {
  machine.contents_written(kData, kPage);
  issue(0, op(Instr::ic_ialluis));
  fetch(0);
  fetch(1);
  EXPECT_TRUE(no_violation(machine));
}

TEST_F(ICacheChecker, TheLocalICIalluCleansOnlyTheIssuingPe) {
  machine.contents_written(kData, kPage);
  issue(0, op(Instr::ic_iallu));
  fetch(0);
  EXPECT_TRUE(no_violation(machine));
  fetch(1);
  ASSERT_EQ(stale_fetches(), 1u) << list(machine);
  EXPECT_EQ(machine.violations()[0].pe, 1u);
}

TEST_F(ICacheChecker, ICIvauOfThePageCleansItOnEveryPeAndNoOtherPage) {
  machine.contents_written(kData, 2 * kPage);
  issue(0, arch::Op{Instr::ic_ivau, kVa});
  fetch(1, kVa);
  EXPECT_TRUE(no_violation(machine));
  fetch(1, kVa + kPage);
  EXPECT_EQ(stale_fetches(), 1u) << list(machine);
}

TEST_F(ICacheChecker, AWriteAfterTheInvalidationMakesThePageStaleAgain) {
  issue(0, op(Instr::ic_ialluis));
  fetch(1);  // a verified hit from here on
  machine.contents_written(kData, kPage);
  fetch(1);  // the same L1 entry: the fast path must not skip the check
  EXPECT_EQ(stale_fetches(), 1u) << list(machine);
}

}  // namespace
}  // namespace tlbkit::sim
