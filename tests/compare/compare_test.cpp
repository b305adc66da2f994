// The comparison grid (tlbkit/compare): workload names, the row order,
// regime applicability, the cheapest mark, and that running on several
// threads changes nothing. Expected values are written out by hand or
// come from a replay made here without the grid.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/compare/grid.hpp"
#include "tlbkit/compare/part.hpp"
#include "tlbkit/compare/workload.hpp"
#include "tlbkit/gen/suite.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::compare {
namespace {

using baselines::Manages;

std::vector<Workload> parsed(const std::string& spec) {
  std::vector<Workload> out;
  const std::optional<std::string> bad = parse_workload(spec, out);
  EXPECT_FALSE(bad) << *bad;
  return out;
}

std::string refusal(const std::string& spec) {
  std::vector<Workload> out;
  const std::optional<std::string> bad = parse_workload(spec, out);
  EXPECT_TRUE(out.empty()) << spec;
  return bad.value_or("");
}

TEST(CompareWorkloads, AGeneratorTakesSizeSeedAndPes) {
  const std::vector<Workload> w = parsed("gen:small-munmap,size=64,seed=9,pes=2");
  ASSERT_EQ(w.size(), 1u);
  ASSERT_NE(w[0].generator, nullptr);
  EXPECT_EQ(w[0].generator->name, "small-munmap");
  EXPECT_EQ(w[0].parameters.size, 64u);
  EXPECT_EQ(w[0].parameters.seed, 9u);
  EXPECT_EQ(w[0].parameters.pes, 2u);
  EXPECT_EQ(w[0].name, "gen:small-munmap,size=64,seed=9,pes=2");
  EXPECT_TRUE(w[0].pes_fixed);
  EXPECT_FALSE(parsed("gen:small-munmap")[0].pes_fixed) << "spread over each cell's PEs";
}

TEST(CompareWorkloads, SuiteIsEveryBuiltInWorkloadAndAnythingElseIsAFile) {
  EXPECT_EQ(parsed("suite").size(), gen::builtin_workloads().size());
  const std::vector<Workload> f = parsed("traces/ls.tlbt.zst");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].generator, nullptr);
  EXPECT_EQ(f[0].path, "traces/ls.tlbt.zst");
}

TEST(CompareWorkloads, BadGeneratorNamesAndParametersAreRefusedByName) {
  EXPECT_NE(refusal("gen:nope").find("no generator \"nope\""), std::string::npos);
  EXPECT_NE(refusal("gen:jit-wx,sise=3").find("unknown parameter \"sise\""), std::string::npos);
  EXPECT_NE(refusal("gen:jit-wx,size=0").find("size must be at least 1"), std::string::npos);
  EXPECT_NE(refusal("gen:jit-wx,pes=65").find("pes must be 1..64"), std::string::npos);
  EXPECT_NE(refusal("gen:jit-wx,seed=x").find("is not KEY=NUMBER"), std::string::npos);
  EXPECT_NE(refusal("gen:jit-wx,seed").find("is not KEY=NUMBER"), std::string::npos);
}

TEST(CompareWorkloads, AMissingFileIsReportedWhenScanned) {
  Manages used = Manages::none;
  const std::vector<Workload> w = parsed("/nonexistent/x.tlbt");
  EXPECT_NE(regimes_used(w[0], used), "");
}

TEST(CompareWorkloads, RegimesComeFromTheSpacesTheTraceCreates) {
  Manages used = Manages::none;
  ASSERT_EQ(regimes_used(parsed("gen:small-munmap,size=8")[0], used), "");
  EXPECT_EQ(used, Manages::process_stage1);
  ASSERT_EQ(regimes_used(parsed("gen:vm-teardown,size=64")[0], used), "");
  EXPECT_EQ(used, Manages::vm_stage2);
  ASSERT_EQ(regimes_used(parsed("gen:kernel-purge,size=8")[0], used), "");
  EXPECT_TRUE(baselines::covers(used, Manages::kernel_stage1));
}

GridSpec two_by_three() {
  GridSpec spec;
  for (const char* w : {"gen:small-munmap,size=32", "gen:vm-teardown,size=64"}) {
    std::vector<Workload> one = parsed(w);
    spec.workloads.push_back(one[0]);
  }
  for (const char* p : {"tlbkit", "linux", "kvm"}) spec.policies.push_back(baselines::find_policy(p));
  spec.profiles.push_back(sim::find_profile("mobile-8"));
  arch::CpuFeatures f;
  f.ttl = arch::Presence::present;
  spec.feature_sets.push_back(FeatureSet{"ttl", f});
  spec.pes = {2, 4};
  return spec;
}

