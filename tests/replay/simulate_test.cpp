// Simulator traces: building one from a scenario, replaying it on the
// machine under a policy, and the hindsight oracle, checked against an
// exhaustive search written here.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <variant>
#include <vector>

#include "tlbkit/report/sim_report.hpp"
#include "tlbkit/sim/profile.hpp"
#include "support/forgetful_policy.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/replay/hindsight.hpp"
#include "tlbkit/replay/simulate.hpp"
#include "tlbkit/replay/trace.hpp"

namespace tlbkit::replay {

using workload::builtin_suite;

using arch::PhysAddr;
using arch::VirtAddr;

using workload::Batch;
using workload::Scenario;
using workload::Step;
using workload::StepKind;
namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr VirtAddr kVa = 0x1000'0000;
constexpr PhysAddr kData = 0x4000'0000;

arch::s1::Attributes user_rw() {
  arch::s1::Attributes a;
  a.access = arch::s1::Access::all_rw;
  a.scope = arch::s1::Scope::non_global;  // the space is ASID 5's alone
  return a;
}

arch::s1::Attributes kernel_rw() {
  arch::s1::Attributes a;
  a.access = arch::s1::Access::el1_rw;
  a.scope = arch::s1::Scope::non_global;
  return a;
}

maint::AddressSpace asid5() {
  maint::AddressSpace s;
  s.asid = 5;
  return s;
}

// A 48-bit stage-1 scenario: map `pages` user pages at kVa, then unmap the
// runs given as (first page, pages).
Scenario map_then_unmap(std::uint64_t pages, std::vector<std::pair<std::uint64_t, std::uint64_t>> runs) {
  Scenario s;
  s.name = "map-then-unmap";
  s.description = "test";
  s.space = asid5();
  Batch map{"map", {}};
  map.steps.push_back(Step::map(kVa, pages * kPage, kData, user_rw(), pt::BlockMappings::forbidden, "map"));
  Batch unmap{"unmap", {}};
  for (const auto& [first, n] : runs) unmap.steps.push_back(Step::unmap(kVa + first * kPage, n * kPage, "unmap"));
  s.batches = {map, unmap};
  return s;
}

arch::CpuFeatures ttl_and_range() {
  arch::CpuFeatures f;
  f.ttl = arch::Presence::present;
  f.tlbi_range = arch::Presence::present;
  return f;
}

SimOptions options_with(const arch::CpuFeatures& features) {
  SimOptions o;
  o.features = features;
  return o;
}

const sim::Profile& mobile8() {
  const sim::Profile* p = sim::find_profile("mobile-8");
  EXPECT_NE(p, nullptr);
  return *p;
}

std::vector<TraceAccess> accesses_of(const Trace& t) {
  std::vector<TraceAccess> out;
  for (const TraceEvent& e : t.events) {
    if (const auto* a = std::get_if<TraceAccess>(&e)) out.push_back(*a);
  }
  return out;
}

std::vector<const TraceBatch*> batches_of(const Trace& t) {
  std::vector<const TraceBatch*> out;
  for (const TraceEvent& e : t.events) {
    if (const auto* b = std::get_if<TraceBatch>(&e)) out.push_back(b);
  }
  return out;
}

// ---------------------------------------------------------------- traces

TEST(TraceFromScenario, MapsTheHotRegionFirstAtTheTopOfTheInputSpaceThenReadsAfterEveryBatch) {
  AccessPattern pattern;
  pattern.pes = 2;
  pattern.accesses_per_pe = 3;
  pattern.hot_pages = 4;
  const Result<Trace> t = trace_from_scenario(map_then_unmap(8, {{0, 8}}), pattern);
  ASSERT_TRUE(t.ok()) << t.error().message;
  // setup + 2 scenario batches; 3 rounds x 2 PEs of reads before the first
  // scenario batch and after each.
  EXPECT_EQ(t->batches(), 3u);
  EXPECT_EQ(t->accesses(), 3u * 6u);
  EXPECT_EQ(t->events.size(), 3u + 18u);
  EXPECT_EQ(t->pes, 2u);
  const std::vector<const TraceBatch*> batches = batches_of(*t);
  // The hot region: 4 pages, the highest 2 MiB-aligned slot of 2^48.
  const VirtAddr hot = (std::uint64_t{1} << 48) - 0x20'0000;
  ASSERT_EQ(batches[0]->batch.steps.size(), 1u);
  EXPECT_EQ(batches[0]->pe, 0u);
  EXPECT_EQ(batches[0]->batch.steps[0].kind, StepKind::map);
  EXPECT_EQ(batches[0]->batch.steps[0].va, hot);
  EXPECT_EQ(batches[0]->batch.steps[0].size, 4 * kPage);
  EXPECT_EQ(batches[0]->batch.steps[0].blocks, pt::BlockMappings::forbidden);
  // Even rounds read the hot slice of each PE: page (7 pe + round / 2) mod 4.
  const std::vector<TraceAccess> reads = accesses_of(*t);
  EXPECT_EQ(reads[0].pe, 0u);
  EXPECT_EQ(reads[0].va, hot);
  EXPECT_EQ(reads[1].pe, 1u);
  EXPECT_EQ(reads[1].va, hot + 3 * kPage);
  EXPECT_EQ(reads[4].va, hot + 1 * kPage) << "round 2, PE 0";
  // Before the first scenario batch maps anything, every read is hot.
  EXPECT_EQ(reads[2].va, hot) << "round 1, PE 0";
  EXPECT_EQ(reads[3].va, hot + 3 * kPage) << "round 1, PE 1";
  // Afterwards odd rounds read a page the scenario mapped.
  for (const std::size_t odd : {8u, 9u, 14u, 15u}) {
    EXPECT_GE(reads[odd].va, kVa);
    EXPECT_LT(reads[odd].va, kVa + 8 * kPage);
  }
  for (const TraceAccess& r : reads) EXPECT_EQ(r.kind, sim::AccessKind::read);
}

TEST(TraceFromScenario, BatchesAreMadeByThePesInTurnAfterTheSetup) {
  Scenario s = map_then_unmap(4, {{0, 1}});
  s.batches.push_back(s.batches[1]);
  s.batches.back().steps[0].va += kPage;
  AccessPattern pattern;
  pattern.pes = 2;
  pattern.accesses_per_pe = 0;
  const Result<Trace> t = trace_from_scenario(s, pattern);
  ASSERT_TRUE(t.ok());
  const std::vector<const TraceBatch*> batches = batches_of(*t);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[1]->pe, 0u);
  EXPECT_EQ(batches[2]->pe, 1u);
  EXPECT_EQ(batches[3]->pe, 0u);
  EXPECT_EQ(t->accesses(), 0u);
}

