// `tlbkit suite`.
#include "cli/suite_command.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/usage_error.hpp"
#include "report/suite_report.hpp"
#include "text/parse.hpp"
#include "tlbkit/maint/simple_policy.hpp"
#include "workload/runner.hpp"
#include "workload/scenario.hpp"

namespace tlbkit::cli {
namespace {

struct SuiteOptions {
  bool json = false;
  bool list = false;
  std::vector<std::string> scenarios;
  std::string threshold;
  std::string features;
};

constexpr const char* kFeatureNames = "ttl, tlbirange, bbm1, bbm2, fwb";

// "ttl,tlbirange,bbm2": every name once at most; "none" or "" for none.
arch::CpuFeatures parse_features(const std::string& list) {
  arch::CpuFeatures f;
  if (list.empty() || list == "none") return f;
  std::vector<std::string> seen;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    for (const std::string& s : seen) {
      if (s == name) throw UsageError(fmt::format("--features: \"{}\" given twice", name));
    }
    seen.push_back(name);
    if (name == "ttl") {
      f.ttl = arch::Presence::present;
    } else if (name == "tlbirange") {
      f.tlbi_range = arch::Presence::present;
    } else if (name == "bbm1" || name == "bbm2") {
      if (f.bbm != arch::BbmLevel::level0) throw UsageError("--features: give one of bbm1, bbm2");
      f.bbm = name == "bbm1" ? arch::BbmLevel::level1 : arch::BbmLevel::level2;
    } else if (name == "fwb") {
      f.fwb = arch::Presence::present;
    } else {
      throw UsageError(fmt::format("--features: unknown feature \"{}\" (known: {})", name, kFeatureNames));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return f;
}

unsigned parse_threshold(const std::string& text) {
  if (text.empty()) return maint::SimplePolicy::kDefaultThreshold;
  const std::optional<std::uint64_t> n = text::parse_u64(text);
  if (!n) throw UsageError(fmt::format("--threshold: \"{}\" is not a non-negative number", text));
  if (*n > maint::SimplePolicy::kMaxThreshold) {
    throw UsageError(fmt::format("--threshold {}: at most {} per-VA TLBIs fit a plan", *n,
                                 maint::SimplePolicy::kMaxThreshold));
  }
  return static_cast<unsigned>(*n);
}

std::vector<workload::Scenario> chosen(const std::vector<std::string>& names) {
  std::vector<workload::Scenario> all = workload::builtin_suite();
  if (names.empty()) return all;
  std::vector<workload::Scenario> out;
  for (const std::string& name : names) {
    std::optional<workload::Scenario> s = workload::find_builtin(name);
    if (!s) throw UsageError(fmt::format("unknown scenario \"{}\" (`tlbkit suite --list` shows them)", name));
    out.push_back(std::move(*s));
  }
  return out;
}

void write(const std::string& out) {
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

void run_suite_command(const SuiteOptions& o) {
  // Validate everything before running or printing anything.
  const arch::CpuFeatures features = parse_features(o.features);
  const unsigned threshold = parse_threshold(o.threshold);
  const std::vector<workload::Scenario> scenarios = chosen(o.scenarios);

  if (o.list) {
    write(o.json ? report::list_json(scenarios).dump(2) + "\n" : report::list_text(scenarios));
    return;
  }
  const maint::SimplePolicy policy(threshold);
  workload::RunOptions options;
  options.features = features;
  const std::vector<workload::ScenarioResult> results = workload::run_suite(scenarios, policy, options);
  const report::RunLabel label{"simple", policy.threshold(), features};
  write(o.json ? report::suite_json(results, label).dump(2) + "\n" : report::suite_text(results, label));

  std::size_t failed = 0;
  for (const workload::ScenarioResult& r : results) failed += r.ok() ? 0 : 1;
  if (failed != 0) throw std::runtime_error(fmt::format("suite: {} scenario(s) failed", failed));
}

}  // namespace

void add_suite_command(CLI::App& app) {
  auto o = std::make_shared<SuiteOptions>();
  CLI::App* suite = app.add_subcommand("suite", "Run the built-in table-edit scenarios end to end");
  suite->add_flag("--json", o->json, "Print JSON instead of text");
  suite->add_flag("--list", o->list, "List the scenarios instead of running them");
  suite->add_option("--scenario", o->scenarios, "Run only this scenario (repeatable)");
  suite->add_option("--threshold", o->threshold, "Simple policy: most per-VA TLBIs before going wide (default 32)");
  suite->add_option("--features", o->features,
                    fmt::format("CPU features, comma separated: {} (default none)", kFeatureNames));
  suite->callback([o] { run_suite_command(*o); });
}

}  // namespace tlbkit::cli
