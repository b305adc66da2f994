// The parts of a plan every policy ends with: data-cache cleaning of
// unmapped memory, then I-cache maintenance. For every policy that writes plans.
#pragma once

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::maint {

// DC CIVAC over every line of `pending.clean` (addresses through
// `space.linear_map_offset`), then DSB ISH. Runs after the invalidation has
// completed, so no stale translation can dirty a line again.
Status append_clean(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                    Plan& plan);

// IC IALLUIS; DSB ISH; ISB when execute permission was gained.
Status append_icache(const Pending& pending, Plan& plan);

// The whole tail: append_clean, then append_icache.
// # Errors
// out_of_range: the plan is full (the plan is then partial: discard it).
Status append_tail(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                   Plan& plan);

}  // namespace tlbkit::maint
