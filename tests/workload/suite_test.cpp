// Properties of the whole built-in suite and of the runner and reports.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tlbkit/report/suite_report.hpp"
#include "tlbkit/maint/simple_policy.hpp"
#include "tlbkit/workload/runner.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::workload {
namespace {

std::vector<ScenarioResult> run_all(arch::CpuFeatures features = {}) {
  const maint::SimplePolicy policy;
  RunOptions options;
  options.features = features;
  return run_suite(builtin_suite(), policy, options);
}

report::RunLabel label(arch::CpuFeatures features = {}) {
  return report::RunLabel{"simple", maint::SimplePolicy::kDefaultThreshold, features};
}

TEST(BuiltinSuite, HasEightToTwelveScenariosWithUniqueNamesAndDescriptions) {
  const std::vector<Scenario> suite = builtin_suite();
  EXPECT_GE(suite.size(), 8u);
  EXPECT_LE(suite.size(), 12u);
  std::set<std::string> names;
  for (const Scenario& s : suite) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate " << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_EQ(s.description.find('\n'), std::string::npos) << s.name << ": description must be one line";
    EXPECT_FALSE(s.batches.empty()) << s.name;
    for (const Batch& b : s.batches) {
      EXPECT_FALSE(b.steps.empty()) << s.name << ": " << b.label;
    }
  }
}

TEST(BuiltinSuite, EveryStepsAttributesBelongToItsScenariosRegime) {
  for (const Scenario& s : builtin_suite()) {
    for (const Batch& b : s.batches) {
      for (const Step& step : b.steps) {
        if (step.attributes) {
          EXPECT_EQ(regime_of(*step.attributes), s.space.regime) << s.name;
        }
      }
    }
  }
}

TEST(BuiltinSuite, CoversEveryOperationRegimeAndRootShape) {
  std::set<StepKind> kinds;
  std::set<arch::Regime> regimes;
  std::set<unsigned> stage1_bits;
  bool concatenated_root = false, global = false, several_steps_in_a_batch = false;
  for (const Scenario& s : builtin_suite()) {
    regimes.insert(s.space.regime);
    if (s.geometry.stage == arch::Stage::stage1) stage1_bits.insert(s.geometry.input_bits);
    const Result<arch::Geometry> g = make_geometry(s.geometry);
    ASSERT_TRUE(g.ok()) << s.name;
    concatenated_root = concatenated_root || g->root_tables() > 1;
    global = global || s.space.global == maint::GlobalEntries::present;
    for (const Batch& b : s.batches) {
      several_steps_in_a_batch = several_steps_in_a_batch || b.steps.size() > 1;
      for (const Step& step : b.steps) kinds.insert(step.kind);
    }
  }
  EXPECT_EQ(kinds, (std::set<StepKind>{StepKind::map, StepKind::unmap, StepKind::protect, StepKind::split,
                                       StepKind::promote}));
  EXPECT_EQ(regimes, (std::set<arch::Regime>{arch::Regime::el1_stage1, arch::Regime::el2_stage1,
                                             arch::Regime::stage2}));
  EXPECT_EQ(stage1_bits, (std::set<unsigned>{39, 48}));
  EXPECT_TRUE(concatenated_root);
  EXPECT_TRUE(global);
  EXPECT_TRUE(several_steps_in_a_batch);
}

TEST(BuiltinSuite, RunsWithoutAFailedStepOrAMemoryProblem) {
  for (const ScenarioResult& r : run_all()) {
    EXPECT_TRUE(r.ok()) << r.scenario.name << ": " << (r.problems.empty() ? "" : r.problems[0]);
    ASSERT_EQ(r.batches.size(), r.scenario.batches.size()) << r.scenario.name;
    for (std::size_t b = 0; b < r.batches.size(); ++b) {
      ASSERT_EQ(r.batches[b].steps.size(), r.scenario.batches[b].steps.size());
      for (const StepOutcome& o : r.batches[b].steps) {
        EXPECT_TRUE(o.ok()) << r.scenario.name;
      }
    }
    EXPECT_EQ(r.teardown.live_pages_after, 0u) << r.scenario.name;
    EXPECT_EQ(r.memory.allocated_pages, r.memory.freed_pages) << r.scenario.name;
  }
}

