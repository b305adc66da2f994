// What `tlbkit compare` and `tlbkit merge` share: the grid built from the
// names the user gave (resolved or refused with a UsageError), and the
// printing of its cells with the exit status that follows.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tlbkit/compare/grid.hpp"

namespace tlbkit::cli {

enum class ComparisonFormat : std::uint8_t { text, json, csv };

// The output options compare and merge share: --report DIR, --json, --csv.
struct ComparisonOutput {
  std::string report;
  bool json = false;
  bool csv = false;
  // The format asked for. Throws UsageError for --json with --csv.
  ComparisonFormat format() const;
};

// Adds --report, --json and --csv to `cmd`, filling `out`.
void add_output_options(CLI::App* cmd, ComparisonOutput& out);

// Writes the report when asked (write_comparison_report), then prints
// (print_comparison).
void finish_comparison(const ComparisonOutput& out, const compare::GridSpec& spec,
                       const std::vector<compare::Cell>& cells, const std::vector<compare::GroupBound>& bounds);

// The grid `input` names: workloads parsed, policies, profiles and feature
// sets resolved. Throws UsageError for the first bad name or value.
compare::GridSpec grid_of(const compare::GridInput& input);

// Throws UsageError, printing nothing, for a cell or bound whose workload
// could not be replayed (exit 2); else prints the cells of the whole grid
// in `format`, then throws CheckFailed when a policy that promises correct
// maintenance, or the lower bound, failed (exit 1).
void print_comparison(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells,
                      const std::vector<compare::GroupBound>& bounds, ComparisonFormat format);

// Writes the report directory `dir` (report::compare_report_files) and
// runs gnuplot on each chart script there. Throws UsageError when the
// directory cannot be written or gnuplot is missing or fails.
void write_comparison_report(const std::string& dir, const compare::GridSpec& spec,
                             const std::vector<compare::Cell>& cells, const std::vector<compare::GroupBound>& bounds);

}  // namespace tlbkit::cli
