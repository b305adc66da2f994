// Translation granules and the geometry of a translation table tree.
#pragma once

#include <cstdint>

#include "tlbkit/core/error.hpp"

namespace tlbkit::arch {

using VirtAddr = std::uint64_t;  // a VA (stage 1) or an IPA (stage 2): the input address
using PhysAddr = std::uint64_t;  // an output address

// Translation granule. Only k4K is implemented by the table engine today;
// the TLBI encoders accept all three.
enum class Granule : std::uint8_t { k4K, k16K, k64K };

// log2 of the granule size in bytes: 12, 14 or 16.
constexpr unsigned granule_shift(Granule g) {
  switch (g) {
    case Granule::k4K: return 12;
    case Granule::k16K: return 14;
    case Granule::k64K: return 16;
  }
  return 12;
}

constexpr std::uint64_t granule_size(Granule g) { return std::uint64_t{1} << granule_shift(g); }

// The TG / TTL granule field used by TLBI operands: 01 4K, 10 16K, 11 64K.
constexpr unsigned granule_tg_field(Granule g) {
  switch (g) {
    case Granule::k4K: return 1;
    case Granule::k16K: return 2;
    case Granule::k64K: return 3;
  }
  return 0;
}

constexpr const char* granule_name(Granule g) {
  switch (g) {
    case Granule::k4K: return "4K";
    case Granule::k16K: return "16K";
    case Granule::k64K: return "64K";
  }
  return "?";
}

// Which stage of translation a tree serves.
enum class Stage : std::uint8_t { stage1, stage2 };

inline constexpr unsigned kMaxLevel = 3;         // level 3 holds pages
inline constexpr unsigned kEntriesPerTable = 512;  // 4 KiB granule
inline constexpr unsigned kMaxRootTables = 16;   // stage-2 concatenation limit

// The shape of one translation table tree: input-address width, the level the
// walk starts at, and (stage 2) how many tables are concatenated at the root.
// Built only by the factory functions below, which validate it.
class Geometry {
 public:
  // Stage 1 with `va_bits` of input address (TnSZ = 64 - va_bits).
  // 4 KiB granule: 25..48 bits; start level follows (39 -> 1, 48 -> 0).
  // # Errors
  // - unsupported: 16K / 64K granule, or va_bits > 48 (52-bit VA / LPA2).
  // - out_of_range: va_bits < 25.
  static Result<Geometry> stage1(Granule granule, unsigned va_bits);

  // Stage 2 with `ipa_bits` of IPA and an explicit start level, as VTCR_EL2
  // T0SZ and SL0 give them. The root is 2^(ipa_bits - start_level_span)
  // concatenated tables (1..16).
  // # Errors
  // - unsupported: 16K / 64K granule, or ipa_bits > 48.
  // - out_of_range: ipa_bits < 25.
  // - invalid_argument: start level above 2, more than 16
  //   concatenated tables, or a start level that leaves the root with fewer
  //   than two entries.
  static Result<Geometry> stage2(Granule granule, unsigned ipa_bits, unsigned start_level);

  // Stage 2 from a VTCR_EL2 value: T0SZ [5:0], SL0 [7:6], TG0 [15:14].
  // # Errors
  // As stage2(), plus invalid_argument for a reserved TG0 or SL0 encoding
  // and unsupported for DS = 1 (LPA2).
  static Result<Geometry> from_vtcr(std::uint64_t vtcr);

  constexpr Stage stage() const { return stage_; }
  constexpr Granule granule() const { return granule_; }
  constexpr unsigned input_bits() const { return input_bits_; }
  constexpr unsigned start_level() const { return start_level_; }
  constexpr unsigned root_tables() const { return root_tables_; }

  // log2 of the bytes one entry at `level` maps (level 3: 12, 2: 21, 1: 30, 0: 39).
  constexpr unsigned level_shift(unsigned level) const { return 12 + 9 * (kMaxLevel - level); }
  constexpr std::uint64_t level_size(unsigned level) const {
    return std::uint64_t{1} << level_shift(level);
  }
  // Index of `va`'s entry in its table at `level`. At the start level the
  // index spans all concatenated root tables.
  constexpr unsigned index(VirtAddr va, unsigned level) const {
    const unsigned bits = level == start_level_ ? input_bits_ - level_shift(level) : 9;
    return static_cast<unsigned>((va >> level_shift(level)) & ((std::uint64_t{1} << bits) - 1));
  }
  // Entries in the root (all concatenated tables together).
  constexpr unsigned root_entries() const {
    return 1u << (input_bits_ - level_shift(start_level_));
  }
  // Size of the input address space in bytes.
  constexpr std::uint64_t input_size() const { return std::uint64_t{1} << input_bits_; }
  // Whether a block descriptor is allowed at `level` (4 KiB: levels 1 and 2).
  constexpr bool block_allowed(unsigned level) const { return level == 1 || level == 2; }

  friend constexpr bool operator==(const Geometry&, const Geometry&) = default;

 private:
  constexpr Geometry(Stage stage, Granule granule, unsigned input_bits, unsigned start_level,
                     unsigned root_tables)
      : stage_(stage),
        granule_(granule),
        input_bits_(input_bits),
        start_level_(start_level),
        root_tables_(root_tables) {}

  Stage stage_;
  Granule granule_;
  unsigned input_bits_;
  unsigned start_level_;
  unsigned root_tables_;
};

}  // namespace tlbkit::arch