TEST(TraceFromScenario, UserPagesAreReadAtEl0AndKernelPagesAtEl1) {
  Scenario s = map_then_unmap(4, {{0, 4}});
  s.batches[0].steps.push_back(
      Step::map(kVa + 0x10'0000, 4 * kPage, kData + 0x10'0000, kernel_rw(), pt::BlockMappings::forbidden, "k"));
  AccessPattern pattern;
  pattern.pes = 4;
  pattern.accesses_per_pe = 16;
  const Result<Trace> t = trace_from_scenario(s, pattern);
  ASSERT_TRUE(t.ok());
  std::size_t user = 0;
  std::size_t kernel = 0;
  for (const TraceAccess& r : accesses_of(*t)) {
    if (r.va >= kVa && r.va < kVa + 4 * kPage) {
      EXPECT_EQ(r.privilege, sim::Privilege::el0);
      ++user;
    } else if (r.va >= kVa + 0x10'0000 && r.va < kVa + 0x10'0000 + 4 * kPage) {
      EXPECT_EQ(r.privilege, sim::Privilege::el1);
      ++kernel;
    } else {
      EXPECT_EQ(r.privilege, sim::Privilege::el0) << "the hot region is user memory";
    }
  }
  EXPECT_GT(user, 0u);
  EXPECT_GT(kernel, 0u);
}

TEST(TraceFromScenario, TheSameSeedGivesTheSameReadsAndAnotherSeedOthers) {
  AccessPattern pattern;
  pattern.pes = 4;
  pattern.accesses_per_pe = 32;
  const Scenario s = map_then_unmap(64, {{0, 64}});
  const Result<Trace> a = trace_from_scenario(s, pattern);
  const Result<Trace> b = trace_from_scenario(s, pattern);
  pattern.seed = 2;
  const Result<Trace> c = trace_from_scenario(s, pattern);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const auto vas = [](const Trace& t) {
    std::vector<VirtAddr> out;
    for (const TraceAccess& r : accesses_of(t)) out.push_back(r.va);
    return out;
  };
  EXPECT_EQ(vas(*a), vas(*b));
  EXPECT_NE(vas(*a), vas(*c));
}

