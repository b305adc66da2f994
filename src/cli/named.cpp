#include "named.hpp"

#include <fmt/format.h>

#include "usage_error.hpp"

namespace tlbkit::cli {

const baselines::PolicyEntry& policy_named(const std::string& name) {
  if (const baselines::PolicyEntry* entry = baselines::find_policy(name)) return *entry;
  std::string names;
  for (const baselines::PolicyEntry& e : baselines::all_policies()) names += (names.empty() ? "" : ", ") + std::string(e.name);
  throw UsageError(fmt::format("--policy: unknown policy \"{}\" (known: {})", name, names));
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
