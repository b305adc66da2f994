#include "tlbkit/maint/shapes.hpp"

#include "plan_shapes.hpp"
#include "tlbkit/maint/tlbi_ops.hpp"

namespace tlbkit::maint {

using arch::Presence;
using arch::Regime;

std::string_view shape_name(Shape shape) {
  switch (shape) {
    case Shape::per_va: return "per-va";
    case Shape::range_exact: return "range-exact";
    case Shape::range_rounded: return "range-rounded";
    case Shape::range_merged: return "range-merged";
    case Shape::space_wide: return "space-wide";
    case Shape::full: return "full";
  }
  return "?";
}

std::uint64_t pending_pages(const Pending& pending) {
  std::uint64_t pages = 0;
  // Unrolled: an overflowed batch has a full gather of ranges, and plan()
  // sums them for every batch.
#pragma GCC unroll 4
  for (const PendingRange& r : pending.ranges) pages += needed_pages(r);
  return pages;
}

std::uint64_t pending_entries(const Pending& pending) {
  std::uint64_t entries = 0;
  for (const PendingRange& r : pending.ranges) entries += (r.size + entry_bytes(r) - 1) / entry_bytes(r);
  return entries;
}

std::string_view shape_forbidden(Shape shape, const Pending& pending, const AddressSpace& space,
                                  const arch::CpuFeatures& features) {
  const bool everything = pending.coverage == Coverage::everything;
  switch (shape) {
    case Shape::per_va:
      return everything ? "the changes overflowed the gather: only space-wide ops cover them" : "";
    case Shape::range_exact:
    case Shape::range_rounded:
    case Shape::range_merged:
      if (features.tlbi_range != Presence::present) return "no FEAT_TLBIRANGE";
      return everything ? "the changes overflowed the gather: only space-wide ops cover them" : "";
    case Shape::space_wide:
      if (space.regime == Regime::el1_stage1 && space.global == GlobalEntries::present) {
        return "ASIDE1IS spares global entries, and the space holds some";
      }
      return "";
    case Shape::full:
      if (space.regime == Regime::el2_stage1) return "EL2 has no ASIDs: the space-wide op is already ALLE2IS";
      return "";
  }
  return "unknown shape";
}

Status append_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                    const arch::CpuFeatures& features, Plan& plan, OpScope scope) {
  const std::string_view why = shape_forbidden(shape, pending, space, features);
  if (!why.empty()) return Error{Errc::unsupported, why.data()};
  if (scope == OpScope::issuing_pe && scope_needed(space) != OpScope::issuing_pe) {
    return Error{Errc::invalid_argument, "local TLBIs for a space other PEs may hold: they keep stale entries"};
  }
  std::uint64_t covered = 0;
  return detail::append_tlbi_shape(shape, pending, space, features, scope, plan, covered);
}

}  // namespace tlbkit::maint
