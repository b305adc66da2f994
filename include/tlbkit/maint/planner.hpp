// The tlbkit planner: among every correct plan shape for the gathered
// changes, the one the cost model says is cheapest, counting the refills an
// over-wide invalidation causes on every PE.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "tlbkit/maint/cost_model.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/maint/shapes.hpp"

namespace tlbkit::maint {

// What one candidate would cost.
struct CandidateCost {
  Shape shape = Shape::per_va;
  bool legal = false;            // false: the features or changes forbid it (see why)
  std::string_view why;          // for an illegal candidate
  std::uint64_t ops = 0;         // TLBI ops
  std::uint64_t issue = 0;       // cycles to issue the TLBIs
  std::uint64_t barriers = 0;    // cycles in DSBs
  std::uint64_t collateral = 0;  // expected refills of entries it removes needlessly, times refill cost, all PEs
  std::uint64_t total() const { return issue + barriers + collateral; }
};

// Every candidate, in Shape order, and the chosen one.
struct Explanation {
  std::array<CandidateCost, kShapeCount> candidates{};
  Shape chosen = Shape::per_va;
  std::uint64_t pages = 0;  // pages whose entries must go
};

class Planner final : public Policy {
 public:
  explicit Planner(const CostModel& model = CostModel{}) : model_(model) {}

  // The cheapest legal candidate (ties: the earlier Shape): choose(), then
  // data-cache cleaning and I-cache maintenance. Deterministic.
  // # Errors
  // out_of_range: the chosen shape does not fit a Plan (never for
  // space_wide / full, which Gather falls back to).
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

  // plan() with `shape` in place of the cheapest: its TLBIs, then the same
  // data-cache and I-cache tail. For tools that compare shapes (the
  // simulator's hindsight oracle).
  // # Errors
  // unsupported: the shape is illegal here; out_of_range: the plan is full.
  Status plan_as(Shape shape, const Pending& pending, const AddressSpace& space,
                 const arch::CpuFeatures& features, Plan& plan) const;

  // Costs every candidate for `pending` and says which plan() would choose.
  Explanation explain(const Pending& pending, const AddressSpace& space,
                      const arch::CpuFeatures& features) const;

  // The shape plan() uses: always explain(...).chosen, found by the same
  // selection with the candidates that provably lose left uncosted.
  Shape choose(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features) const;

  const CostModel& model() const { return model_; }

 private:
  CostModel model_;
};

}  // namespace tlbkit::maint
