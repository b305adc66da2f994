#include "tlbkit/arch/regime.hpp"

#include "tlbkit/arch/attributes.hpp"

namespace tlbkit::arch {
namespace {

constexpr std::uint8_t bit(Permission p) { return static_cast<std::uint8_t>(p); }

constexpr Descriptor kShMask = Descriptor{0x3} << kShBit;

std::uint8_t stage1_el1_permissions(Descriptor d) {
  const unsigned ap = static_cast<unsigned>((d & s1::kApMask) >> 6);
  const bool read_only = (ap & 2) != 0;
  const bool el0_access = (ap & 1) != 0;
  const bool writable = !read_only || (d & kDbmBit) != 0;
  std::uint8_t p = 0;
  // EL0 may execute wherever UXN is clear, whatever AP[1] says (AP = 10 with
  // UXN clear is execute-only memory).
  if ((d & s1::kUxnBit) == 0) p |= bit(Permission::el0_execute);
  if (el0_access) {
    p |= bit(Permission::el0_read);
    if (writable) p |= bit(Permission::el0_write);
  } else {
    // Under PAN, EL1 may not access EL0-accessible memory: grant EL1 data
    // access only where EL0 has none.
    p |= bit(Permission::el1_read);
    if (writable) p |= bit(Permission::el1_write);
  }
  // Memory writable at EL0 is never executable at EL1.
  const bool el0_writable = el0_access && !read_only;
  if ((d & s1::kPxnBit) == 0 && !el0_writable) p |= bit(Permission::el1_execute);
  return p;
}

std::uint8_t stage1_el2_permissions(Descriptor d) {
  std::uint8_t p = bit(Permission::el1_read);  // "EL1" stands for the regime's own level
  if ((d & el2::kApRoBit) == 0 || (d & kDbmBit) != 0) p |= bit(Permission::el1_write);
  if ((d & el2::kXnBit) == 0) p |= bit(Permission::el1_execute);
  return p;
}

constexpr std::uint8_t kRead = bit(Permission::el1_read) | bit(Permission::el0_read);
constexpr std::uint8_t kWrite = bit(Permission::el1_write) | bit(Permission::el0_write);

std::uint8_t stage2_permissions(Descriptor d) {
  const unsigned s2ap = static_cast<unsigned>((d & s2::kS2apMask) >> 6);
  const unsigned xn = static_cast<unsigned>((d & s2::kXnMask) >> 53);
  std::uint8_t p = 0;
  if ((s2ap & 1) != 0) p |= kRead;
  if ((s2ap & 2) != 0 || (d & kDbmBit) != 0) p |= kWrite;
  if (xn == 0 || xn == 3) p |= bit(Permission::el1_execute);
  if (xn == 0 || xn == 1) p |= bit(Permission::el0_execute);
  return p;
}

constexpr std::uint8_t kExecuteBits = bit(Permission::el1_execute) | bit(Permission::el0_execute);

// Leaf-to-leaf change of the same output and size: restrict or relax.
ChangeKind classify_in_place(Regime regime, unsigned level, Descriptor old_desc, Descriptor new_desc) {
  const std::uint8_t old_p = permissions(regime, level, old_desc);
  const std::uint8_t new_p = permissions(regime, level, new_desc);
  const bool access_lost = (old_p & ~new_p) != 0;
  const bool af_cleared = (old_desc & kAfBit) != 0 && (new_desc & kAfBit) == 0;
  const bool became_non_global =
      regime == Regime::el1_stage1 && (old_desc & kNgBit) == 0 && (new_desc & kNgBit) != 0;
  return access_lost || af_cleared || became_non_global ? ChangeKind::restrict : ChangeKind::relax;
}

}  // namespace

Descriptor attribute_mask(Regime regime) {
  switch (regime) {
    case Regime::el1_stage1: return s1::kAttributeMask;
    case Regime::el2_stage1: return el2::kAttributeMask;
    case Regime::stage2: return s2::kAttributeMask;
  }
  return 0;
}

Descriptor memory_type_mask(Regime regime) {
  switch (regime) {
    case Regime::el1_stage1: return s1::kAttrIndxMask | (1u << 5) | kShMask;  // AttrIndx, NS, SH
    case Regime::el2_stage1: return el2::kAttrIndxMask | (1u << 5) | kShMask;
    case Regime::stage2: return s2::kMemAttrMask | kShMask;
  }
  return 0;
}

std::uint8_t permissions(Regime regime, unsigned level, Descriptor d) {
  if (!is_leaf(d, level)) return 0;
  switch (regime) {
    case Regime::el1_stage1: return stage1_el1_permissions(d);
    case Regime::el2_stage1: return stage1_el2_permissions(d);
    case Regime::stage2: return stage2_permissions(d);
  }
  return 0;
}

UpdateRule update_rule(Regime regime, unsigned level, Descriptor old_desc, Descriptor new_desc) {
  const DescriptorKind old_kind = kind_of(old_desc, level);
  const DescriptorKind new_kind = kind_of(new_desc, level);
  if (old_kind == DescriptorKind::invalid || new_kind == DescriptorKind::invalid) {
    return UpdateRule::in_place;
  }
  if (old_kind != new_kind) return UpdateRule::break_before_make;  // block <-> table
  if (output_address(old_desc) != output_address(new_desc)) return UpdateRule::break_before_make;
  if (old_kind == DescriptorKind::table) return UpdateRule::in_place;  // table attributes only
  const Descriptor type_mask = memory_type_mask(regime) | kContiguousBit;
  if (((old_desc ^ new_desc) & type_mask) != 0) return UpdateRule::break_before_make;
  if (regime == Regime::el1_stage1 && (old_desc & kNgBit) != 0 && (new_desc & kNgBit) == 0) {
    return UpdateRule::break_before_make;
  }
  return UpdateRule::in_place;
}

std::optional<ChangeKind> classify(Regime regime, unsigned level, Descriptor old_desc,
                                   Descriptor new_desc) {
  const bool old_valid = is_valid(old_desc, level);
  const bool new_valid = is_valid(new_desc, level);
  if (!old_valid && !new_valid) return std::nullopt;
  if (!old_valid) return ChangeKind::map;
  if (!new_valid) return ChangeKind::unmap;
  if (old_desc == new_desc) return std::nullopt;
  if (update_rule(regime, level, old_desc, new_desc) == UpdateRule::break_before_make) {
    return ChangeKind::replace;
  }
  if (is_table(old_desc, level)) return ChangeKind::restrict;  // table attributes: be safe
  return classify_in_place(regime, level, old_desc, new_desc);
}

ExecGain exec_gain(Regime regime, unsigned level, Descriptor old_desc, Descriptor new_desc) {
  const std::uint8_t old_exec = permissions(regime, level, old_desc) & kExecuteBits;
  const std::uint8_t new_exec = permissions(regime, level, new_desc) & kExecuteBits;
  return (new_exec & ~old_exec) != 0 ? ExecGain::yes : ExecGain::no;
}

}  // namespace tlbkit::arch
