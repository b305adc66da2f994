// Hafnium at 07a69ab: one break-before-make invalidation per replaced entry
// (tlbkit/baselines/hafnium.hpp, docs/baselines/hafnium.md).
#include "tlbkit/baselines/hafnium.hpp"

#include "common.hpp"

namespace tlbkit::baselines {
namespace {

constexpr std::uint64_t kMaxBytes = HafniumPolicy::kMaxTlbiOps * kPage;

// The op of the span-above-threshold branch.
Instr wide_instr(const AddressSpace& space) {
  switch (space.regime) {
    case Regime::el1_stage1: return Instr::vmalle1is;  // VM_TOOLCHAIN == 1
    case Regime::el2_stage1: return Instr::alle2is;
    case Regime::stage2: return Instr::vmalls12e1is;
  }
  return Instr::vmalle1is;
}

// The per-page op of the loop for the page at `va`. Stage 1 at EL1: the
// ASID ORed into the operand, masked to 8 bits as read (Hafnium sets up
// 8-bit ASIDs; a tlbkit space may have 16).
Result<arch::Op> page_op(const AddressSpace& space, VirtAddr va, HafniumPolicy::AsidLoop loop) {
  switch (space.regime) {
    case Regime::el1_stage1: {
      const bool as_read = loop == HafniumPolicy::AsidLoop::first_page_as_read;
      const std::uint16_t asid = as_read ? static_cast<std::uint16_t>(space.asid & 0xFF) : space.asid;
      return arch::encode_va(Instr::vae1is, arch::Asid{asid}, va, arch::kNoTtl);
    }
    case Regime::el2_stage1: return arch::encode_va_all_asid(Instr::vae2is, va, arch::kNoTtl);
    case Regime::stage2: return arch::encode_ipa(Instr::ipas2e1is, va, arch::kNoTtl);
  }
  return Error{Errc::invalid_argument, "unknown regime"};
}

// How many ops the loop of arch_mm_invalidate_stage1/2_range issues over
// `pages` pages: one per page; at EL1 with a non-zero ASID the ASID bits
// ORed into the loop variable end the loop after the first.
std::uint64_t loop_ops(const AddressSpace& space, std::uint64_t pages, HafniumPolicy::AsidLoop loop) {
  if (loop == HafniumPolicy::AsidLoop::first_page_as_read && space.regime == Regime::el1_stage1 &&
      (space.asid & 0xFF) != 0 && pages > 0) {
    return 1;
  }
  return pages;
}

}  // namespace

// One arch_mm_invalidate_stage{1,2}_range call, as steps (plan() repeats
// them per entry). The threshold compares bytes, strictly.
Status HafniumPolicy::invalidate_range(const AddressSpace& space, VirtAddr begin, VirtAddr end, Plan& plan,
                                       AsidLoop loop) {
  const VirtAddr va = begin;
  const std::uint64_t bytes = end - begin;
  if (bytes / kPage > UINT32_MAX) return Error{Errc::out_of_range, "loop too long for one plan step"};
  Status s = append_instrs(plan, {Instr::dsb_ish});
  if (!s.ok()) return s;
  if (bytes > kMaxBytes) {
    s = append_instrs(plan, {wide_instr(space)});
  } else {
    const Result<arch::Op> op = page_op(space, va, loop);
    if (!op.ok()) return op.error();
    s = plan.append_repeated(*op, static_cast<std::uint32_t>(loop_ops(space, bytes / kPage, loop)), 1);
    if (s.ok() && space.regime == Regime::stage2) s = append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is});
  }
  if (!s.ok()) return s;
  return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
}

namespace {

// mm_replace_entry for every entry of `r`: one call over each entry's span.
Status append_range(const PendingRange& r, const AddressSpace& space, HafniumPolicy::AsidLoop loop, Plan& plan) {
  const std::uint64_t span = std::uint64_t{1} << (12 + 9 * (3 - r.level));
  const VirtAddr first = r.va & ~(span - 1);
  const std::uint64_t entries = loop_count(r, span);
  if (entries == 0) return ok_status();
  if (entries > UINT32_MAX) return Error{Errc::out_of_range, "too many entries for one plan group"};
  const std::size_t before = plan.steps().size();
  const Status s = HafniumPolicy::invalidate_range(space, first, first + span, plan, loop);
  if (!s.ok()) return s;
  return plan.repeat_last(plan.steps().size() - before, static_cast<std::uint32_t>(entries), span >> 12);
}

// A single call over a span above the threshold: the wide op.
Status append_wide(const AddressSpace& space, Plan& plan) {
  return HafniumPolicy::invalidate_range(space, 0, kMaxBytes + kPage, plan);
}

}  // namespace

Status HafniumPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                           Plan& plan) const {
  return plan_first_fitting(
      pending, plan, common_tail(pending, space, features),
      [&](Plan& out) {
        if (pending.coverage == Coverage::everything) return append_wide(space, out);
        for (const PendingRange& r : pending.ranges) {
          const Status s = append_range(r, space, loop_, out);
          if (!s.ok()) return s;
        }
        return ok_status();
      },
      // Too big for a Plan (tlbkit's limit): the wide call once.
      [&](Plan& out) { return append_wide(space, out); });
}

}  // namespace tlbkit::baselines
