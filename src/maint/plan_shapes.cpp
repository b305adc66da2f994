#include "plan_shapes.hpp"

#include "tlbkit/maint/tlbi_ops.hpp"

namespace tlbkit::maint::detail {
namespace {

using arch::Instr;
using arch::Presence;
using arch::Regime;

// Leaf-only forms and TTL hints are legal only when no table entry changed.
bool leaf_only(const Pending& pending) { return leaf_ok(pending); }

// The one level every changed entry is at, when they are all leaves of one
// level and FEAT_TTL is there to hint it; 0 otherwise.
unsigned hint_level(const Pending& pending, const arch::CpuFeatures& features) {
  if (features.ttl != Presence::present || !leaf_only(pending) || pending.ranges.empty()) return 0;
  const unsigned level = pending.ranges[0].level;
  for (const PendingRange& r : pending.ranges) {
    if (r.level != level) return 0;
  }
  return level;
}

Result<arch::Op> by_va_op(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                          VirtAddr va, unsigned level) {
  const bool leaf = leaf_only(pending);
  return maint::by_va_op(space, Form{leaf, false}, va, ttl_for(features, leaf, level));
}

Result<arch::Op> range_op(const Pending& pending, const AddressSpace& space, unsigned ttl_level, VirtAddr base,
                          arch::RangePiece piece) {
  return maint::range_op(space, Form{leaf_only(pending), false}, base, piece, ttl_level);
}

// Where a shape's ops go: written into a Plan, or only counted (to cost a
// candidate without encoding it). `make` builds the op on demand, in its
// broadcast form; the writer issues its local form (arch::local_form) for
// OpScope::issuing_pe.
class PlanWriter {
 public:
  PlanWriter(Plan& plan, OpScope scope) : plan_(plan), scope_(scope) {}
  template <class Make>
  Status loop(OpClass, std::uint64_t count, std::uint64_t stride, Make make) {
    const Result<arch::Op> op = make();
    if (!op.ok()) return op.error();
    return plan_.append_repeated(scoped(*op), static_cast<std::uint32_t>(count), stride);
  }
  template <class Make>
  Status one(OpClass, Make make) {
    const Result<arch::Op> op = make();
    if (!op.ok()) return op.error();
    return plan_.append(scoped(*op));
  }

 private:
  arch::Op scoped(arch::Op op) const {
    if (scope_ == OpScope::issuing_pe) op.instr = arch::local_form(op.instr);
    return op;
  }
  Plan& plan_;
  OpScope scope_;
};

class OpCounter {
 public:
  explicit OpCounter(OpCounts& counts) : counts_(counts) {}
  template <class Make>
  Status loop(OpClass c, std::uint64_t count, std::uint64_t, Make) {
    add(c, count);
    return ok_status();
  }
  template <class Make>
  Status one(OpClass c, Make) {
    add(c, 1);
    return ok_status();
  }

