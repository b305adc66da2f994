// Linux arm64 stage 1 at 5.4 and 6.17: see tlbkit/baselines/linux.hpp and
// docs/baselines/linux.md (the line numbers cited here are of the files
// named there: "5.4 tlbflush.h" = jpb-kernels/kernel-extended-lts@d11335bd,
// "6.17 tlbflush.h" = Kingxukai/linux@9b44fff6).
#include "tlbkit/baselines/linux.hpp"

#include <algorithm>

#include "common.hpp"

namespace tlbkit::baselines {
namespace {

using Version = LinuxPolicy::Version;

constexpr std::uint64_t kBlock = 0x20'0000;  // PMD_SIZE

// One mmu_gather at a flush: the bounding box of what was added (gaps
// included: __tlb_adjust_range) and the levels cleared (cleared_ptes ...
// cleared_p4ds as bits 3 ... 0), and whether page tables were freed.
struct GatherBox {
  VirtAddr start = ~VirtAddr{0};
  VirtAddr end = 0;
  std::uint8_t cleared = 0;
  bool freed_tables = false;

  bool empty() const { return cleared == 0; }
  void add(VirtAddr va, std::uint64_t size, unsigned level) {
    if (size == 0) return;
    start = std::min(start, va);
    end = std::max(end, va + size);
    cleared = static_cast<std::uint8_t>(cleared | (1u << level));
  }
  // tlb_get_unmap_shift: the smallest cleared level's size (ptes first).
  std::uint64_t stride() const {
    for (unsigned level = 3;; --level) {
      if ((cleared & (1u << level)) != 0 || level == 0) return maint::detail::level_bytes(level);
    }
  }
  // tlb_get_level (6.17 tlb.h 24-51): the level when exactly one was
  // cleared and no table freed; -1 otherwise (TLBI_TTL_UNKNOWN).
  int level() const {
    if (freed_tables || cleared == 0 || (cleared & (cleared - 1)) != 0) return -1;
    for (int level = 0; level <= 3; ++level) {
      if ((cleared & (1u << level)) != 0) return level;
    }
    return -1;
  }
};

// The two flushes of one munmap piece: the leaves at tlb_end_vma, then the
// freed tables at tlb_finish_mmu (pte_free_tlb and friends add one page at
// each table's address and mark the table entry's level cleared).
struct Gathers {
  GatherBox leaves;
  GatherBox tables;
};

// What gathers_of does with the batch's page leaves (level 3): gathers
// them, or leaves them to a flush of their own (page reclaim's).
enum class PageLeaves : std::uint8_t { gathered, flushed_apart };

bool is_page_leaf(const PendingRange& r) { return r.entry == EntryKind::leaf && r.level == 3; }

Gathers gathers_of(const Pending& p, PageLeaves pages = PageLeaves::gathered) {
  Gathers g;
  g.tables.freed_tables = true;
  if (p.coverage == Coverage::everything) {
    // An overflowed batch: its extent and levels (one flush, as Linux's
    // single box would be); a table among them frees tables.
    const maint::Extent& x = p.overflowed;
    for (unsigned level = 0; level <= 3; ++level) {
      if ((x.leaf_levels & (1u << level)) != 0) g.leaves.add(x.start, x.end - x.start, level);
      if ((x.table_levels & (1u << level)) != 0) {
        g.leaves.add(x.start, x.end - x.start, 3);  // the leaves below it, unseen
        g.leaves.add(x.start, x.end - x.start, level);
        g.leaves.freed_tables = true;
      }
    }
    return g;
  }
  for (const PendingRange& r : p.ranges) {
    if (r.entry == EntryKind::leaf) {
      if (!(pages == PageLeaves::flushed_apart && is_page_leaf(r))) g.leaves.add(r.va, r.size, r.level);
      continue;
    }
    // One page at each table's address.
    g.tables.add(r.va, one_page_per_table(r.size, maint::detail::level_bytes(r.level)), r.level);
    if (r.beneath == maint::Beneath::unseen) {
      // The engine dropped the table whole; Linux would have cleared every
      // entry under it (zap: cleared_ptes over the span) and freed every
      // table under it (one per 2 MiB below a higher-level table). Its
      // leaves are flushed non-leaf (VAE1IS, no TTL), as tlbkit's coverage
      // rule for a table dropped whole asks: the same ops, counted alike.
      g.leaves.add(r.va, r.size, 3);
      g.leaves.freed_tables = true;
      for (unsigned level = r.level + 1u; level <= 2; ++level) {
        g.tables.add(r.va, one_page_per_table(r.size, kBlock), level);
      }
    }
  }
  return g;
}

// flush_tlb_mm (5.4 tlbflush.h 147-155; 6.17 273-283) / flush_tlb_all
// (139-145; 265-271) for the kernel.
Status append_flush_space(const AddressSpace& space, Plan& plan) {
  if (space.global == GlobalEntries::present) {
    return append_space_flush(space, false, {Instr::dsb_ish, Instr::isb}, plan);
  }
  return append_space_flush(space, false, {Instr::dsb_ish}, plan);
}

// __flush_tlb_range for one user gather (5.4 tlbflush.h 180-212; 6.17
// 436-473 and __flush_tlb_range_op 379-414).
Status append_user_flush(Version v, const GatherBox& g, bool last_level, const AddressSpace& space,
                         const arch::CpuFeatures& features, Plan& plan) {
  const std::uint64_t stride = g.stride();
  const VirtAddr start = g.start & ~(stride - 1);
  const VirtAddr end = (g.end + stride - 1) & ~(stride - 1);
  const std::uint64_t pages = (end - start) / kPage;
  const bool range = v == Version::v6_17 && features.tlbi_range == Presence::present;
  // 5.4: `>=` MAX_TLBI_OPS strides; 6.17 __flush_tlb_range_limit_excess
  // (419-434): the same without range ops, more than 2^21 pages with them.
  const bool excess = range ? pages > arch::kMaxRangePages : end - start >= LinuxPolicy::kMaxDvmOps * stride;
  if (excess) return append_flush_space(space, plan);
  const int level = v == Version::v6_17 ? g.level() : -1;
  const arch::Ttl ttl = ttl_for(features, level >= 0, level >= 0 ? static_cast<unsigned>(level) : 0);
  const Form form{last_level, false};
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  if (range) {
    // Range operands carry the level (1..3) whatever FEAT_TTL says (6.17
    // tlbflush.h 152-163).
    const unsigned range_ttl = level >= 1 ? static_cast<unsigned>(level) : 0;
    s = append_range_exact(start, pages, space, form, range_ttl, ttl, plan);
  } else {
    const Result<arch::Op> op = by_va_op(space, form, start, ttl);
    if (!op.ok()) return op.error();
    s = plan.append_repeated(*op, static_cast<std::uint32_t>((end - start) / stride), stride >> 12);
  }
  if (!s.ok()) return s;
  return append_instrs(plan, {Instr::dsb_ish});
}

// flush_tlb_kernel_range over the leaves' box (5.4 tlbflush.h 224-241;
// 6.17 487-506), then __flush_tlb_kernel_pgtable per freed table (5.4
// 247-255; 6.17 512-520).
Status append_kernel(Version v, const Gathers& g, const Pending& p, const AddressSpace& space,
                     const arch::CpuFeatures& features, Plan& plan) {
  if (!g.leaves.empty()) {
    const VirtAddr start = g.leaves.start & ~(kPage - 1);
    const VirtAddr end = (g.leaves.end + kPage - 1) & ~(kPage - 1);
    const std::uint64_t pages = (end - start) / kPage;
    const bool range = v == Version::v6_17 && features.tlbi_range == Presence::present;
    // 5.4: `>` 512 pages, the bytes not rounded; 6.17: limit_excess at PAGE_SIZE stride.
    const bool excess = v == Version::v5_4 ? g.leaves.end - g.leaves.start > LinuxPolicy::kMaxDvmOps * kPage
                        : range            ? pages > arch::kMaxRangePages
                                           : pages >= LinuxPolicy::kMaxDvmOps;
    Status s = ok_status();
    if (excess) {
      s = append_flush_space(space, plan);
    } else {
      // VAALE1IS, RVAALE1IS; non-leaf when an overflow hid freed tables.
      const Form form{!g.leaves.freed_tables, true};
      s = append_instrs(plan, {Instr::dsb_ishst});
      if (s.ok() && range) s = append_range_exact(start, pages, space, form, 0, arch::kNoTtl, plan);
      if (s.ok() && !range) {
        const Result<arch::Op> op = by_va_op(space, form, start, arch::kNoTtl);
        s = op.ok() ? plan.append_repeated(*op, static_cast<std::uint32_t>(pages), 1) : Status(op.error());
      }
      if (s.ok()) s = append_instrs(plan, {Instr::dsb_ish, Instr::isb});
    }
    if (!s.ok()) return s;
  }
  for (const PendingRange& r : p.ranges) {
    if (r.entry != EntryKind::table) continue;
    const std::uint64_t span = maint::detail::level_bytes(r.level);
    const std::size_t before = plan.steps().size();
    Status s = append_instrs(plan, {Instr::dsb_ishst});
    if (s.ok()) s = plan.append(by_va_op(space, Form{false, true}, r.va, arch::kNoTtl));
    if (s.ok()) s = append_instrs(plan, {Instr::dsb_ish, Instr::isb});
    if (s.ok() && r.size > span) {
      s = plan.repeat_last(plan.steps().size() - before, static_cast<std::uint32_t>(r.size / span), span >> 12);
    }
    if (!s.ok()) return s;
  }
  return ok_status();
}

// 5.4 mprotect: flush_tlb_range(vma, start, end) over the piece of the
// call in this VMA, when something changed (change_protection_range):
// stride PAGE_SIZE, non-leaf, no TTL (5.4 tlbflush.h 214-222).
GatherBox protect_box_5_4(const Pending& p, const Gathers& g) {
  GatherBox box;
  box.add(p.call.start, p.call.end - p.call.start, 3);
  for (const GatherBox* other : {&g.leaves, &g.tables}) {
    if (!other->empty()) box.add(other->start, other->end - other->start, 3);
  }
  return box;
}

// A process's gathers: the leaves, then the freed tables (tlb_flush once
// per gather that holds something).
Status append_user_gathers(Version v, const Gathers& g, const AddressSpace& space, const arch::CpuFeatures& features,
                           Plan& plan) {
  if (!g.leaves.empty()) {
    const Status s = append_user_flush(v, g.leaves, !g.leaves.freed_tables, space, features, plan);
    if (!s.ok()) return s;
  }
  if (!g.tables.empty()) return append_user_flush(v, g.tables, false, space, features, plan);
  return ok_status();
}

// ---- page reclaim (docs/baselines/linux.md, "Page reclaim") ----------------

// A batch the model flushes as Linux's page reclaim: reclaim calls in a
// process (reclaim never unmaps the kernel's own mappings), every range
// listed.
bool is_process_reclaim(const Pending& p, const AddressSpace& space) {
  return p.call.kind == maint::CallKind::reclaim && p.coverage == Coverage::exact &&
         space.global == GlobalEntries::absent;
}

// The TLBIs try_to_unmap_one issues for the pages of `r`, page by page
// (both versions unmap an order-0 folio one PTE at a time):
//   5.4: no batched unmap on arm64 (its Kconfig selects no
//        ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH), so should_defer_flush is false
//        and ptep_clear_flush -> flush_tlb_page: DSB ISHST; VALE1IS, no
//        TTL; DSB ISH (5.4 tlbflush.h 157-172).
//   6.17: should_defer_flush -> set_tlb_ubc_flush_pending ->
//        arch_tlbbatch_add_pending (6.17 tlbflush.h 522-526):
//        __flush_tlb_range_nosync over one page, last level, level 3:
//        DSB ISHST; VALE1IS with TTL 3 under FEAT_TTL (a single page is a
//        single op even with FEAT_TLBIRANGE, 390-399); no DSB ISH (436-463).
// Precondition: is_page_leaf(r).
Status append_reclaimed_pages(Version v, const PendingRange& r, const AddressSpace& space,
                              const arch::CpuFeatures& features, Plan& plan) {
  const arch::Ttl ttl = v == Version::v6_17 ? ttl_for(features, true, 3) : arch::kNoTtl;
  const Result<arch::Op> op = by_va_op(space, Form{true, false}, r.va, ttl);
  if (!op.ok()) return op.error();
  const std::uint64_t pages = r.size / kPage;
  if (pages > UINT32_MAX) return Error{Errc::out_of_range, "too many reclaimed pages for one group"};
  const std::size_t before = plan.steps().size();
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (s.ok()) s = plan.append(*op);
  if (s.ok() && v == Version::v5_4) s = append_instrs(plan, {Instr::dsb_ish});
  if (!s.ok()) return s;
  return plan.repeat_last(plan.steps().size() - before, static_cast<std::uint32_t>(pages), 1);
}

// A process's reclaim batch: the reclaimed pages' TLBIs in address order;
// 6.17 completes them all with one DSB ISH (try_to_unmap_flush ->
// arch_tlbbatch_flush, 6.17 tlbflush.h 335-338). Then what else the batch
// holds, as munmap's gather flushes it (`rest`: blocks, and the page
// tables tlbkit's engine freed; see the docs).
Status append_reclaim(Version v, const Pending& p, const Gathers& rest, const AddressSpace& space,
                      const arch::CpuFeatures& features, Plan& plan) {
  bool any_page = false;
  for (const PendingRange& r : p.ranges) {
    if (!is_page_leaf(r)) continue;
    const Status s = append_reclaimed_pages(v, r, space, features, plan);
    if (!s.ok()) return s;
    any_page = true;
  }
  if (any_page && v == Version::v6_17) {
    const Status s = append_instrs(plan, {Instr::dsb_ish});
    if (!s.ok()) return s;
  }
  return append_user_gathers(v, rest, space, features, plan);
}

}  // namespace

Status LinuxPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                         Plan& plan) const {
  if (space.regime != Regime::el1_stage1) {
    // KVM's tables (the kvm-* policies), not this model's: the space whole.
    return plan_first_fitting(pending, plan, common_tail(pending, space, features),
                              [&](Plan& out) { return append_space_flush(space, false, {Instr::dsb_ish, Instr::isb}, out); });
  }
  const bool teardown = pending.coverage == Coverage::everything && pending.overflowed.empty();
  const Gathers g = teardown ? Gathers{} : gathers_of(pending);
  if (is_process_reclaim(pending, space)) {
    // When the per-page ops do not fit tlbkit's plan, the batch is flushed
    // as munmap's gather would be, and at last the ASID.
    const Gathers rest = gathers_of(pending, PageLeaves::flushed_apart);
    return plan_first_fitting(
        pending, plan, common_tail(pending, space, features),
        [&](Plan& out) { return append_reclaim(version_, pending, rest, space, features, out); },
        [&](Plan& out) { return append_user_gathers(version_, g, space, features, out); },
        [&](Plan& out) { return append_flush_space(space, out); });
  }
  return plan_first_fitting(
      pending, plan, common_tail(pending, space, features),
      [&](Plan& out) -> Status {
        // fullmm (tlb_flush: 5.4 tlb.h 35-39, 6.17 65-69): flush_tlb_mm once.
        if (teardown) return append_flush_space(space, out);
        if (space.global == GlobalEntries::present) return append_kernel(version_, g, pending, space, features, out);
        if (version_ == Version::v5_4 && pending.call.kind == maint::CallKind::protect) {
          return append_user_flush(version_, protect_box_5_4(pending, g), false, space, features, out);
        }
        return append_user_gathers(version_, g, space, features, out);
      },
      [&](Plan& out) { return append_flush_space(space, out); });
}

}  // namespace tlbkit::baselines