TEST(BuiltinSuite, RunsCleanlyUnderEveryFeatureSet) {
  for (const char* name : {"ttl", "tlbirange", "bbm2", "fwb"}) {
    arch::CpuFeatures f;
    if (std::string(name) == "ttl") f.ttl = arch::Presence::present;
    if (std::string(name) == "tlbirange") f.tlbi_range = arch::Presence::present;
    if (std::string(name) == "bbm2") f.bbm = arch::BbmLevel::level2;
    if (std::string(name) == "fwb") f.fwb = arch::Presence::present;
    for (const ScenarioResult& r : run_all(f)) {
      EXPECT_TRUE(r.ok()) << name << ": " << r.scenario.name;
    }
  }
}

TEST(BuiltinSuite, ExercisesSmallAndWideInvalidationBreakBeforeMakeTableFreeingAndExecGain) {
  Counters total;
  for (const ScenarioResult& r : run_all()) total += r.totals;
  EXPECT_GT(total.tlbi_per_va, 0u);
  EXPECT_GT(total.tlbi_context, 0u);
  EXPECT_GT(total.tlbi_full, 0u);
  EXPECT_GT(total.immediate_plans, 0u);
  EXPECT_GT(total.tables_freed, 0u);
  EXPECT_GT(total.icache, 0u);
}

TEST(BuiltinSuite, EveryPlanIsFencedByABarrierAtItsEnd) {
  for (const ScenarioResult& r : run_all()) {
    for (const BatchResult& b : r.batches) {
      for (const ExecutedPlan& p : b.plans) {
        ASSERT_FALSE(p.plan.empty()) << r.scenario.name;
        const arch::Instr last = p.plan.steps().back().first.instr;
        EXPECT_TRUE(last == arch::Instr::dsb_ish || last == arch::Instr::isb) << r.scenario.name;
      }
    }
  }
}

TEST(BuiltinSuite, RunningTwiceGivesByteIdenticalJsonAndText) {
  const std::vector<ScenarioResult> first = run_all();
  const std::vector<ScenarioResult> second = run_all();
  EXPECT_EQ(report::suite_json(first, label()).dump(2), report::suite_json(second, label()).dump(2));
  EXPECT_EQ(report::suite_text(first, label()), report::suite_text(second, label()));
}

TEST(SuiteJson, ListsEveryScenarioWithItsBatchesPlansAndCounters) {
  const std::vector<ScenarioResult> results = run_all();
  const nlohmann::json j = report::suite_json(results, label());
  ASSERT_EQ(j["scenarios"].size(), results.size());
  EXPECT_TRUE(j["ok"].get<bool>());
  std::uint64_t plans = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const nlohmann::json& s = j["scenarios"][i];
    EXPECT_EQ(s["name"], results[i].scenario.name);
    EXPECT_EQ(s["batches"].size(), results[i].scenario.batches.size());
    EXPECT_EQ(s["counters"]["plans"], results[i].totals.plans);
    plans += s["counters"]["plans"].get<std::uint64_t>();
  }
  EXPECT_EQ(j["totals"]["plans"].get<std::uint64_t>(), plans);
  const nlohmann::json& op = j["scenarios"][1]["batches"][1]["plans"][0]["runs"][1];
  EXPECT_EQ(op["op"], "tlbi vale1is");
  EXPECT_EQ(op["operand"], "0x0005000000010000");
}

TEST(SuiteText, EndsWithASummaryRowPerScenarioAndATotal) {
  const std::vector<ScenarioResult> results = run_all();
  const std::string table = report::summary_table(results);
  for (const ScenarioResult& r : results) {
    EXPECT_NE(table.find(r.scenario.name + " "), std::string::npos);
  }
  EXPECT_NE(table.find("total (" + std::to_string(results.size()) + ")"), std::string::npos);
  EXPECT_EQ(table.find("FAILED"), std::string::npos);
}

