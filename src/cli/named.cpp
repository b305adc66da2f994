#include "cli/named.hpp"

#include <fmt/format.h>

#include "cli/usage_error.hpp"

namespace tlbkit::cli {

const policies::PolicyEntry& policy_named(const std::string& name) {
  if (const policies::PolicyEntry* entry = policies::find(name)) return *entry;
  std::string names;
  for (const policies::PolicyEntry& e : policies::all()) names += (names.empty() ? "" : ", ") + std::string(e.name);
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
