// The cheapest mark in every rendering of a comparison (tlbkit/report):
// on a hand-built group where a model of a known bug is the cheapest and
// showed no violation, the mark goes to the cheapest policy correct by
// contract, and the known-bug row keeps its numbers with its bug beside.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/compare/grid.hpp"
#include "tlbkit/report/compare_files.hpp"
#include "tlbkit/report/compare_report.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::report {
namespace {

using compare::Cell;
using compare::GridSpec;
using compare::GroupBound;

// One group (workload "w", mobile-8, "ttl", 4 PEs) of tlbkit, linux-6.17
// and elfuse-00ed78b, totals by hand: tlbkit 300, linux 250, elfuse 100,
// no violation anywhere; the bound 50.
struct OneGroup {
  GridSpec spec;
  std::vector<Cell> cells;
  std::vector<GroupBound> bounds;

  OneGroup() {
    compare::Workload w;
    w.name = "w";
    spec.workloads.push_back(w);
    spec.profiles.push_back(sim::find_profile("mobile-8"));
    spec.feature_sets.push_back(compare::FeatureSet{"ttl", {}});
    spec.pes = {4};
    for (const char* p : {"tlbkit", "linux-6.17", "elfuse-00ed78b"}) spec.policies.push_back(baselines::find_policy(p));
    const std::uint64_t totals[] = {300, 250, 100};
    for (std::size_t i = 0; i < 3; ++i) {
      Cell c;
      c.policy = i;
      c.pes = 4;
      c.result.counters.maintenance_cycles = totals[i];
      cells.push_back(c);
    }
    GroupBound b;
    b.result.counters.maintenance_cycles = 50;
    bounds.push_back(b);
  }
  std::string_view bug() const { return spec.policies[2]->known_bug; }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line_starting(const std::string& text, const std::string& prefix) {
  for (const std::string& line : lines_of(text)) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(CompareReport, TheTextTableMarksTheCheapestCorrectPolicyAndLabelsTheKnownBug) {
  const OneGroup g;
  ASSERT_FALSE(g.bug().empty());
  const std::string text = compare_text(g.spec, g.cells, g.bounds);
  EXPECT_TRUE(has_line_starting(text, "* linux-6.17 ")) << text;
  EXPECT_TRUE(has_line_starting(text, "! elfuse-00ed78b ")) << text;
  EXPECT_TRUE(has_line_starting(text, "  tlbkit ")) << text;
  // Its numbers stay: total 100, 2.00 x the bound of 50.
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("! elfuse-00ed78b ", 0) == 0) {
      EXPECT_NE(line.find(" 100 "), std::string::npos) << line;
      EXPECT_NE(line.find(" 2.00"), std::string::npos) << line;
    }
  }
  EXPECT_NE(text.find("elfuse-00ed78b: " + std::string(g.bug())), std::string::npos) << text;
}

TEST(CompareReport, JsonAndCsvMarkTheCorrectPolicyAndNameTheBug) {
  const OneGroup g;
  const nlohmann::json j = compare_json(g.spec, g.cells, g.bounds);
  ASSERT_EQ(j["cells"].size(), 3u);
  EXPECT_FALSE(j["cells"][0]["cheapest"].get<bool>());
  EXPECT_TRUE(j["cells"][1]["cheapest"].get<bool>());
  EXPECT_FALSE(j["cells"][2]["cheapest"].get<bool>());
  EXPECT_EQ(j["cells"][2]["cycles"]["total"].get<std::uint64_t>(), 100u);
  EXPECT_EQ(j["cells"][1]["known_bug"].get<std::string>(), "");
  EXPECT_EQ(j["cells"][2]["known_bug"].get<std::string>(), std::string(g.bug()));

  const std::vector<std::string> rows = lines_of(compare_csv(g.spec, g.cells, g.bounds));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].substr(rows[0].rfind(',') + 1), "known_bug");
  // ...,cheapest,bound_cycles,overhead_cycles,known_bug: linux 1, 50, 200, "".
  EXPECT_NE(rows[2].find(",1,50,200,"), std::string::npos) << rows[2];
  EXPECT_EQ(rows[2].back(), ',') << "no bug: an empty last field";
  // elfuse: 0, 50, 50, then its bug (quoted when it holds a comma).
  EXPECT_NE(rows[3].find(",0,50,50,"), std::string::npos) << rows[3];
  EXPECT_NE(rows[3].find(std::string(g.bug()).substr(0, 20)), std::string::npos) << rows[3];
}

TEST(CompareReport, TheMarkdownReportMarksTheCorrectPolicyAndNamesTheBug) {
  const OneGroup g;
  std::string md;
  for (const ReportFile& f : compare_report_files(g.spec, g.cells, g.bounds, "tlbkit compare")) {
    if (f.path == "report.md") md = f.content;
  }
  ASSERT_FALSE(md.empty());
  EXPECT_NE(md.find("| * | linux-6.17 | 250 |"), std::string::npos) << md;
  EXPECT_NE(md.find("|  | elfuse-00ed78b (models a known bug: " + std::string(g.bug()) + ") | 100 |"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("| * | elfuse"), std::string::npos) << md;
  // Where tlbkit is not the cheapest: against linux (50 cycles, 16.7% less), not elfuse.
  EXPECT_NE(md.find("linux-6.17 costs 16.7% less than tlbkit (50 cycles fewer)"), std::string::npos) << md;
  EXPECT_EQ(md.find("elfuse-00ed78b costs"), std::string::npos) << md;
}

}  // namespace
}  // namespace tlbkit::report
