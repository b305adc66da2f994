#include "comparison.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "feature_list.hpp"
#include "named.hpp"
#include "stdout.hpp"
#include "usage_error.hpp"
#include "tlbkit/report/compare_files.hpp"
#include "tlbkit/report/compare_report.hpp"

namespace tlbkit::cli {

compare::GridSpec grid_of(const compare::GridInput& input) {
  compare::GridSpec spec;
  spec.input = input;
  for (const std::string& w : input.workloads) {
    if (const std::optional<std::string> bad = compare::parse_workload(w, spec.workloads)) throw UsageError(*bad);
  }
  for (const std::string& name : input.policies) spec.policies.push_back(&policy_named(name));
  for (const std::string& name : input.profiles) spec.profiles.push_back(&profile_named(name));
  for (const std::string& set : input.feature_sets) {
    spec.feature_sets.push_back(compare::FeatureSet{set, parse_features(set)});
  }
  spec.pes = input.pes;
  if (spec.workloads.empty() || spec.policies.empty() || spec.profiles.empty() || spec.feature_sets.empty() ||
      spec.pes.empty()) {
    throw UsageError("compare: every axis (workloads, policies, profiles, features, PEs) needs a value");
  }
  return spec;
}

void print_comparison(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells,
                      const std::vector<compare::GroupBound>& bounds, ComparisonFormat format) {
  // A workload the replayer refused is bad input: nothing is printed.
  for (const compare::Cell& c : cells) {
    if (c.state == compare::CellState::bad_input) throw UsageError(c.note);
  }
  for (const compare::GroupBound& b : bounds) {
    if (b.state == compare::CellState::bad_input) throw UsageError(b.note);
  }
  switch (format) {
    case ComparisonFormat::json: write_stdout(report::compare_json(spec, cells, bounds).dump(2) + "\n"); break;
    case ComparisonFormat::csv: write_stdout(report::compare_csv(spec, cells, bounds)); break;
    case ComparisonFormat::text: write_stdout(report::compare_text(spec, cells, bounds)); break;
  }
  for (const compare::GroupBound& b : bounds) {
    if (!b.result.ok()) {
      throw CheckFailed(fmt::format("compare: the lower bound of group {} showed a violation: {}", b.group,
                                    b.result.first_failure));
    }
  }
  if (compare::contract_broken(spec, cells)) {
    throw CheckFailed("compare: a policy that promises correct maintenance showed a violation or a problem");
  }
}

namespace {

// `s` as one shell word.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The command line that makes `input`'s grid, every value spelled out.
std::string command_of(const compare::GridInput& input) {
  std::string cmd = "tlbkit compare";
  for (const std::string& w : input.workloads) cmd += " --workload " + w;
  std::string list;
  for (const std::string& p : input.policies) list += (list.empty() ? "" : ",") + p;
  cmd += " --policy " + list;
  list.clear();
  for (const std::string& p : input.profiles) list += (list.empty() ? "" : ",") + p;
  cmd += " --profile " + list;
  for (const std::string& f : input.feature_sets) cmd += " --features " + (f.empty() ? std::string("none") : f);
  if (!(input.pes.size() == 1 && input.pes[0] == 0)) {
    list.clear();
    for (unsigned n : input.pes) list += (list.empty() ? "" : ",") + std::to_string(n);
    cmd += " --pes " + list;
  }
  return cmd + " --report DIR";
}

}  // namespace

ComparisonFormat ComparisonOutput::format() const {
  if (json && csv) throw UsageError("--json or --csv, not both");
  return json ? ComparisonFormat::json : csv ? ComparisonFormat::csv : ComparisonFormat::text;
}

void add_output_options(CLI::App* cmd, ComparisonOutput& out) {
  cmd->add_option("--report", out.report,
                  "Also write a report directory: report.md, comparison.csv/.json, charts (SVG, PNG) through gnuplot");
  cmd->add_flag("--json", out.json, "Print JSON instead of the table");
  cmd->add_flag("--csv", out.csv, "Print CSV instead of the table");
}

void finish_comparison(const ComparisonOutput& out, const compare::GridSpec& spec,
                       const std::vector<compare::Cell>& cells, const std::vector<compare::GroupBound>& bounds) {
  const ComparisonFormat format = out.format();
  for (const compare::Cell& c : cells) {
    if (c.state == compare::CellState::bad_input) throw UsageError(c.note);  // no report of a refused workload
  }
  if (!out.report.empty()) write_comparison_report(out.report, spec, cells, bounds);
  print_comparison(spec, cells, bounds, format);
}

void write_comparison_report(const std::string& dir, const compare::GridSpec& spec,
                             const std::vector<compare::Cell>& cells, const std::vector<compare::GroupBound>& bounds) {
  namespace fs = std::filesystem;
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    throw UsageError("--report: gnuplot is not installed (Debian gnuplot-nox; make deps installs it)");
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "charts", ec);
  if (ec) throw UsageError(fmt::format("--report: cannot create {}: {}", dir, ec.message()));
  std::vector<std::string> scripts;
  for (const report::ReportFile& f : report::compare_report_files(spec, cells, bounds, command_of(spec.input))) {
    std::ofstream out(fs::path(dir) / f.path, std::ios::binary);
    out << f.content;
    if (!out) throw UsageError(fmt::format("--report: cannot write {}/{}", dir, f.path));
    if (f.path.ends_with(".gp")) scripts.push_back(fs::path(f.path).filename().string());
  }
  for (const std::string& script : scripts) {
    const std::string cmd = fmt::format("cd {} && gnuplot {} 2>&1", shell_quote((fs::path(dir) / "charts").string()),
                                        shell_quote(script));
    if (std::system(cmd.c_str()) != 0) throw UsageError(fmt::format("--report: gnuplot failed on charts/{}", script));
  }
}

}  // namespace tlbkit::cli
