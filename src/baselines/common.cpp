#include "common.hpp"

#include <algorithm>

namespace tlbkit::baselines {

std::uint64_t loop_count(const Pending& p, bool pages_only) {
  std::uint64_t n = 0;
  for (const PendingRange& r : p.ranges) n += loop_count(r, pages_only ? kPage : entry_bytes(r));
  return n;
}

std::uint64_t one_page_per_table(std::uint64_t size, std::uint64_t span) {
  return std::max(size, span) - span + kPage;
}

Status append_loop(const PendingRange& r, std::uint64_t stride, const AddressSpace& space, Form form,
                   arch::Ttl ttl, Plan& plan) {
  const std::uint64_t count = loop_count(r, stride);
  if (count == 0) return ok_status();
  const Result<arch::Op> op = by_va_op(space, form, r.va & ~(stride - 1), ttl);
  if (!op.ok()) return op.error();
  if (count > UINT32_MAX) return Error{Errc::out_of_range, "loop too long for one plan step"};
  // The operand holds VA >> 12: one entry further is stride >> 12 further.
  return plan.append_repeated(*op, static_cast<std::uint32_t>(count), stride >> 12);
}

Status append_range_exact(VirtAddr va, std::uint64_t pages, const AddressSpace& space, Form form,
                          unsigned ttl_level, arch::Ttl single_ttl, Plan& plan) {
  if (pages == 1) return plan.append(by_va_op(space, form, va, single_ttl));
  const Result<arch::RangeDecomposition> d = arch::range_decompose(pages);
  if (!d.ok()) return d.error();
  for (const arch::RangePiece& piece : d->used()) {
    const Status s = plan.append(range_op(space, form, va, piece, ttl_level));
    if (!s.ok()) return s;
    va += piece.pages() * kPage;
  }
  if (d->trailing_single_page) return plan.append(by_va_op(space, form, va, single_ttl));
  return ok_status();
}

Status append_instrs(Plan& plan, std::initializer_list<Instr> instrs) {
  for (const Instr i : instrs) {
    const Status s = plan.append(arch::make_op(i));
    if (!s.ok()) return s;
  }
  return ok_status();
}

Status append_wide_op(const AddressSpace& space, bool full, Plan& plan) {
  switch (space.regime) {
    case Regime::el1_stage1:
      if (full || space.global == GlobalEntries::present) return plan.append(arch::make_op(Instr::vmalle1is));
      return plan.append(arch::encode_asid(Instr::aside1is, arch::Asid{space.asid}));
    case Regime::el2_stage1: return plan.append(arch::make_op(Instr::alle2is));
    case Regime::stage2: return plan.append(arch::make_op(Instr::vmalls12e1is));
  }
  return Error{Errc::invalid_argument, "unknown regime"};
}

Status append_space_flush(const AddressSpace& space, bool full, std::initializer_list<Instr> close, Plan& plan) {
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  s = append_wide_op(space, full, plan);
  if (!s.ok()) return s;
  return append_instrs(plan, close);
}

Status append_stage1_after_ipa(const AddressSpace& space, Plan& plan) {
  if (space.regime != Regime::stage2) return ok_status();
  return append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is});
}

}  // namespace tlbkit::baselines
