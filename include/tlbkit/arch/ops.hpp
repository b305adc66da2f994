// The catalogue of maintenance instructions tlbkit issues: TLBIs, barriers
// and cache operations. For each one: its assembler mnemonic, its encoding,
// what kind of operand it takes and what it acts on.
//
// The operand layouts themselves (ASID, TTL, range fields) are in tlbi.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "tlbkit/core/error.hpp"
#include "tlbkit/arch/granule.hpp"

namespace tlbkit::arch {

// Every maintenance instruction tlbkit knows. TLBIs are named by their
// operation alone (`vae1is` is `TLBI VAE1IS`); barriers and cache operations
// carry their instruction (`dsb_ish`, `ic_ivau`).
enum class Instr : std::uint8_t {
  // Stage 1, EL1&0 regime, current VMID. Broadcast (IS), then local.
  vae1is, vale1is, vaae1is, vaale1is, aside1is, vmalle1is,
  vae1, vale1, vaae1, vaale1, aside1, vmalle1,
  // Stage 1, EL1&0, range forms (FEAT_TLBIRANGE).
  rvae1is, rvale1is, rvaae1is, rvaale1is,
  rvae1, rvale1, rvaae1, rvaale1,
  // Stage 2 and combined stage 1+2, EL1&0 regime (issued from EL2).
  ipas2e1is, ipas2le1is, ripas2e1is, ripas2le1is, vmalls12e1is, alle1is,
  ipas2e1, ipas2le1, ripas2e1, ripas2le1, vmalls12e1, alle1,
  // EL2 regime.
  vae2is, vale2is, rvae2is, rvale2is, alle2is,
  vae2, vale2, rvae2, rvale2, alle2,
  // Barriers.
  dsb_ishst, dsb_ish, dsb_nsh, dsb_sy, isb,
  // Cache maintenance.
  ic_iallu, ic_ialluis, ic_ivau, dc_civac,
};

inline constexpr std::size_t kInstrCount = static_cast<std::size_t>(Instr::dc_civac) + 1;

enum class Category : std::uint8_t { tlbi, barrier, cache };

// The operand an instruction takes in its Xt register.
enum class OperandKind : std::uint8_t {
  none,            // no register operand
  va,              // ASID 63:48, TTL 47:44, VA[55:12] in 43:0
  va_all_asid,     // TTL 47:44, VA[55:12] in 43:0; 63:48 RES0 (the "all ASID" and EL2 forms)
  asid,            // ASID 63:48; 47:0 RES0
  range,           // ASID 63:48, TG 47:46, SCALE 45:44, NUM 43:39, TTL 38:37, BaseADDR 36:0
  range_all_asid,  // as range with 63:48 RES0
  ipa,             // TTL 47:44, IPA[47:12] in 35:0
  ipa_range,       // as range_all_asid, with BaseADDR = IPA >> granule shift
  address,         // a plain virtual address (IC IVAU, DC CIVAC)
};

// Which processing elements an instruction acts on.
enum class Scope : std::uint8_t {
  local,            // the issuing PE only (TLBI without IS, DSB NSH, ISB, IC IALLU)
  inner_shareable,  // broadcast to the Inner Shareable domain (the IS forms, DSB ISH*)
  full_system,      // DSB SY
};

// Which cached translations a TLBI acts on.
enum class TlbRegime : std::uint8_t {
  not_a_tlbi,       // barriers and cache operations
  el1_stage1,       // EL1&0 stage-1 entries of the current VMID
  el1_stage2,       // EL1&0 stage-2-only entries of the current VMID (IPAS2*)
  el1_both_stages,  // EL1&0 stage-1, stage-2 and combined entries of the current VMID
  el1_all_vmids,    // every EL1&0 entry of every VMID (ALLE1*)
  el2,              // the EL2 regime (without E2H: one VA range, no ASIDs)
};

// The system-instruction fields of a SYS-encoded op (TLBI, IC, DC).
struct SysEncoding {
  std::uint8_t op1;
  std::uint8_t crn;
  std::uint8_t crm;
  std::uint8_t op2;
  friend constexpr bool operator==(const SysEncoding&, const SysEncoding&) = default;
};

// Everything the catalogue knows about one instruction.
struct InstrInfo {
  Instr instr;
  std::string_view mnemonic;  // lower-case assembler form without operands: "tlbi vae1is", "dsb ish"
  Category category;
  OperandKind operand;
  Scope scope;
  TlbRegime regime;
  bool leaf_only;           // the "L" forms: walk-cache (non-leaf) entries may survive
  SysEncoding sys;          // TLBI / IC / DC; all zero for barriers
  std::uint32_t base_word;  // the instruction word with Rt = 0 (register ops) or as issued (others)
};

namespace detail {

inline constexpr std::uint32_t kSysBase = 0xD5080000;  // SYS #op1, Cn, Cm, #op2, Xt with L = 0
inline constexpr std::uint32_t kNoRegister = 31;       // Rt of SYS ops that take no register

constexpr std::uint32_t sys_word(SysEncoding s, OperandKind kind) {
  return kSysBase | std::uint32_t{s.op1} << 16 | std::uint32_t{s.crn} << 12 |
         std::uint32_t{s.crm} << 8 | std::uint32_t{s.op2} << 5 |
         (kind == OperandKind::none ? kNoRegister : 0);
}

// Which entries a TLBI must remove: all levels, or only last-level ones (the "L" forms).
enum class Levels : std::uint8_t { all, leaf_only };

constexpr InstrInfo tlbi(Instr i, std::string_view mnemonic, OperandKind kind, Scope scope,
                         TlbRegime regime, Levels levels, SysEncoding sys) {
  return InstrInfo{i,      mnemonic, Category::tlbi, kind, scope, regime, levels == Levels::leaf_only,
                   sys,    sys_word(sys, kind)};
}

constexpr InstrInfo barrier(Instr i, std::string_view mnemonic, Scope scope, std::uint32_t word) {
  return InstrInfo{i,     mnemonic, Category::barrier, OperandKind::none, scope,
                   TlbRegime::not_a_tlbi, false, SysEncoding{0, 0, 0, 0}, word};
}

constexpr InstrInfo cache(Instr i, std::string_view mnemonic, OperandKind kind, Scope scope,
                          SysEncoding sys) {
  return InstrInfo{i, mnemonic, Category::cache, kind, scope, TlbRegime::not_a_tlbi, false, sys,
                   sys_word(sys, kind)};
}

inline constexpr Levels kLeaf = Levels::leaf_only;
inline constexpr Levels kAll = Levels::all;

// In enum order; checked by a static_assert below.
constexpr std::array<InstrInfo, kInstrCount> make_catalogue() {
  using enum Instr;
  using enum OperandKind;
  using enum Scope;
  using enum TlbRegime;
  return {{
    tlbi(vae1is, "tlbi vae1is", va, inner_shareable, el1_stage1, kAll, {0, 8, 3, 1}),
    tlbi(vale1is, "tlbi vale1is", va, inner_shareable, el1_stage1, kLeaf, {0, 8, 3, 5}),
    tlbi(vaae1is, "tlbi vaae1is", va_all_asid, inner_shareable, el1_stage1, kAll, {0, 8, 3, 3}),
    tlbi(vaale1is, "tlbi vaale1is", va_all_asid, inner_shareable, el1_stage1, kLeaf, {0, 8, 3, 7}),
    tlbi(aside1is, "tlbi aside1is", asid, inner_shareable, el1_stage1, kAll, {0, 8, 3, 2}),
    tlbi(vmalle1is, "tlbi vmalle1is", none, inner_shareable, el1_stage1, kAll, {0, 8, 3, 0}),
    tlbi(vae1, "tlbi vae1", va, local, el1_stage1, kAll, {0, 8, 7, 1}),
    tlbi(vale1, "tlbi vale1", va, local, el1_stage1, kLeaf, {0, 8, 7, 5}),
    tlbi(vaae1, "tlbi vaae1", va_all_asid, local, el1_stage1, kAll, {0, 8, 7, 3}),
    tlbi(vaale1, "tlbi vaale1", va_all_asid, local, el1_stage1, kLeaf, {0, 8, 7, 7}),
    tlbi(aside1, "tlbi aside1", asid, local, el1_stage1, kAll, {0, 8, 7, 2}),
    tlbi(vmalle1, "tlbi vmalle1", none, local, el1_stage1, kAll, {0, 8, 7, 0}),
    tlbi(rvae1is, "tlbi rvae1is", range, inner_shareable, el1_stage1, kAll, {0, 8, 2, 1}),
    tlbi(rvale1is, "tlbi rvale1is", range, inner_shareable, el1_stage1, kLeaf, {0, 8, 2, 5}),
    tlbi(rvaae1is, "tlbi rvaae1is", range_all_asid, inner_shareable, el1_stage1, kAll, {0, 8, 2, 3}),
    tlbi(rvaale1is, "tlbi rvaale1is", range_all_asid, inner_shareable, el1_stage1, kLeaf,
         {0, 8, 2, 7}),
    tlbi(rvae1, "tlbi rvae1", range, local, el1_stage1, kAll, {0, 8, 6, 1}),
    tlbi(rvale1, "tlbi rvale1", range, local, el1_stage1, kLeaf, {0, 8, 6, 5}),
    tlbi(rvaae1, "tlbi rvaae1", range_all_asid, local, el1_stage1, kAll, {0, 8, 6, 3}),
    tlbi(rvaale1, "tlbi rvaale1", range_all_asid, local, el1_stage1, kLeaf, {0, 8, 6, 7}),
    tlbi(ipas2e1is, "tlbi ipas2e1is", ipa, inner_shareable, el1_stage2, kAll, {4, 8, 0, 1}),
    tlbi(ipas2le1is, "tlbi ipas2le1is", ipa, inner_shareable, el1_stage2, kLeaf, {4, 8, 0, 5}),
    tlbi(ripas2e1is, "tlbi ripas2e1is", ipa_range, inner_shareable, el1_stage2, kAll, {4, 8, 0, 2}),
    tlbi(ripas2le1is, "tlbi ripas2le1is", ipa_range, inner_shareable, el1_stage2, kLeaf,
         {4, 8, 0, 6}),
    tlbi(vmalls12e1is, "tlbi vmalls12e1is", none, inner_shareable, el1_both_stages, kAll,
         {4, 8, 3, 6}),
    tlbi(alle1is, "tlbi alle1is", none, inner_shareable, el1_all_vmids, kAll, {4, 8, 3, 4}),
    tlbi(ipas2e1, "tlbi ipas2e1", ipa, local, el1_stage2, kAll, {4, 8, 4, 1}),
    tlbi(ipas2le1, "tlbi ipas2le1", ipa, local, el1_stage2, kLeaf, {4, 8, 4, 5}),
    tlbi(ripas2e1, "tlbi ripas2e1", ipa_range, local, el1_stage2, kAll, {4, 8, 4, 2}),
    tlbi(ripas2le1, "tlbi ripas2le1", ipa_range, local, el1_stage2, kLeaf, {4, 8, 4, 6}),
    tlbi(vmalls12e1, "tlbi vmalls12e1", none, local, el1_both_stages, kAll, {4, 8, 7, 6}),
    tlbi(alle1, "tlbi alle1", none, local, el1_all_vmids, kAll, {4, 8, 7, 4}),
    tlbi(vae2is, "tlbi vae2is", va_all_asid, inner_shareable, el2, kAll, {4, 8, 3, 1}),
    tlbi(vale2is, "tlbi vale2is", va_all_asid, inner_shareable, el2, kLeaf, {4, 8, 3, 5}),
    tlbi(rvae2is, "tlbi rvae2is", range_all_asid, inner_shareable, el2, kAll, {4, 8, 2, 1}),
    tlbi(rvale2is, "tlbi rvale2is", range_all_asid, inner_shareable, el2, kLeaf, {4, 8, 2, 5}),
    tlbi(alle2is, "tlbi alle2is", none, inner_shareable, el2, kAll, {4, 8, 3, 0}),
    tlbi(vae2, "tlbi vae2", va_all_asid, local, el2, kAll, {4, 8, 7, 1}),
    tlbi(vale2, "tlbi vale2", va_all_asid, local, el2, kLeaf, {4, 8, 7, 5}),
    tlbi(rvae2, "tlbi rvae2", range_all_asid, local, el2, kAll, {4, 8, 6, 1}),
    tlbi(rvale2, "tlbi rvale2", range_all_asid, local, el2, kLeaf, {4, 8, 6, 5}),
    tlbi(alle2, "tlbi alle2", none, local, el2, kAll, {4, 8, 7, 0}),
    barrier(dsb_ishst, "dsb ishst", inner_shareable, 0xD5033A9F),
    barrier(dsb_ish, "dsb ish", inner_shareable, 0xD5033B9F),
    barrier(dsb_nsh, "dsb nsh", local, 0xD503379F),
    barrier(dsb_sy, "dsb sy", full_system, 0xD5033F9F),
    barrier(isb, "isb", local, 0xD5033FDF),
    cache(ic_iallu, "ic iallu", none, local, {0, 7, 5, 0}),
    cache(ic_ialluis, "ic ialluis", none, inner_shareable, {0, 7, 1, 0}),
    // By-address cache operations act on the shareability domain of the
    // memory they name; kernels map normal memory Inner Shareable.
    cache(ic_ivau, "ic ivau", address, inner_shareable, {3, 7, 5, 1}),
    cache(dc_civac, "dc civac", address, inner_shareable, {3, 7, 14, 1}),
  }};
}

inline constexpr std::array<InstrInfo, kInstrCount> kCatalogue = make_catalogue();

constexpr bool catalogue_in_enum_order() {
  for (std::size_t i = 0; i < kCatalogue.size(); ++i) {
    if (static_cast<std::size_t>(kCatalogue[i].instr) != i) return false;
  }
  return true;
}
static_assert(catalogue_in_enum_order(), "kCatalogue must list every Instr in enum order");

}  // namespace detail

// The catalogue entry of `instr`.
constexpr const InstrInfo& info(Instr instr) {
  return detail::kCatalogue[static_cast<std::size_t>(instr)];
}

// Every catalogue entry, in enum order.
constexpr std::span<const InstrInfo, kInstrCount> catalogue() { return detail::kCatalogue; }

constexpr std::string_view mnemonic(Instr instr) { return info(instr).mnemonic; }
constexpr OperandKind operand_kind(Instr instr) { return info(instr).operand; }
constexpr bool takes_register(Instr instr) { return operand_kind(instr) != OperandKind::none; }

// The non-broadcast sibling of an Inner Shareable TLBI (VALE1IS -> VALE1,
// RIPAS2E1IS -> RIPAS2E1, ...) and of DSB ISH (-> DSB NSH) and IC IALLUIS
// (-> IC IALLU): same operand, regime and levels, acting on the issuing PE
// only. Every other instruction is returned as it is (local forms, DSB
// ISHST and SY, ISB, by-address cache operations).
constexpr Instr local_form(Instr instr) {
  using enum Instr;
  // Each IS group is followed by its local group, member for member.
  const auto shift = [instr](Instr first_is, Instr first_local) {
    return static_cast<Instr>(static_cast<unsigned>(instr) - static_cast<unsigned>(first_is) +
                              static_cast<unsigned>(first_local));
  };
  if (instr >= vae1is && instr <= vmalle1is) return shift(vae1is, vae1);
  if (instr >= rvae1is && instr <= rvaale1is) return shift(rvae1is, rvae1);
  if (instr >= ipas2e1is && instr <= alle1is) return shift(ipas2e1is, ipas2e1);
  if (instr >= vae2is && instr <= alle2is) return shift(vae2is, vae2);
  if (instr == dsb_ish) return dsb_nsh;
  if (instr == ic_ialluis) return ic_iallu;
  return instr;
}

// The 32-bit instruction word of `instr` with operand register X`rt`.
// Ops without a register operand ignore `rt` (SYS ops then encode Rt = 31,
// as the assembler does).
// Precondition: rt <= 31 (31 names XZR); higher bits are dropped.
constexpr std::uint32_t instruction_word(Instr instr, unsigned rt) {
  const InstrInfo& i = info(instr);
  return takes_register(instr) ? i.base_word | (rt & 31u) : i.base_word;
}

// The instruction named by an assembler mnemonic. Case and surrounding or
// repeated blanks do not matter; TLBIs may be named with or without
// "tlbi ": "vae1is", "tlbi vae1is", "TLBI VAE1IS", "dsb ish", "ic ivau".
// Returns nullopt for a name not in the catalogue.
std::optional<Instr> find_instr(std::string_view name);

// One maintenance operation: an instruction and the value of its Xt
// register (0 for instructions that take none).
struct Op {
  Instr instr;
  std::uint64_t operand = 0;
  friend constexpr bool operator==(const Op&, const Op&) = default;
};

// The operation of an instruction that takes no operand (barriers,
// VMALLE1IS, ALLE2, IC IALLU, ...).
// # Errors
// - invalid_argument: `instr` takes an operand; use its encoder (tlbi.hpp).
Result<Op> make_op(Instr instr);

// IC IVAU / DC CIVAC of the cache line holding `va`. Any byte address of the
// line will do.
// # Errors
// - invalid_argument: `instr` does not take a plain address.
// - out_of_range: `va` is not a 48-bit address of either VA range (bits
//   63:48 neither all zero nor all one; tagged addresses are refused).
Result<Op> encode_address(Instr instr, VirtAddr va);

// Short names for rendering ("va_all_asid", "inner_shareable", ...).
constexpr std::string_view category_name(Category c) {
  switch (c) {
    case Category::tlbi: return "tlbi";
    case Category::barrier: return "barrier";
    case Category::cache: return "cache";
  }
  return "?";
}

constexpr std::string_view operand_kind_name(OperandKind k) {
  switch (k) {
    case OperandKind::none: return "none";
    case OperandKind::va: return "va";
    case OperandKind::va_all_asid: return "va_all_asid";
    case OperandKind::asid: return "asid";
    case OperandKind::range: return "range";
    case OperandKind::range_all_asid: return "range_all_asid";
    case OperandKind::ipa: return "ipa";
    case OperandKind::ipa_range: return "ipa_range";
    case OperandKind::address: return "address";
  }
  return "?";
}

constexpr std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::local: return "local";
    case Scope::inner_shareable: return "inner_shareable";
    case Scope::full_system: return "full_system";
  }
  return "?";
}

constexpr std::string_view regime_name(TlbRegime r) {
  switch (r) {
    case TlbRegime::not_a_tlbi: return "-";
    case TlbRegime::el1_stage1: return "el1_stage1";
    case TlbRegime::el1_stage2: return "el1_stage2";
    case TlbRegime::el1_both_stages: return "el1_both_stages";
    case TlbRegime::el1_all_vmids: return "el1_all_vmids";
    case TlbRegime::el2: return "el2";
  }
  return "?";
}

}  // namespace tlbkit::arch
