// `tlbkit compare`.
#include "compare_command.hpp"

#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
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
#include "comparison.hpp"
#include "tlbkit/compare/grid.hpp"
#include "tlbkit/compare/part.hpp"
#include "tlbkit/report/timeline_json.hpp"

namespace tlbkit::cli {
namespace {

struct CompareOptions {
  std::vector<std::string> workloads;
  std::string policies = "all";
  std::string profiles = "mobile-8";
  std::vector<std::string> feature_sets;
  std::string pes;
  std::string jobs;
  std::string shard;
  std::string timelines;
  ComparisonOutput output;
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

// The grid the options name, every "all" spelled out (so that a part
// carries the names and a merge resolves the same grid).
compare::GridInput input_of(const CompareOptions& o) {
  compare::GridInput in;
  in.workloads = o.workloads.empty() ? std::vector<std::string>{"suite"} : o.workloads;
  if (o.policies == "all") {
    for (const baselines::PolicyEntry& e : baselines::all_policies()) in.policies.emplace_back(e.name);
  } else {
    in.policies = split_list(o.policies);
  }
  if (o.profiles == "all") {
    for (const sim::Profile& p : sim::profiles()) in.profiles.emplace_back(p.name);
  } else {
    in.profiles = split_list(o.profiles);
  }
  in.feature_sets = o.feature_sets.empty() ? std::vector<std::string>{"ttl,tlbirange"} : o.feature_sets;
  if (o.pes.empty()) {
    in.pes.push_back(0);
  } else {
    for (const std::string& n : split_list(o.pes)) in.pes.push_back(static_cast<unsigned>(parse_number("--pes", n, 1, 64)));
  }
  return in;
}

void run_compare(const CompareOptions& o) {
  (void)o.output.format();  // refuses --json with --csv before any work
  if (!o.shard.empty() && (o.output.json || o.output.csv || !o.output.report.empty())) {
    throw UsageError("compare: --shard writes a part (JSON) of its own; --report belongs to the merge");
  }
  const compare::GridSpec spec = grid_of(input_of(o));
  const unsigned hardware = std::thread::hardware_concurrency();
  const unsigned jobs = o.jobs.empty() ? (hardware == 0 ? 1 : hardware)
                                       : static_cast<unsigned>(parse_number("--jobs", o.jobs, 1, 1024));
  compare::Shard shard;
  if (!o.shard.empty()) {
    if (const std::optional<std::string> bad = compare::parse_shard(o.shard, shard)) throw UsageError(*bad);
  }
  std::vector<baselines::Manages> used;
  if (const std::optional<std::string> bad = compare::scan_workloads(spec, used)) throw UsageError(*bad);
  const std::vector<std::size_t> indices = compare::shard_cells(compare::cell_count(spec), shard);
  // --timelines DIR: DIR/cell-<index>.json for each cell that runs.
  std::mutex timelines_mutex;
  std::map<std::size_t, std::unique_ptr<report::TimelineJson>> open_timelines;
  compare::CellTimelines timelines{
      [&](std::size_t index, unsigned pes, std::string& error) -> sim::TimelineSink* {
        std::unique_ptr<report::TimelineJson> t = report::TimelineJson::open(
            fmt::format("{}/cell-{:04}.json", o.timelines, index), pes, 1'000'000, error);
        if (!t) {
          error = fmt::format("--timelines: {}", error);
          return nullptr;
        }
        const std::lock_guard<std::mutex> lock(timelines_mutex);
        return (open_timelines[index] = std::move(t)).get();
      },
      [&](std::size_t index) {
        std::unique_ptr<report::TimelineJson> t;
        {
          const std::lock_guard<std::mutex> lock(timelines_mutex);
          t = std::move(open_timelines[index]);
          open_timelines.erase(index);
        }
        return t->finish();
      }};
  std::vector<compare::Cell> cells;
  {
    Progress progress;
    cells = compare::run_grid(spec, used, jobs, [&](std::size_t done, std::size_t total) { progress(done, total); },
                              &indices, o.timelines.empty() ? nullptr : &timelines);
  }
  const std::vector<std::size_t> groups = compare::shard_groups(compare::group_count(spec), shard);
  const std::vector<compare::GroupBound> bounds = compare::run_bounds(spec, jobs, &groups);
  if (!o.shard.empty()) {
    write_stdout(compare::part_json(spec.input, shard, indices, cells, bounds).dump(1) + "\n");
    return;
  }
  finish_comparison(o.output, spec, cells, bounds);
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
  cmd->add_option("--shard", o->shard,
                  "K/N: run every N-th cell from the K-th and print a part for tlbkit merge (docs/SWEEPS.md)");
  cmd->add_option("--timelines", o->timelines,
                  "Directory (existing) for one Chrome / Perfetto timeline per cell: DIR/cell-NNNN.json, NNNN the "
                  "cell's index in row order");
  add_output_options(cmd, o->output);
  cmd->callback([o] { run_compare(*o); });
}

}  // namespace tlbkit::cli
