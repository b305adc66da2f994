// TLBI operands: exact encoding and decoding of the Xt value of every TLBI
// in the catalogue (ops.hpp), and the range arithmetic of FEAT_TLBIRANGE.
//
// Layouts (Arm ARM; docs/ARCHITECTURE-FACTS.md section 1):
//
//   by VA      ASID 63:48 | TTL 47:44 | VA[55:12] 43:0      (always VA >> 12, any granule)
//   by ASID    ASID 63:48 | RES0 47:0
//   range      ASID 63:48 | TG 47:46 | SCALE 45:44 | NUM 43:39 | TTL 38:37 | BaseADDR 36:0
//              BaseADDR = address >> granule shift
//   by IPA     RES0 63:48 | TTL 47:44 | RES0 43:40 | IPA[51:48] 39:36 | IPA[47:12] 35:0
//
// TTL (by VA / by IPA): 47:46 granule (01 4K, 10 16K, 11 64K), 45:44 level;
// 0000 = no hint. Range TTL: 00 no hint, 01..11 = level 1..3.
//
// Not supported, and refused: 52-bit VAs and IPAs (LPA, LPA2 / TCR.DS, where
// BaseADDR and TTL level 0 change meaning), tagged addresses, the 128-bit
// TLBIP forms.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tlbkit/core/error.hpp"
#include "tlbkit/arch/granule.hpp"
#include "tlbkit/arch/ops.hpp"

namespace tlbkit::arch {

// An address-space identifier as a caller holds it. The operand field is 16
// bits wide; the encoders refuse larger values rather than truncate them.
struct Asid {
  std::uint32_t value = 0;
  friend constexpr bool operator==(const Asid&, const Asid&) = default;
};

inline constexpr std::uint32_t kMaxAsid = 0xffff;

// A FEAT_TTL hint: the granule of the table that holds the entry and the
// level of that entry (1..3). A wrong hint lets the hardware invalidate
// nothing, so give one only when the level is known for certain.
struct TtlHint {
  Granule granule;
  unsigned level;
  friend constexpr bool operator==(const TtlHint&, const TtlHint&) = default;
};

// A TTL hint or none (encoded 0000: "any level").
using Ttl = std::optional<TtlHint>;
inline constexpr Ttl kNoTtl = std::nullopt;

// The range-specific fields of an RVA*/RIPAS2* operand. The op covers
// range_pages(scale, num) granules from its base address.
struct RangeFields {
  Granule granule = Granule::k4K;     // TG
  unsigned scale = 0;                 // 0..3
  unsigned num = 0;                   // 0..31 (five bits)
  std::optional<unsigned> ttl_level;  // 1..3, or nullopt for no hint
  friend constexpr bool operator==(const RangeFields&, const RangeFields&) = default;
};

inline constexpr unsigned kMaxRangeScale = 3;
inline constexpr unsigned kMaxRangeNum = 31;
// The most one range op covers: NUM = 31, SCALE = 3 (8 GiB of 4 KiB pages).
inline constexpr std::uint64_t kMaxRangePages = std::uint64_t{1} << 21;

// Granules covered by one range op: (NUM + 1) << (5 * SCALE + 1).
constexpr std::uint64_t range_pages(unsigned scale, unsigned num) {
  return (std::uint64_t{num} + 1) << (5 * scale + 1);
}

// One range op's SCALE and NUM.
struct RangePiece {
  unsigned scale;
  unsigned num;
  constexpr std::uint64_t pages() const { return range_pages(scale, num); }
  friend constexpr bool operator==(const RangePiece&, const RangePiece&) = default;
};

// How to cover a page count with range ops: up to four pieces, highest
// SCALE first, issued back to back from the base; their pages add up to the
// count rounded down to even. `trailing_single_page` says one page is left
// after them (odd counts): cover it with a by-VA op, or over-invalidate by
// one page.
struct RangeDecomposition {
  std::array<RangePiece, 4> pieces{};
  std::size_t count = 0;
  bool trailing_single_page = false;

