// `tlbkit replay`.
#include "replay_command.hpp"

#include <memory>
#include <string>

#include <fmt/format.h>

#include "feature_list.hpp"
#include "named.hpp"
#include "numbers.hpp"
#include "stdout.hpp"
#include "usage_error.hpp"
#include "tlbkit/report/replay_report.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/trace/input.hpp"
#include "tlbkit/trace/reader.hpp"

namespace tlbkit::cli {
namespace {

struct ReplayCommandOptions {
  std::string trace;
  std::string policy = "tlbkit";
  std::string profile = "mobile-8";
  std::string pes;
  CLI::Option* pes_option = nullptr;
  std::string features = "ttl,tlbirange";
  std::string asid_bits;
  std::string vmid_bits;
  std::string touch_seed = "1";
  std::string touch_percent = "50";
  bool json = false;
};

unsigned id_bits(const char* option, const std::string& text, unsigned profile_bits) {
  if (text.empty()) return profile_bits;
  const std::uint64_t bits = parse_number(option, text, 8, 16);
  if (bits != 8 && bits != 16) throw UsageError(fmt::format("{}: {} is not 8 or 16", option, text));
  return static_cast<unsigned>(bits);
}

void run_replay_command(const ReplayCommandOptions& o) {
  const sim::Profile& profile = profile_named(o.profile);
  const baselines::PolicyEntry& entry = policy_named(o.policy);
  replay::ReplayOptions options;
  options.features = parse_features(o.features);
  options.pes = o.pes_option->count() == 0 ? profile.pes : static_cast<unsigned>(parse_number("--pes", o.pes, 1, 64));
  options.asid_bits = id_bits("--asid-bits", o.asid_bits, profile.asid_bits);
  options.vmid_bits = id_bits("--vmid-bits", o.vmid_bits, profile.vmid_bits);
  options.touch_seed = parse_number("--touch-seed", o.touch_seed);
  options.touch_percent = static_cast<unsigned>(parse_number("--touch-percent", o.touch_percent, 0, 100));

  std::string error;
  std::unique_ptr<trace::LineSource> lines = trace::open_lines(o.trace, error);
  if (!lines) throw UsageError(error);
  replay::TraceReplayer replayer(entry.policy, profile, options);
  if (const std::optional<trace::ReadError> bad = trace::read_trace(*lines, replayer)) {
    throw UsageError(bad->describe());
  }
  const replay::ReplayRun run = replayer.finish();

  report::ReplayLabel label;
  label.trace = o.trace;
  label.policy = o.policy;
  label.profile = &profile;
  label.features = options.features;
  label.asid_bits = options.asid_bits;
  label.vmid_bits = options.vmid_bits;
  write_stdout(o.json ? report::replay_json(run, label).dump(2) + "\n" : report::replay_text(run, label));
  if (!run.ok()) {
    throw CheckFailed(fmt::format("replay: {} violation(s), {} problem(s)", run.violations.size(),
                                  run.problems.size()));
  }
}

}  // namespace

void add_replay_command(CLI::App& app) {
  auto o = std::make_shared<ReplayCommandOptions>();
  CLI::App* cmd = app.add_subcommand("replay", "Run a workload trace on the simulated machine, every checker on");
  cmd->add_option("trace", o->trace, "Trace file (plain, .gz or .zst; - for standard input)")->required();
  cmd->add_option("--policy", o->policy, "Maintenance policy (default tlbkit; see `tlbkit plan --help`)");
  cmd->add_option("--profile", o->profile, "Hardware profile (default mobile-8; `tlbkit sim --list-profiles`)");
  o->pes_option = cmd->add_option("--pes", o->pes, "PEs (1..64; default: the profile's)");
  cmd->add_option("--features", o->features,
                  fmt::format("CPU features, comma separated: {} (default ttl,tlbirange)", kFeatureNames));
  cmd->add_option("--asid-bits", o->asid_bits, "ASID width, 8 or 16 (default: the profile's)");
  cmd->add_option("--vmid-bits", o->vmid_bits, "VMID width, 8 or 16 (default: the profile's)");
  cmd->add_option("--touch-seed", o->touch_seed, "Seed of the touch model for traces without accesses (default 1)");
  cmd->add_option("--touch-percent", o->touch_percent,
                  "Share of newly accessible pages the touch model touches, 0..100 (default 50)");
  cmd->add_flag("--json", o->json, "Print JSON instead of text");
  cmd->callback([o] { run_replay_command(*o); });
}

}  // namespace tlbkit::cli
