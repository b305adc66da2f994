// Writing each candidate plan shape of the planner. Engine-internal.
#pragma once

#include "tlbkit/maint/planner.hpp"

namespace tlbkit::maint::detail {

// Pages (4 KiB) whose entries `pending` names.
std::uint64_t pending_pages(const Pending& pending);

// TLB entries `pending` names: one per leaf entry, one per page under a
// changed table entry (what a per-VA plan issues ops for).
std::uint64_t pending_entries(const Pending& pending);

// Why `shape` may not be used for `pending` here, or empty when it may.
std::string_view shape_forbidden(Shape shape, const Pending& pending, const AddressSpace& space,
                                  const arch::CpuFeatures& features);

// Appends DSB ISHST; the shape's TLBIs; (stage 2 by IPA: DSB ISH; TLBI
// VMALLE1IS); DSB ISH. Sets `covered_pages` to the pages its TLBIs retire
// (for the over-invalidation cost; 0 for space-wide and full).
// Precondition: shape_forbidden() is empty.
// # Errors
// out_of_range: the plan is full; an encoder's error otherwise.
Status append_tlbi_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                         const arch::CpuFeatures& features, Plan& plan, std::uint64_t& covered_pages);

}  // namespace tlbkit::maint::detail
