#include "tlbkit/arch/granule.hpp"

namespace tlbkit::arch {
namespace {

constexpr Error kGranuleUnsupported{
    Errc::unsupported, "only the 4 KiB granule is implemented; 16 KiB and 64 KiB are refused"};
constexpr Error kWideVaUnsupported{
    Errc::unsupported, "input addresses wider than 48 bits (52-bit VA/IPA, LPA2) are not implemented"};

// Level a stage-1 walk starts at for `bits` of input with 4 KiB tables: the
// lowest level whose span still covers the space (9 bits resolved per level).
constexpr unsigned stage1_start_level(unsigned bits) {
  unsigned level = kMaxLevel;
  while (12 + 9 * (kMaxLevel - level) + 9 < bits) --level;
  return level;
}

}  // namespace

Result<Geometry> Geometry::stage1(Granule granule, unsigned va_bits) {
  if (granule != Granule::k4K) return kGranuleUnsupported;
  if (va_bits > 48) return kWideVaUnsupported;
  if (va_bits < 25) {
    return Error{Errc::out_of_range, "stage-1 VA width must be at least 25 bits (T0SZ <= 39)"};
  }
  return Geometry(Stage::stage1, granule, va_bits, stage1_start_level(va_bits), 1);
}

Result<Geometry> Geometry::stage2(Granule granule, unsigned ipa_bits, unsigned start_level) {
  if (granule != Granule::k4K) return kGranuleUnsupported;
  if (ipa_bits > 48) return kWideVaUnsupported;
  if (ipa_bits < 25) {
    return Error{Errc::out_of_range, "stage-2 IPA width must be at least 25 bits (T0SZ <= 39)"};
  }
  if (start_level > 2) {
    return Error{Errc::invalid_argument, "stage-2 start level must be 0, 1 or 2 with 4 KiB"};
  }
  const unsigned entry_shift = 12 + 9 * (kMaxLevel - start_level);
  if (ipa_bits <= entry_shift) {
    return Error{Errc::invalid_argument,
                 "stage-2 start level too low for the IPA size: the root would have one entry"};
  }
  const unsigned root_bits = ipa_bits - entry_shift;
  if (root_bits > 9 + 4) {
    return Error{Errc::invalid_argument,
                 "stage-2 start level too high for the IPA size: more than 16 concatenated tables"};
  }
  const unsigned tables = root_bits > 9 ? 1u << (root_bits - 9) : 1u;
  return Geometry(Stage::stage2, granule, ipa_bits, start_level, tables);
}

Result<Geometry> Geometry::from_vtcr(std::uint64_t vtcr) {
  const unsigned t0sz = static_cast<unsigned>(vtcr & 0x3f);
  const unsigned sl0 = static_cast<unsigned>((vtcr >> 6) & 0x3);
  const unsigned tg0 = static_cast<unsigned>((vtcr >> 14) & 0x3);
  // TG0: 00 4K, 01 64K, 10 16K, 11 reserved.
  if (tg0 == 3) return Error{Errc::invalid_argument, "VTCR_EL2.TG0 = 0b11 is reserved"};
  if (tg0 != 0) return kGranuleUnsupported;
  // SL0 with 4 KiB: 00 level 2, 01 level 1, 10 level 0, 11 level 3 only with
  // FEAT_TTST (not supported here).
  if (sl0 == 3) {
    return Error{Errc::invalid_argument, "VTCR_EL2.SL0 = 0b11 is reserved with 4 KiB (level 3 start needs FEAT_TTST)"};
  }
  if ((vtcr >> 32) & 1) {
    return Error{Errc::unsupported, "VTCR_EL2.DS = 1 (52-bit output with LPA2) is not implemented"};
  }
  if (t0sz < 16) return kWideVaUnsupported;
  return stage2(Granule::k4K, 64 - t0sz, 2 - sl0);
}

}  // namespace tlbkit::arch