TEST(TraceFromScenario, RefusesPeCountsOutsideOneToSixtyFour) {
  for (const unsigned pes : {0u, 65u}) {
    AccessPattern pattern;
    pattern.pes = pes;
    const Result<Trace> t = trace_from_scenario(map_then_unmap(1, {{0, 1}}), pattern);
    ASSERT_FALSE(t.ok()) << pes;
    EXPECT_EQ(t.error().code, Errc::invalid_argument);
  }
}

TEST(TraceFromScenario, AScenarioTouchingEveryTwoMegabytesLeavesNoRoomForTheHotRegion) {
  Scenario s = map_then_unmap(1, {{0, 1}});
  s.geometry.input_bits = 39;
  s.batches[1].steps.push_back(Step::unmap(0, std::uint64_t{1} << 39, "everything"));
  const Result<Trace> t = trace_from_scenario(s, AccessPattern{});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, Errc::out_of_range);
  AccessPattern no_hot;
  no_hot.hot_pages = 0;
  EXPECT_TRUE(trace_from_scenario(s, no_hot).ok()) << "without a hot region there is nothing to place";
}

// ---------------------------------------------------------------- replay

// PE 0 maps one page, PE 1 reads it, PE 0 unmaps it, PE 1 reads it again.
Trace one_page_read_across_an_unmap() {
  Trace t;
  t.name = "one-page";
  t.space = asid5();
  t.pes = 2;
  Batch map{"map", {Step::map(kVa, kPage, kData, user_rw(), pt::BlockMappings::forbidden, "map")}};
  Batch unmap{"unmap", {Step::unmap(kVa, kPage, "unmap")}};
  t.events = {TraceBatch{0, map}, TraceAccess{1, kVa, sim::AccessKind::read, sim::Privilege::el0},
              TraceBatch{0, unmap}, TraceAccess{1, kVa, sim::AccessKind::read, sim::Privilege::el0}};
  return t;
}

TEST(Simulate, UnderThePlannerTheReadAfterTheUnmapFaultsAndNothingIsStale) {
  const maint::Planner planner;
  const SimRun run = simulate(one_page_read_across_an_unmap(), planner, mobile8(), options_with({}));
  EXPECT_TRUE(run.ok());
  EXPECT_EQ(run.counters.accesses, 2u);
  EXPECT_EQ(run.counters.translation_faults, 1u);
  EXPECT_EQ(run.counters.walks, 2u) << "one walk to fill, one that finds the page gone";
  EXPECT_GE(run.counters.tlbi_broadcast, 1u);
}

TEST(Simulate, APolicyThatSkipsInvalidationIsCaughtServingTheUnmappedPageFromTheTlb) {
  const test::ForgetfulPolicy none;
  const SimRun run = simulate(one_page_read_across_an_unmap(), none, mobile8(), options_with({}));
  // The emptied tables are freed with no walk-cache invalidation either.
  const auto stale = std::find_if(run.violations.begin(), run.violations.end(), [](const sim::Violation& v) {
    return v.kind == sim::ViolationKind::stale_translation;
  });
  ASSERT_NE(stale, run.violations.end());
  const sim::Violation& v = *stale;
  EXPECT_EQ(v.pe, 1u);
  EXPECT_EQ(v.va, kVa);
  ASSERT_TRUE(v.stale.has_value());
  EXPECT_FALSE(v.current.has_value()) << "the page is unmapped now";
  EXPECT_EQ(run.counters.translation_faults, 0u) << "the stale entry answered instead";
}

TEST(Simulate, AGlobalMappingInASpaceDeclaredWithoutGlobalsIsCaughtAfterTheAsidFlush) {
  // The planner believes the space holds no global entries; one global
  // page survives its ASID-wide invalidation and is read stale. The unmap
  // covers the page's whole 2 MiB, so its level-3 table goes whole and 512
  // pages are owed: ASID-wide is the cheapest plan.
  Trace t = one_page_read_across_an_unmap();
  arch::s1::Attributes global = user_rw();
  global.scope = arch::s1::Scope::global;
  std::get<TraceBatch>(t.events[0]).batch.steps[0].attributes = global;
  constexpr std::uint64_t k2M = 0x20'0000;
  std::get<TraceBatch>(t.events[2]).batch.steps[0] = Step::unmap(kVa & ~(k2M - 1), k2M, "unmap");
  const maint::Planner planner;
  const SimRun run = simulate(t, planner, mobile8(), options_with({}));
  ASSERT_FALSE(run.violations.empty());
  EXPECT_EQ(run.violations[0].kind, sim::ViolationKind::stale_translation);
  EXPECT_EQ(run.violations[0].va, kVa);
}

