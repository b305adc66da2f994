#include "policies/registry.hpp"

#include <array>

#include "tlbkit/maint/planner.hpp"
#include "tlbkit/maint/simple_policy.hpp"

namespace tlbkit::policies {
namespace {

const maint::Planner kPlanner{};
const maint::SimplePolicy kSimple{};

const std::array<PolicyEntry, 2> kPolicies{{
    {"tlbkit", "cheapest correct plan under the cost model (per-VA, range, merged, space-wide, full)", kPlanner,
     &kPlanner},
    {"simple", "first cut: per-VA TLBI with TTL up to 32 ops, else ASID/VMID-wide", kSimple},
}};

}  // namespace

std::span<const PolicyEntry> all() { return kPolicies; }

const PolicyEntry* find(std::string_view name) {
  for (const PolicyEntry& entry : kPolicies) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

}  // namespace tlbkit::policies
