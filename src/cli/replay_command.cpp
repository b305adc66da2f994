// `tlbkit replay`.
#include "replay_command.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "feature_list.hpp"
#include "named.hpp"
#include "numbers.hpp"
#include "stdout.hpp"
#include "usage_error.hpp"
#include "tlbkit/gen/generator.hpp"
#include "tlbkit/gen/suite.hpp"
#include "tlbkit/report/replay_report.hpp"
#include "tlbkit/report/timeline_json.hpp"
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
  std::string drop;
  std::string timeline;
  std::string timeline_limit = "1000000";
  bool json = false;
  bool suite = false;
  bool bound = false;
};

// --drop tlbi|dsb[:N]: fault injection (sim::DropInjection).
sim::DropInjection parse_drop(const std::string& text) {
  sim::DropInjection drop;
  if (text.empty()) return drop;
  const std::size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  if (kind == "tlbi") {
    drop.kind = sim::DropInjection::Kind::tlbi;
  } else if (kind == "dsb") {
    drop.kind = sim::DropInjection::Kind::dsb;
  } else {
    throw UsageError(fmt::format("--drop: \"{}\" is not tlbi or dsb (optionally :N, every N-th)", kind));
  }
  if (colon != std::string::npos) drop.every = parse_number("--drop", text.substr(colon + 1), 1, 1'000'000'000);
  return drop;
}

unsigned id_bits(const char* option, const std::string& text, unsigned profile_bits) {
  if (text.empty()) return profile_bits;
  const std::uint64_t bits = parse_number(option, text, 8, 16);
  if (bits != 8 && bits != 16) throw UsageError(fmt::format("{}: {} is not 8 or 16", option, text));
  return static_cast<unsigned>(bits);
}

// Every workload of the suite (gen::builtin_workloads), generated straight
// into the replayer.
void run_suite(const baselines::PolicyEntry& entry, const sim::Profile& profile, const replay::ReplayOptions& options,
               const report::ReplayLabel& label, bool json) {
  std::vector<report::ReplayEntry> entries;
  for (const gen::SuiteEntry& w : gen::builtin_workloads()) {
    const gen::Generator* g = gen::find_generator(w.name);
    if (g == nullptr) throw std::logic_error(fmt::format("suite workload {} has no generator", w.name));
    if (w.parameters.pes > options.pes) {
      throw UsageError(fmt::format("replay --suite: workload {} places threads on {} PEs; --pes is {}", w.name,
                                   w.parameters.pes, options.pes));
    }
    replay::TraceReplayer replayer(entry.policy, profile, options);
    if (std::string refused = g->emit(w.parameters, replayer); !refused.empty()) {
      throw std::logic_error(fmt::format("suite workload {}: {}", w.name, refused));
    }
    entries.push_back(report::ReplayEntry{std::string(w.name), replayer.finish()});
  }
  write_stdout(json ? report::replay_suite_json(entries, label).dump(2) + "\n"
                    : report::replay_suite_text(entries, label));
  std::size_t failed = 0;
  for (const report::ReplayEntry& e : entries) failed += e.run.ok() ? 0 : 1;
  if (failed != 0) throw CheckFailed(fmt::format("replay --suite: {} workload(s) with violations or problems", failed));
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
  options.drop = parse_drop(o.drop);
  if (o.bound) options.execution = sim::Execution::bound;

  report::ReplayLabel label;
  label.trace = o.trace;
  label.policy = o.policy;
  label.profile = &profile;
  label.features = options.features;
  label.asid_bits = options.asid_bits;
  label.vmid_bits = options.vmid_bits;
  label.drop = options.drop;
  if (o.suite) {
    if (!o.trace.empty()) throw UsageError("replay: give a trace or --suite, not both");
    if (!o.timeline.empty()) throw UsageError("replay: --timeline records one trace, not the suite");
    run_suite(entry, profile, options, label, o.json);
    return;
  }
  if (o.trace.empty()) throw UsageError("replay: give a trace file (or --suite)");

  std::string error;
  std::unique_ptr<trace::LineSource> lines = trace::open_lines(o.trace, error);
  if (!lines) throw UsageError(error);
  std::unique_ptr<report::TimelineJson> timeline;
  if (!o.timeline.empty()) {
    timeline = report::TimelineJson::open(o.timeline, options.pes,
                                          parse_number("--timeline-limit", o.timeline_limit, 1, 1'000'000'000), error);
    if (!timeline) throw UsageError(fmt::format("--timeline: {}", error));
    options.timeline = timeline.get();
  }
  replay::TraceReplayer replayer(entry.policy, profile, options);
  if (const std::optional<trace::ReadError> bad = trace::read_trace(*lines, replayer)) {
    throw UsageError(bad->describe());
  }
  const replay::ReplayRun run = replayer.finish();
  if (timeline) {
    if (const std::string failed = timeline->finish(); !failed.empty()) {
      throw UsageError(fmt::format("--timeline: {}", failed));
    }
  }
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
  cmd->add_option("trace", o->trace, "Trace file (plain, .gz or .zst; - for standard input)");
  cmd->add_flag("--suite", o->suite, "Replay the built-in suite of generated workloads instead (docs/GENERATORS.md)");
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
  cmd->add_option("--drop", o->drop,
                  "Fault injection: leave every TLBI (tlbi) or DSB (dsb) out of the plans, or every N-th "
                  "(tlbi:N, dsb:N), to see the checkers catch it on this workload (exit 1)");
  cmd->add_option("--timeline", o->timeline,
                  "Write the machine's events per PE (plans, TLBIs, DSBs, walks, faults) as a Chrome / Perfetto "
                  "trace-event JSON file (ui.perfetto.dev, chrome://tracing)");
  cmd->add_option("--timeline-limit", o->timeline_limit, "Events kept in the timeline at most (default 1000000)");
  cmd->add_flag("--bound", o->bound,
                "Run the cache-aware lower bound instead of the policy's TLBIs: at each maintenance point each PE "
                "removes exactly the entries no correct policy may leave (stricter stale permissions stay), with one "
                "local TLBI and DSB "
                "(docs/SIMULATOR.md)");
  cmd->add_flag("--json", o->json, "Print JSON instead of text");
  cmd->callback([o] { run_replay_command(*o); });
}

}  // namespace tlbkit::cli
