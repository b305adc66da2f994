// Typed attribute sets of leaf descriptors, one per translation regime, and
// their exact encoding into descriptor bits.
#pragma once

#include <cstdint>

#include "tlbkit/arch/descriptor.hpp"
#include "tlbkit/core/error.hpp"

namespace tlbkit::arch {

// Field positions shared by every regime.
inline constexpr unsigned kShBit = 8;          // SH[1:0] at 9:8
inline constexpr Descriptor kAfBit = 1u << 10;  // access flag
inline constexpr Descriptor kNgBit = 1u << 11;  // stage 1 EL1&0 only
inline constexpr Descriptor kDbmBit = std::uint64_t{1} << 51;
inline constexpr Descriptor kContiguousBit = std::uint64_t{1} << 52;
inline constexpr unsigned kSoftwareShift = 55;  // software bits 58:55
inline constexpr Descriptor kSoftwareMask = std::uint64_t{0xf} << kSoftwareShift;

enum class Shareability : std::uint8_t { non = 0, outer = 2, inner = 3 };
enum class AccessFlag : std::uint8_t { clear, set };
enum class DirtyBitModifier : std::uint8_t { off, on };
enum class Contiguous : std::uint8_t { no, yes };
enum class Execute : std::uint8_t { allowed, never };

// Stage 1, EL1&0 regime (TTBR0_EL1 / TTBR1_EL1).
namespace s1 {

// AP[2:1]: who may read and write.
enum class Access : std::uint8_t {
  el1_rw = 0,   // EL1 read/write, EL0 none
  all_rw = 1,   // EL1 and EL0 read/write (EL1 may not execute it)
  el1_ro = 2,   // EL1 read-only, EL0 none
  all_ro = 3,   // EL1 and EL0 read-only
};

enum class Scope : std::uint8_t { global, non_global };  // nG

inline constexpr Descriptor kAttrIndxMask = 0x7u << 2;
inline constexpr Descriptor kApMask = 0x3u << 6;
inline constexpr Descriptor kPxnBit = std::uint64_t{1} << 53;
inline constexpr Descriptor kUxnBit = std::uint64_t{1} << 54;
// Every attribute bit this regime defines.
inline constexpr Descriptor kAttributeMask = kAttrIndxMask | (1u << 5) | kApMask | (0x3u << kShBit) |
                                             kAfBit | kNgBit | kDbmBit | kContiguousBit | kPxnBit |
                                             kUxnBit | kSoftwareMask;

struct Attributes {
  std::uint8_t mair_index = 0;  // AttrIndx: 0..7
  Shareability shareability = Shareability::inner;
  Access access = Access::el1_rw;
  Execute el1_execute = Execute::never;  // PXN
  Execute el0_execute = Execute::never;  // UXN
  Scope scope = Scope::global;
  AccessFlag access_flag = AccessFlag::set;
  DirtyBitModifier dbm = DirtyBitModifier::off;
  Contiguous contiguous = Contiguous::no;
  std::uint8_t software = 0;  // 4 bits, 58:55
  friend constexpr bool operator==(const Attributes&, const Attributes&) = default;
};

// # Errors
// invalid_argument: mair_index > 7, software > 15.
Result<Descriptor> encode(const Attributes& attributes);
Attributes decode(Descriptor d);

}  // namespace s1

// Stage 1, EL2 regime without E2H (a single VA range, no ASID, no EL0).
namespace el2 {

enum class Access : std::uint8_t { rw, ro };  // AP[2]; AP[1] is RES1

inline constexpr Descriptor kAttrIndxMask = 0x7u << 2;
inline constexpr Descriptor kApRes1Bit = 1u << 6;
inline constexpr Descriptor kApRoBit = 1u << 7;
inline constexpr Descriptor kXnBit = std::uint64_t{1} << 54;
inline constexpr Descriptor kAttributeMask = kAttrIndxMask | (1u << 5) | kApRes1Bit | kApRoBit |
                                             (0x3u << kShBit) | kAfBit | kDbmBit | kContiguousBit |
                                             kXnBit | kSoftwareMask;

struct Attributes {
  std::uint8_t mair_index = 0;
  Shareability shareability = Shareability::inner;
  Access access = Access::rw;
  Execute execute = Execute::never;  // XN
  AccessFlag access_flag = AccessFlag::set;
  DirtyBitModifier dbm = DirtyBitModifier::off;
  Contiguous contiguous = Contiguous::no;
  std::uint8_t software = 0;
  friend constexpr bool operator==(const Attributes&, const Attributes&) = default;
};

// # Errors
// invalid_argument: mair_index > 7, software > 15.
Result<Descriptor> encode(const Attributes& attributes);
Attributes decode(Descriptor d);

}  // namespace el2

// Stage 2 (EL1&0 guest physical -> physical).
namespace s2 {

// S2AP[1:0] at 7:6.
enum class Access : std::uint8_t { none = 0, ro = 1, wo = 2, rw = 3 };

// XN[1:0] at 54:53 (FEAT_XNX): who may execute.
enum class Execute : std::uint8_t {
  all = 0,        // EL1 and EL0
  el0_only = 1,   // EL1 may not execute
  none = 2,       // nobody
  el1_only = 3,   // EL0 may not execute
};

// How MemAttr[3:0] (5:2) is read: HCR_EL2.FWB off or on (FEAT_S2FWB).
enum class Fwb : std::uint8_t { disabled, enabled };

// Named memory types; encoded per Fwb mode.
enum class MemoryType : std::uint8_t {
  device_nGnRnE,
  device_nGnRE,
  normal_non_cacheable,
  normal_write_back,      // without FWB: inner and outer write-back
  normal_use_stage1,      // FWB only: stage 1 decides (MemAttr 0b0111)
};

inline constexpr Descriptor kMemAttrMask = 0xfu << 2;
inline constexpr Descriptor kS2apMask = 0x3u << 6;
inline constexpr Descriptor kXnMask = std::uint64_t{0x3} << 53;
inline constexpr Descriptor kAttributeMask = kMemAttrMask | kS2apMask | (0x3u << kShBit) | kAfBit |
                                             kDbmBit | kContiguousBit | kXnMask | kSoftwareMask;

// MemAttr encoding of `type` in `mode`.
// # Errors
// unsupported: normal_use_stage1 without FWB.
Result<std::uint8_t> encode_memory_type(MemoryType type, Fwb mode);

// Whether MemAttr `memattr` (4 bits) makes the final mapping cacheable, so
// that unmapping it without FWB needs DC CIVAC before reuse. With FWB the
// hardware forces coherence and the answer is about the type only.
bool is_cacheable(std::uint8_t memattr, Fwb mode);

struct Attributes {
  std::uint8_t memattr = 0xf;  // MemAttr[3:0]; see encode_memory_type
  Access access = Access::rw;
  Shareability shareability = Shareability::inner;
  Execute execute = Execute::none;
  AccessFlag access_flag = AccessFlag::set;
  DirtyBitModifier dbm = DirtyBitModifier::off;
  Contiguous contiguous = Contiguous::no;
  std::uint8_t software = 0;
  friend constexpr bool operator==(const Attributes&, const Attributes&) = default;
};

// # Errors
// invalid_argument: memattr > 15, software > 15.
Result<Descriptor> encode(const Attributes& attributes);
Attributes decode(Descriptor d);

}  // namespace s2

}  // namespace tlbkit::arch
