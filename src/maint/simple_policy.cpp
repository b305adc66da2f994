#include "tlbkit/maint/simple_policy.hpp"

#include "tlbkit/maint/plan_tail.hpp"
#include "tlbkit/maint/shapes.hpp"

namespace tlbkit::maint {

Status SimplePolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                          Plan& plan) const {
  if (pending.needs_invalidation()) {
    // Per VA up to the threshold, else the widest-but-one op that is legal
    // here (ASIDE1IS spares global entries: then VMALLE1IS).
    Shape shape = Shape::per_va;
    if (pending.coverage == Coverage::everything || pending_entries(pending) > threshold_) {
      shape = shape_forbidden(Shape::space_wide, pending, space, features).empty() ? Shape::space_wide
                                                                                            : Shape::full;
    }
    const Status s = append_shape(shape, pending, space, features, plan);
    if (!s.ok()) return s;
  }
  return append_tail(pending, space, features, plan);
}

}  // namespace tlbkit::maint
