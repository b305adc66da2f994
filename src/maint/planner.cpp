#include "tlbkit/maint/planner.hpp"

#include "plan_shapes.hpp"
#include "tlbkit/maint/plan_tail.hpp"

namespace tlbkit::maint {
namespace {

constexpr std::array<Shape, kShapeCount> kShapes = {Shape::per_va,       Shape::range_exact, Shape::range_rounded,
                                                    Shape::range_merged, Shape::space_wide,  Shape::full};

// Issue and barrier cycles of a candidate with `counts`.
void cost_ops(const detail::OpCounts& counts, const CostModel& m, const arch::CpuFeatures& features,
              CandidateCost& cost) {
  const std::uint64_t dsb = m.dsb_base + m.dsb_per_pe * features.processing_elements;
  cost.ops = counts.tlbis();
  cost.issue = counts.by_va * m.tlbi_broadcast + counts.range * m.tlbi_range + counts.wide * m.tlbi_wide;
  cost.barriers = counts.dsb_store * m.dsb_store + counts.dsb_full * dsb;
}

// Cached entries of unrelated translations the candidate removes, on every
// PE, times the refill cost. `pages`: the pages whose entries must go.
std::uint64_t collateral(Shape shape, std::uint64_t pages, std::uint64_t covered_pages, const CostModel& m,
                         const arch::CpuFeatures& features) {
  const std::uint64_t pes = features.processing_elements;
  const std::uint64_t changed_cached = pages * m.cached_per_1024_pages / 1024;
  switch (shape) {
    case Shape::per_va:
    case Shape::range_exact:
      return 0;
    case Shape::range_rounded:
    case Shape::range_merged: {
      const std::uint64_t extra = covered_pages > pages ? covered_pages - pages : 0;
      return extra * m.cached_per_1024_pages / 1024 * pes * m.refill;
    }
    case Shape::space_wide: {
      const std::uint64_t lost = m.resident_per_space > changed_cached ? m.resident_per_space - changed_cached : 0;
      return lost * pes * m.refill;
    }
    case Shape::full: {
      const std::uint64_t lost = m.resident_total > changed_cached ? m.resident_total - changed_cached : 0;
      return lost * pes * m.refill;
    }
  }
  return 0;
}

}  // namespace

CandidateCost Planner::cost(Shape shape, const Pending& pending, std::uint64_t pages, const AddressSpace& space,
                            const arch::CpuFeatures& features) const {
  CandidateCost c;
  c.shape = shape;
  c.why = shape_forbidden(shape, pending, space, features);
  if (!c.why.empty()) return c;
  if (!pending.needs_invalidation()) {
    c.why = "nothing to invalidate";
    return c;
  }
  detail::OpCounts counts;
  std::uint64_t covered = 0;
  const Status s = detail::count_tlbi_shape(shape, pending, space, features, counts, covered);
  if (!s.ok()) {
    c.why = s.error().message;
    return c;
  }
  c.legal = true;
  cost_ops(counts, model_, features, c);
  c.collateral = collateral(shape, pages, covered, model_, features);
  return c;
}

Explanation Planner::explain(const Pending& pending, const AddressSpace& space,
                             const arch::CpuFeatures& features) const {
  Explanation e;
  e.pages = pending_pages(pending);
  bool have_choice = false;
  for (std::size_t i = 0; i < kShapeCount; ++i) {
    CandidateCost& c = e.candidates[i];
    c = cost(kShapes[i], pending, e.pages, space, features);
    if (c.legal && (!have_choice || c.total() < e.candidates[static_cast<std::size_t>(e.chosen)].total())) {
      e.chosen = c.shape;
      have_choice = true;
    }
  }
  return e;
}

Shape Planner::choose(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features) const {
  if (pending.coverage == Coverage::everything) {
    // Overflowed batches are the common case under load: only the wide
    // shapes are legal and both issue the same ops, so the choice is the
    // one removing fewer unrelated entries (ties: space_wide) — exactly what
    // explain() finds, without costing the other shapes.
    const bool space_ok = shape_forbidden(Shape::space_wide, pending, space, features).empty();
    const bool full_ok = shape_forbidden(Shape::full, pending, space, features).empty();
    if (space_ok && full_ok) {
      const std::uint64_t pages = pending_pages(pending);
      return collateral(Shape::space_wide, pages, 0, model_, features) <=
                     collateral(Shape::full, pages, 0, model_, features)
                 ? Shape::space_wide
                 : Shape::full;
    }
    return space_ok ? Shape::space_wide : Shape::full;
  }
  // explain()'s loop, keeping only the best candidate.
  const std::uint64_t pages = pending_pages(pending);
  Shape best = Shape::per_va;
  std::uint64_t best_total = 0;
  bool have_choice = false;
  for (const Shape shape : kShapes) {
    // With one range, merging is rounding that range: range_merged costs
    // what range_rounded does and loses the tie, so it is not costed.
    if (shape == Shape::range_merged && pending.ranges.size() <= 1) continue;
    // A wide shape's collateral needs no op count; when it alone reaches
    // the best total the shape cannot win (ties go to the earlier shape).
    if (have_choice && (shape == Shape::space_wide || shape == Shape::full) &&
        collateral(shape, pages, 0, model_, features) >= best_total) {
      continue;
    }
    const CandidateCost c = cost(shape, pending, pages, space, features);
    if (c.legal && (!have_choice || c.total() < best_total)) {
      best = shape;
      best_total = c.total();
      have_choice = true;
    }
  }
  return best;
}

Status Planner::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                     Plan& plan) const {
  return plan_as(choose(pending, space, features), pending, space, features, plan);
}

Status Planner::plan_as(Shape shape, const Pending& pending, const AddressSpace& space,
                        const arch::CpuFeatures& features, Plan& plan) const {
  if (pending.needs_invalidation()) {
    const Status s = append_shape(shape, pending, space, features, plan);
    if (!s.ok()) return s;
  }
  const Status cleaned = append_clean(pending, space, features, plan);
  if (!cleaned.ok()) return cleaned;
  return append_icache(pending, plan);
}

}  // namespace tlbkit::maint
