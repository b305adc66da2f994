// Every maintenance policy the tools can run, by name: tlbkit's planner and
// the baselines that model other systems, each with where it comes from
// (docs/BASELINES.md).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "tlbkit/maint/planner.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

// The translation regimes a system's TLB maintenance manages: a model runs
// only on workloads made of spaces it manages (Linux manages processes'
// and the kernel's EL1&0 stage 1, not a VM's stage 2). A bit set.
enum class Manages : std::uint8_t {
  none = 0,
  process_stage1 = 1,  // EL1&0 stage 1, non-global entries under an ASID
  kernel_stage1 = 2,   // EL1 stage 1, global entries
  vm_stage2 = 4,       // a VM's stage 2 under a VMID
  all = 7,
};
constexpr Manages operator|(Manages a, Manages b) {
  return static_cast<Manages>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
// Whether every regime of `needed` is in `managed`.
constexpr bool covers(Manages managed, Manages needed) {
  return (static_cast<unsigned>(managed) & static_cast<unsigned>(needed)) == static_cast<unsigned>(needed);
}
// The regime of the bit `bit` of Manages by name ("process stage 1"), or
// "" when it is not one bit.
std::string_view regime_name(Manages bit);

// Whether a policy promises correct maintenance (a violation under it is a
// failure), or models a system's known bug (a violation is the point).
enum class Contract : std::uint8_t { correct, known_bug };

// A source file a model follows, and what in it: "src/core/shim.S" with
// "tlbi_selective, tlbi_range_large".
struct SourceRef {
  std::string_view file;
  std::string_view what;
};

struct PolicyEntry {
  std::string_view name;         // as given to --policy: SYSTEM-VERSION for a model
  std::string_view description;  // one line: what it does or models
  const maint::Policy& policy;
  const maint::Planner* planner = nullptr;  // set when the policy can explain its choice
  Manages manages = Manages::all;
  Contract contract = Contract::correct;
  // Provenance. For tlbkit's own policies the system is "tlbkit" and the
  // rest is empty.
  std::string_view system = "tlbkit";  // the project modelled: "Linux arm64"
  std::string_view version = {};       // release or commit: "v5.4", "00ed78b"
  std::string_view repository = {};    // where that version's source was read
  std::span<const SourceRef> sources = {};
  std::span<const std::string_view> aliases = {};  // older names that still select it
  std::string_view known_bug = {};                 // with Contract::known_bug: what goes wrong
};

// All policies, tlbkit's planner first.
std::span<const PolicyEntry> all_policies();

// The policy called `name` (its name or one of its aliases), or nullptr.
const PolicyEntry* find_policy(std::string_view name);

}  // namespace tlbkit::baselines
