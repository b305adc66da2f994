#include "named.hpp"

#include <fmt/format.h>

#include <string_view>

#include "usage_error.hpp"

namespace tlbkit::cli {
namespace {

// The one refusal of an unknown name: `--policy: unknown policy "x" (known:
// a, b, c)`, the names in `known`'s order.
template <class Known>
[[noreturn]] void refuse_unknown(std::string_view option, std::string_view what, const std::string& name,
                                 const Known& known) {
  std::string names;
  for (const auto& each : known) names += (names.empty() ? "" : ", ") + std::string(each.name);
  throw UsageError(fmt::format("{}: unknown {} \"{}\" (known: {})", option, what, name, names));
}

}  // namespace

const baselines::PolicyEntry& policy_named(const std::string& name) {
  if (const baselines::PolicyEntry* entry = baselines::find_policy(name)) return *entry;
  refuse_unknown("--policy", "policy", name, baselines::all_policies());
}

const sim::Profile& profile_named(const std::string& name) {
  if (const sim::Profile* profile = sim::find_profile(name)) return *profile;
  refuse_unknown("--profile", "profile", name, sim::profiles());
}

std::vector<workload::Scenario> scenarios_named(const std::vector<std::string>& names) {
  if (names.empty()) return workload::builtin_suite();
  std::vector<workload::Scenario> out;
  for (const std::string& name : names) {
    std::optional<workload::Scenario> s = workload::find_builtin(name);
    if (!s) throw UsageError(fmt::format("unknown scenario \"{}\" (`tlbkit suite --list` shows them)", name));
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace tlbkit::cli
