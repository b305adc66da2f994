// The registry of generators, the suite, and the golden hashes that pin
// every suite trace byte for byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generated.hpp"
#include "tlbkit/gen/generator.hpp"
#include "tlbkit/gen/suite.hpp"
#include "tlbkit/trace/format.hpp"

namespace tlbkit::gen::testing {
namespace {

constexpr std::string_view kDocumentedOrder[] = {
    "relro-storm", "small-munmap", "guard-pages",  "fork-cow",     "process-teardown", "vm-teardown",  "s2-unmap",
    "dirty-log",   "reclaim",      "jit-wx",       "kernel-purge", "mt-mprotect",      "asid-rollover",
};

TEST(Registry, ListsTheGeneratorsInTheDocumentedOrder) {
  std::vector<std::string_view> listed;
  for (const Generator& g : generators()) listed.push_back(g.name);
  EXPECT_EQ(listed, std::vector<std::string_view>(std::begin(kDocumentedOrder), std::end(kDocumentedOrder)));
}

TEST(Registry, FindsEachGeneratorByItsNameAndNothingElse) {
  for (const Generator& g : generators()) EXPECT_EQ(find_generator(g.name), &g);
  EXPECT_EQ(find_generator(""), nullptr);
  EXPECT_EQ(find_generator("relro"), nullptr);
  EXPECT_EQ(find_generator("RELRO-STORM"), nullptr);
}

TEST(Registry, EveryGeneratorSaysWhatItModelsWhatSizeCountsAndHasADefault) {
  for (const Generator& g : generators()) {
    EXPECT_FALSE(g.summary.empty()) << g.name;
    EXPECT_FALSE(g.size_means.empty()) << g.name;
    EXPECT_GT(g.default_size, 0u) << g.name;
    EXPECT_NE(g.emit, nullptr) << g.name;
  }
}

TEST(Suite, HasOneEntryPerGeneratorInTheRegistrysOrder) {
  const std::span<const SuiteEntry> suite = builtin_workloads();
  ASSERT_EQ(suite.size(), generators().size());
  for (std::size_t i = 0; i < suite.size(); ++i) EXPECT_EQ(suite[i].name, generators()[i].name);
}

TEST(Suite, RunsEveryGeneratorAtWrittenOutParametersOnFourPesWithSeedOne) {
  for (const SuiteEntry& entry : builtin_workloads()) {
    EXPECT_NE(entry.parameters.size, 0u) << entry.name;  // not "the default", which may change
    EXPECT_EQ(entry.parameters.pes, 4u) << entry.name;
    EXPECT_EQ(entry.parameters.seed, 1u) << entry.name;
  }
}

TEST(Suite, EveryEventOfTheSuiteReadsBackFromItsTextLineUnchanged) {
  for (const SuiteEntry& entry : builtin_workloads()) {
    const Generated g = generate(entry.name, entry.parameters);
    ASSERT_EQ(g.result, "") << entry.name;
    for (const trace::Event& e : g.events) {
      const std::string line = trace::format_event(e);
      const trace::ParsedLine parsed = trace::parse_line(line);
      const trace::Event* back = std::get_if<trace::Event>(&parsed);
      ASSERT_NE(back, nullptr) << entry.name << ": " << line;
      ASSERT_EQ(*back, e) << entry.name << ": " << line;
    }
  }
}

// 64-bit FNV-1a.
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t hash = 0xcbf2'9ce4'8422'2325) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x0000'0100'0000'01b3;
  }
  return hash;
}

// The hash of a trace's text: the header line, then each event's line,
// joined with "\n" (no newline after the last).
std::uint64_t text_hash(const std::vector<trace::Event>& events) {
  std::uint64_t h = fnv1a(trace::header_line());
  for (const trace::Event& e : events) {
    h = fnv1a("\n", h);
    h = fnv1a(trace::format_event(e), h);
  }
  return h;
}

// The suite's traces, pinned. A generated trace is an input to every
// recorded comparison of policies (benchmarks, reports, the lead's
// results): if one changes, results of different versions stop being
// comparable without anyone noticing. So a change here must be deliberate:
// a change to a generator's behaviour, said in docs/GENERATORS.md and in
// the commit. To regenerate after such a change, run
//   gen_tests --gtest_filter='Suite.GoldenHashes*'
// and copy the "actual" values this test prints into the table.
struct Golden {
  std::string_view name;
  std::uint64_t hash;
};
constexpr Golden kGolden[] = {
    {"relro-storm", 0xd3bc3ce454c5698c},
    {"small-munmap", 0x4e1033dbd88b8d47},
    {"guard-pages", 0x33194a96fe9a80ae},
    {"fork-cow", 0x6735c02c60c116ef},
    {"process-teardown", 0x093606e5d7ffed8b},
    {"vm-teardown", 0x1ff503eef84ee259},
    {"s2-unmap", 0x0227d2b24504960b},
    {"dirty-log", 0x7f778de3d2523485},
    {"reclaim", 0x091a4697c8a71dd4},
    {"jit-wx", 0x225685257f91ddf2},
    {"kernel-purge", 0x338fde5f798419b8},
    {"mt-mprotect", 0x5177bf2092be1e3d},
    {"asid-rollover", 0x34abd7fe47dc3996},
};

TEST(Suite, GoldenHashesOfTheSuiteTracesAreUnchanged) {
  const std::span<const SuiteEntry> suite = builtin_workloads();
  ASSERT_EQ(std::size(kGolden), suite.size());
  for (std::size_t i = 0; i < suite.size(); ++i) {
    ASSERT_EQ(kGolden[i].name, suite[i].name);
    const Generated g = generate(suite[i].name, suite[i].parameters);
    ASSERT_EQ(g.result, "") << suite[i].name;
    const std::uint64_t actual = text_hash(g.events);
    EXPECT_EQ(kGolden[i].hash, actual) << suite[i].name << ": actual 0x" << std::hex << actual;
  }
}

}  // namespace
}  // namespace tlbkit::gen::testing
