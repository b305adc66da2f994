// Internal: which input addresses the encoders accept, and the errors they
// give for the others. Shared by ops.cpp and tlbi.cpp.
#pragma once

#include <cstdint>

#include "tlbkit/core/error.hpp"
#include "tlbkit/arch/granule.hpp"

namespace tlbkit::arch {

inline constexpr unsigned kInputBits = 48;  // 52-bit VAs and IPAs (LPA/LPA2) are not supported
inline constexpr std::uint64_t kLowerSpaceEnd = std::uint64_t{1} << kInputBits;
inline constexpr std::uint64_t kUpperSpaceStart = ~std::uint64_t{0} << kInputBits;

// In the lower (TTBR0) VA range or an IPA: bits 63:48 all zero.
constexpr bool in_lower_space(std::uint64_t a) { return a < kLowerSpaceEnd; }
// A 48-bit VA of either range: bits 63:48 all zero (TTBR0) or all one (TTBR1).
constexpr bool is_48bit_va(VirtAddr va) { return in_lower_space(va) || va >= kUpperSpaceStart; }

inline constexpr Error kVaNot48Bit{
    Errc::out_of_range,
    "VA is not a 48-bit address: bits 63:48 must be all zero (TTBR0) or all one (TTBR1)"};
inline constexpr Error kEl2VaNot48Bit{
    Errc::out_of_range, "EL2 VA beyond 48 bits: the EL2 regime (without E2H) has one VA range, "
                        "bits 63:48 must be zero"};
inline constexpr Error kIpaNot48Bit{
    Errc::out_of_range, "IPA beyond 48 bits: 52-bit IPAs are not supported"};

}  // namespace tlbkit::arch
