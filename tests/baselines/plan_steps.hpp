// Test support for every baseline policy's plan tests (tests/baselines/*):
// a pending case, its plan as steps (checked, or not, by the independent
// coverage oracle), as steps and step groups (plan_of, EXPECT_PLAN), or as
// the ops it expands to (EXPECT_OPS), and the fixed inputs. Expected
// operands are derived by hand from docs/ARCHITECTURE-FACTS.md section 1,
// 4 KiB granule:
//
//   by VA   (VAE1IS ...):   ASID << 48 | TTL << 44 | VA >> 12
//           TTL = 01 (4K) << 2 | level: level 3 -> 0x7, level 2 -> 0x6
//   all-ASID / EL2 by VA:   TTL << 44 | VA >> 12              (ASID field 0)
//   by ASID (ASIDE1IS):     ASID << 48
//   range   (RVAE1IS ...):  ASID << 48 | TG(01) << 46 | SCALE << 44 | NUM << 39
//                           | TTL level << 37 | VA >> 12,   pages = (NUM+1) << (5*SCALE+1)
//   by IPA  (IPAS2E1IS):    TTL << 44 | IPA >> 12
//   IPA range (RIPAS2E1IS): as range, ASID field 0
//
// Fixed inputs: ASID 5, VA 0x1000'0000 (VA >> 12 = 0x10000); a block VA
// 0x4000'0000 (>> 12 = 0x40000); IPA 0x8000'0000 (IPA >> 12 = 0x80000). A
// test of a system with other conventions (Zircon's ASID 7) says so. Frequent
// constants:
//   ASID 5:                 0x0005'0000'0000'0000
//   TTL L3 (0x7 << 44):     0x0000'7000'0000'0000
//   TG 4K (1 << 46):        0x0000'4000'0000'0000
//   SCALE 1 (1 << 44):      0x0000'1000'0000'0000
//   NUM n (n << 39):        1 -> 0x0080'0000'0000, 7 -> 0x0380'0000'0000,
//                           8 -> 0x0400'0000'0000, 31 -> 0x0F80'0000'0000
//   range TTL L3 (3 << 37): 0x0060'0000'0000
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "support/coverage_oracle.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines::test_support {

using arch::Instr;
using arch::Op;
using arch::Presence;
using maint::AddressSpace;
using maint::Beneath;
using maint::CallKind;
using maint::CallSpan;
using maint::Coverage;
using maint::EntryKind;
using maint::ExecGain;
using maint::GlobalEntries;
using maint::Pending;
using maint::PendingRange;
using maint::PhysRange;
using maint::Policy;
using maint::VirtAddr;


inline constexpr std::uint64_t kPage = 0x1000;
inline constexpr std::uint64_t kBlock = 0x20'0000;  // a level-2 block or table span, 4 KiB granule
inline constexpr VirtAddr kVa = 0x1000'0000;
inline constexpr VirtAddr kBlockVa = 0x4000'0000;  // 1 GiB aligned: VA >> 12 = 0x40000
inline constexpr VirtAddr kIpa = 0x8000'0000;

// One expected step: an op repeated `count` times, operand + stride each.
inline Step st(Instr i, std::uint64_t operand = 0, std::uint32_t count = 1, std::uint64_t stride = 0) {
  return Step{arch::Op{i, operand}, count, stride};
}

// Steps [first, first + steps) run `times` times, operands + advance each time.
inline StepGroup grp(std::uint32_t first, std::uint32_t steps, std::uint32_t times, std::uint64_t advance) {
  return StepGroup{first, steps, times, advance};
}

inline std::string show(const std::vector<Step>& steps) {
  std::string out;
  for (const Step& s : steps) {
    char b[96];
    std::snprintf(b, sizeof b, "  instr %d operand %#llx count %u stride %llu\n", static_cast<int>(s.first.instr),
                  static_cast<unsigned long long>(s.first.operand), s.count,
                  static_cast<unsigned long long>(s.stride));
    out += b;
  }
  return out;
}

inline std::string show(const std::vector<Step>& steps, const std::vector<StepGroup>& groups) {
  std::string out = show(steps);
  for (const StepGroup& g : groups) {
    char b[96];
    std::snprintf(b, sizeof b, "  group steps %u..+%u times %u advance %llu\n", g.first_step, g.steps, g.times,
                  static_cast<unsigned long long>(g.advance));
    out += b;
  }
  return out;
}

inline std::string show(const std::vector<Op>& ops) {
  std::vector<Step> steps;
  for (const Op& o : ops) steps.push_back(Step{o, 1, 0});
  return show(steps);
}

struct Case {
  Case(std::vector<PendingRange> r, const AddressSpace& s, const arch::CpuFeatures& f)
      : ranges(std::move(r)), space(s), features(f) {}
  // With the kernel call the batch belongs to.
  Case(std::vector<PendingRange> r, const AddressSpace& s, const arch::CpuFeatures& f, const CallSpan& c)
      : ranges(std::move(r)), space(s), features(f), call(c) {}
  std::vector<PendingRange> ranges;
  AddressSpace space;
  arch::CpuFeatures features;
  Coverage coverage = Coverage::exact;
  ExecGain exec = ExecGain::no;
  std::vector<PhysRange> clean;
  maint::Extent overflowed;
  maint::CallSpan call;
};

