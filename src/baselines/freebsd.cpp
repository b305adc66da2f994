// FreeBSD arm64 pmap TLB maintenance at two versions: see
// tlbkit/baselines/freebsd.hpp for what is modelled and from where, and
// docs/baselines/freebsd.md for the citations.
//
// The plan is built 2 MiB region by region, in address order, as pmap_remove
// walks the space: in each region the runs of its cleared level-3 entries
// (each one invalidate call), the freed page-table pages (before the last
// run, the one that emptied them), then a block. Regions whose calls have
// the same shape, one 2 MiB apart, are folded into one step group.
#include "tlbkit/baselines/freebsd.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include "common.hpp"

namespace tlbkit::baselines {
namespace {

using maint::CallKind;

constexpr std::uint64_t kRegion = std::uint64_t{1} << 21;  // L2_SIZE: pmap_remove's step
constexpr std::uint64_t kRegionAdvance = kRegion >> 12;     // the same in operand units (VA >> 12)
// Ranges the model orders; more cannot fit a plan as separate calls anyway.
constexpr std::size_t kMaxRanges = 64;
// Runs, tables and blocks of one region.
constexpr std::size_t kMaxPerRegion = 32;

std::uint64_t span_of(unsigned level) { return std::uint64_t{1} << (12 + 9 * (3 - level)); }

// The last byte of a range (inclusive: a TTBR1 range may end at 2^64).
VirtAddr last_of(const PendingRange& r) { return r.va + (r.size - 1); }

bool is_run(const PendingRange& r) { return r.entry == EntryKind::leaf && r.level == 3; }
bool is_block(const PendingRange& r) { return r.entry == EntryKind::leaf && r.level < 3; }
bool is_table(const PendingRange& r) { return r.entry == EntryKind::table; }

// The first entry base of `r` at or above `from` (entries of span `es`),
// or nothing.
bool first_entry_at_or_above(const PendingRange& r, std::uint64_t es, VirtAddr from, VirtAddr& out) {
  const VirtAddr base0 = r.va & ~(es - 1);
  VirtAddr b = base0;
  if (from > base0) {
    const std::uint64_t k = (from - base0 + es - 1) / es;
    if (k > (last_of(r) - base0) / es) return false;
    b = base0 + k * es;
  }
  if (b > last_of(r)) return false;
  out = b;
  return true;
}

// Sorts [first, last) by `less`, keeping equal elements in order: an
// insertion sort (std::stable_sort may allocate; the baselines take no heap).
template <class T, class Less>
void insertion_sort(T* first, T* last, Less less) {
  for (T* i = first; i != last; ++i) {
    const T v = *i;
    T* j = i;
    for (; j != first && less(v, *(j - 1)); --j) *j = *(j - 1);
    *j = v;
  }
}

// A few values of one region, in place.
template <class T>
struct Few {
  std::array<T, kMaxPerRegion> items{};
  std::size_t count = 0;
  bool full() const { return count == items.size(); }
  bool empty() const { return count == 0; }
  std::size_t size() const { return count; }
  void push_back(const T& v) { items[count++] = v; }
  T& back() { return items[count - 1]; }
  const T& back() const { return items[count - 1]; }
  const T& operator[](std::size_t i) const { return items[i]; }
  T* begin() { return items.data(); }
  T* end() { return items.data() + count; }
  const T* begin() const { return items.data(); }
  const T* end() const { return items.data() + count; }
};

struct Model {
  FreeBsdPolicy::Version version;
  const Pending& pending;
  const AddressSpace& space;
  const arch::CpuFeatures& features;
  std::array<std::uint16_t, kMaxRanges> order{};  // ranges by address
  std::size_t n = 0;

  const PendingRange& at(std::size_t i) const { return pending.ranges[order[i]]; }

  bool range_ops() const {
    return version == FreeBsdPolicy::Version::current && space.regime == Regime::el1_stage1 &&
           features.tlbi_range == Presence::present;
  }
  Form form(bool final_only) const {
    return Form{final_only, space.regime == Regime::el1_stage1 && space.global == GlobalEntries::present};
  }

