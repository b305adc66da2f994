// TLBI operand encoding and decoding. Layouts in tlbi.hpp.
#include "tlbkit/arch/tlbi.hpp"

#include "va_space.hpp"

namespace tlbkit::arch {
namespace {

// ---- Bit fields -------------------------------------------------------------

constexpr std::uint64_t mask(unsigned width) { return (std::uint64_t{1} << width) - 1; }

constexpr std::uint64_t bits(std::uint64_t value, unsigned hi, unsigned lo) {
  return (value >> lo) & mask(hi - lo + 1);
}

constexpr std::uint64_t sign_extend(std::uint64_t value, unsigned width) {
  const std::uint64_t sign = std::uint64_t{1} << (width - 1);
  return (value ^ sign) - sign;
}

constexpr unsigned kAsidShift = 48;
constexpr unsigned kTtlShift = 44;       // by VA / by IPA: 47:44
constexpr unsigned kVaFieldWidth = 44;   // VA[55:12]
constexpr unsigned kIpaFieldWidth = 36;  // IPA[47:12]; 39:36 hold IPA[51:48] with 52-bit PAs
constexpr unsigned kTgShift = 46;
constexpr unsigned kScaleShift = 44;
constexpr unsigned kNumShift = 39;
constexpr unsigned kRangeTtlShift = 37;
constexpr unsigned kBaseAddrWidth = 37;
constexpr unsigned kOperandPageShift = 12;  // by-VA and by-IPA operands count 4 KiB units

constexpr std::uint64_t kAsidBits = mask(16) << kAsidShift;
constexpr std::uint64_t kIpaRes0 = kAsidBits | bits(~std::uint64_t{0}, 43, 40) << 40;

// ---- Errors -----------------------------------------------------------------

constexpr Error kAsidTooWide{Errc::out_of_range, "ASID must fit in 16 bits (0..65535)"};
constexpr Error kTtlLevel0With4K{
    Errc::unsupported,
    "TTL level 0 with the 4 KiB granule needs FEAT_LPA2, which is not supported"};
constexpr Error kTtlLevel0Reserved{
    Errc::invalid_argument, "TTL level 0 is reserved with the 16 KiB and 64 KiB granules"};
constexpr Error kTtlLevelTooHigh{Errc::invalid_argument, "TTL level must be 1, 2 or 3"};
constexpr Error kRangeTtlLevel{
    Errc::invalid_argument,
    "range TTL level must be 1, 2 or 3: the 2-bit field cannot say level 0 (00 means no hint)"};
constexpr Error kScaleTooBig{Errc::invalid_argument, "range SCALE must be 0..3"};
constexpr Error kNumTooBig{Errc::invalid_argument, "range NUM must be 0..31 (a five-bit field)"};
constexpr Error kVaMisaligned{
    Errc::misaligned, "address must be 4 KiB aligned: the operand holds address >> 12"};
constexpr Error kVaMisalignedToHint{
    Errc::misaligned, "address must be aligned to the TTL hint's granule"};
constexpr Error kRangeBaseMisaligned{
    Errc::misaligned,
    "range base must be aligned to the granule: BaseADDR is address >> granule shift"};
constexpr Error kRangePastEnd{
    Errc::out_of_range, "range runs past the end of its 48-bit address range"};
constexpr Error kReservedTg{
    Errc::invalid_argument, "range TG = 0b00 is reserved: the op invalidates nothing"};
constexpr Error kReservedTtl{
    Errc::invalid_argument, "TTL granule 0b00 with a nonzero level is reserved"};
constexpr Error kRes0Set{Errc::invalid_argument, "RES0 bits of the operand are set"};
constexpr Error kNoOperandExpected{
    Errc::invalid_argument, "this op takes no operand: its operand must be 0"};
constexpr Error kIpaHighBits{
    Errc::out_of_range, "IPA[51:48] (bits 39:36) set: 52-bit IPAs are not supported"};

constexpr Error wrong_kind(OperandKind wanted) {
  switch (wanted) {
    case OperandKind::va:
      return {Errc::invalid_argument, "encode_va needs a by-VA op with an ASID (VAE1IS, VALE1IS, ...)"};
    case OperandKind::va_all_asid:
      return {Errc::invalid_argument,
              "encode_va_all_asid needs a by-VA op without an ASID (VAAE1IS, VAE2IS, ...)"};
    case OperandKind::asid:
      return {Errc::invalid_argument, "encode_asid needs ASIDE1IS or ASIDE1"};
    case OperandKind::range:
      return {Errc::invalid_argument, "encode_range needs a range op with an ASID (RVAE1IS, ...)"};
    case OperandKind::range_all_asid:
      return {Errc::invalid_argument,
              "encode_range_all_asid needs a range op without an ASID (RVAAE1IS, RVAE2IS, ...)"};
    case OperandKind::ipa:
      return {Errc::invalid_argument, "encode_ipa needs IPAS2E1IS, IPAS2LE1IS or a local form"};
    case OperandKind::ipa_range:
      return {Errc::invalid_argument, "encode_ipa_range needs RIPAS2E1IS, RIPAS2LE1IS or a local form"};
    case OperandKind::none:
    case OperandKind::address:
      break;
  }
  return {Errc::invalid_argument, "wrong operand kind for this instruction"};
}

// ---- Field checks -----------------------------------------------------------

constexpr Status check_kind(Instr instr, OperandKind wanted) {
  if (operand_kind(instr) != wanted) return wrong_kind(wanted);
  return ok_status();
}

constexpr Status check_asid(Asid asid) {
  if (asid.value > kMaxAsid) return kAsidTooWide;
  return ok_status();
}

constexpr std::optional<Granule> granule_from_field(std::uint64_t field) {
  switch (field) {
    case 1: return Granule::k4K;
    case 2: return Granule::k16K;
    case 3: return Granule::k64K;
    default: return std::nullopt;
  }
}

// The 4-bit TTL field of a by-VA / by-IPA operand.
Result<std::uint64_t> ttl_field(Ttl ttl) {
  if (!ttl) return std::uint64_t{0};
  if (ttl->level == 0) return ttl->granule == Granule::k4K ? kTtlLevel0With4K : kTtlLevel0Reserved;
  if (ttl->level > kMaxLevel) return kTtlLevelTooHigh;
  return std::uint64_t{granule_tg_field(ttl->granule)} << 2 | ttl->level;
}

Status check_range_fields(const RangeFields& r) {
  if (r.scale > kMaxRangeScale) return kScaleTooBig;
  if (r.num > kMaxRangeNum) return kNumTooBig;
  if (r.ttl_level && (*r.ttl_level == 0 || *r.ttl_level > kMaxLevel)) return kRangeTtlLevel;
  return ok_status();
}

// Regimes with two VA ranges (EL1&0 stage 1) take TTBR1 addresses too; EL2
// (without E2H) and stage 2 have one range starting at 0.
constexpr bool has_two_ranges(Instr instr) { return info(instr).regime == TlbRegime::el1_stage1; }

constexpr Status check_input_address(Instr instr, std::uint64_t address) {
  if (has_two_ranges(instr)) return is_48bit_va(address) ? ok_status() : Status(kVaNot48Bit);
  if (in_lower_space(address)) return ok_status();
  return info(instr).regime == TlbRegime::el2 ? kEl2VaNot48Bit : kIpaNot48Bit;
}

// [start, start + size) stays inside the 48-bit range `start` lies in.
constexpr bool fits_in_its_range(std::uint64_t start, std::uint64_t size) {
  const std::uint64_t room = in_lower_space(start) ? kLowerSpaceEnd - start : 0 - start;
  return size <= room;
}

// ---- Encoders shared by the kinds -------------------------------------------

// By VA or by IPA: [ASID] | TTL | address >> 12.
Result<Op> encode_page_op(Instr instr, std::uint64_t asid_bits, std::uint64_t address, Ttl ttl) {
  const Result<std::uint64_t> ttl_bits = ttl_field(ttl);
  if (!ttl_bits) return ttl_bits.error();
  if (const Status s = check_input_address(instr, address); !s) return s.error();
  if (address & mask(kOperandPageShift)) return kVaMisaligned;
  if (ttl && (address & (granule_size(ttl->granule) - 1))) return kVaMisalignedToHint;
  const std::uint64_t page = (address >> kOperandPageShift) & mask(kVaFieldWidth);
  return Op{instr, asid_bits | *ttl_bits << kTtlShift | page};
}

// Range ops: [ASID] | TG | SCALE | NUM | TTL | BaseADDR.
Result<Op> encode_range_op(Instr instr, std::uint64_t asid_bits, std::uint64_t base,
                           const RangeFields& r) {
  if (const Status s = check_range_fields(r); !s) return s.error();
  if (const Status s = check_input_address(instr, base); !s) return s.error();
  const unsigned shift = granule_shift(r.granule);
  if (base & mask(shift)) return kRangeBaseMisaligned;
  if (!fits_in_its_range(base, range_pages(r.scale, r.num) << shift)) return kRangePastEnd;
  return Op{instr, asid_bits | std::uint64_t{granule_tg_field(r.granule)} << kTgShift |
                       std::uint64_t{r.scale} << kScaleShift | std::uint64_t{r.num} << kNumShift |
                       std::uint64_t{r.ttl_level.value_or(0)} << kRangeTtlShift |
                       ((base >> shift) & mask(kBaseAddrWidth))};
}

// ---- Decoding -----------------------------------------------------------------

constexpr std::uint64_t res0_mask(OperandKind kind) {
  switch (kind) {
    case OperandKind::none: return ~std::uint64_t{0};
    case OperandKind::va_all_asid:
    case OperandKind::range_all_asid:
    case OperandKind::ipa_range: return kAsidBits;
    case OperandKind::asid: return mask(kAsidShift);
    case OperandKind::ipa: return kIpaRes0;
    case OperandKind::va:
    case OperandKind::range:
    case OperandKind::address: return 0;
  }
  return 0;
}

constexpr bool has_asid_field(OperandKind kind) {
  return kind == OperandKind::va || kind == OperandKind::asid || kind == OperandKind::range;
}

constexpr bool is_page_kind(OperandKind kind) {
  return kind == OperandKind::va || kind == OperandKind::va_all_asid || kind == OperandKind::ipa;
}

constexpr bool is_range_kind(OperandKind kind) {
  return kind == OperandKind::range || kind == OperandKind::range_all_asid ||
         kind == OperandKind::ipa_range;
}

// TTL 47:44 as a hint: nullopt for granule 00 (0000 is "no hint"; 00 with a
// level is reserved and reported by decode_checked from the raw field).
constexpr Ttl ttl_from_field(std::uint64_t field) {
  const std::optional<Granule> g = granule_from_field(field >> 2);
  if (!g) return std::nullopt;
  return TtlHint{*g, static_cast<unsigned>(field & 3)};
}

void decode_page(const Op& op, OperandKind kind, DecodedOp& d) {
  d.ttl_field = static_cast<std::uint8_t>(bits(op.operand, 47, 44));
  d.fields.ttl = ttl_from_field(d.ttl_field);
  if (kind == OperandKind::ipa) {
    d.address_field = bits(op.operand, 39, 0);
    d.fields.address = d.address_field << kOperandPageShift;
  } else {
    d.address_field = bits(op.operand, 43, 0);
    const std::uint64_t va = d.address_field << kOperandPageShift;  // VA[55:0]
    d.fields.address = has_two_ranges(op.instr) ? sign_extend(va, 56) : va;
  }
  d.pages = 1;
  d.start = d.fields.address;
  d.size = d.fields.ttl ? granule_size(d.fields.ttl->granule) : std::uint64_t{1} << kOperandPageShift;
}

void decode_range(const Op& op, DecodedOp& d) {
  d.tg = static_cast<std::uint8_t>(bits(op.operand, 47, 46));
  d.scale = static_cast<std::uint8_t>(bits(op.operand, 45, 44));
  d.num = static_cast<std::uint8_t>(bits(op.operand, 43, 39));
  d.range_ttl = static_cast<std::uint8_t>(bits(op.operand, 38, 37));
  d.address_field = bits(op.operand, 36, 0);
  d.pages = range_pages(d.scale, d.num);

  const std::optional<Granule> g = granule_from_field(d.tg);
  RangeFields r;
  r.granule = g.value_or(Granule::k4K);
  r.scale = d.scale;
  r.num = d.num;
  if (d.range_ttl != 0) r.ttl_level = d.range_ttl;
  d.fields.range = r;
  if (!g) return;  // TG 00: the op covers nothing, the base means nothing
  // BaseADDR's top bit selects the VA range where there are two.
  const std::uint64_t base =
      has_two_ranges(op.instr) ? sign_extend(d.address_field, kBaseAddrWidth) : d.address_field;
  d.fields.address = base << granule_shift(*g);
  d.start = d.fields.address;
  d.size = d.pages << granule_shift(*g);
}

}  // namespace

// ---- Range arithmetic -----------------------------------------------------------

std::optional<RangePiece> range_single_op(std::uint64_t pages) {
  const Result<RangeDecomposition> d = range_decompose(pages);
  if (!d || d->count != 1 || d->trailing_single_page) return std::nullopt;
  return d->pieces[0];
}

// ---- Encoders ---------------------------------------------------------------------

Result<Op> encode_va(Instr instr, Asid asid, VirtAddr va, Ttl ttl) {
  if (const Status s = check_kind(instr, OperandKind::va); !s) return s.error();
  if (const Status s = check_asid(asid); !s) return s.error();
  return encode_page_op(instr, std::uint64_t{asid.value} << kAsidShift, va, ttl);
}

Result<Op> encode_va_all_asid(Instr instr, VirtAddr va, Ttl ttl) {
  if (const Status s = check_kind(instr, OperandKind::va_all_asid); !s) return s.error();
  return encode_page_op(instr, 0, va, ttl);
}

Result<Op> encode_asid(Instr instr, Asid asid) {
  if (const Status s = check_kind(instr, OperandKind::asid); !s) return s.error();
  if (const Status s = check_asid(asid); !s) return s.error();
  return Op{instr, std::uint64_t{asid.value} << kAsidShift};
}

Result<Op> encode_range(Instr instr, Asid asid, VirtAddr base, RangeFields range) {
  if (const Status s = check_kind(instr, OperandKind::range); !s) return s.error();
  if (const Status s = check_asid(asid); !s) return s.error();
  return encode_range_op(instr, std::uint64_t{asid.value} << kAsidShift, base, range);
}

Result<Op> encode_range_all_asid(Instr instr, VirtAddr base, RangeFields range) {
  if (const Status s = check_kind(instr, OperandKind::range_all_asid); !s) return s.error();
  return encode_range_op(instr, 0, base, range);
}

Result<Op> encode_ipa(Instr instr, VirtAddr ipa, Ttl ttl) {
  if (const Status s = check_kind(instr, OperandKind::ipa); !s) return s.error();
  return encode_page_op(instr, 0, ipa, ttl);
}

Result<Op> encode_ipa_range(Instr instr, VirtAddr ipa, RangeFields range) {
  if (const Status s = check_kind(instr, OperandKind::ipa_range); !s) return s.error();
  return encode_range_op(instr, 0, ipa, range);
}

Result<Op> encode(Instr instr, const OperandFields& f) {
  const OperandKind kind = operand_kind(instr);
  if (!has_asid_field(kind) && f.asid != Asid{}) {
    return Error{Errc::invalid_argument, "this op takes no ASID"};
  }
  if (!is_page_kind(kind) && f.ttl) {
    return Error{Errc::invalid_argument,
                 "this op takes no by-VA TTL hint (range ops carry theirs in RangeFields)"};
  }
  if (is_range_kind(kind) != f.range.has_value()) {
    return Error{Errc::invalid_argument,
                 is_range_kind(kind) ? "range ops need RangeFields" : "this op is not a range op"};
  }
  if ((kind == OperandKind::none || kind == OperandKind::asid) && f.address != 0) {
    return Error{Errc::invalid_argument, "this op takes no address"};
  }
  switch (kind) {
    case OperandKind::none: return make_op(instr);
    case OperandKind::va: return encode_va(instr, f.asid, f.address, f.ttl);
    case OperandKind::va_all_asid: return encode_va_all_asid(instr, f.address, f.ttl);
    case OperandKind::asid: return encode_asid(instr, f.asid);
    case OperandKind::range: return encode_range(instr, f.asid, f.address, *f.range);
    case OperandKind::range_all_asid: return encode_range_all_asid(instr, f.address, *f.range);
    case OperandKind::ipa: return encode_ipa(instr, f.address, f.ttl);
    case OperandKind::ipa_range: return encode_ipa_range(instr, f.address, *f.range);
    case OperandKind::address: return encode_address(instr, f.address);
  }
  return Error{Errc::invalid_argument, "unknown operand kind"};
}

// ---- Decoders -----------------------------------------------------------------------

DecodedOp decode(const Op& op) {
  const OperandKind kind = operand_kind(op.instr);
  DecodedOp d{};
  d.instr = op.instr;
  d.operand = op.operand;
  d.res0_bits = op.operand & res0_mask(kind);
  if (has_asid_field(kind)) {
    d.asid_field = static_cast<std::uint16_t>(bits(op.operand, 63, 48));
    d.fields.asid = Asid{d.asid_field};
  }
  if (is_page_kind(kind)) decode_page(op, kind, d);
  if (is_range_kind(kind)) decode_range(op, d);
  if (kind == OperandKind::address) {
    d.address_field = op.operand;
    d.fields.address = op.operand;
    d.start = op.operand;
  }
  return d;
}

Result<DecodedOp> decode_checked(const Op& op) {
  const DecodedOp d = decode(op);
  const OperandKind kind = operand_kind(op.instr);
  if (d.res0_bits != 0) return kind == OperandKind::none ? kNoOperandExpected : kRes0Set;
  if (is_page_kind(kind) && (d.ttl_field >> 2) == 0 && d.ttl_field != 0) return kReservedTtl;
  if (is_range_kind(kind) && d.tg == 0) return kReservedTg;
  if (kind == OperandKind::ipa && (d.address_field >> kIpaFieldWidth) != 0) return kIpaHighBits;
  // Everything else the encoders check themselves: re-encode, and the
  // operand must come back bit for bit.
  const Result<Op> again = encode(op.instr, d.fields);
  if (!again) return again.error();
  if (*again != op) {
    return Error{Errc::invalid_argument, "operand does not re-encode to itself"};
  }
  return d;
}

}  // namespace tlbkit::arch
