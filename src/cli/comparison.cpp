#include "comparison.hpp"

#include <fmt/format.h>

#include "feature_list.hpp"
#include "named.hpp"
#include "stdout.hpp"
#include "usage_error.hpp"
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
  switch (format) {
    case ComparisonFormat::json: write_stdout(report::compare_json(spec, cells, bounds).dump(2) + "\n"); break;
    case ComparisonFormat::csv: write_stdout(report::compare_csv(spec, cells, bounds)); break;
    case ComparisonFormat::text: write_stdout(report::compare_text(spec, cells, bounds)); break;
  }
  for (const compare::Cell& c : cells) {
    if (c.state == compare::CellState::bad_input) throw UsageError(c.note);
  }
  for (const compare::GroupBound& b : bounds) {
    if (b.state == compare::CellState::bad_input) throw UsageError(b.note);
    if (!b.result.ok()) {
      throw CheckFailed(fmt::format("compare: the lower bound of group {} showed a violation: {}", b.group,
                                    b.result.first_failure));
    }
  }
  if (compare::contract_broken(spec, cells)) {
    throw CheckFailed("compare: a policy that promises correct maintenance showed a violation or a problem");
  }
}

}  // namespace tlbkit::cli