  // pmap_s1_invalidate_range's TLBIs (or s2_tlbi_range's at EL2).
  Status ops(VirtAddr va, std::uint64_t pages, bool final_only, Plan& plan) const {
    const Form f = form(final_only);
    if (!range_ops()) {
      if (pages > UINT32_MAX) return Error{Errc::out_of_range, "loop too long for one plan step"};
      const Result<arch::Op> op = by_va_op(space, f, va, arch::kNoTtl);
      if (!op.ok()) return op.error();
      return plan.append_repeated(*op, static_cast<std::uint32_t>(pages), 1);
    }
    // pmap_s1_invalidate_loop with range support.
    while (pages > 0) {
      Status s = ok_status();
      std::uint64_t done = 1;
      if (pages >= 2) {
        const unsigned scale = std::min((static_cast<unsigned>(std::bit_width(pages)) - 2) / 5, 3u);
        const unsigned shift = 5 * scale + 1;
        const std::uint64_t units = std::min<std::uint64_t>(pages >> shift, 32);
        s = plan.append(range_op(space, f, va, arch::RangePiece{scale, static_cast<unsigned>(units - 1)}, 0));
        done = units << shift;
      } else {
        s = plan.append(by_va_op(space, f, va, arch::kNoTtl));
      }
      if (!s.ok()) return s;
      va += done * kPage;
      pages -= done;
    }
    return ok_status();
  }

  // One invalidate call: its barriers (when `barriers`) around `body`.
  template <class Body>
  Status call(bool barriers, Plan& plan, Body&& body) const {
    if (barriers) {
      const Status s = append_instrs(plan, {Instr::dsb_ishst});
      if (!s.ok()) return s;
    }
    const Status s = body(plan);
    if (!s.ok() || !barriers) return s;
    return close(plan);
  }
  Status close(Plan& plan) const {
    const Status s = append_stage1_after_ipa(space, plan);  // s2_tlbi_range: DSB ISH; VMALLE1IS
    if (!s.ok()) return s;
    return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
  }

  // Where a freed table's op goes: the region it is issued in and its
  // address. FreeBSD unwires a page-table page when the entry cleared last
  // under it takes its count to zero, and invalidates at that entry's
  // address: the last page of the last run (or the last block) in the
  // table's span. With nothing else under it: its base, in its own region.
  struct Trigger {
    VirtAddr region;
    VirtAddr va;
  };
  Trigger trigger(VirtAddr base, std::uint64_t es) const {
    const VirtAddr last = base + (es - 1);
    bool found = false;
    Trigger best{base, base};
    for (std::size_t i = 0; i < n; ++i) {
      const PendingRange& r = at(i);
      if (r.va > last || last_of(r) < base) continue;
      Trigger t{};
      if (is_run(r)) {
        const VirtAddr page = std::min(last_of(r), last) & ~(kPage - 1);
        t = Trigger{page & ~(kRegion - 1), page};
      } else if (is_block(r)) {
        const VirtAddr b = std::min(last_of(r), last) & ~(span_of(r.level) - 1);
        t = Trigger{b, b};
      } else {
        continue;
      }
      if (!found || t.va > best.va) best = t;
      found = true;
    }
    return best;
  }

  // The first region at or above `cursor` with work, or false.
  bool next_region(VirtAddr cursor, VirtAddr& out) const {
    bool found = false;
    VirtAddr best = 0;
    const auto offer = [&](VirtAddr v) {
      if (!found || v < best) best = v;
      found = true;
    };
    for (std::size_t i = 0; i < n; ++i) {
      const PendingRange& r = at(i);
      if (last_of(r) < cursor) continue;
      if (is_run(r)) {
        offer(std::max(cursor, r.va) & ~(kRegion - 1));
        continue;
      }
      const std::uint64_t es = span_of(r.level);
      if (is_block(r)) {
        VirtAddr b = 0;
        if (first_entry_at_or_above(r, es, cursor, b)) offer(b);
        continue;
      }
      // A table: each entry's region (never below the entry's base), from
      // the entry holding `cursor`.
      const VirtAddr first = r.va & ~(es - 1);
      for (VirtAddr b = std::max(first, cursor & ~(es - 1));; b += es) {
        const VirtAddr reg = trigger(b, es).region;
        if (reg >= cursor) {
          offer(reg);
          break;
        }
        if (b + (es - 1) >= last_of(r)) break;
      }
    }
    out = best;
    return found;
  }