TEST(Simulate, ABatchOnAPeTheMachineLacksIsAProblemAndTheRestStillRuns) {
  Trace t = one_page_read_across_an_unmap();
  std::get<TraceBatch>(t.events[2]).pe = 7;
  const maint::Planner planner;
  const SimRun run = simulate(t, planner, mobile8(), options_with({}));
  ASSERT_EQ(run.problems.size(), 1u);
  EXPECT_NE(run.problems[0].find("PE 7 does not exist"), std::string::npos) << run.problems[0];
  EXPECT_EQ(run.counters.accesses, 2u);
  EXPECT_EQ(run.counters.translation_faults, 0u) << "the page stayed mapped";
}

TEST(Simulate, ATraceWithoutPesIsAProblemNotACrash) {
  Trace t = one_page_read_across_an_unmap();
  t.pes = 0;
  const maint::Planner planner;
  const SimRun run = simulate(t, planner, mobile8(), options_with({}));
  ASSERT_EQ(run.problems.size(), 1u);
  EXPECT_EQ(run.counters.accesses, 0u);
}

TEST(Simulate, EveryBuiltinScenarioRunsCleanUnderThePlannerOnOneToEightPes) {
  const maint::Planner planner;
  for (const unsigned pes : {1u, 3u, 8u}) {
    AccessPattern pattern;
    pattern.pes = pes;
    pattern.accesses_per_pe = 16;
    for (const Scenario& s : builtin_suite()) {
      const Result<Trace> t = trace_from_scenario(s, pattern);
      ASSERT_TRUE(t.ok()) << s.name;
      const SimRun run = simulate(*t, planner, mobile8(), options_with(ttl_and_range()));
      EXPECT_TRUE(run.violations.empty()) << s.name << " on " << pes << " PEs: " << run.violations[0].message;
      EXPECT_TRUE(run.problems.empty()) << s.name << " on " << pes << " PEs: " << run.problems[0];
      EXPECT_EQ(run.counters.accesses, t->accesses()) << s.name;
    }
  }
}

TEST(Simulate, EqualInputGivesByteIdenticalJson) {
  AccessPattern pattern;
  pattern.pes = 4;
  pattern.accesses_per_pe = 32;
  const maint::Planner planner;
  const auto render = [&] {
    std::vector<report::SimEntry> entries;
    for (const Scenario& s : builtin_suite()) {
      Result<Trace> t = trace_from_scenario(s, pattern);
      EXPECT_TRUE(t.ok());
      report::SimEntry e{std::move(*t), {}, std::nullopt};
      e.run = simulate(e.trace, planner, mobile8(), options_with(ttl_and_range()));
      entries.push_back(std::move(e));
    }
    report::SimLabel label{"tlbkit", &mobile8(), ttl_and_range(), pattern};
    return report::sim_json(entries, label).dump(2);
  };
  const std::string first = render();
  EXPECT_EQ(render(), first);
  EXPECT_NE(first.find("\"ok\": true"), std::string::npos);
}

// ---------------------------------------------------------------- oracle

// The planner with the shape of each invalidating plan forced by `script`
// (nullopt: the planner's choice). Notes when a forced shape was illegal.
class ForcedShapes final : public maint::Policy {
 public:
  ForcedShapes(const maint::Planner& planner, std::vector<std::optional<maint::Shape>> script)
      : planner_(planner), script_(std::move(script)) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override {
    if (!pending.needs_invalidation()) return planner_.plan(pending, space, features, plan);
    const std::size_t k = points_++;
    if (k >= script_.size() || !script_[k]) return planner_.plan(pending, space, features, plan);
    const Status s = planner_.plan_as(*script_[k], pending, space, features, plan);
    if (!s.ok()) illegal_ = true;
    return s;
  }
  std::size_t points() const { return points_; }
  bool illegal() const { return illegal_; }

 private:
  const maint::Planner& planner_;
  std::vector<std::optional<maint::Shape>> script_;
  mutable std::size_t points_ = 0;
  mutable bool illegal_ = false;
};

