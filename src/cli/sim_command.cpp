// `tlbkit sim`.
#include "sim_command.hpp"

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
#include "tlbkit/report/sim_report.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/replay/hindsight.hpp"
#include "tlbkit/workload/scenario.hpp"
#include "tlbkit/replay/simulate.hpp"
#include "tlbkit/replay/trace.hpp"

namespace tlbkit::cli {
namespace {

struct SimCommandOptions {
  std::vector<std::string> scenarios;
  std::string policy = "tlbkit";
  std::string profile = "mobile-8";
  std::string pes;
  CLI::Option* pes_option = nullptr;  // given when its count() > 0 (even as "")
  std::string features = "ttl,tlbirange";
  std::string accesses = "64";
  std::string hot_pages = "64";
  std::string seed = "1";
  bool oracle = false;
  bool json = false;
  bool list_profiles = false;
};

void list_profiles(bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const sim::Profile& p : sim::profiles()) {
      out.push_back({{"name", std::string(p.name)}, {"pes", p.pes}, {"summary", std::string(p.summary)}});
    }
    write_stdout(out.dump(2) + "\n");
    return;
  }
  for (const sim::Profile& p : sim::profiles()) write_stdout(fmt::format("{:<22} {:>3} PEs  {}\n", p.name, p.pes, p.summary));
}

void run_sim_command(const SimCommandOptions& o) {
  if (o.list_profiles) {
    list_profiles(o.json);
    return;
  }
  // Validate everything before running or printing anything.
  const sim::Profile& profile = profile_named(o.profile);
  report::SimLabel label;
  label.policy = o.policy;
  label.profile = &profile;
  label.features = parse_features(o.features);
  label.pattern.pes =
      o.pes_option->count() == 0 ? profile.pes : static_cast<unsigned>(parse_number("--pes", o.pes, 1, 64));
  label.pattern.accesses_per_pe = static_cast<unsigned>(parse_number("--accesses", o.accesses, 0, 1u << 20));
  label.pattern.hot_pages = parse_number("--hot-pages", o.hot_pages, 0, 1u << 16);
  label.pattern.seed = parse_number("--seed", o.seed);
  const baselines::PolicyEntry& entry = policy_named(o.policy);
  const baselines::PolicyEntry* tlbkit = baselines::find_policy("tlbkit");
  if (o.oracle && (tlbkit == nullptr || tlbkit->planner == nullptr)) {
    throw std::logic_error("the tlbkit planner is not registered");
  }
  const std::vector<workload::Scenario> scenarios = scenarios_named(o.scenarios);

  replay::SimOptions options;
  options.features = label.features;
  std::vector<report::SimEntry> entries;
  for (const workload::Scenario& scenario : scenarios) {
    Result<replay::Trace> trace = replay::trace_from_scenario(scenario, label.pattern);
    if (!trace.ok()) {
      throw UsageError(fmt::format("scenario {}: {}", scenario.name, trace.error().message));
    }
    report::SimEntry e{std::move(*trace), {}, std::nullopt};
    e.run = replay::simulate(e.trace, entry.policy, profile, options);
    if (o.oracle) {
      Result<replay::HindsightResult> h = replay::hindsight(e.trace, *tlbkit->planner, profile, options);
      if (h.ok()) e.oracle = std::move(*h);
    }
    entries.push_back(std::move(e));
  }
  write_stdout(o.json ? report::sim_json(entries, label).dump(2) + "\n" : report::sim_text(entries, label));

  std::size_t failed = 0;
  for (const report::SimEntry& e : entries) failed += e.run.ok() ? 0 : 1;
  if (failed != 0) throw std::runtime_error(fmt::format("sim: {} trace(s) with violations or problems", failed));
}

}  // namespace

void add_sim_command(CLI::App& app) {
  auto o = std::make_shared<SimCommandOptions>();
  CLI::App* sim = app.add_subcommand("sim", "Replay the built-in scenarios on the simulated multi-core machine");
  sim->add_option("--scenario", o->scenarios, "Only this scenario (repeatable; `tlbkit suite --list`)");
  sim->add_option("--policy", o->policy, "Maintenance policy (default tlbkit; see `tlbkit plan --help`)");
  sim->add_option("--profile", o->profile, "Hardware profile (default mobile-8; --list-profiles)");
  o->pes_option = sim->add_option("--pes", o->pes, "PEs (1..64; default: the profile's)");
  sim->add_option("--features", o->features,
                  fmt::format("CPU features, comma separated: {} (default ttl,tlbirange)", kFeatureNames));
  sim->add_option("--accesses", o->accesses, "Reads by every PE after each batch (default 64)");
  sim->add_option("--hot-pages", o->hot_pages, "Pages of the never-changed working set (default 64)");
  sim->add_option("--seed", o->seed, "Seed of the access sequence (default 1)");
  sim->add_flag("--oracle", o->oracle, "Also find the hindsight oracle's cost (replays every alternative)");
  sim->add_flag("--json", o->json, "Print JSON instead of text");
  sim->add_flag("--list-profiles", o->list_profiles, "List the hardware profiles");
  sim->callback([o] { run_sim_command(*o); });
}

}  // namespace tlbkit::cli