  bool block_final() const {
    // d37254_era: a block in a batch that names no unmap or protect call is
    // a demotion's break-before-make (pmap_update_entry, final_only false).
    // A reclaim batch keeps the treatment it had before the replay noted
    // reclaim calls (CallKind::reclaim; the model has no reclaim path).
    const CallKind kind = pending.call.kind;
    const bool unmap_or_protect = kind == CallKind::unmap || kind == CallKind::protect;
    return !(version == FreeBsdPolicy::Version::d37254_era && !unmap_or_protect);
  }

  // Region `reg`'s calls.
  Status region(VirtAddr reg, bool barriers, Plan& plan) const {
    struct Run {
      VirtAddr va;
      std::uint64_t pages;
    };
    struct Entry {
      VirtAddr base;
      VirtAddr va;  // a freed table's op address (Trigger)
      std::uint8_t level;
      bool whole;   // a table's span (Beneath::unseen), or only its walk-cache entry
    };
    Few<Run> runs;
    Few<Entry> tables;
    Few<Entry> blocks;
    const VirtAddr reg_last = reg + (kRegion - 1);
    const auto room = Error{Errc::out_of_range, "too many calls in one 2 MiB region"};
    for (std::size_t i = 0; i < n; ++i) {
      const PendingRange& r = at(i);
      // A table's op may be issued in a region of its span other than the
      // first (Trigger): tables are looked at whatever the region.
      if ((r.va > reg_last || last_of(r) < reg) && !is_table(r)) continue;
      if (is_run(r)) {
        const VirtAddr lo = std::max(r.va, reg);
        const VirtAddr hi_last = std::min(last_of(r), reg_last);
        const std::uint64_t pages = (hi_last - lo) / kPage + 1;
        if (!runs.empty() && runs.back().va + runs.back().pages * kPage == lo) {
          runs.back().pages += pages;
        } else {
          if (runs.full()) return room;
          runs.push_back(Run{lo, pages});
        }
        continue;
      }
      const std::uint64_t es = span_of(r.level);
      if (is_block(r)) {
        VirtAddr b = 0;
        if (!first_entry_at_or_above(r, es, reg, b) || b != reg) continue;
        if (blocks.full()) return room;
        blocks.push_back(Entry{b, b, r.level, false});
        continue;
      }
      // Only the entry holding the region can issue its op there.
      const VirtAddr b = reg & ~(es - 1);
      if (b + (es - 1) < r.va || b > last_of(r)) continue;
      const Trigger t = trigger(b, es);
      if (t.region != reg) continue;
      if (tables.full()) return room;
      tables.push_back(Entry{b, t.va, r.level, r.beneath == maint::Beneath::unseen});
    }
    // Deeper tables first (the L3 page is unwired before its parent).
    insertion_sort(tables.begin(), tables.end(), [](const Entry& a, const Entry& b) { return a.level > b.level; });

    const auto run_call = [&](const Run& run) {
      return call(barriers, plan, [&](Plan& p) { return ops(run.va, run.pages, true, p); });
    };
    // pmap_remove_l3_range: the runs; the page-table pages the last run
    // emptied are unwired (and invalidated) before that run is flushed.
    // pmap_remove_l2: the block's op, then its table's.
    const auto tables_call = [&]() {
      for (const Entry& t : tables) {
        // _pmap_unwire_l3: pmap_invalidate_page(va, false); a table that
        // went whole: a non-final invalidation of its span (pmap_update_entry).
        const Status s = call(barriers, plan, [&](Plan& p) {
          return t.whole ? ops(t.base, span_of(t.level) / kPage, false, p) : ops(t.va, 1, false, p);
        });
        if (!s.ok()) return s;
      }
      return ok_status();
    };
    for (std::size_t i = 0; i + 1 < runs.size(); ++i) {
      const Status s = run_call(runs[i]);
      if (!s.ok()) return s;
    }
    if (!runs.empty()) {
      Status s = tables_call();
      if (s.ok()) s = run_call(runs.back());
      if (!s.ok()) return s;
    }
    for (const Entry& b : blocks) {
      // pmap_remove_l2 / pmap_protect_l2: one op at the base.
      const Status s = call(barriers, plan, [&](Plan& p) {
        return p.append(by_va_op(space, form(block_final()), b.base, arch::kNoTtl));
      });
      if (!s.ok()) return s;
    }
    if (runs.empty()) return tables_call();
    return ok_status();
  }