TEST(CompareGrid, CellsRunPolicyFastestThenPesThenWorkload) {
  const GridSpec spec = two_by_three();
  ASSERT_EQ(cell_count(spec), 2u * 2u * 3u);
  const Cell c = cell_at(spec, 4);  // workload 0, pes index 1 (4 PEs), policy 1
  EXPECT_EQ(c.workload, 0u);
  EXPECT_EQ(c.pes_index, 1u);
  EXPECT_EQ(c.pes, 4u);
  EXPECT_EQ(c.policy, 1u);
  const Cell last = cell_at(spec, 11);
  EXPECT_EQ(last.workload, 1u);
  EXPECT_EQ(last.pes_index, 1u);
  EXPECT_EQ(last.policy, 2u);
}

TEST(CompareGrid, APolicyRunsOnlyWhereItsSystemManagesTheRegimes) {
  const GridSpec spec = two_by_three();
  std::vector<Manages> used;
  ASSERT_FALSE(scan_workloads(spec, used));
  const std::vector<Cell> cells = run_grid(spec, used, 1);
  ASSERT_EQ(cells.size(), 12u);
  // small-munmap (processes): kvm is n/a; vm-teardown (stage 2): linux is.
  for (const Cell& c : cells) {
    const std::string_view policy = spec.policies[c.policy]->name;
    const bool na = (c.workload == 0 && policy == baselines::find_policy("kvm")->name) ||
                    (c.workload == 1 && policy == baselines::find_policy("linux")->name);
    EXPECT_EQ(c.state, na ? CellState::not_applicable : CellState::ran) << policy << " on " << c.workload;
    if (!na) {
      EXPECT_TRUE(c.result.ok()) << policy;
    }
  }
  EXPECT_FALSE(contract_broken(spec, cells));
}

TEST(CompareGrid, ACellIsTheReplayOfItsWorkloadAndItDoesNotDependOnTheJobs) {
  const GridSpec spec = two_by_three();
  std::vector<Manages> used;
  ASSERT_FALSE(scan_workloads(spec, used));
  const std::vector<Cell> one = run_grid(spec, used, 1);
  const std::vector<Cell> three = run_grid(spec, used, 3);
  ASSERT_EQ(one.size(), three.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].result, three[i].result) << "cell " << i;
  }
  // Cell 1: small-munmap, 2 PEs, linux; replayed here without the grid.
  replay::ReplayOptions options;
  options.pes = 2;
  options.features = spec.feature_sets[0].features;
  replay::TraceReplayer direct(baselines::find_policy("linux")->policy, *sim::find_profile("mobile-8"), options);
  gen::Parameters p = spec.workloads[0].parameters;
  p.pes = 2;  // no pes= in its name: spread over the cell's PEs
  ASSERT_EQ(spec.workloads[0].generator->emit(p, direct), "");
  EXPECT_EQ(direct.finish().counters, one[1].result.counters);
}

// Two row groups of three policies, in row order, with these totals.
std::vector<Cell> two_groups_of_three(const std::array<std::uint64_t, 6>& totals) {
  std::vector<Cell> cells(6);
  for (std::size_t i = 0; i < 6; ++i) {
    cells[i].workload = i / 3;
    cells[i].policy = i % 3;
    cells[i].result.counters.maintenance_cycles = totals[i];
  }
  return cells;
}

TEST(CompareGrid, TheCheapestCorrectCellOfEachGroupIsMarkedAndABrokenOneNever) {
  // Two groups of three policies, totals written by hand.
  std::vector<Cell> cells = two_groups_of_three({300, 200, 200, 500, 100, 400});
  // Group 2's cheapest (100) has a violation: the next correct one wins.
  cells[4].result.violations = 1;
  cells[5].state = CellState::not_applicable;
  const std::vector<bool> marks = cheapest_of_groups(two_by_three(), cells);
  // Group 1: a tie at 200, the earlier policy marked. Group 2: 500, the only correct cell that ran.
  EXPECT_EQ(marks, (std::vector<bool>{false, true, false, true, false, false}));
}

TEST(CompareGrid, AModelOfAKnownBugIsNeverMarkedEvenWhenItIsCheapestAndRanClean) {
  GridSpec spec;
  for (const char* p : {"tlbkit", "linux", "elfuse-00ed78b"}) spec.policies.push_back(baselines::find_policy(p));
  ASSERT_EQ(spec.policies[2]->contract, baselines::Contract::known_bug);
  // Two groups of tlbkit, linux, elfuse, totals by hand; no violation
  // anywhere. Group 1: elfuse 100 is the least, linux 250 the cheapest
  // correct by contract. Group 2: elfuse 100 again, tlbkit 200 under linux 300.
  std::vector<Cell> cells = two_groups_of_three({300, 250, 100, 200, 300, 100});
  EXPECT_FALSE(contender(spec, cells[2]));
  EXPECT_TRUE(contender(spec, cells[1]));
  EXPECT_EQ(cheapest_of_groups(spec, cells), (std::vector<bool>{false, true, false, true, false, false}));
  // Only known-bug models ran clean: no mark at all.
  cells[0].result.violations = 1;
  cells[1].state = CellState::not_applicable;
  EXPECT_EQ(cheapest_of_groups(spec, cells), (std::vector<bool>{false, false, false, true, false, false}));
}

