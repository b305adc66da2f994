#include "tlbkit/maint/planner.hpp"

#include <optional>
#include <string_view>
#include <utility>

#include "plan_shapes.hpp"
#include "tlbkit/maint/plan_tail.hpp"

namespace tlbkit::maint {
namespace {

constexpr std::array<Shape, kShapeCount> kShapes = {Shape::per_va,       Shape::range_exact, Shape::range_rounded,
                                                    Shape::range_merged, Shape::space_wide,  Shape::full};

// Issue and barrier cycles of a candidate with `counts`: broadcast ops and
// a DSB that waits for every PE of the domain, or, when only the issuing
// PE may hold the space's entries, local ops and a local DSB.
void cost_ops(const detail::OpCounts& counts, const CostModel& m, const AddressSpace& space,
              const arch::CpuFeatures& features, CandidateCost& cost) {
  cost.ops = counts.tlbis();
  if (scope_needed(space) == OpScope::issuing_pe) {
    cost.issue = cost.ops * m.tlbi_local;
    cost.barriers = counts.dsb_store * m.dsb_store + counts.dsb_full * m.dsb_local;
    return;
  }
  const std::uint64_t dsb = m.dsb_base + m.dsb_per_pe * features.processing_elements;
  cost.issue = counts.by_va * m.tlbi_broadcast + counts.range * m.tlbi_range + counts.wide * m.tlbi_wide;
  cost.barriers = counts.dsb_store * m.dsb_store + counts.dsb_full * dsb;
}

// PEs whose TLBs may hold the space's entries: its reach, at most the domain.
[[gnu::always_inline]] inline std::uint64_t holding_pes(const AddressSpace& space, const arch::CpuFeatures& features) {
  const std::uint64_t domain = features.processing_elements;
  return space.reach.pes < domain ? space.reach.pes : domain;
}

// Cached entries of unrelated translations the candidate removes, times
// the refill cost: the space's own on every PE that may hold them; for
// `full`, every space's on every PE the op reaches. `pages`: the pages
// whose entries must go.
[[gnu::always_inline]] inline std::uint64_t collateral(Shape shape, std::uint64_t pages,
                                                       std::uint64_t covered_pages, const CostModel& m,
                                                       const AddressSpace& space,
                                                       const arch::CpuFeatures& features) {
  const std::uint64_t pes = holding_pes(space, features);
  switch (shape) {
    case Shape::per_va:
    case Shape::range_exact:
      return 0;
    case Shape::range_rounded:
    case Shape::range_merged: {
      const std::uint64_t extra = covered_pages > pages ? covered_pages - pages : 0;
      return extra * m.cached_per_1024_pages / 1024 * pes * m.refill;
    }
    case Shape::space_wide:
      // resident_per_space counts the entries a PE fetches again after the
      // space is flushed: the changed pages are not among them.
      return m.resident_per_space * pes * m.refill;
    case Shape::full: {
      // The space's entries, and every other space's on every PE the op
      // reaches: never less than space-wide.
      const std::uint64_t others = m.resident_total > m.resident_per_space ? m.resident_total - m.resident_per_space : 0;
      const std::uint64_t reached =
          scope_needed(space) == OpScope::issuing_pe ? 1 : std::uint64_t{features.processing_elements};
      return (m.resident_per_space * pes + others * reached) * m.refill;
    }
  }
  return 0;
}

constexpr bool is_wide(Shape shape) { return shape == Shape::space_wide || shape == Shape::full; }

// Why `shape` may not be used for `pending` here, or empty when it may.
[[gnu::always_inline]] inline std::string_view illegal(Shape shape, const Pending& pending, const AddressSpace& space,
                                                       const arch::CpuFeatures& features) {
  const std::string_view why = shape_forbidden(shape, pending, space, features);
  if (!why.empty()) return why;
  return pending.needs_invalidation() ? std::string_view{} : "nothing to invalidate";
}

// One candidate's cost, or why it is illegal; `pages` = pending_pages.
// Always inlined, as collateral() and illegal() are: plan()'s few
// instructions per batch are what tlbkit_bench_planner measures.
[[gnu::always_inline]] inline CandidateCost cost(Shape shape, const Pending& pending, std::uint64_t pages,
                                                 const AddressSpace& space, const arch::CpuFeatures& features,
                                                 const CostModel& m) {
  CandidateCost c;
  c.shape = shape;
  c.why = illegal(shape, pending, space, features);
  if (!c.why.empty()) return c;
  detail::OpCounts counts;
  std::uint64_t covered = 0;
  const Status s = detail::count_tlbi_shape(shape, pending, space, features, counts, covered);
  if (!s.ok()) {
    c.why = s.error().message;
    return c;
  }
  c.legal = true;
  cost_ops(counts, m, space, features, c);
  c.collateral = collateral(shape, pages, covered, m, space, features);
  return c;
}

// A wide shape's total less the ops every wide shape issues alike: its
// collateral (see select()); nothing when the shape is illegal. Counting a
// wide shape's ops could not fail (nor can any count: an OpCounter refuses
// nothing).
[[gnu::always_inline]] inline std::optional<std::uint64_t> relative_total(Shape shape, const Pending& pending,
                                                                          std::uint64_t pages,
                                                                          const AddressSpace& space,
                                                                          const arch::CpuFeatures& features,
                                                                          const CostModel& m) {
  if (!illegal(shape, pending, space, features).empty()) return std::nullopt;
  return collateral(shape, pages, 0, m, space, features);
}

// The choice so far: the cheapest legal candidate offered.
struct Choice {
  Shape shape = Shape::per_va;  // when none is legal
  std::uint64_t total = 0;
  bool have = false;

