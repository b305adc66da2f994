// `tlbkit policies`: every policy with where it comes from, for people
// (text) and for tools (JSON).
#pragma once

#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "tlbkit/baselines/registry.hpp"

namespace tlbkit::report {

// One block per policy: name and aliases, system and version, the regimes
// it manages, its contract (with the known bug it reproduces), the source
// files it follows, and its one-line description.
std::string policies_text(std::span<const baselines::PolicyEntry* const> policies);

// An array of objects {name, aliases, system, version, repository,
// sources: [{file, what}], manages, contract, known_bug, description}.
nlohmann::json policies_json(std::span<const baselines::PolicyEntry* const> policies);

}  // namespace tlbkit::report