  constexpr std::span<const RangePiece> used() const { return {pieces.data(), count}; }
  // Pages covered by the pieces plus the trailing page.
  constexpr std::uint64_t pages() const {
    std::uint64_t total = trailing_single_page ? 1 : 0;
    for (const RangePiece& p : used()) total += p.pages();
    return total;
  }
};

// The fewest range ops covering exactly `pages` granules (pages/2 written in
// base 32, one op per nonzero digit; exactly 2^21 is the single op NUM = 31,
// SCALE = 3). Zero pages give no pieces.
// Precondition: pages <= kMaxRangePages (range_decompose() checks it).
// Inline: planners cost candidate shapes with it on every batch.
constexpr RangeDecomposition range_pieces(std::uint64_t pages) {
  RangeDecomposition out;
  out.trailing_single_page = (pages & 1) != 0;
  const std::uint64_t pairs = pages >> 1;
  if (pairs == kMaxRangePages >> 1) {
    // 2^20 pairs is "100000" in base 32: one digit too many, but exactly the
    // largest op (NUM + 1 = 32 at SCALE 3).
    out.pieces[out.count++] = RangePiece{kMaxRangeScale, kMaxRangeNum};
    return out;
  }
  for (unsigned scale = kMaxRangeScale + 1; scale-- > 0;) {
    const unsigned digit = static_cast<unsigned>((pairs >> (5 * scale)) & 31);
    if (digit != 0) out.pieces[out.count++] = RangePiece{scale, digit - 1};
  }
  return out;
}

// range_pieces(pages), checked.
// # Errors
// - out_of_range: pages > kMaxRangePages.
constexpr Result<RangeDecomposition> range_decompose(std::uint64_t pages) {
  if (pages > kMaxRangePages) {
    return Error{Errc::out_of_range,
                 "more than 2^21 pages: beyond four range ops; split the range or invalidate "
                 "the whole ASID/VMID"};
  }
  return range_pieces(pages);
}

// The single range op covering exactly `pages` granules, if there is one.
std::optional<RangePiece> range_single_op(std::uint64_t pages);

// By-VA ops that name an ASID (VAE1IS, VALE1IS and local forms).
// `va` is a 48-bit VA of either range (TTBR0 or TTBR1), aligned to 4 KiB,
// or to the hint's granule when `ttl` is given. The operand holds VA >> 12
// whatever the granule.
// # Errors
// - invalid_argument: `instr` is not a by-VA op with an ASID; TTL level not 1..3
//   (level 0 with 16K/64K is reserved).
// - unsupported: TTL level 0 with 4K (needs FEAT_LPA2).
// - out_of_range: ASID above 16 bits; `va` not a 48-bit VA.
// - misaligned: `va` not aligned as above.
Result<Op> encode_va(Instr instr, Asid asid, VirtAddr va, Ttl ttl);

// By-VA ops without an ASID: VAAE1IS, VAALE1IS (all ASIDs) and the EL2 forms
// VAE2IS, VALE2IS (EL2 without E2H: one VA range, so `va` below 2^48).
// # Errors
// As encode_va, without the ASID one.
Result<Op> encode_va_all_asid(Instr instr, VirtAddr va, Ttl ttl);

// ASIDE1IS / ASIDE1.
// # Errors
// - invalid_argument: `instr` is not a by-ASID op.
// - out_of_range: ASID above 16 bits.
Result<Op> encode_asid(Instr instr, Asid asid);

// Range ops that name an ASID (RVAE1IS, RVALE1IS and local forms): the op
// covers [base, base + range_pages(scale, num) granules).
// # Errors
// - invalid_argument: `instr` is not a range op with an ASID; SCALE > 3;
//   NUM > 31; TTL level not 1..3 (a range TTL cannot say level 0).
// - out_of_range: ASID above 16 bits; `base` not a 48-bit VA; the range
//   runs past the end of its 48-bit VA range.
// - misaligned: `base` not aligned to the granule.
Result<Op> encode_range(Instr instr, Asid asid, VirtAddr base, RangeFields range);

// Range ops without an ASID: RVAAE1IS, RVAALE1IS and local forms, and the
// EL2 forms RVAE2IS, RVALE2IS (one VA range: `base` below 2^48).
// # Errors
// As encode_range, without the ASID one.
Result<Op> encode_range_all_asid(Instr instr, VirtAddr base, RangeFields range);

// IPAS2E1IS, IPAS2LE1IS and local forms. `ipa` below 2^48, aligned to 4 KiB
// or to the hint's granule.
// # Errors
// - invalid_argument: `instr` is not a by-IPA op; TTL level as in encode_va.
// - unsupported: TTL level 0 with 4K.
// - out_of_range: `ipa` at or above 2^48 (52-bit IPAs are not supported).
// - misaligned: `ipa` not aligned as above.
Result<Op> encode_ipa(Instr instr, VirtAddr ipa, Ttl ttl);

// RIPAS2E1IS, RIPAS2LE1IS and local forms: the op covers
// [ipa, ipa + range_pages(scale, num) granules), all below 2^48.
// # Errors
// As encode_range_all_asid, with IPAs.
Result<Op> encode_ipa_range(Instr instr, VirtAddr ipa, RangeFields range);

// The inputs of any encoder, for code that handles every kind alike (JSON,
// command line). Which fields an instruction uses depends on its operand
// kind; the others must keep their default values.
struct OperandFields {
  Asid asid{};                       // va, asid, range
  std::uint64_t address = 0;         // VA, IPA, range base, or plain address
  Ttl ttl{};                         // va, va_all_asid, ipa
  std::optional<RangeFields> range;  // range, range_all_asid, ipa_range
  friend constexpr bool operator==(const OperandFields&, const OperandFields&) = default;
};

// Encodes `instr` from `fields` with the encoder its operand kind calls for
// (make_op and encode_address for the ops of ops.hpp).
// # Errors
// - invalid_argument: a field the kind does not use is set (a nonzero ASID
//   for an all-ASID op, a TTL for an ASID op, ...), or `range` is missing
//   for a range op.
// - otherwise those of the encoder used.
Result<Op> encode(Instr instr, const OperandFields& fields);

// Everything an operand says. Raw fields are exactly the operand's bits;
// `fields` gives them back as encoder inputs.
struct DecodedOp {
  Instr instr;
  std::uint64_t operand;

