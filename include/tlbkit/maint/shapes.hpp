// The plan shapes: the ways of covering gathered changes with TLBIs that
// the planner weighs, each writable on its own. For policies built from
// them (the planner, SimplePolicy, baseline models of other systems).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::maint {

// The plan shapes the planner considers.
enum class Shape : std::uint8_t {
  per_va,          // one by-VA (or by-IPA) op per entry; TTL and leaf-only forms when legal
  range_exact,     // FEAT_TLBIRANGE: each range covered exactly (<= 4 range ops + 1 page)
  range_rounded,   // FEAT_TLBIRANGE: each range rounded up to one op per 2^21 pages
  range_merged,    // FEAT_TLBIRANGE: all ranges as one interval (gaps over-invalidated)
  space_wide,      // ASIDE1IS / VMALLS12E1IS / ALLE2IS
  full,            // VMALLE1IS (all ASIDs of the VMID; needed with global entries)
};
inline constexpr std::size_t kShapeCount = 6;

std::string_view shape_name(Shape shape);

// Pages (4 KiB) whose entries `pending` names.
std::uint64_t pending_pages(const Pending& pending);

// TLB entries `pending` names: one per leaf entry, one per page under a
// changed table entry (what a per-VA plan issues ops for).
std::uint64_t pending_entries(const Pending& pending);

// Why `shape` may not be used for `pending` here, or empty when it may.
std::string_view shape_forbidden(Shape shape, const Pending& pending, const AddressSpace& space,
                                  const arch::CpuFeatures& features);

// Which PEs a shape's ops act on.
enum class OpScope : std::uint8_t {
  broadcast,   // the IS forms and DSB ISH: every PE of the domain
  issuing_pe,  // the local forms and DSB NSH: legal when the space's reach is the issuing PE only
};

// The scope a plan for `space` needs: issuing_pe when no other PE may hold
// its entries (space.reach), else broadcast.
constexpr OpScope scope_needed(const AddressSpace& space) {
  return space.reach.holders == Holders::issuing_pe_only ? OpScope::issuing_pe : OpScope::broadcast;
}

// Appends the TLBI part of `shape` for `pending`: DSB ISHST; the shape's
// TLBIs; (stage 2 by IPA: DSB ISH; TLBI VMALLE1IS); DSB ISH; with
// OpScope::issuing_pe the TLBIs and DSB ISH in their local forms (VALE1,
// DSB NSH, ...). No cache maintenance (plan_tail.hpp).
// # Errors
// unsupported: the shape is illegal here (shape_forbidden says why);
// invalid_argument: local ops for a space other PEs may hold;
// out_of_range: the plan is full (the plan is then partial: discard it).
Status append_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                    const arch::CpuFeatures& features, Plan& plan, OpScope scope = OpScope::broadcast);

}  // namespace tlbkit::maint