// The Pending that `c` describes (its spans point into `c`).
inline Pending pending_of(const Case& c) {
  return Pending{.ranges = c.ranges, .coverage = c.coverage, .exec = c.exec, .clean = c.clean,
                 .overflowed = c.overflowed, .call = c.call};
}

// Whether steps_for() holds the plan to the coverage oracle: a model of a
// known bug breaks a rule on purpose.
enum class Oracle : std::uint8_t { check, skip };

// Plans `c` with `policy` and checks the plan with the independent
// coverage oracle (unless told not to).
inline Plan plan_for(const Policy& policy, const Case& c, Oracle oracle = Oracle::check) {
  const Pending pending = pending_of(c);
  Plan plan;
  const Status s = policy.plan(pending, c.space, c.features, plan);
  EXPECT_TRUE(s.ok());
  if (oracle == Oracle::check) {
    const std::vector<std::string> problems = test::plan_problems(test::expand(plan), pending, c.space, c.features);
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  return plan;
}

// A plan's steps, a single op's stride set to 0 (it means nothing).
inline std::vector<Step> steps_of(const Plan& plan) {
  std::vector<Step> steps(plan.steps().begin(), plan.steps().end());
  for (Step& st : steps) {
    if (st.count == 1) st.stride = 0;
  }
  return steps;
}

// Plans `c` with `policy`, checks the plan with the independent coverage
// oracle (unless told not to) and returns its steps.
inline std::vector<Step> steps_for(const Policy& policy, const Case& c, Oracle oracle = Oracle::check) {
  return steps_of(plan_for(policy, c, oracle));
}

// One expected op: `instr` with `operand` (0 for barriers).
inline Op op(Instr i, std::uint64_t operand = 0) { return Op{i, operand}; }

// Plans `c` with `policy`, checks the plan with the independent coverage
// oracle (unless told not to: a model of a known bug) and returns its ops
// one by one, repeated groups written out: for plans whose repetitions a
// list of steps does not show.
inline std::vector<Op> ops_for(const Policy& policy, const Case& c, Oracle oracle = Oracle::check) {
  const Pending pending = pending_of(c);
  Plan plan;
  EXPECT_TRUE(policy.plan(pending, c.space, c.features, plan).ok());
  std::vector<Op> ops = test::expand(plan);
  if (oracle == Oracle::check) {
    const std::vector<std::string> problems = test::plan_problems(ops, pending, c.space, c.features);
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  return ops;
}

// The concatenation of `parts` (steps or ops).
template <class T>
std::vector<T> cat(std::initializer_list<std::vector<T>> parts) {
  std::vector<T> out;
  for (const std::vector<T>& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A pending batch of `ranges`, nothing else set but `exec`.
inline Pending pending_of(const std::vector<PendingRange>& ranges, ExecGain exec = ExecGain::no) {
  Pending p;
  p.ranges = ranges;
  p.exec = exec;
  return p;
}

// A plan with what the coverage oracle says of it, for tests that also
// compare step groups, or that expect the oracle to object (a model of a
// bug as read).
struct Planned {
  std::vector<Step> steps;  // as steps_of()
  std::vector<StepGroup> groups;
  std::vector<std::string> problems;  // the coverage oracle's
  std::size_t ops = 0;
};

inline Planned plan_of(const Policy& policy, const Pending& pending, const AddressSpace& space,
                       const arch::CpuFeatures& features = {}) {
  Plan plan;
  const Status s = policy.plan(pending, space, features, plan);
  EXPECT_TRUE(s.ok());
  Planned p;
  p.steps = steps_of(plan);
  p.groups.assign(plan.groups().begin(), plan.groups().end());
  p.problems = test::plan_problems(test::expand(plan), pending, space, features);
  p.ops = plan.size();
  return p;
}

// Exactly these steps and groups.
inline ::testing::AssertionResult same(const Planned& got, const std::vector<Step>& steps,
                                       const std::vector<StepGroup>& groups) {
  if (got.steps == steps && got.groups == groups) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got:\n" << show(got.steps, got.groups) << "want:\n" << show(steps, groups);
}

// No objection from the coverage oracle.
inline ::testing::AssertionResult correct(const Planned& got) {
  if (got.problems.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << got.problems.front();
}

inline AddressSpace user() {
  AddressSpace s;
  s.regime = arch::Regime::el1_stage1;
  s.asid = 5;
  return s;
}

inline AddressSpace kernel() {
  AddressSpace s = user();
  s.global = GlobalEntries::present;
  return s;
}

inline AddressSpace guest() {
  AddressSpace s;
  s.regime = arch::Regime::stage2;
  s.vmid = 1;
  return s;
}

// The hypervisor's own tables (EL2 stage 1, no ASID).
inline AddressSpace el2() {
  AddressSpace s;
  s.regime = arch::Regime::el2_stage1;
  return s;
}

inline arch::CpuFeatures feats(Presence range, Presence ttl, Presence fwb = Presence::absent) {
  arch::CpuFeatures f;
  f.tlbi_range = range;
  f.ttl = ttl;
  f.fwb = fwb;
  return f;
}

inline const arch::CpuFeatures kNone = feats(Presence::absent, Presence::absent);
inline const arch::CpuFeatures kTtl = feats(Presence::absent, Presence::present);
inline const arch::CpuFeatures kRange = feats(Presence::present, Presence::absent);
inline const arch::CpuFeatures kRangeTtl = feats(Presence::present, Presence::present);
inline const arch::CpuFeatures kRangeFwb = feats(Presence::present, Presence::absent, Presence::present);

inline PendingRange leaf3(VirtAddr va, std::uint64_t pages) { return PendingRange{va, pages * kPage, 3, EntryKind::leaf}; }
inline PendingRange table2(VirtAddr va, std::uint64_t pages) { return PendingRange{va, pages * kPage, 2, EntryKind::table}; }
// One level-2 table entry (a 2 MiB span): its entries reported on their own
// (a freed page table) or not (a table unhooked whole).
inline PendingRange table2(VirtAddr va, Beneath beneath) {
  return PendingRange{va, kBlock, 2, EntryKind::table, beneath};
}
// `blocks` 2 MiB leaf blocks.
inline PendingRange block2(VirtAddr va, std::uint64_t blocks = 1) {
  return PendingRange{va, blocks * kBlock, 2, EntryKind::leaf};
}

}  // namespace tlbkit::baselines::test_support

// EXPECT_STEPS(policy, case, steps...): the plan's steps are exactly these
// (checked by the coverage oracle); EXPECT_STEPS_UNCHECKED for a model of a
// known bug. Macros so that a failure names the caller's line.
#define EXPECT_STEPS(policy, c, ...)                                                                   \
  do {                                                                                                 \
    const std::vector<::tlbkit::Step> got_ = ::tlbkit::baselines::test_support::steps_for(policy, c); \
    const std::vector<::tlbkit::Step> want_{__VA_ARGS__};                                              \
    EXPECT_EQ(got_, want_) << "got:\n"                                                                \
                           << ::tlbkit::baselines::test_support::show(got_) << "want:\n"              \
                           << ::tlbkit::baselines::test_support::show(want_);                          \
  } while (0)
// EXPECT_OPS(policy, case, ops...): the plan, written out op by op, is
// exactly these (checked by the coverage oracle).
#define EXPECT_OPS(policy, c, ...)                                                                   \
  do {                                                                                               \
    const std::vector<::tlbkit::arch::Op> got_ = ::tlbkit::baselines::test_support::ops_for(policy, c); \
    const std::vector<::tlbkit::arch::Op> want_{__VA_ARGS__};                                        \
    EXPECT_EQ(got_, want_) << "got:\n"                                                              \
                           << ::tlbkit::baselines::test_support::show(got_) << "want:\n"            \
                           << ::tlbkit::baselines::test_support::show(want_);                        \
  } while (0)
// EXPECT_OPS_UNCHECKED: the same for a model of a known bug.
#define EXPECT_OPS_UNCHECKED(policy, c, ...)                                                          \
  do {                                                                                                \
    const std::vector<::tlbkit::arch::Op> got_ = ::tlbkit::baselines::test_support::ops_for(          \
        policy, c, ::tlbkit::baselines::test_support::Oracle::skip);                                  \
    const std::vector<::tlbkit::arch::Op> want_{__VA_ARGS__};                                         \
    EXPECT_EQ(got_, want_) << "got:\n"                                                               \
                           << ::tlbkit::baselines::test_support::show(got_) << "want:\n"             \
                           << ::tlbkit::baselines::test_support::show(want_);                         \
  } while (0)
#define EXPECT_STEPS_UNCHECKED(policy, c, ...)                                                          \
  do {                                                                                                  \
    const std::vector<::tlbkit::Step> got_ = ::tlbkit::baselines::test_support::steps_for(              \
        policy, c, ::tlbkit::baselines::test_support::Oracle::skip);                                    \
    const std::vector<::tlbkit::Step> want_{__VA_ARGS__};                                               \
    EXPECT_EQ(got_, want_) << "got:\n"                                                                 \
                           << ::tlbkit::baselines::test_support::show(got_) << "want:\n"               \
                           << ::tlbkit::baselines::test_support::show(want_);                           \
  } while (0)
// EXPECT_PLAN(planned, steps, groups): a plan_of() result has exactly these
// steps and groups, and the coverage oracle finds nothing wrong.
#define EXPECT_PLAN(got, steps, groups)                                        \
  do {                                                                         \
    const auto& got_ = (got);                                                  \
    EXPECT_TRUE(::tlbkit::baselines::test_support::same(got_, steps, groups)); \
    EXPECT_TRUE(::tlbkit::baselines::test_support::correct(got_));             \
  } while (0)
