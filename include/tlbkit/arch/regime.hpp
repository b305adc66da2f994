// Translation regimes and the rules that say what a descriptor change means:
// which kind of change it is (for TLB maintenance) and whether a live entry
// may be rewritten in place or needs break-before-make.
#pragma once

#include <cstdint>
#include <optional>

#include "tlbkit/arch/descriptor.hpp"

namespace tlbkit::arch {

enum class Regime : std::uint8_t {
  el1_stage1,  // EL1&0 stage 1: ASIDs, nG, EL0 and EL1 permissions
  el2_stage1,  // EL2 stage 1 without E2H: no ASID, no EL0
  stage2,      // EL1&0 stage 2, tagged by VMID
};

constexpr const char* regime_name(Regime r) {
  switch (r) {
    case Regime::el1_stage1: return "el1-stage1";
    case Regime::el2_stage1: return "el2-stage1";
    case Regime::stage2: return "stage2";
  }
  return "?";
}

constexpr Stage stage_of(Regime r) { return r == Regime::stage2 ? Stage::stage2 : Stage::stage1; }

// Every leaf attribute bit the regime defines (others are RES0 or OA).
Descriptor attribute_mask(Regime regime);

// The bits of a leaf that select memory type and shareability.
Descriptor memory_type_mask(Regime regime);

// What a change to one descriptor is, for TLB maintenance.
enum class ChangeKind : std::uint8_t {
  map,       // invalid -> valid: nothing can be cached, no invalidation needed
  unmap,     // valid -> invalid
  restrict,  // valid -> valid, same output, some access removed (or AF cleared, nG set)
  relax,     // valid -> valid, same output, access only added (or invisible bits changed)
  replace,   // valid -> valid with new output address, size, memory type or scope
};

constexpr const char* change_kind_name(ChangeKind k) {
  switch (k) {
    case ChangeKind::map: return "map";
    case ChangeKind::unmap: return "unmap";
    case ChangeKind::restrict: return "restrict";
    case ChangeKind::relax: return "relax";
    case ChangeKind::replace: return "replace";
  }
  return "?";
}

// Whether a change needs TLB invalidation for correctness.
constexpr bool needs_invalidation(ChangeKind k) {
  return k == ChangeKind::unmap || k == ChangeKind::restrict || k == ChangeKind::replace;
}

// Classifies the change of the descriptor at `level` from `old_desc` to
// `new_desc`; nullopt when both are the same or both invalid.
std::optional<ChangeKind> classify(Regime regime, unsigned level, Descriptor old_desc,
                                   Descriptor new_desc);

// How a live descriptor may be rewritten.
enum class UpdateRule : std::uint8_t {
  in_place,           // one store; invalidate afterwards if classify() says so
  break_before_make,  // invalid -> DSB -> TLBI -> DSB -> new
};

// The Arm ARM break-before-make rule for a live, valid `old_desc` replaced by
// `new_desc` at `level`: required when the output address, the size (block
// <-> table, contiguous hint), the memory type or shareability change, or
// (stage 1 EL1&0) nG goes from 1 to 0. Anything else is in place.
// Either descriptor invalid: in place (that is a break or a make).
UpdateRule update_rule(Regime regime, unsigned level, Descriptor old_desc, Descriptor new_desc);

// Access a descriptor grants, as a bit set of Permission values. A
// conservative model: under PAN, stage 1 EL1 data access to EL0-accessible
// memory is treated as not granted; DBM counts as write permission.
enum class Permission : std::uint8_t {
  el1_read = 1u << 0,
  el1_write = 1u << 1,
  el1_execute = 1u << 2,
  el0_read = 1u << 3,
  el0_write = 1u << 4,
  el0_execute = 1u << 5,
};
std::uint8_t permissions(Regime regime, unsigned level, Descriptor d);

// Whether `new_desc` lets some exception level execute where `old_desc` did
// not (an invalid old descriptor grants nothing): I-cache maintenance is due.
enum class ExecGain : std::uint8_t { no, yes };
ExecGain exec_gain(Regime regime, unsigned level, Descriptor old_desc, Descriptor new_desc);

}  // namespace tlbkit::arch
