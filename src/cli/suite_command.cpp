// `tlbkit suite`.
#include "suite_command.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "feature_list.hpp"
#include "named.hpp"
#include "numbers.hpp"
#include "stdout.hpp"
#include "usage_error.hpp"
#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/report/suite_report.hpp"
#include "tlbkit/maint/simple_policy.hpp"
#include "tlbkit/workload/runner.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::cli {
namespace {

struct SuiteOptions {
  bool json = false;
  bool list = false;
  std::vector<std::string> scenarios;
  std::string threshold;
  CLI::Option* threshold_option = nullptr;  // given when its count() > 0 (even as "")
  std::string features;
  std::string policy = "tlbkit";
};

bool threshold_given(const SuiteOptions& o) { return o.threshold_option->count() > 0; }

// The most per-VA TLBIs before going wide; at most kMaxThreshold fit a plan.
unsigned parse_threshold(const SuiteOptions& o) {
  if (!threshold_given(o)) return maint::SimplePolicy::kDefaultThreshold;
  return static_cast<unsigned>(parse_number("--threshold", o.threshold, 0, maint::SimplePolicy::kMaxThreshold));
}

void run_suite_command(const SuiteOptions& o) {
  // Validate everything before running or printing anything.
  const arch::CpuFeatures features = parse_features(o.features);
  const unsigned threshold = parse_threshold(o);
  if (threshold_given(o) && o.policy != "simple") {
    throw UsageError("--threshold applies to --policy simple only");
  }
  const std::vector<workload::Scenario> scenarios = scenarios_named(o.scenarios);

  if (o.list) {
    write_stdout(o.json ? report::list_json(scenarios).dump(2) + "\n" : report::list_text(scenarios));
    return;
  }
  const maint::SimplePolicy simple(threshold);
  const maint::Policy* policy = &simple;
  report::RunLabel label{o.policy, simple.threshold(), features};
  if (o.policy != "simple") {
    policy = &policy_named(o.policy).policy;
    label.threshold.reset();
  }
  workload::RunOptions options;
  options.features = features;
  const std::vector<workload::ScenarioResult> results = workload::run_suite(scenarios, *policy, options);
  write_stdout(o.json ? report::suite_json(results, label).dump(2) + "\n" : report::suite_text(results, label));

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
  suite->add_option("--policy", o->policy, "Maintenance policy (default tlbkit; see `tlbkit plan --help`)");
  o->threshold_option = suite->add_option("--threshold", o->threshold,
                                          "Simple policy: most per-VA TLBIs before going wide (default 32)");
  suite->add_option("--features", o->features,
                    fmt::format("CPU features, comma separated: {} (default none)", kFeatureNames));
  suite->callback([o] { run_suite_command(*o); });
}

}  // namespace tlbkit::cli
