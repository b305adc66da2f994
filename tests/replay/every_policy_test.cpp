// Every generator at its default size, and every shipped real trace,
// replays on the simulated machine with zero violations and zero problems
// under every registered policy (each is correct by contract today: the
// baselines model systems' correct behaviour; issue 13 adds models of known
// bugs, which will be listed apart).
//
// Under the sanitizers (TLBKIT_REPLAY_SIZE_DIVISOR) the generators run at a
// fraction of their default size, to keep the pass in time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/gen/generator.hpp"
#include "tlbkit/importers/strace.hpp"
#include "tlbkit/importers/valgrind.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/trace/input.hpp"

#ifndef TLBKIT_REPLAY_SIZE_DIVISOR
#define TLBKIT_REPLAY_SIZE_DIVISOR 1
#endif

namespace tlbkit::replay {
namespace {

constexpr std::uint64_t kSizeDivisor = TLBKIT_REPLAY_SIZE_DIVISOR;

ReplayOptions options_for(std::string_view generator) {
  ReplayOptions o;
  o.pes = 4;
  o.features.ttl = arch::Presence::present;
  o.features.tlbi_range = arch::Presence::present;
  // asid-rollover is made for 8-bit ASIDs (more processes than ids).
  if (generator == "asid-rollover") o.asid_bits = 8;
  return o;
}

std::string describe(const ReplayRun& run) {
  std::string out;
  for (std::size_t i = 0; i < run.violations.size() && i < 3; ++i) out += run.violations[i].message + "\n";
  for (std::size_t i = 0; i < run.problems.size() && i < 3; ++i) out += run.problems[i] + "\n";
  return out;
}

class EveryPolicy : public ::testing::TestWithParam<std::string> {};

// A correct policy replays every generator clean; a model of a known bug
// replays them without problems, and the checkers catch its bug on at least
// one of them (a bug no workload shows would be a model without teeth).
TEST_P(EveryPolicy, EveryGeneratorAtItsDefaultSizeReplaysCleanOrShowsTheKnownBug) {
  const baselines::PolicyEntry* policy = baselines::find_policy(GetParam());
  ASSERT_NE(policy, nullptr);
  const bool known_bug = policy->contract == baselines::Contract::known_bug;
  const sim::Profile& profile = *sim::find_profile("mobile-8");
  std::size_t violations = 0;
  for (const gen::Generator& g : gen::generators()) {
    gen::Parameters p;
    p.size = g.default_size / kSizeDivisor;
    TraceReplayer replayer(policy->policy, profile, options_for(g.name));
    ASSERT_EQ(g.emit(p, replayer), "") << g.name;
    const ReplayRun run = replayer.finish();
    if (known_bug) {
      EXPECT_TRUE(run.problems.empty()) << g.name << " under " << policy->name << ":\n" << describe(run);
      violations += run.violations.size();
    } else {
      EXPECT_TRUE(run.ok()) << g.name << " under " << policy->name << ":\n" << describe(run);
    }
    EXPECT_GT(run.kernel.faults, 0u) << g.name << ": the workload touched nothing";
  }
  if (known_bug) {
    EXPECT_GT(violations, 0u) << policy->name << " models a known bug that no generator showed";
  }
}

using Importer = std::optional<trace::ReadError> (*)(trace::LineSource&, trace::Sink&, importers::ImportStats*);

TEST_P(EveryPolicy, EveryShippedRealTraceReplaysClean) {
  const baselines::PolicyEntry* policy = baselines::find_policy(GetParam());
  ASSERT_NE(policy, nullptr);
  const sim::Profile& profile = *sim::find_profile("mobile-8");
  std::size_t logs = 0;
  for (const auto& [kind, import] : {std::pair<const char*, Importer>{"strace", importers::import_strace},
                                     std::pair<const char*, Importer>{"valgrind", importers::import_valgrind}}) {
    std::vector<std::filesystem::path> paths;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(TLBKIT_TEST_DATA) / kind)) {
      if (e.path().string().find(".log") != std::string::npos) paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const std::filesystem::path& path : paths) {
      std::string error;
      std::unique_ptr<trace::LineSource> lines = trace::open_lines(path.string(), error);
      ASSERT_TRUE(lines) << error;
      TraceReplayer replayer(policy->policy, profile, options_for(""));
      const std::optional<trace::ReadError> bad = import(*lines, replayer, nullptr);
      ASSERT_FALSE(bad) << bad->describe();
      const ReplayRun run = replayer.finish();
      if (policy->contract == baselines::Contract::known_bug) {
        EXPECT_TRUE(run.problems.empty()) << path << " under " << policy->name << ":\n" << describe(run);
      } else {
        EXPECT_TRUE(run.ok()) << path << " under " << policy->name << ":\n" << describe(run);
      }
      EXPECT_GT(run.kernel.memory_calls, 0u) << path;
      ++logs;
    }
  }
  EXPECT_GE(logs, 5u) << "tests/data holds three strace and two valgrind logs";
}

std::vector<std::string> policy_names() {
  std::vector<std::string> names;
  for (const baselines::PolicyEntry& e : baselines::all_policies()) names.emplace_back(e.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Registered, EveryPolicy, ::testing::ValuesIn(policy_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           // gtest names take letters, digits and '_' only:
                           // "kvm-6.12" -> "kvm_6_12".
                           for (char& c : name) {
                             if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace tlbkit::replay
