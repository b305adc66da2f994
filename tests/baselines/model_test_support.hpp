// Helpers of the tests of the baselines modelled from one version's source
// (zircon_test.cpp, hafnium_test.cpp): a plan for hand-made pending work,
// compared step by step and group by group with hand-computed steps, and
// checked by the independent coverage oracle.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "support/coverage_oracle.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::test::model {

using arch::Instr;

inline constexpr std::uint64_t kPage = 0x1000;

// One expected step: an op repeated `count` times, operand + stride each.
inline Step st(Instr i, std::uint64_t operand = 0, std::uint32_t count = 1, std::uint64_t stride = 0) {
  return Step{arch::Op{i, operand}, count, stride};
}
// Steps [first, first + steps) run `times` times, operands + advance each time.
inline StepGroup grp(std::uint32_t first, std::uint32_t steps, std::uint32_t times, std::uint64_t advance) {
  return StepGroup{first, steps, times, advance};
}

inline std::string show(const std::vector<Step>& steps, const std::vector<StepGroup>& groups) {
  std::string out;
  for (const Step& s : steps) {
    char b[128];
    std::snprintf(b, sizeof b, "  step %s operand %#llx count %u stride %llu\n",
                  std::string(arch::info(s.first.instr).mnemonic).c_str(),
                  static_cast<unsigned long long>(s.first.operand), s.count,
                  static_cast<unsigned long long>(s.stride));
    out += b;
  }
  for (const StepGroup& g : groups) {
    char b[128];
    std::snprintf(b, sizeof b, "  group steps %u..+%u times %u advance %llu\n", g.first_step, g.steps, g.times,
                  static_cast<unsigned long long>(g.advance));
    out += b;
  }
  return out;
}

struct Planned {
  std::vector<Step> steps;  // a single op's stride set to 0 (it means nothing)
  std::vector<StepGroup> groups;
  std::vector<std::string> problems;  // the coverage oracle's
  std::size_t ops = 0;
};

inline Planned plan_of(const maint::Policy& policy, const maint::Pending& pending, const maint::AddressSpace& space,
                       const arch::CpuFeatures& features = {}) {
  Plan plan;
  const Status s = policy.plan(pending, space, features, plan);
  EXPECT_TRUE(s.ok());
  Planned p;
  p.steps.assign(plan.steps().begin(), plan.steps().end());
  for (Step& step : p.steps) {
    if (step.count == 1) step.stride = 0;
  }
  p.groups.assign(plan.groups().begin(), plan.groups().end());
  p.problems = plan_problems(expand(plan), pending, space, features);
  p.ops = plan.size();
  return p;
}

inline maint::Pending pending_of(const std::vector<maint::PendingRange>& ranges) {
  maint::Pending p;
  p.ranges = ranges;
  return p;
}

inline ::testing::AssertionResult same(const Planned& got, const std::vector<Step>& steps,
                                       const std::vector<StepGroup>& groups) {
  if (got.steps == steps && got.groups == groups) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got:\n" << show(got.steps, got.groups) << "want:\n" << show(steps, groups);
}

inline ::testing::AssertionResult correct(const Planned& got) {
  if (got.problems.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << got.problems.front();
}

// A correct plan with exactly these steps and groups.
#define EXPECT_MODEL_PLAN(got, steps, groups)        \
  do {                                               \
    const auto& got_ = (got);                        \
    EXPECT_TRUE(::tlbkit::test::model::same(got_, steps, groups)); \
    EXPECT_TRUE(::tlbkit::test::model::correct(got_));             \
  } while (0)

}  // namespace tlbkit::test::model
