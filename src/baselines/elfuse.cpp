// elfuse at four commits: see tlbkit/baselines/elfuse.hpp and
// docs/baselines/elfuse.md (line numbers cited there).
#include "tlbkit/baselines/elfuse.hpp"

#include <algorithm>

#include "common.hpp"

namespace tlbkit::baselines {
namespace {

using Kind = ElfusePolicy::Request::Kind;
using Version = ElfusePolicy::Version;

struct Box {
  VirtAddr lo = 0;
  VirtAddr hi = 0;  // exclusive, page-aligned
  std::uint64_t pages() const { return (hi - lo) / kPage; }
};

// The host's accumulator: the bounding box of every range of the call,
// gaps included, page-aligned (tlbi_request_range; 00ed78b guest.h:796-798,
// 844-846). An overflowed batch: its extent.
Box box_of(const Pending& p) {
  if (p.coverage == Coverage::everything) {
    return Box{p.overflowed.start & ~(kPage - 1), (p.overflowed.end + kPage - 1) & ~(kPage - 1)};
  }
  VirtAddr lo = ~VirtAddr{0};
  VirtAddr hi = 0;
  for (const PendingRange& r : p.ranges) {
    // A table tlbkit's engine freed whose translations were reported on
    // their own: one page of it, for its walk-cache entry (elfuse's non-leaf
    // VAE1IS of any address under it retires that).
    const std::uint64_t size =
        maint::detail::walk_only(r) ? one_page_per_table(r.size, maint::detail::level_bytes(r.level)) : r.size;
    lo = std::min(lo, r.va);
    hi = std::max(hi, r.va + size);
  }
  return Box{lo & ~(kPage - 1), (hi + kPage - 1) & ~(kPage - 1)};
}

// 00ed78b tlbi_rvae_unit_pages (guest.h:364-371): the SCALE unit for a span.
std::uint64_t rvae_unit_pages(std::uint64_t pages) { return pages <= 64 ? 2 : pages <= 2048 ? 64 : 2048; }

// 00ed78b tlbi_rvae_normalize (guest.h:760-778): widens `box` to its SCALE
// unit, up to three passes (widening may cross into the next SCALE);
// false when no single op can cover it.
bool rvae_normalize(Box& box) {
  for (int pass = 0; pass < 3; ++pass) {
    if (box.pages() <= ElfusePolicy::kSelectiveMaxPages) return true;
    const std::uint64_t unit = rvae_unit_pages(box.pages()) * kPage;
    const VirtAddr lo = box.lo & ~(unit - 1);
    if (box.hi > ~VirtAddr{0} - (unit - 1)) return false;
    const VirtAddr hi = (box.hi + unit - 1) & ~(unit - 1);
    box = Box{lo, hi};
    if (box.pages() <= 32 * (unit / kPage)) return box.pages() <= ElfusePolicy::kRvaeMaxPages;
  }
  return false;
}

// 00ed78b tlbi_rvae1is_operand (guest.h:373-385): SCALE by size, NUM =
// ceil(pages / unit) - 1 saturated at 31, at least two pages.
arch::RangePiece rvae_piece(std::uint64_t pages) {
  pages = std::max<std::uint64_t>(pages, 2);
  const unsigned scale = pages <= 64 ? 0 : pages <= 2048 ? 1 : 2;
  const std::uint64_t unit = std::uint64_t{1} << (5 * scale + 1);
  const std::uint64_t num = std::min<std::uint64_t>((pages + unit - 1) / unit - 1, 31);
  return arch::RangePiece{scale, static_cast<unsigned>(num)};
}

ElfusePolicy::Request selective(const Box& box) { return {Kind::selective, box.lo, box.pages(), 0, 0, false}; }
ElfusePolicy::Request broadcast() { return {Kind::broadcast, 0, 0, 0, 0, false}; }
ElfusePolicy::Request range_large(VirtAddr base, arch::RangePiece piece) {
  return {Kind::range_large, base, piece.pages(), piece.scale, piece.num, false};
}

ElfusePolicy::Request request_for(Version version, const Pending& p, const arch::CpuFeatures& features) {
  const bool teardown = p.coverage == Coverage::everything && p.overflowed.empty();
  if (version == Version::v059fb2b || teardown) return broadcast();
  const bool range = features.tlbi_range == Presence::present;
  Box box = box_of(p);
  const std::uint64_t n = box.pages();
  switch (version) {
    case Version::v059fb2b: return broadcast();
    case Version::ve13ade1:  // guest.h (proxy) 354-357, 382-385: > 16 -> broadcast
      return n > ElfusePolicy::kSelectiveMaxPages ? broadcast() : selective(box);
    case Version::v9fc96f7:  // shim.S (proxy) 1062-1068: 17..64 pages, one SCALE-0 op
      if (n <= ElfusePolicy::kSelectiveMaxPages) return selective(box);
      if (range && n <= ElfusePolicy::kRangeMaxPages9fc96f7) {
        return range_large(box.lo, arch::RangePiece{0, static_cast<unsigned>((n + 1) / 2 - 1)});
      }
      return broadcast();
    case Version::v00ed78b: {  // guest.h:807-826, 847-866
      if (range && n > ElfusePolicy::kSelectiveMaxPages && !rvae_normalize(box)) return broadcast();
      const std::uint64_t cap = range ? ElfusePolicy::kRvaeMaxPages : ElfusePolicy::kSelectiveMaxPages;
      if (box.pages() > cap) return broadcast();
      if (box.pages() <= ElfusePolicy::kSelectiveMaxPages) return selective(box);
      return range_large(box.lo, rvae_piece(box.pages()));
    }
  }
  return broadcast();
}

}  // namespace

ElfusePolicy::Request ElfusePolicy::request(const Pending& pending, const arch::CpuFeatures& features) const {
  Request r;
  if (pending.needs_invalidation()) r = request_for(version_, pending, features);
  // X11: 059fb2b and e13ade1 run IC IALLU on every flush; later versions
  // only when execute permission was gained (tlbi_request_mark_icache).
  const bool always = version_ == Version::v059fb2b || version_ == Version::ve13ade1;
  r.icache = pending.exec == ExecGain::yes || (always && r.kind != Kind::none);
  return r;
}

Status ElfusePolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                          Plan& plan) const {
  if (space.regime != Regime::el1_stage1) {
    // HVF's tables, not elfuse's: the space whole, then tlbkit's tail.
    return plan_first_fitting(pending, plan, common_tail(pending, space, features),
                              [&](Plan& out) { return append_space_flush(space, true, {Instr::dsb_ish}, out); });
  }
  const Request r = request(pending, features);
  const bool store_barrier = version_ == Version::v00ed78b;  // dsb ishst: shim.S 1763, 1798, 1818
  // The shim's tail: DSB ISH; [IC IALLU; DSB ISH]; ISB (00ed78b shim.S
  // 1765-1770, 1803-1808, 1820-1825), with tlbkit's cleaning after the DSB.
  const auto tail = [&](Plan& out) -> Status {
    if (r.kind == Kind::none && !r.icache) return append_tail(pending, space, features, out);
    Status s = append_instrs(out, {Instr::dsb_ish});
    if (s.ok()) s = maint::append_clean(pending, space, features, out);
    if (s.ok() && r.icache) s = append_instrs(out, {Instr::ic_iallu, Instr::dsb_ish});
    if (s.ok()) s = append_instrs(out, {Instr::isb});
    return s;
  };
  const auto flush_all = [&](Plan& out) -> Status {
    Status s = store_barrier ? append_instrs(out, {Instr::dsb_ishst}) : ok_status();
    return s.ok() ? out.append(arch::make_op(Instr::vmalle1is)) : s;
  };
  const auto tlbis = [&](Plan& out) -> Status {
    Status s = store_barrier ? append_instrs(out, {Instr::dsb_ishst}) : ok_status();
    if (!s.ok()) return s;
    switch (r.kind) {
      case Kind::none: return ok_status();
      case Kind::broadcast: return out.append(arch::make_op(Instr::vmalle1is));
      case Kind::selective: {
        const Result<arch::Op> op = by_va_op(space, Form{}, r.start, arch::kNoTtl);
        if (!op.ok()) return op.error();
        return out.append_repeated(*op, static_cast<std::uint32_t>(r.pages), 1);
      }
      case Kind::range_large:
        return out.append(range_op(space, Form{}, r.start, arch::RangePiece{r.scale, r.num}, 0));
    }
    return ok_status();
  };
  // plan_first_fitting runs the TLBIs only when something needs
  // invalidating; the tail runs either way.
  return plan_first_fitting(pending, plan, tail, tlbis, flush_all);
}

}  // namespace tlbkit::baselines