 private:
  void add(OpClass c, std::uint64_t n) {
    switch (c) {
      case OpClass::by_va: counts_.by_va += n; break;
      case OpClass::range: counts_.range += n; break;
      case OpClass::wide: counts_.wide += n; break;
      case OpClass::dsb_store: counts_.dsb_store += n; break;
      case OpClass::dsb_full: counts_.dsb_full += n; break;
    }
  }
  OpCounts& counts_;
};

template <class Out>
Status emit_per_va(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features, Out& out,
                   std::uint64_t& covered) {
  for (const PendingRange& r : pending.ranges) {
    const std::uint64_t step = entry_bytes(r);
    const VirtAddr first = r.va & ~(step - 1);
    const std::uint64_t count = loop_count(r, step);
    // The operand holds VA >> 12: one entry further is step >> 12 further.
    const Status s = out.loop(OpClass::by_va, count, step >> 12,
                              [&] { return by_va_op(pending, space, features, first, r.level); });
    if (!s.ok()) return s;
    // Under an emptied table one op per slot retires its walk-cache entry
    // and, of translations, at most the one page it names.
    covered += r.entry == EntryKind::table && r.beneath == Beneath::reported ? count : count * step / kPage;
  }
  return ok_status();
}

// Pages of the ranges' spans that hold no translation any more: all of an
// emptied table's span but one page per slot. A range op over them retires
// nothing of value, so they are not collateral.
std::uint64_t dead_pages(const Pending& pending) {
  std::uint64_t dead = 0;
  for (const PendingRange& r : pending.ranges) dead += r.size / kPage - needed_pages(r);
  return dead;
}

// Covers [va, va + pages) exactly: base-32 digits of pages / 2, one range op
// each, and a by-VA op for an odd last page.
template <class Out>
Status emit_exact(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                  const PendingRange& r, unsigned ttl_level, Out& out) {
  VirtAddr va = r.va;
  std::uint64_t pages = r.size / kPage;
  while (pages > 0) {
    const std::uint64_t chunk = pages < arch::kMaxRangePages ? pages : arch::kMaxRangePages;
    const arch::RangeDecomposition d = arch::range_pieces(chunk);  // chunk <= kMaxRangePages
    for (const arch::RangePiece& piece : d.used()) {
      const Status s = out.one(OpClass::range, [&] { return range_op(pending, space, ttl_level, va, piece); });
      if (!s.ok()) return s;
      va += piece.pages() * kPage;
    }
    if (d.trailing_single_page) {
      const Status s = out.one(OpClass::by_va, [&] { return by_va_op(pending, space, features, va, r.level); });
      if (!s.ok()) return s;
      va += kPage;
    }
    pages -= chunk;
  }
  return ok_status();
}

// Covers [va, va + size) with the fewest ops, over-invalidating up to the
// rounding of the last one. Adds the pages covered to `covered`.
template <class Out>
Status emit_rounded(const Pending& pending, const AddressSpace& space, VirtAddr va, std::uint64_t size,
                    unsigned ttl_level, Out& out, std::uint64_t& covered) {
  std::uint64_t pages = (size + kPage - 1) / kPage;
  while (pages > 0) {
    const std::uint64_t chunk = pages < arch::kMaxRangePages ? pages : arch::kMaxRangePages;
    const arch::RangePiece piece = rounded_piece(chunk);
    const Status s = out.one(OpClass::range, [&] { return range_op(pending, space, ttl_level, va, piece); });
    if (!s.ok()) return s;
    va += piece.pages() * kPage;
    covered += piece.pages();
    pages -= chunk;
  }
  return ok_status();
}

Result<arch::Op> wide_op(Shape shape, const AddressSpace& space) {
  if (shape == Shape::full) {
    switch (space.regime) {
      case Regime::el1_stage1: return arch::make_op(Instr::vmalle1is);
      case Regime::stage2: return arch::make_op(Instr::alle1is);
      case Regime::el2_stage1: return arch::make_op(Instr::alle2is);
    }
  }
  switch (space.regime) {
    case Regime::el1_stage1: return arch::encode_asid(Instr::aside1is, arch::Asid{space.asid});
    case Regime::stage2: return arch::make_op(Instr::vmalls12e1is);
    case Regime::el2_stage1: return arch::make_op(Instr::alle2is);
  }
  return Error{Errc::invalid_argument, "unknown regime"};
}

bool is_wide(Shape shape) { return shape == Shape::space_wide || shape == Shape::full; }
bool is_range(Shape shape) {
  return shape == Shape::range_exact || shape == Shape::range_rounded || shape == Shape::range_merged;
}


template <class Out>
Status emit_tlbi_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                       const arch::CpuFeatures& features, Out& out, std::uint64_t& covered_pages) {
  covered_pages = 0;
  Status s = out.one(OpClass::dsb_store, [] { return arch::make_op(Instr::dsb_ishst); });
  if (!s.ok()) return s;
  const unsigned ttl_level = is_range(shape) ? hint_level(pending, features) : 0;
  switch (shape) {
    case Shape::per_va:
      s = emit_per_va(pending, space, features, out, covered_pages);
      break;
    case Shape::range_exact:
      for (const PendingRange& r : pending.ranges) {
        s = emit_exact(pending, space, features, r, ttl_level, out);
        if (!s.ok()) return s;
        covered_pages += needed_pages(r);
      }
      break;
    case Shape::range_rounded:
      for (const PendingRange& r : pending.ranges) {
        s = emit_rounded(pending, space, r.va, r.size, ttl_level, out, covered_pages);
        if (!s.ok()) return s;
      }
      break;
    case Shape::range_merged: {
      VirtAddr lo = pending.ranges.empty() ? 0 : pending.ranges[0].va;
      VirtAddr hi = lo;
      for (const PendingRange& r : pending.ranges) {
        if (r.va < lo) lo = r.va;
        if (r.va + r.size > hi) hi = r.va + r.size;
      }
      if (hi > lo) s = emit_rounded(pending, space, lo, hi - lo, ttl_level, out, covered_pages);
      break;
    }
    case Shape::space_wide:
    case Shape::full:
      s = out.one(OpClass::wide, [&] { return wide_op(shape, space); });
      break;
  }
  if (!s.ok()) return s;
  if (shape == Shape::range_rounded || shape == Shape::range_merged) {
    const std::uint64_t dead = dead_pages(pending);
    covered_pages = covered_pages > dead ? covered_pages - dead : 0;
  }
  if (space.regime == Regime::stage2 && !is_wide(shape)) {
    // IPA ops spare combined stage 1+2 entries: drop the VMID's stage 1 too.
    s = out.one(OpClass::dsb_full, [] { return arch::make_op(Instr::dsb_ish); });
    if (!s.ok()) return s;
    s = out.one(OpClass::wide, [] { return arch::make_op(Instr::vmalle1is); });
    if (!s.ok()) return s;
  }
  return out.one(OpClass::dsb_full, [] { return arch::make_op(Instr::dsb_ish); });
}

}  // namespace

// Flattened, as is count_tlbi_shape(): the helpers of one shape inline
// into one body (the planner runs them for a few candidates every batch).
[[gnu::flatten]] Status append_tlbi_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                                          const arch::CpuFeatures& features, OpScope scope, Plan& plan,
                                          std::uint64_t& covered_pages) {
  PlanWriter writer(plan, scope);
  return emit_tlbi_shape(shape, pending, space, features, writer, covered_pages);
}

[[gnu::flatten]] Status count_tlbi_shape(Shape shape, const Pending& pending, const AddressSpace& space,
                                         const arch::CpuFeatures& features, OpCounts& counts,
                                         std::uint64_t& covered_pages) {
  counts = OpCounts{};
  OpCounter counter(counts);
  return emit_tlbi_shape(shape, pending, space, features, counter, covered_pages);
}

}  // namespace tlbkit::maint::detail
