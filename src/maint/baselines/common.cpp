#include "common.hpp"

#include "../plan_tail.hpp"

namespace tlbkit::maint::baselines {

std::uint64_t entry_bytes(const PendingRange& r) {
  return r.entry == EntryKind::leaf ? std::uint64_t{1} << (12 + 9 * (3 - r.level)) : kPage;
}

std::uint64_t loop_count(const PendingRange& r, std::uint64_t stride) {
  const VirtAddr first = r.va & ~(stride - 1);
  // Count rather than compare addresses: a TTBR1 range may end at 2^64.
  return (r.va - first + r.size + stride - 1) / stride;
}

std::uint64_t loop_count(const Pending& p, bool pages_only) {
  std::uint64_t n = 0;
  for (const PendingRange& r : p.ranges) n += loop_count(r, pages_only ? kPage : entry_bytes(r));
  return n;
}

Instr by_va_instr(Regime regime, Form form) {
  switch (regime) {
    case Regime::el1_stage1:
      if (form.all_asid) return form.leaf ? Instr::vaale1is : Instr::vaae1is;
      return form.leaf ? Instr::vale1is : Instr::vae1is;
    case Regime::el2_stage1: return form.leaf ? Instr::vale2is : Instr::vae2is;
    case Regime::stage2: return form.leaf ? Instr::ipas2le1is : Instr::ipas2e1is;
  }
  return Instr::vae1is;
}

Instr range_instr(Regime regime, Form form) {
  switch (regime) {
    case Regime::el1_stage1:
      if (form.all_asid) return form.leaf ? Instr::rvaale1is : Instr::rvaae1is;
      return form.leaf ? Instr::rvale1is : Instr::rvae1is;
    case Regime::el2_stage1: return form.leaf ? Instr::rvale2is : Instr::rvae2is;
    case Regime::stage2: return form.leaf ? Instr::ripas2le1is : Instr::ripas2e1is;
  }
  return Instr::rvae1is;
}

arch::Ttl ttl_for(const arch::CpuFeatures& features, bool hint, unsigned level) {
  if (!hint || features.ttl != Presence::present || level < 1 || level > 3) return arch::kNoTtl;
  return arch::TtlHint{arch::Granule::k4K, level};
}

Result<arch::Op> by_va_op(const AddressSpace& space, Form form, VirtAddr va, arch::Ttl ttl) {
  const Instr instr = by_va_instr(space.regime, form);
  switch (space.regime) {
    case Regime::el1_stage1:
      if (form.all_asid) return arch::encode_va_all_asid(instr, va, ttl);
      return arch::encode_va(instr, arch::Asid{space.asid}, va, ttl);
    case Regime::el2_stage1: return arch::encode_va_all_asid(instr, va, ttl);
    case Regime::stage2: return arch::encode_ipa(instr, va, ttl);
  }
  return Error{Errc::invalid_argument, "unknown regime"};
}

Result<arch::Op> range_op(const AddressSpace& space, Form form, VirtAddr base, arch::RangePiece piece,
                          unsigned ttl_level) {
  const Instr instr = range_instr(space.regime, form);
  arch::RangeFields fields;
  fields.scale = piece.scale;
  fields.num = piece.num;
  if (ttl_level != 0) fields.ttl_level = ttl_level;
  switch (space.regime) {
    case Regime::el1_stage1:
      if (form.all_asid) return arch::encode_range_all_asid(instr, base, fields);
      return arch::encode_range(instr, arch::Asid{space.asid}, base, fields);
    case Regime::el2_stage1: return arch::encode_range_all_asid(instr, base, fields);
    case Regime::stage2: return arch::encode_ipa_range(instr, base, fields);
  }
  return Error{Errc::invalid_argument, "unknown regime"};
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

Status append_stage1_after_ipa(const AddressSpace& space, Plan& plan) {
  if (space.regime != Regime::stage2) return ok_status();
  return append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is});
}

Status append_tail(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                   Plan& plan) {
  const Status cleaned = detail::append_clean(pending, space, features, plan);
  if (!cleaned.ok()) return cleaned;
  return detail::append_icache(pending, plan);
}

}  // namespace tlbkit::maint::baselines
