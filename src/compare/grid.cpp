#include "tlbkit/compare/grid.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "counting_planner.hpp"

namespace tlbkit::compare {

std::string regime_names(baselines::Manages m) {
  std::string out;
  for (const baselines::Manages bit :
       {baselines::Manages::process_stage1, baselines::Manages::kernel_stage1, baselines::Manages::vm_stage2}) {
    if (!baselines::covers(m, bit)) continue;
    if (!out.empty()) out += ", ";
    out += baselines::regime_name(bit);
  }
  return out.empty() ? "nothing" : out;
}

namespace {

void run_cell(const GridSpec& spec, const std::vector<baselines::Manages>& used, std::size_t index,
              const CellTimelines* timelines, Cell& cell) {
  const baselines::PolicyEntry& policy = *spec.policies[cell.policy];
  const baselines::Manages needed = used[cell.workload];
  if (!baselines::covers(policy.manages, needed)) {
    cell.state = CellState::not_applicable;
    cell.note = fmt::format("{} manages {}; the workload uses {}", policy.name, regime_names(policy.manages),
                            regime_names(needed));
    return;
  }
  replay::ReplayOptions options = spec.replay;
  options.features = spec.feature_sets[cell.feature_set].features;
  options.pes = cell.pes;
  if (timelines != nullptr) {
    std::string error;
    options.timeline = timelines->open(index, cell.pes, error);
    if (options.timeline == nullptr) {
      cell.state = CellState::bad_input;
      cell.note = error;
      return;
    }
  }
  std::optional<detail::CountingPlanner> counting;
  if (policy.planner != nullptr) counting.emplace(*policy.planner);
  const maint::Policy& run_policy = counting ? static_cast<const maint::Policy&>(*counting) : policy.policy;
  replay::TraceReplayer replayer(run_policy, *spec.profiles[cell.profile], options);
  std::string error = emit(spec.workloads[cell.workload], replayer, cell.pes);
  if (error.empty()) cell.result = result_of(replayer.finish());
  if (counting) cell.result.choices = counting->chosen();
  if (timelines != nullptr) {
    const std::string closed = timelines->close(index);
    if (error.empty()) error = closed;
  }
  if (!error.empty()) {
    cell.state = CellState::bad_input;
    cell.note = error;
  }
}

// `only`, or every index below `count`.
std::vector<std::size_t> indices_or_all(const std::vector<std::size_t>* only, std::size_t count) {
  if (only != nullptr) return *only;
  std::vector<std::size_t> all(count);
  for (std::size_t i = 0; i < count; ++i) all[i] = i;
  return all;
}

// Calls work(i) for every i below `count` on `jobs` threads (this one
// included), each i once; returns when all are done.
template <class Work>
void for_each_on_workers(std::size_t count, unsigned jobs, Work work) {
  std::atomic<std::size_t> next{0};
  const auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) work(i);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < (jobs == 0 ? 1 : jobs) && t < count; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
}

}  // namespace

CellResult result_of(const replay::ReplayRun& run) {
  CellResult r;
  r.counters = run.counters;
  r.violations = run.violations.size();
  r.problems = run.problems.size();
  if (!run.violations.empty()) {
    r.first_failure = run.violations.front().message;
  } else if (!run.problems.empty()) {
    r.first_failure = run.problems.front();
  }
  return r;
}

std::size_t cell_count(const GridSpec& spec) {
  return spec.workloads.size() * spec.profiles.size() * spec.feature_sets.size() * spec.pes.size() *
         spec.policies.size();
}

Cell cell_at(const GridSpec& spec, std::size_t index) {
  Cell c;
  c.policy = index % spec.policies.size();
  index /= spec.policies.size();
  c.pes_index = index % spec.pes.size();
  index /= spec.pes.size();
  c.feature_set = index % spec.feature_sets.size();
  index /= spec.feature_sets.size();
  c.profile = index % spec.profiles.size();
  c.workload = index / spec.profiles.size();
  const unsigned pes = spec.pes[c.pes_index];
  c.pes = pes == 0 ? spec.profiles[c.profile]->pes : pes;
  return c;
}