TEST(CompareGrid, AViolationBreaksTheContractOnlyOfAPolicyThatPromisedCorrectness) {
  GridSpec spec = two_by_three();
  std::vector<Cell> cells(1);
  cells[0].policy = 0;
  cells[0].result.violations = 1;
  EXPECT_TRUE(contract_broken(spec, cells));
  const baselines::PolicyEntry known_bug{"a-known-bug", "test", spec.policies[0]->policy, nullptr,
                                         Manages::all, baselines::Contract::known_bug};
  spec.policies[0] = &known_bug;
  EXPECT_FALSE(contract_broken(spec, cells));
}

TEST(CompareBound, TheLowerBoundRunsCleanAndNoCorrectPolicyCostsLess) {
  // Every generator at an eighth of its default size, every policy.
  GridSpec spec;
  for (const gen::Generator& g : gen::generators()) {
    Workload w;
    w.name = std::string(g.name);
    w.generator = &g;
    w.parameters.size = std::max<std::uint64_t>(1, g.default_size / 8);
    spec.workloads.push_back(w);
  }
  for (const baselines::PolicyEntry& e : baselines::all_policies()) spec.policies.push_back(&e);
  spec.profiles.push_back(sim::find_profile("mobile-8"));
  arch::CpuFeatures f;
  f.ttl = arch::Presence::present;
  f.tlbi_range = arch::Presence::present;
  spec.feature_sets.push_back(FeatureSet{"ttl,tlbirange", f});
  spec.pes = {4};
  std::vector<Manages> used;
  ASSERT_FALSE(scan_workloads(spec, used));
  const std::vector<Cell> cells = run_grid(spec, used, 2);
  const std::vector<GroupBound> bounds = run_bounds(spec, 2);
  ASSERT_EQ(bounds.size(), spec.workloads.size());
  for (const GroupBound& b : bounds) {
    const std::string name = spec.workloads[b.group].name;
    ASSERT_EQ(b.state, CellState::ran) << name << ": " << b.note;
    EXPECT_TRUE(b.result.ok()) << name << ": the bound left something stale: " << b.result.first_failure;
    EXPECT_EQ(b.result.counters.tlbi_broadcast, 0u) << name << ": the bound broadcasts nothing";
  }
  std::size_t compared = 0;
  for (const Cell& c : cells) {
    if (!correct(c)) continue;
    ++compared;
    EXPECT_LE(bounds[c.workload].result.total_cycles(), c.result.total_cycles())
        << spec.workloads[c.workload].name << " under " << spec.policies[c.policy]->name;
  }
  EXPECT_GE(compared, spec.workloads.size() * 4);
}

TEST(CompareShards, ShardKOfNTakesEveryNthCellFromK) {
  EXPECT_EQ(shard_cells(10, Shard{1, 4}), (std::vector<std::size_t>{1, 5, 9}));
  EXPECT_EQ(shard_cells(10, Shard{0, 1}).size(), 10u);
  EXPECT_TRUE(shard_cells(2, Shard{3, 4}).empty());
  Shard s;
  EXPECT_FALSE(parse_shard("2/5", s));
  EXPECT_EQ(s, (Shard{2, 5}));
  for (const char* bad : {"5/5", "1/0", "1", "a/2", "1/2/3", "-1/2"}) {
    Shard keep{1, 2};
    EXPECT_TRUE(parse_shard(bad, keep)) << bad;
    EXPECT_EQ(keep, (Shard{1, 2})) << "unchanged on error: " << bad;
  }
}

TEST(CompareShards, APartReadsBackToTheCellsItWasWrittenFrom) {
  const GridSpec spec = two_by_three();
  std::vector<Manages> used;
  ASSERT_FALSE(scan_workloads(spec, used));
  const std::vector<std::size_t> indices = shard_cells(cell_count(spec), Shard{1, 2});
  const std::vector<Cell> cells = run_grid(spec, used, 2, {}, &indices);
  Part part;
  ASSERT_FALSE(read_part(part_json(spec.input, Shard{1, 2}, indices, cells, {}), "p", part));
  EXPECT_EQ(part.indices, indices);
  ASSERT_EQ(part.cells.size(), cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(part.cells[i].result, cells[i].result);
    EXPECT_EQ(part.cells[i].state, cells[i].state);
    EXPECT_EQ(part.cells[i].note, cells[i].note);
  }
  // Alone it is half a grid.
  std::vector<Cell> merged;
  std::vector<GroupBound> bounds;
  EXPECT_TRUE(merge_parts({part}, spec, merged, bounds));
  EXPECT_TRUE(merged.empty());
}

}  // namespace
}  // namespace tlbkit::compare
