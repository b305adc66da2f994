#include "tlbkit/maint/simple_policy.hpp"

#include "plan_shapes.hpp"
#include "plan_tail.hpp"

namespace tlbkit::maint {

Status SimplePolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                          Plan& plan) const {
  if (pending.needs_invalidation()) {
    // Per VA up to the threshold, else the widest-but-one op that is legal
    // here (ASIDE1IS spares global entries: then VMALLE1IS).
    Shape shape = Shape::per_va;
    if (pending.coverage == Coverage::everything || detail::pending_entries(pending) > threshold_) {
      shape = detail::shape_forbidden(Shape::space_wide, pending, space, features).empty() ? Shape::space_wide
                                                                                            : Shape::full;
    }
    std::uint64_t covered = 0;
    const Status s = detail::append_tlbi_shape(shape, pending, space, features, plan, covered);
    if (!s.ok()) return s;
  }
  const Status cleaned = detail::append_clean(pending, space, features, plan);
  if (!cleaned.ok()) return cleaned;
  return detail::append_icache(pending, plan);
}

}  // namespace tlbkit::maint
