// The comparison grid: every workload x profile x feature set x PE count x
// policy, each cell a replay on the simulated machine with every checker
// on. Cells run on worker threads; the result does not depend on how many.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/compare/workload.hpp"
#include "tlbkit/maint/shapes.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::compare {

struct FeatureSet {
  std::string name;  // as given ("ttl,tlbirange", "none")
  arch::CpuFeatures features;
};

// The grid as the user named it: enough to build the same GridSpec again
// (tlbkit merge rebuilds it from a part's copy).
struct GridInput {
  std::vector<std::string> workloads;     // --workload values, as given
  std::vector<std::string> policies;      // policy names
  std::vector<std::string> profiles;      // profile names
  std::vector<std::string> feature_sets;  // feature lists, as given
  std::vector<unsigned> pes;              // 0: each profile's
  friend bool operator==(const GridInput&, const GridInput&) = default;
};

struct GridSpec {
  GridInput input;
  std::vector<Workload> workloads;
  std::vector<const baselines::PolicyEntry*> policies;
  std::vector<const sim::Profile*> profiles;
  std::vector<FeatureSet> feature_sets;
  std::vector<unsigned> pes;  // 0: the profile's
  // Everything else of the replay (touch model, id widths); pes and
  // features are set per cell.
  replay::ReplayOptions replay;
};

enum class CellState : std::uint8_t {
  ran,
  not_applicable,  // the workload uses a regime the policy's system does not manage
  bad_input,       // the trace could not be replayed (its message in `note`)
};

// What a cell's replay found, as the comparison reports it.
struct CellResult {
  sim::SimCounters counters;
  std::size_t violations = 0;
  std::size_t problems = 0;
  std::string first_failure;  // the first violation's (or problem's) message
  // tlbkit's planner only: how often it chose each shape (maint::Shape order).
  std::array<std::uint64_t, maint::kShapeCount> choices{};
  std::uint64_t total_cycles() const { return counters.maintenance_cycles + counters.translation_cycles; }
  // Its total above a group's lower bound `bound` (0 when not above).
  std::uint64_t overhead(std::uint64_t bound) const { return total_cycles() >= bound ? total_cycles() - bound : 0; }
  bool ok() const { return violations == 0 && problems == 0; }
  friend bool operator==(const CellResult&, const CellResult&) = default;
};

// The summary of a replay.
CellResult result_of(const replay::ReplayRun& run);

// "ran", "n/a", "bad-input": as reports and parts spell the state.
const char* state_name(CellState state);

// The regimes of `m` by name, comma-separated ("process stage 1, VM
// stage 2"); "nothing" for none.
std::string regime_names(baselines::Manages m);

struct Cell {
  std::size_t workload = 0;
  std::size_t profile = 0;
  std::size_t feature_set = 0;
  std::size_t pes_index = 0;
  std::size_t policy = 0;
  unsigned pes = 0;  // the PE count it ran with
  CellState state = CellState::ran;
  CellResult result;  // state ran
  std::string note;       // not_applicable: why; bad_input: the message
};

// Cells in row order: workload, then profile, feature set, PE count, and
// the policy last (one row group per machine setting).
std::size_t cell_count(const GridSpec& spec);

// Reads every workload once for the regimes it uses (one entry per
// workload). # Errors: the first workload that cannot be read, with its
// message; nothing is run then.
std::optional<std::string> scan_workloads(const GridSpec& spec, std::vector<baselines::Manages>& used);

// Per-cell timelines (tlbkit compare --timelines): `open` gives the sink
// for the cell at `index` about to run on `pes` PEs (nullptr and `error`
// set when it cannot), `close` finishes it after the run ("" or what went
// wrong, which makes the cell bad input). Called from worker threads.
struct CellTimelines {
  std::function<sim::TimelineSink*(std::size_t index, unsigned pes, std::string& error)> open;
  std::function<std::string(std::size_t index)> close;
};

// Runs every cell (those of `only`, when given: indices into the row order,
// for sharding) on `jobs` worker threads (at least 1). `progress` is called
// after each cell with (done, total), one call at a time. `used` is
// scan_workloads()'s. The cells come back in row order, equal whatever
// `jobs` is.
std::vector<Cell> run_grid(const GridSpec& spec, const std::vector<baselines::Manages>& used, unsigned jobs,
                           const std::function<void(std::size_t, std::size_t)>& progress = {},
                           const std::vector<std::size_t>* only = nullptr,
                           const CellTimelines* timelines = nullptr);

// The cell at `index` of the row order (its axes; nothing run).
Cell cell_at(const GridSpec& spec, std::size_t index);

// The cache-aware lower bound of one row group (sim::Execution::bound,
// with tlbkit's planner deciding only the maintenance points and their
// cache maintenance). Groups are numbered in row order: cell index /
// number of policies.
struct GroupBound {
  std::size_t group = 0;
  CellState state = CellState::ran;  // ran or bad_input
  std::string note;
  CellResult result;
};

std::size_t group_count(const GridSpec& spec);

// Runs the bound of every group (those of `only`, when given) on `jobs`
// workers; in group order, equal whatever `jobs` is.
std::vector<GroupBound> run_bounds(const GridSpec& spec, unsigned jobs,
                                   const std::vector<std::size_t>* only = nullptr);

// Whether the cell ran clean: no violation, no problem.
bool correct(const Cell& cell);

// Whether the cell contends for its group's cheapest mark: it ran clean
// (correct()) and its policy promises correct maintenance
// (baselines::Contract::correct). A model of a known bug never does, even
// where no check showed its bug: it may be cheaper by that bug.
bool contender(const GridSpec& spec, const Cell& cell);

// For each cell (row order, the whole grid): whether it is the cheapest
// contender (least total cycles; the earlier policy on a tie) of its row
// group, the cells that share workload, profile, features and PE count.
std::vector<bool> cheapest_of_groups(const GridSpec& spec, const std::vector<Cell>& cells);

// Whether a policy promised correctness (baselines::Contract::correct) and
// broke it somewhere: the comparison fails (exit 1).
bool contract_broken(const GridSpec& spec, const std::vector<Cell>& cells);

}  // namespace tlbkit::compare