TEST(FindBuiltin, FindsByExactNameOnly) {
  EXPECT_TRUE(find_builtin("thp-split-mprotect").has_value());
  EXPECT_FALSE(find_builtin("thp-split").has_value());
  EXPECT_FALSE(find_builtin("").has_value());
}

// ---- the runner on scenarios that go wrong ---------------------------------------

Scenario one_batch(std::vector<Step> steps) {
  Scenario s;
  s.name = "test";
  s.geometry = GeometrySpec{arch::Stage::stage1, 48, 0};
  s.space.regime = arch::Regime::el1_stage1;
  s.space.asid = 1;
  s.batches.push_back(Batch{"batch", std::move(steps)});
  return s;
}

TEST(Runner, AFailedStepIsReportedWithItsErrorAndLaterStepsStillRun) {
  arch::s1::Attributes rw;
  const Scenario s = one_batch({Step::map(0x1000'0000, 0x1000, 0x4000'0000, rw, pt::BlockMappings::allowed, "a"),
                                Step::map(0x1000'0000, 0x1000, 0x4000'1000, rw, pt::BlockMappings::allowed, "b"),
                                Step::unmap(0x1000'0000, 0x1000, "c")});
  const ScenarioResult r = run_scenario(s, maint::SimplePolicy(), RunOptions{});
  ASSERT_EQ(r.batches.size(), 1u);
  ASSERT_EQ(r.batches[0].steps.size(), 3u);
  EXPECT_TRUE(r.batches[0].steps[0].ok());
  ASSERT_FALSE(r.batches[0].steps[1].ok());
  EXPECT_EQ(r.batches[0].steps[1].error->code, Errc::overlap);
  EXPECT_TRUE(r.batches[0].steps[2].ok());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("step 2 (map): overlap"), std::string::npos) << r.problems[0];
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.teardown.live_pages_after, 0u);
}

TEST(Runner, AttributesOfAnotherRegimeFailTheStepWithInvalidArgument) {
  arch::s2::Attributes stage2;
  const Scenario s = one_batch({Step::map(0x1000'0000, 0x1000, 0x4000'0000, stage2, pt::BlockMappings::allowed, "")});
  const ScenarioResult r = run_scenario(s, maint::SimplePolicy(), RunOptions{});
  ASSERT_FALSE(r.batches[0].steps[0].ok());
  EXPECT_EQ(r.batches[0].steps[0].error->code, Errc::invalid_argument);
}

TEST(Runner, AnInvalidGeometryRunsNothingAndSaysSo) {
  Scenario s = one_batch({Step::unmap(0, 0x1000, "")});
  s.geometry.input_bits = 52;
  const ScenarioResult r = run_scenario(s, maint::SimplePolicy(), RunOptions{});
  EXPECT_TRUE(r.batches.empty());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].rfind("geometry: unsupported", 0), 0u) << r.problems[0];
}

TEST(Runner, TooSmallATablePoolFailsTheStepWithNoMemoryAndLeaksNothing) {
  arch::s1::Attributes rw;
  const Scenario s = one_batch({Step::map(0x1000'0000, 0x1000, 0x4000'0000, rw, pt::BlockMappings::allowed, "")});
  RunOptions options;
  options.memory_pages = 2;  // the root and one more table: a 48-bit map needs three below the root
  const ScenarioResult r = run_scenario(s, maint::SimplePolicy(), options);
  ASSERT_EQ(r.batches.size(), 1u);
  ASSERT_FALSE(r.batches[0].steps[0].ok());
  EXPECT_EQ(r.batches[0].steps[0].error->code, Errc::no_memory);
  EXPECT_EQ(r.teardown.live_pages_after, 0u);
  EXPECT_EQ(r.memory.allocated_pages, r.memory.freed_pages);
}

}  // namespace
}  // namespace tlbkit::workload