  // Encoder inputs. Whenever decode_checked() accepts the op,
  // encode(instr, fields) gives back exactly this operand.
  OperandFields fields;

  // Raw fields, zero where the operand kind has no such field.
  std::uint16_t asid_field;     // 63:48 (va, asid, range)
  std::uint8_t ttl_field;       // 47:44 (va, va_all_asid, ipa)
  std::uint8_t tg;              // 47:46 (range kinds)
  std::uint8_t scale;           // 45:44 (range kinds)
  std::uint8_t num;             // 43:39 (range kinds)
  std::uint8_t range_ttl;       // 38:37 (range kinds)
  std::uint64_t address_field;  // by VA 43:0; by IPA 39:0; range BaseADDR 36:0; address: all
  std::uint64_t res0_bits;      // operand bits the kind defines as RES0 that are set

  // What the op covers. by VA / by IPA: the page the operand names (4 KiB
  // without a hint, the hint's granule with one; larger block entries that
  // contain it go too). Range kinds: [start, start + size) where size is
  // pages granules (nothing when TG is the reserved 00). Other kinds: size
  // 0 (for the address kind, start is the address).
  std::uint64_t pages;  // range kinds: range_pages(SCALE, NUM); by VA / IPA: 1; else 0
  std::uint64_t start;
  std::uint64_t size;
};

// Decodes any operand of `op.instr`, reserved encodings included (their raw
// fields are reported as they are). Never fails.
DecodedOp decode(const Op& op);

// decode() for operands the encoders could have produced.
// # Errors
// - invalid_argument: RES0 bits set (any bit, for an op that takes no
//   operand); range TG = 00; TTL granule 00 with a nonzero level; TTL level
//   0 with 16K/64K.
// - unsupported: TTL level 0 with 4K (FEAT_LPA2 only).
// - out_of_range: an address beyond 48 bits (IPA[51:48] nonzero, VA[55:48]
//   neither all zero nor all one, an EL2 or stage-2 range past 2^48).
// - misaligned: a by-VA / by-IPA address not aligned to its TTL granule.
Result<DecodedOp> decode_checked(const Op& op);

}  // namespace tlbkit::arch
