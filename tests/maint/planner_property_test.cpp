// Every policy the tools offer makes plans the independent coverage oracle
// accepts, for random change sets under every feature combination.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "support/coverage_oracle.hpp"

namespace tlbkit::maint {
namespace {

using arch::Presence;

std::uint64_t level_size(unsigned level) { return std::uint64_t{1} << (12 + 9 * (3 - level)); }

struct Scenario {
  AddressSpace space;
  arch::CpuFeatures features;
  std::vector<PendingRange> ranges;
  std::vector<PhysRange> clean;
  Coverage coverage = Coverage::exact;
  ExecGain exec = ExecGain::no;
};

rc::Gen<Scenario> scenarios() {
  return rc::gen::exec([] {
    Scenario s;
    const int regime = *rc::gen::inRange(0, 3);
    s.space.regime = regime == 0 ? arch::Regime::el1_stage1 : regime == 1 ? arch::Regime::el2_stage1 : arch::Regime::stage2;
    s.space.asid = *rc::gen::inRange<std::uint16_t>(0, 0xffff);
    s.space.vmid = *rc::gen::inRange<std::uint16_t>(0, 0xff);
    if (s.space.regime == arch::Regime::el1_stage1 && *rc::gen::inRange(0, 4) == 0) {
      s.space.global = GlobalEntries::present;
    }
    s.features.tlbi_range = *rc::gen::element(Presence::absent, Presence::present);
    s.features.ttl = *rc::gen::element(Presence::absent, Presence::present);
    s.features.processing_elements = *rc::gen::element(1u, 2u, 8u, 64u);
    const int count = *rc::gen::inRange(1, 7);
    for (int i = 0; i < count; ++i) {
      // Disjoint 4 GiB windows, one range each, in address order.
      const std::uint64_t window = std::uint64_t{4} << 30;
      const bool table = *rc::gen::inRange(0, 4) == 0;
      const unsigned level = table ? 2 : *rc::gen::element(3u, 3u, 3u, 2u, 1u);
      const std::uint64_t size = level_size(level);
      const std::uint64_t max_entries = level == 1 ? 2 : level == 2 ? 8 : 700;
      const std::uint64_t entries = *rc::gen::inRange<std::uint64_t>(1, max_entries + 1);
      const std::uint64_t slots = level == 1 ? 1 : 64;
      const std::uint64_t va = static_cast<std::uint64_t>(i + 1) * window +
                               *rc::gen::inRange<std::uint64_t>(0, slots) * size;
      // A table is unhooked whole (pages of its span owed) or emptied entry by
      // entry (whole slots, only their walk entries owed).
      const bool emptied = table && *rc::gen::inRange(0, 2) == 0;
      const std::uint64_t bytes = emptied ? entries * size : table ? entries * 4096 : entries * size;
      s.ranges.push_back(PendingRange{va, bytes, static_cast<std::uint8_t>(level),
                                      table ? EntryKind::table : EntryKind::leaf,
                                      emptied ? Beneath::reported : Beneath::unseen});
    }
    if (*rc::gen::inRange(0, 10) == 0) {
      s.coverage = Coverage::everything;
      s.ranges.clear();
    }
    if (s.space.regime == arch::Regime::stage2 && *rc::gen::inRange(0, 2) == 0) {
      s.clean.push_back(PhysRange{0x9'0000'0000 + *rc::gen::inRange<std::uint64_t>(0, 64) * 4096,
                                  *rc::gen::inRange<std::uint64_t>(1, 4) * 4096});
    }
    s.exec = *rc::gen::element(ExecGain::no, ExecGain::yes);
    return s;
  });
}

RC_GTEST_PROP(PolicyPlans, EveryPolicyCoversEveryChangedEntryUnderEveryFeatureSet, ()) {
  const Scenario s = *scenarios();
  Pending pending;
  pending.ranges = s.ranges;
  pending.clean = s.clean;
  pending.coverage = s.coverage;
  pending.exec = s.exec;
  for (const baselines::PolicyEntry& entry : baselines::all_policies()) {
    // A model of a known bug breaks a rule on purpose; its own tests pin
    // what it emits and show the checkers catching it.
    if (entry.contract == baselines::Contract::known_bug) continue;
    Plan plan;
    const Status made = entry.policy.plan(pending, s.space, s.features, plan);
    if (!made.ok()) RC_FAIL(std::string(entry.name) + " built no plan: " + made.error().message);
    const std::vector<std::string> problems = test::plan_problems(test::expand(plan), pending, s.space, s.features);
    if (!problems.empty()) {
      RC_FAIL(std::string(entry.name) + ": " + problems.front());
    }
  }
}

RC_GTEST_PROP(PlannerChoice, ChosenCandidateIsTheCheapestLegalOne, ()) {
  const Scenario s = *scenarios();
  Pending pending;
  pending.ranges = s.ranges;
  pending.coverage = s.coverage;
  const Planner planner;
  const Explanation e = planner.explain(pending, s.space, s.features);
  const CandidateCost& chosen = e.candidates[static_cast<std::size_t>(e.chosen)];
  RC_ASSERT(chosen.legal);
  for (const CandidateCost& c : e.candidates) {
    if (c.legal) RC_ASSERT(chosen.total() <= c.total());
  }
}

// Cost models from the default to degenerate ones (zero costs make ties
// everywhere; clearing everything may cost no more than one space), so the
// tie rule and every pruning rule of plan() meet their edge cases.
rc::Gen<CostModel> cost_models() {
  return rc::gen::exec([] {
    CostModel m;
    if (*rc::gen::inRange(0, 3) == 0) return m;
    const auto pick = [](std::uint64_t usual) {
      return *rc::gen::element<std::uint64_t>(0, 1, usual / 2, usual, usual * 3);
    };
    m.tlbi_broadcast = pick(m.tlbi_broadcast);
    m.tlbi_range = pick(m.tlbi_range);
    m.tlbi_wide = pick(m.tlbi_wide);
    m.dsb_base = pick(m.dsb_base);
    m.dsb_per_pe = pick(m.dsb_per_pe);
    m.dsb_store = pick(m.dsb_store);
    m.refill = pick(m.refill);
    m.resident_per_space = pick(m.resident_per_space);
    m.resident_total = pick(m.resident_total);
    m.cached_per_1024_pages = *rc::gen::element<std::uint64_t>(0, 1, 256, 1024);
    return m;
  });
}

// plan() and explain() run one selection, plan() leaving uncosted the
// candidates that provably lose: the shape plan() uses is always the one
// explain() chose, including for overflowed batches that still name ranges
// (as a Gather's do).
RC_GTEST_PROP(PlannerChoice, PlanUsesTheExplainedShape, ()) {
  const Scenario s = *scenarios();
  Pending pending;
  pending.ranges = s.ranges;
  pending.coverage = *rc::gen::inRange(0, 4) == 0 ? Coverage::everything : s.coverage;
  const Planner planner(*cost_models());
  const Explanation e = planner.explain(pending, s.space, s.features);
  RC_ASSERT(planner.choose(pending, s.space, s.features) == e.chosen);
  Plan planned;
  RC_ASSERT(planner.plan(pending, s.space, s.features, planned).ok());
  Plan explained;
  RC_ASSERT(planner.plan_as(e.chosen, pending, s.space, s.features, explained).ok());
  RC_ASSERT(test::expand(planned) == test::expand(explained));
}

// What plan()'s relative costing of the wide shapes rests on: wherever both
// are legal they issue the same ops, so only their collateral differs.
RC_GTEST_PROP(PlannerChoice, WideShapesIssueTheSameOps, ()) {
  const Scenario s = *scenarios();
  Pending pending;
  pending.ranges = s.ranges;
  pending.coverage = *rc::gen::inRange(0, 4) == 0 ? Coverage::everything : s.coverage;
  const Explanation e = Planner(*cost_models()).explain(pending, s.space, s.features);
  const CandidateCost& space_wide = e.candidates[static_cast<std::size_t>(Shape::space_wide)];
  const CandidateCost& full = e.candidates[static_cast<std::size_t>(Shape::full)];
  if (!space_wide.legal || !full.legal) return;
  RC_ASSERT(space_wide.ops == full.ops);
  RC_ASSERT(space_wide.issue == full.issue);
  RC_ASSERT(space_wide.barriers == full.barriers);
}

RC_GTEST_PROP(PlannerChoice, PlanIsTheExplainedChoiceFollowedByTheTail, ()) {
  const Scenario s = *scenarios();
  Pending pending;
  pending.ranges = s.ranges;
  pending.coverage = s.coverage;
  // A cost model where clearing everything costs no more than one space
  // (resident_total <= resident_per_space) must still agree.
  CostModel model;
  if (*rc::gen::arbitrary<bool>()) model.resident_total = model.resident_per_space / 2;
  const Planner planner(model);
  Plan planned;
  RC_ASSERT(planner.plan(pending, s.space, s.features, planned).ok());
  Plan explained;
  if (pending.needs_invalidation()) {
    const Explanation e = planner.explain(pending, s.space, s.features);
    RC_ASSERT(append_shape(e.chosen, pending, s.space, s.features, explained).ok());
  }
  RC_ASSERT(test::expand(planned) == test::expand(explained));
}

}  // namespace
}  // namespace tlbkit::maint

namespace tlbkit::maint {
namespace {

RC_GTEST_PROP(PlannerChoice, CostedOpCountsAreThoseOfTheBuiltPlans, ()) {
  const Scenario s = *scenarios();
  Pending pending;
  pending.ranges = s.ranges;
  pending.coverage = s.coverage;
  const Planner planner;
  const Explanation e = planner.explain(pending, s.space, s.features);
  for (const CandidateCost& c : e.candidates) {
    if (!c.legal) continue;
    Plan plan;
    RC_ASSERT(append_shape(c.shape, pending, s.space, s.features, plan).ok());
    std::uint64_t tlbis = 0;
    for (const arch::Op& op : plan.ops()) {
      if (arch::info(op.instr).category == arch::Category::tlbi) ++tlbis;
    }
    RC_ASSERT(tlbis == c.ops);
  }
}

}  // namespace
}  // namespace tlbkit::maint
