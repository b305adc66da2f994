// The planner, counting which shape it chose for each plan, so that a
// comparison can say what tlbkit did where it was not the cheapest.
// Internal to src/compare.
#pragma once

#include <array>
#include <cstdint>

#include "tlbkit/maint/planner.hpp"
#include "tlbkit/maint/shapes.hpp"

namespace tlbkit::compare::detail {

class CountingPlanner final : public maint::Policy {
 public:
  explicit CountingPlanner(const maint::Planner& planner) : planner_(planner) {}

  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override {
    if (pending.needs_invalidation()) ++chosen_[static_cast<std::size_t>(planner_.choose(pending, space, features))];
    return planner_.plan(pending, space, features, plan);
  }

  const std::array<std::uint64_t, maint::kShapeCount>& chosen() const { return chosen_; }

 private:
  const maint::Planner& planner_;
  // Counted from the const plan(): one replay, one thread, owns this object.
  mutable std::array<std::uint64_t, maint::kShapeCount> chosen_{};
};

}  // namespace tlbkit::compare::detail