  // The one comparison: a legal candidate replaces the choice only when
  // strictly cheaper, so a tie stays with the earlier shape.
  void offer(Shape candidate, std::uint64_t candidate_total) {
    if (!have || candidate_total < total) {
      shape = candidate;
      total = candidate_total;
      have = true;
    }
  }
};

// Whether `shape` provably cannot beat `best` (the choice among the shapes
// before it, which also wins a tie): plan() skips such a candidate without
// costing it. Every rule must hold for every input: the PlannerChoice
// property tests check plan() against explain(), which costs them all.
template <Shape shape>
bool cannot_win(const Pending& pending, std::uint64_t pages, const CostModel& m, const AddressSpace& space,
                const arch::CpuFeatures& features, const Choice& best) {
  if constexpr (is_wide(shape)) {
    // A total is at least its collateral (a relative total is its
    // collateral), and a wide shape's needs no op count.
    return best.have && collateral(shape, pages, 0, m, space, features) >= best.total;
  } else {
    // An overflowed batch (the common case under load) is covered by wide
    // ops only: shape_forbidden() refuses per-VA and range shapes for it.
    if (pending.coverage == Coverage::everything) return true;
    // One range merged is that range rounded: range_rounded's ops and
    // cover, legal exactly when it is, so at best a tie.
    if constexpr (shape == Shape::range_merged) return pending.ranges.size() <= 1;
    return false;
  }
}

// How select() treats the candidates.
enum class Costing {
  every,   // explain(): each one costed in full and handed to the caller
  pruned,  // plan(): those cannot_win() rules out skipped; wide ones perhaps costed relatively
};

// The one choice of both plan() and explain(): the cheapest legal candidate,
// ties to the earlier Shape; Shape::per_va (and `have` false) when none is
// legal. `seen` gets each candidate costed in full, in Shape order. A
// template unrolled over the shapes, so that plan()'s instance holds no call
// or check it does not need.
//
// Relative costing (plan() only): the wide shapes come last and issue the
// same ops (one wide TLBI and the same barriers; PlannerChoice.
// WideShapesIssueTheSameOps), so when no narrower shape was chosen before
// them, leaving those ops out of both totals ranks them alike, and they
// need not be counted. Overflowed batches, where only they are legal, are
// always chosen so.
template <Costing costing, class Seen>
Choice select(const Pending& pending, std::uint64_t pages, const AddressSpace& space,
              const arch::CpuFeatures& features, const CostModel& m, Seen&& seen) {
  static_assert(kShapes[kShapeCount - 2] == Shape::space_wide && kShapes[kShapeCount - 1] == Shape::full,
                "relative costing needs the wide shapes last");
  Choice best;
  bool relative = false;  // the wide shapes are costed relatively
  const auto consider = [&]<Shape shape>() {
    if constexpr (costing == Costing::pruned) {
      if constexpr (shape == Shape::space_wide) relative = !best.have;
      if (cannot_win<shape>(pending, pages, m, space, features, best)) return;
      if constexpr (is_wide(shape)) {
        if (relative) {
          if (const std::optional<std::uint64_t> total = relative_total(shape, pending, pages, space, features, m)) {
            best.offer(shape, *total);
          }
          return;
        }
      }
    }
    const CandidateCost c = cost(shape, pending, pages, space, features, m);
    seen(c);
    if (c.legal) best.offer(shape, c.total());
  };
  [&]<std::size_t... i>(std::index_sequence<i...>) {
    (consider.template operator()<kShapes[i]>(), ...);
  }(std::make_index_sequence<kShapeCount>{});
  return best;
}

}  // namespace

Explanation Planner::explain(const Pending& pending, const AddressSpace& space,
                             const arch::CpuFeatures& features) const {
  Explanation e;
  e.pages = pending_pages(pending);
  e.chosen = select<Costing::every>(pending, e.pages, space, features, model_, [&e](const CandidateCost& c) {
               e.candidates[static_cast<std::size_t>(c.shape)] = c;
             }).shape;
  return e;
}

namespace {

// choose()'s selection, and whether the shape is legal. Flattened: with
// cost_ops() inlined too, the CandidateCost each candidate is costed into
// never leaves registers (plan() keeps only totals).
[[gnu::flatten]] Choice choice(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              const CostModel& m) {
  // An overflowed batch has only the wide shapes, whose collateral does not
  // depend on the pages: they are not summed for it.
  const std::uint64_t pages = pending.coverage == Coverage::everything ? 0 : pending_pages(pending);
  return select<Costing::pruned>(pending, pages, space, features, m, [](const CandidateCost&) {});
}

}  // namespace

Shape Planner::choose(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features) const {
  return choice(pending, space, features, model_).shape;
}

Status Planner::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                     Plan& plan) const {
  const Choice best = choice(pending, space, features, model_);
  // Nothing legal (nothing to invalidate, or no shape allowed): plan_as()
  // writes the tail or says why.
  if (!best.have) return plan_as(best.shape, pending, space, features, plan);
  // plan_as() without checking the shape again: select() offers only legal
  // candidates, and a legal one has something to invalidate.
  std::uint64_t covered = 0;
  const Status s = detail::append_tlbi_shape(best.shape, pending, space, features, scope_needed(space), plan, covered);
  if (!s.ok()) return s;
  return append_tail(pending, space, features, plan);
}

Status Planner::plan_as(Shape shape, const Pending& pending, const AddressSpace& space,
                        const arch::CpuFeatures& features, Plan& plan) const {
  if (pending.needs_invalidation()) {
    const Status s = append_shape(shape, pending, space, features, plan, scope_needed(space));
    if (!s.ok()) return s;
  }
  return append_tail(pending, space, features, plan);
}

}  // namespace tlbkit::maint
