// `tlbkit compare`.
#include "compare_command.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "feature_list.hpp"
#include "named.hpp"
#include "numbers.hpp"
#include "stdout.hpp"
#include "usage_error.hpp"
#include "tlbkit/compare/grid.hpp"
#include "tlbkit/report/compare_report.hpp"

namespace tlbkit::cli {
namespace {

struct CompareOptions {
  std::vector<std::string> workloads;
  std::string policies = "all";
  std::string profiles = "mobile-8";
  std::vector<std::string> feature_sets;
  std::string pes;
  std::string jobs;
  bool json = false;
  bool csv = false;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = text.find(',', at);
    const std::size_t end = comma == std::string::npos ? text.size() : comma;
    if (end > at) out.push_back(text.substr(at, end - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

// "(workload, policy) cells done / total, elapsed, estimate" on a terminal,
// once a run has taken a second; nothing when stderr is not a terminal.
class Progress {
 public:
  Progress() : start_(std::chrono::steady_clock::now()), terminal_(::isatty(STDERR_FILENO) == 1) {}
  void operator()(std::size_t done, std::size_t total) {
    if (!terminal_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed < 1.0) return;
    const double left = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
    std::fprintf(stderr, "\rcompare: %zu/%zu cells, %.0f s elapsed, about %.0f s left   ", done, total, elapsed, left);
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::fputs("\n", stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_;
  bool terminal_;
  bool shown_ = false;
};

compare::GridSpec grid_of(const CompareOptions& o) {
  compare::GridSpec spec;
  const std::vector<std::string> workloads = o.workloads.empty() ? std::vector<std::string>{"suite"} : o.workloads;
  for (const std::string& w : workloads) {
    if (const std::optional<std::string> bad = compare::parse_workload(w, spec.workloads)) throw UsageError(*bad);
  }
  if (o.policies == "all") {
    for (const baselines::PolicyEntry& e : baselines::all_policies()) spec.policies.push_back(&e);
  } else {
    for (const std::string& name : split_list(o.policies)) spec.policies.push_back(&policy_named(name));
  }
  if (o.profiles == "all") {
    for (const sim::Profile& p : sim::profiles()) spec.profiles.push_back(&p);
  } else {
    for (const std::string& name : split_list(o.profiles)) spec.profiles.push_back(&profile_named(name));
  }
  const std::vector<std::string> sets = o.feature_sets.empty() ? std::vector<std::string>{"ttl,tlbirange"}
                                                                : o.feature_sets;
  for (const std::string& set : sets) spec.feature_sets.push_back(compare::FeatureSet{set, parse_features(set)});
  if (o.pes.empty()) {
    spec.pes.push_back(0);
  } else {
    for (const std::string& n : split_list(o.pes)) {
      spec.pes.push_back(static_cast<unsigned>(parse_number("--pes", n, 1, 64)));
    }
  }
  if (spec.policies.empty() || spec.profiles.empty() || spec.pes.empty()) {
    throw UsageError("compare: --policy, --profile and --pes need at least one value each");
  }
  return spec;
}

void run_compare(const CompareOptions& o) {
  if (o.json && o.csv) throw UsageError("compare: --json or --csv, not both");
  const compare::GridSpec spec = grid_of(o);
  const unsigned hardware = std::thread::hardware_concurrency();
  const unsigned jobs = o.jobs.empty() ? (hardware == 0 ? 1 : hardware)
                                       : static_cast<unsigned>(parse_number("--jobs", o.jobs, 1, 1024));
  std::vector<baselines::Manages> used;
  if (const std::optional<std::string> bad = compare::scan_workloads(spec, used)) throw UsageError(*bad);
  std::vector<compare::Cell> cells;
  {
    Progress progress;
    cells = compare::run_grid(spec, used, jobs, [&](std::size_t done, std::size_t total) { progress(done, total); });
  }
  write_stdout(o.json  ? report::compare_json(spec, cells).dump(2) + "\n"
               : o.csv ? report::compare_csv(spec, cells)
                       : report::compare_text(spec, cells));
  for (const compare::Cell& c : cells) {
    if (c.state == compare::CellState::bad_input) throw UsageError(c.note);
  }
  if (compare::contract_broken(spec, cells)) {
    throw CheckFailed("compare: a policy that promises correct maintenance showed a violation or a problem");
  }
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand("compare", "Replay workloads under policies, profiles, features and PE counts");
  cmd->add_option("--workload", o->workloads,
                  "Trace file, gen:NAME[,size=N][,seed=N][,pes=N], or suite (repeatable; default suite)");
  cmd->add_option("--policy", o->policies, "all (default) or a comma-separated list of policies");
  cmd->add_option("--profile", o->profiles, "all or a comma-separated list of profiles (default mobile-8)");
  cmd->add_option("--features", o->feature_sets,
                  fmt::format("CPU features, comma separated: {} (repeatable, one set each; default ttl,tlbirange)",
                              kFeatureNames));
  cmd->add_option("--pes", o->pes, "Comma-separated PE counts, 1..64 (default: each profile's)");
  cmd->add_option("--jobs", o->jobs, "Worker threads (default: the cores); the output does not depend on it");
  cmd->add_flag("--json", o->json, "Print JSON instead of the table");
  cmd->add_flag("--csv", o->csv, "Print CSV instead of the table");
  cmd->callback([o] { run_compare(*o); });
}

}  // namespace tlbkit::cli
