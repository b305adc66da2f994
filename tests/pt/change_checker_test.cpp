// The change checker (tests/support/change_checker.hpp) is the property
// tests' judge of the engine's records; these tests show that its rule 7
// (Beneath::reported) can fail: forged record lists that claim more than
// the engine did are rejected, the engine's own list is accepted.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/change_checker.hpp"
#include "support/fake_memory.hpp"
#include "support/recording_sink.hpp"
#include "support/reference_walker.hpp"
#include "pt/vector_support.hpp"

namespace tlbkit::test {
namespace {

using vectors::geometry_s1;
using vectors::k4K;
using vectors::kernel_data;
using vectors::make_table;

bool mentions(const std::vector<std::string>& problems, const std::string& needle) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(needle) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

// Two pages under one level-3 table, in a 39-bit space (root at level 1);
// the unmap of both empties the level-3 and the level-2 tables.
class ReportedBeneath : public ::testing::Test {
 protected:
  void SetUp() override {
    RecordingSink setup;
    ASSERT_TRUE(table.map(0x1000'0000, 0x8'0000'0000, 2 * k4K, kernel_data(), setup).ok());
    before = take_snapshot(memory, table.root(), walk);
    ASSERT_TRUE(table.unmap(0x1000'0000, 2 * k4K, sink).ok());
    after = take_snapshot(memory, table.root(), walk);
  }
  std::vector<std::string> check(const std::vector<SinkEvent>& events) const {
    return check_changes(before, after, events, sink.retired(), ChangeRules{});
  }

  FakeMemory memory;
  pt::Table table = make_table(arch::Regime::el1_stage1, geometry_s1(39), memory);
  WalkGeometry walk = WalkGeometry::stage1(39);
  RecordingSink sink;
  Snapshot before = Snapshot::empty(walk);
  Snapshot after = Snapshot::empty(walk);
};

TEST_F(ReportedBeneath, TheEnginesOwnRecordsPassAndMarkBothEmptiedTables) {
  EXPECT_TRUE(check(sink.events()).empty()) << joined(check(sink.events()));
  std::size_t reported = 0;
  for (const SinkEvent& e : sink.events()) reported += e.change.beneath == pt::Beneath::reported ? 1 : 0;
  EXPECT_EQ(reported, 2u) << sink.describe();
}

TEST_F(ReportedBeneath, ATableRecordClaimingReportedLeavesIsRejectedWhenALeafRecordIsMissing) {
  std::vector<SinkEvent> forged;
  for (const SinkEvent& e : sink.events()) {
    if (e.change.entry == pt::EntryKind::leaf) continue;  // drop the pages' record
    forged.push_back(e);
  }
  ASSERT_LT(forged.size(), sink.events().size());
  EXPECT_TRUE(mentions(check(forged), "this valid entry has no record")) << joined(check(forged));
}

TEST_F(ReportedBeneath, WithTheLeafRecordMissingTheSameTableRecordIsFineWhenItClaimsNothing) {
  std::vector<SinkEvent> honest;
  for (SinkEvent e : sink.events()) {
    if (e.change.entry == pt::EntryKind::leaf) continue;
    e.change.beneath = pt::Beneath::unseen;  // every page of the span owed
    honest.push_back(e);
  }
  EXPECT_TRUE(check(honest).empty()) << joined(check(honest));
}

TEST_F(ReportedBeneath, ALeafRecordCannotClaimReported) {
  std::vector<SinkEvent> forged = sink.events();
  for (SinkEvent& e : forged) {
    if (e.change.entry == pt::EntryKind::leaf) e.change.beneath = pt::Beneath::reported;
  }
  EXPECT_TRUE(mentions(check(forged), "is not the unmap of a table entry")) << joined(check(forged));
}

}  // namespace
}  // namespace tlbkit::test
