#include "tlbkit/arch/attributes.hpp"

namespace tlbkit::arch {
namespace {

constexpr Error kBadMairIndex{Errc::invalid_argument, "MAIR index must be 0..7"};
constexpr Error kBadSoftware{Errc::invalid_argument, "software bits must be 0..15 (bits 58:55)"};
constexpr Error kBadMemAttr{Errc::invalid_argument, "stage-2 MemAttr must be 0..15"};

constexpr Descriptor field(std::uint64_t value, unsigned shift) { return Descriptor{value} << shift; }
constexpr unsigned get(Descriptor d, unsigned shift, std::uint64_t mask) {
  return static_cast<unsigned>((d >> shift) & mask);
}

// Fields every regime places at the same bits.
Descriptor encode_common(Shareability sh, AccessFlag af, DirtyBitModifier dbm, Contiguous contiguous,
                         std::uint8_t software) {
  Descriptor d = field(static_cast<unsigned>(sh), kShBit);
  if (af == AccessFlag::set) d |= kAfBit;
  if (dbm == DirtyBitModifier::on) d |= kDbmBit;
  if (contiguous == Contiguous::yes) d |= kContiguousBit;
  d |= field(software, kSoftwareShift);
  return d;
}

template <class Attributes>
void decode_common(Descriptor d, Attributes& a) {
  a.shareability = static_cast<Shareability>(get(d, kShBit, 3));
  a.access_flag = (d & kAfBit) != 0 ? AccessFlag::set : AccessFlag::clear;
  a.dbm = (d & kDbmBit) != 0 ? DirtyBitModifier::on : DirtyBitModifier::off;
  a.contiguous = (d & kContiguousBit) != 0 ? Contiguous::yes : Contiguous::no;
  a.software = static_cast<std::uint8_t>(get(d, kSoftwareShift, 0xf));
}

}  // namespace

namespace s1 {

Result<Descriptor> encode(const Attributes& a) {
  if (a.mair_index > 7) return kBadMairIndex;
  if (a.software > 15) return kBadSoftware;
  Descriptor d = encode_common(a.shareability, a.access_flag, a.dbm, a.contiguous, a.software);
  d |= field(a.mair_index, 2);
  d |= field(static_cast<unsigned>(a.access), 6);
  if (a.el1_execute == Execute::never) d |= kPxnBit;
  if (a.el0_execute == Execute::never) d |= kUxnBit;
  if (a.scope == Scope::non_global) d |= kNgBit;
  return d;
}

Attributes decode(Descriptor d) {
  Attributes a;
  decode_common(d, a);
  a.mair_index = static_cast<std::uint8_t>(get(d, 2, 7));
  a.access = static_cast<Access>(get(d, 6, 3));
  a.el1_execute = (d & kPxnBit) != 0 ? Execute::never : Execute::allowed;
  a.el0_execute = (d & kUxnBit) != 0 ? Execute::never : Execute::allowed;
  a.scope = (d & kNgBit) != 0 ? Scope::non_global : Scope::global;
  return a;
}

}  // namespace s1

namespace el2 {

Result<Descriptor> encode(const Attributes& a) {
  if (a.mair_index > 7) return kBadMairIndex;
  if (a.software > 15) return kBadSoftware;
  Descriptor d = encode_common(a.shareability, a.access_flag, a.dbm, a.contiguous, a.software);
  d |= field(a.mair_index, 2);
  d |= kApRes1Bit;
  if (a.access == Access::ro) d |= kApRoBit;
  if (a.execute == Execute::never) d |= kXnBit;
  return d;
}

Attributes decode(Descriptor d) {
  Attributes a;
  decode_common(d, a);
  a.mair_index = static_cast<std::uint8_t>(get(d, 2, 7));
  a.access = (d & kApRoBit) != 0 ? Access::ro : Access::rw;
  a.execute = (d & kXnBit) != 0 ? Execute::never : Execute::allowed;
  return a;
}

}  // namespace el2

namespace s2 {

Result<std::uint8_t> encode_memory_type(MemoryType type, Fwb mode) {
  if (mode == Fwb::disabled) {
    switch (type) {
      case MemoryType::device_nGnRnE: return std::uint8_t{0x0};
      case MemoryType::device_nGnRE: return std::uint8_t{0x1};
      case MemoryType::normal_non_cacheable: return std::uint8_t{0x5};  // outer NC, inner NC
      case MemoryType::normal_write_back: return std::uint8_t{0xf};     // outer WB, inner WB
      case MemoryType::normal_use_stage1:
        return Error{Errc::unsupported, "'use stage 1 attributes' needs FEAT_S2FWB with HCR_EL2.FWB=1"};
    }
  } else {
    // With FWB, MemAttr[2] = 0 selects Device (type in [1:0]); MemAttr[2] = 1
    // selects Normal: [1:0] = 01 non-cacheable, 10 write-back, 11 stage 1 decides.
    switch (type) {
      case MemoryType::device_nGnRnE: return std::uint8_t{0x0};
      case MemoryType::device_nGnRE: return std::uint8_t{0x1};
      case MemoryType::normal_non_cacheable: return std::uint8_t{0x5};
      case MemoryType::normal_write_back: return std::uint8_t{0x6};
      case MemoryType::normal_use_stage1: return std::uint8_t{0x7};
    }
  }
  return Error{Errc::invalid_argument, "unknown stage-2 memory type"};
}

bool is_cacheable(std::uint8_t memattr, Fwb mode) {
  if (mode == Fwb::enabled) {
    if ((memattr & 0x4) == 0) return false;  // Device
    const unsigned normal = memattr & 0x3u;
    return normal == 2 || normal == 3;  // forced write-back, or stage 1 may make it cacheable
  }
  const unsigned outer = (memattr >> 2) & 0x3u;
  const unsigned inner = memattr & 0x3u;
  if (outer == 0) return false;  // Device
  // 01 non-cacheable, 10 write-through, 11 write-back.
  return outer >= 2 || inner >= 2;
}

Result<Descriptor> encode(const Attributes& a) {
  if (a.memattr > 15) return kBadMemAttr;
  if (a.software > 15) return kBadSoftware;
  Descriptor d = encode_common(a.shareability, a.access_flag, a.dbm, a.contiguous, a.software);
  d |= field(a.memattr, 2);
  d |= field(static_cast<unsigned>(a.access), 6);
  d |= field(static_cast<unsigned>(a.execute), 53);
  return d;
}

Attributes decode(Descriptor d) {
  Attributes a;
  decode_common(d, a);
  a.memattr = static_cast<std::uint8_t>(get(d, 2, 0xf));
  a.access = static_cast<Access>(get(d, 6, 3));
  a.execute = static_cast<Execute>(get(d, 53, 3));
  return a;
}

}  // namespace s2

}  // namespace tlbkit::arch
