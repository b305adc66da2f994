// Counting and writing each plan shape (tlbkit/maint/shapes.hpp). Internal
// to maint: the planner costs candidates with count_tlbi_shape().
#pragma once

#include "tlbkit/maint/shapes.hpp"

namespace tlbkit::maint::detail {

// How a shape's ops are costed: how many of each class it issues.
enum class OpClass : std::uint8_t { by_va, range, wide, dsb_store, dsb_full };
struct OpCounts {
  // Broadcast or local alike (OpScope).
  std::uint64_t by_va = 0;      // by-VA / by-IPA TLBIs
  std::uint64_t range = 0;      // range TLBIs
  std::uint64_t wide = 0;       // ASIDE1IS, VMALLE1IS, VMALLS12E1IS, ALLE1IS, ALLE2IS
  std::uint64_t dsb_store = 0;  // DSB ISHST
  std::uint64_t dsb_full = 0;   // DSB ISH (NSH)
  std::uint64_t tlbis() const { return by_va + range + wide; }
};

// Counts, without encoding anything, the ops append_tlbi_shape() would
// append, and the pages its TLBIs retire.
// # Errors
// As the range decomposition's (a range of more than 2^21 pages per piece
// never happens: ranges are cut into chunks).
Status count_tlbi_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                        const arch::CpuFeatures& features, OpCounts& counts, std::uint64_t& covered_pages);

// Appends DSB ISHST; the shape's TLBIs; (stage 2 by IPA: DSB ISH; TLBI
// VMALLE1IS); DSB ISH; with OpScope::issuing_pe the TLBIs and DSB ISH
// in their local forms (VALE1, DSB NSH, ...); DSB ISHST stays. Sets `covered_pages` to the pages its TLBIs retire
// (for the over-invalidation cost; 0 for space-wide and full).
// Precondition: shape_forbidden() is empty.
// # Errors
// out_of_range: the plan is full; an encoder's error otherwise.
Status append_tlbi_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                         const arch::CpuFeatures& features, OpScope scope, Plan& plan,
                         std::uint64_t& covered_pages);

}  // namespace tlbkit::maint::detail