std::optional<std::string> scan_workloads(const GridSpec& spec, std::vector<baselines::Manages>& used) {
  used.assign(spec.workloads.size(), baselines::Manages::none);
  for (std::size_t i = 0; i < spec.workloads.size(); ++i) {
    std::string error = regimes_used(spec.workloads[i], used[i]);
    if (!error.empty()) return error;
  }
  return std::nullopt;
}

std::vector<Cell> run_grid(const GridSpec& spec, const std::vector<baselines::Manages>& used, unsigned jobs,
                           const std::function<void(std::size_t, std::size_t)>& progress,
                           const std::vector<std::size_t>* only, const CellTimelines* timelines) {
  const std::vector<std::size_t> indices = indices_or_all(only, cell_count(spec));
  std::vector<Cell> cells(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) cells[i] = cell_at(spec, indices[i]);
  std::size_t done = 0;
  std::mutex progress_mutex;
  for_each_on_workers(cells.size(), jobs, [&](std::size_t i) {
    run_cell(spec, used, indices[i], timelines, cells[i]);
    if (progress) {
      const std::lock_guard<std::mutex> lock(progress_mutex);
      progress(++done, cells.size());
    }
  });
  return cells;
}

std::size_t group_count(const GridSpec& spec) { return cell_count(spec) / spec.policies.size(); }

std::vector<GroupBound> run_bounds(const GridSpec& spec, unsigned jobs, const std::vector<std::size_t>* only) {
  const std::vector<std::size_t> groups = indices_or_all(only, group_count(spec));
  const baselines::PolicyEntry* planner = baselines::find_policy("tlbkit");
  std::vector<GroupBound> bounds(groups.size());
  for_each_on_workers(bounds.size(), jobs, [&](std::size_t i) {
    GroupBound& b = bounds[i];
    b.group = groups[i];
    const Cell axes = cell_at(spec, b.group * spec.policies.size());
    replay::ReplayOptions options = spec.replay;
    options.features = spec.feature_sets[axes.feature_set].features;
    options.pes = axes.pes;
    options.execution = sim::Execution::bound;
    replay::TraceReplayer replayer(planner->policy, *spec.profiles[axes.profile], options);
    const std::string error = emit(spec.workloads[axes.workload], replayer, axes.pes);
    if (!error.empty()) {
      b.state = CellState::bad_input;
      b.note = error;
      return;
    }
    b.result = result_of(replayer.finish());
  });
  return bounds;
}

const char* state_name(CellState state) {
  switch (state) {
    case CellState::ran: return "ran";
    case CellState::not_applicable: return "n/a";
    case CellState::bad_input: return "bad-input";
  }
  return "?";
}

bool correct(const Cell& cell) { return cell.state == CellState::ran && cell.result.ok(); }

bool contender(const GridSpec& spec, const Cell& cell) {
  return correct(cell) && spec.policies[cell.policy]->contract == baselines::Contract::correct;
}

std::vector<bool> cheapest_of_groups(const GridSpec& spec, const std::vector<Cell>& cells) {
  std::vector<bool> marks(cells.size(), false);
  const auto same_group = [](const Cell& a, const Cell& b) {
    return a.workload == b.workload && a.profile == b.profile && a.feature_set == b.feature_set &&
           a.pes_index == b.pes_index;
  };
  for (std::size_t first = 0; first < cells.size();) {
    std::size_t end = first;
    std::optional<std::size_t> best;
    for (; end < cells.size() && same_group(cells[first], cells[end]); ++end) {
      if (contender(spec, cells[end]) &&
          (!best || cells[end].result.total_cycles() < cells[*best].result.total_cycles())) {
        best = end;
      }
    }
    if (best) marks[*best] = true;
    first = end;
  }
  return marks;
}

bool contract_broken(const GridSpec& spec, const std::vector<Cell>& cells) {
  for (const Cell& c : cells) {
    if (c.state == CellState::ran && !c.result.ok() &&
        spec.policies[c.policy]->contract == baselines::Contract::correct) {
      return true;
    }
  }
  return false;
}

}  // namespace tlbkit::compare