constexpr std::array<maint::Shape, maint::kShapeCount> kShapes{
    maint::Shape::per_va,       maint::Shape::range_exact, maint::Shape::range_rounded,
    maint::Shape::range_merged, maint::Shape::space_wide,  maint::Shape::full};

// The cheapest clean run over every combination of legal shapes at the
// first `points` invalidating plans: an exhaustive search, no pruning.
std::uint64_t exhaustive_cheapest(const Trace& trace, const maint::Planner& planner, const SimOptions& options,
                                  std::size_t points) {
  std::uint64_t best = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::size_t> digits(points, 0);
  for (;;) {
    std::vector<std::optional<maint::Shape>> script;
    for (const std::size_t d : digits) script.emplace_back(kShapes[d]);
    const ForcedShapes policy(planner, script);
    const SimRun run = simulate(trace, policy, mobile8(), options);
    if (!policy.illegal() && run.ok()) best = std::min(best, run.total_cycles());
    std::size_t i = 0;
    while (i < points && ++digits[i] == kShapes.size()) digits[i++] = 0;
    if (i == points) return best;
  }
}

// Unmaps two runs of a 48-page mapping while 4 PEs keep reading a hot set.
Trace oracle_trace(unsigned accesses_per_pe) {
  AccessPattern pattern;
  pattern.pes = 4;
  pattern.accesses_per_pe = accesses_per_pe;
  Result<Trace> t = trace_from_scenario(map_then_unmap(48, {{0, 24}, {30, 10}}), pattern);
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

TEST(Hindsight, IsCleanAndNeverDearerThanThePlanner) {
  const maint::Planner planner;
  const Trace t = oracle_trace(32);
  const Result<HindsightResult> h = hindsight(t, planner, mobile8(), options_with(ttl_and_range()));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_TRUE(h->run.ok());
  EXPECT_LE(h->run.total_cycles(), h->planner_cycles);
  const SimRun alone = simulate(t, planner, mobile8(), options_with(ttl_and_range()));
  EXPECT_EQ(h->planner_cycles, alone.total_cycles()) << "the planner's cost is its own replay's";
  EXPECT_GE(h->simulations, 1 + h->choices.size());
}

TEST(Hindsight, LiesBetweenTheExhaustiveOptimumAndTheBestSingleChangeOfThePlannersChoices) {
  const maint::Planner planner;
  for (const unsigned reads : {0u, 8u, 64u}) {
    const Trace t = oracle_trace(reads);
    const SimOptions options = options_with(ttl_and_range());
    const Result<HindsightResult> h = hindsight(t, planner, mobile8(), options);
    ASSERT_TRUE(h.ok()) << h.error().message;
    // Two invalidating plans: the unmap and the teardown.
    const ForcedShapes counting(planner, {});
    (void)simulate(t, counting, mobile8(), options);
    ASSERT_EQ(counting.points(), 2u);
    const std::uint64_t optimum = exhaustive_cheapest(t, planner, options, 2);
    const std::uint64_t first_only = exhaustive_cheapest(t, planner, options, 1);
    EXPECT_LE(optimum, h->run.total_cycles()) << reads << " reads";
    EXPECT_LE(h->run.total_cycles(), first_only) << reads << " reads: greedy starts from the best first choice";
  }
}

TEST(Hindsight, ReplayingItsChoicesReproducesItsCost) {
  const maint::Planner planner;
  const Trace t = oracle_trace(32);
  const SimOptions options = options_with(ttl_and_range());
  const Result<HindsightResult> h = hindsight(t, planner, mobile8(), options);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->choices.size(), 2u) << "the unmap and the teardown";
  // Choices are indexed among every plan the gather asked for; those that
  // needed invalidation are exactly the points with a choice here.
  std::vector<std::optional<maint::Shape>> script;
  for (const HindsightChoice& c : h->choices) script.emplace_back(c.chosen);
  const ForcedShapes policy(planner, script);
  const SimRun run = simulate(t, policy, mobile8(), options);
  EXPECT_FALSE(policy.illegal());
  EXPECT_EQ(run.total_cycles(), h->run.total_cycles());
  EXPECT_EQ(run.counters, h->run.counters);
}

TEST(Hindsight, RefusesATraceThePlannerCannotRunCleanly) {
  Trace t = one_page_read_across_an_unmap();
  std::get<TraceBatch>(t.events[2]).pe = 7;
  const maint::Planner planner;
  const Result<HindsightResult> h = hindsight(t, planner, mobile8(), options_with({}));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace tlbkit::replay
