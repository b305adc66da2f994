#include "tlbkit/report/policies_report.hpp"

#include <fmt/format.h>

#include "tlbkit/compare/grid.hpp"

namespace tlbkit::report {
namespace {

using baselines::Contract;
using baselines::PolicyEntry;

std::string contract_text(const PolicyEntry& p) {
  if (p.contract == Contract::correct) return "correct";
  return fmt::format("reproduces a known bug: {}", p.known_bug);
}

std::string joined(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) out += fmt::format("{}{}", out.empty() ? "" : ", ", n);
  return out;
}

}  // namespace

std::string policies_text(std::span<const PolicyEntry* const> policies) {
  std::string out;
  for (const PolicyEntry* p : policies) {
    out += fmt::format("{}\n", p->name);
    if (!p->aliases.empty()) out += fmt::format("  aliases:  {}\n", joined(p->aliases));
    out += fmt::format("  system:   {}\n", p->system);
    if (!p->version.empty()) out += fmt::format("  version:  {}\n", p->version);
    if (!p->repository.empty()) out += fmt::format("  read in:  {}\n", p->repository);
    for (const baselines::SourceRef& s : p->sources) out += fmt::format("  source:   {} ({})\n", s.file, s.what);
    out += fmt::format("  manages:  {}\n", compare::regime_names(p->manages));
    out += fmt::format("  contract: {}\n", contract_text(*p));
    out += fmt::format("  what:     {}\n\n", p->description);
  }
  out += "docs/BASELINES.md describes each model: what the real code does and where, and what the model leaves out.\n";
  return out;
}

nlohmann::json policies_json(std::span<const PolicyEntry* const> policies) {
  nlohmann::json out = nlohmann::json::array();
  for (const PolicyEntry* p : policies) {
    nlohmann::json sources = nlohmann::json::array();
    for (const baselines::SourceRef& s : p->sources) sources.push_back({{"file", s.file}, {"what", s.what}});
    nlohmann::json aliases = nlohmann::json::array();
    for (std::string_view a : p->aliases) aliases.push_back(a);
    out.push_back({{"name", p->name},
                   {"aliases", std::move(aliases)},
                   {"system", p->system},
                   {"version", p->version},
                   {"repository", p->repository},
                   {"sources", std::move(sources)},
                   {"manages", compare::regime_names(p->manages)},
                   {"contract", p->contract == Contract::correct ? "correct" : "known_bug"},
                   {"known_bug", p->known_bug},
                   {"description", p->description}});
  }
  return out;
}

}  // namespace tlbkit::report