  // Whether `cur` is `first` with every register operand `shift` further.
  static bool shifted(const Plan& first, const Plan& cur, std::uint64_t shift) {
    if (first.steps().size() != cur.steps().size() || !first.groups().empty() || !cur.groups().empty()) return false;
    for (std::size_t i = 0; i < first.steps().size(); ++i) {
      const Step& a = first.steps()[i];
      const Step& b = cur.steps()[i];
      const std::uint64_t add = arch::takes_register(a.first.instr) ? shift : 0;
      if (a.first.instr != b.first.instr || a.count != b.count || (a.count > 1 && a.stride != b.stride) ||
          a.first.operand + add != b.first.operand) {
        return false;
      }
    }
    return true;
  }

  static Status append_group(const Plan& body, std::uint32_t times, Plan& plan) {
    for (const Step& st : body.steps()) {
      const Status s = plan.append_repeated(st.first, st.count, st.stride);
      if (!s.ok()) return s;
    }
    return plan.repeat_last(body.steps().size(), times, kRegionAdvance);
  }

  // Every region's calls in address order (`barriers`: each call its own;
  // otherwise the caller wraps them all).
  Status regions(bool barriers, Plan& plan) const {
    Plan group;  // the first region of the group being folded
    std::uint32_t times = 0;
    VirtAddr group_region = 0;
    VirtAddr cursor = 0;
    VirtAddr reg = 0;
    while (next_region(cursor, reg)) {
      Plan cur;
      Status s = region(reg, barriers, cur);
      if (!s.ok()) return s;
      const bool follows = times > 0 && times < UINT32_MAX && reg == group_region + times * kRegion;
      if (follows && shifted(group, cur, times * kRegionAdvance)) {
        ++times;
      } else {
        if (times > 0) {
          s = append_group(group, times, plan);
          if (!s.ok()) return s;
        }
        group = cur;
        times = 1;
        group_region = reg;
      }
      if (reg + (kRegion - 1) == ~VirtAddr{0}) break;  // the top of the address space
      cursor = reg + kRegion;
    }
    if (times > 0) return append_group(group, times, plan);
    return ok_status();
  }

  Status prepare() {
    if (pending.ranges.size() > kMaxRanges) return Error{Errc::out_of_range, "too many ranges to order"};
    n = pending.ranges.size();
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint16_t>(i);
    insertion_sort(order.data(), order.data() + n,
                   [&](std::uint16_t a, std::uint16_t b) { return pending.ranges[a].va < pending.ranges[b].va; });
    return ok_status();
  }

  // pmap_invalidate_all: ASIDE1IS (VMALLE1IS for the kernel pmap);
  // s2_tlbi_all: VMALLS12E1IS.
  Status all(Plan& plan) const { return append_space_flush(space, false, {Instr::dsb_ish, Instr::isb}, plan); }
};

}  // namespace

Status FreeBsdPolicy::append_invalidate_range(VirtAddr va, std::uint64_t pages, bool final_only,
                                              const AddressSpace& space, const arch::CpuFeatures& features,
                                              Plan& plan) const {
  const Pending none;
  const Model m{version_, none, space, features};
  return m.ops(va, pages, final_only, plan);
}

Status FreeBsdPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                           Plan& plan) const {
  Model m{version_, pending, space, features};
  const Status ordered = m.prepare();
  const auto faithful = [&](Plan& out) {
    if (pending.coverage == Coverage::everything) return m.all(out);
    if (!ordered.ok()) return ordered;
    return m.regions(true, out);
  };
  const auto one_pair = [&](Plan& out) {
    if (pending.coverage == Coverage::everything) return m.all(out);
    if (!ordered.ok()) return ordered;
    Status s = append_instrs(out, {Instr::dsb_ishst});
    if (s.ok()) s = m.regions(false, out);
    if (s.ok()) s = m.close(out);
    return s;
  };
  return plan_first_fitting(pending, plan, common_tail(pending, space, features), faithful, one_pair,
                            [&](Plan& out) { return m.all(out); });
}

}  // namespace tlbkit::baselines
