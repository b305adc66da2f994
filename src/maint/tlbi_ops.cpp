#include "tlbkit/maint/tlbi_ops.hpp"

namespace tlbkit::maint {

using arch::Instr;
using arch::Regime;

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
  if (!hint || features.ttl != arch::Presence::present || level < 1 || level > 3) return arch::kNoTtl;
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

arch::RangePiece rounded_piece(std::uint64_t pages) {
  for (unsigned scale = 0; scale <= arch::kMaxRangeScale; ++scale) {
    const std::uint64_t unit = std::uint64_t{1} << (5 * scale + 1);
    const std::uint64_t units = (pages + unit - 1) / unit;
    if (units >= 1 && units <= arch::kMaxRangeNum + 1) {
      return arch::RangePiece{scale, static_cast<unsigned>(units - 1)};
    }
  }
  return arch::RangePiece{arch::kMaxRangeScale, arch::kMaxRangeNum};
}

}  // namespace tlbkit::maint
