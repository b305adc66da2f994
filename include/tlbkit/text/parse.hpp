// Hosted helpers: parsing and printing the numbers and names users type and read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "tlbkit/arch/granule.hpp"

namespace tlbkit::text {

// Why read_u64() refused its text.
enum class NumberRefusal : std::uint8_t {
  not_a_number,  // not written as a number at all
  negative,      // a number with a leading '-'
  too_big,       // a number past 2^64 - 1
};

// What read_u64() read: the value, or why there is none.
struct ReadNumber {
  std::uint64_t value = 0;
  std::optional<NumberRefusal> refusal;  // none: `value` is the number
};

namespace detail {

// The digits of `s` (no prefix, not empty, '_' separators allowed) in base
// `kBase`: the base a constant, so the overflow test needs no division
// (this runs for every number of a trace line).
template <unsigned kBase>
inline ReadNumber read_digits(std::string_view s) {
  // Up to 16 hex or 19 decimal characters cannot pass 2^64 - 1: then no
  // overflow test at all (the common case: addresses and ids).
  constexpr std::size_t kSafeLength = kBase == 16 ? 16 : 19;
  if (s.size() <= kSafeLength) {
    std::uint64_t value = 0;
    for (const char c : s) {
      if (c == '_') continue;
      unsigned digit;
      if (c >= '0' && c <= '9') {
        digit = static_cast<unsigned>(c - '0');
      } else if (kBase == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        digit = static_cast<unsigned>((c | 0x20) - 'a' + 10);
      } else {
        return ReadNumber{0, NumberRefusal::not_a_number};
      }
      value = value * kBase + digit;
    }
    return ReadNumber{value, std::nullopt};
  }
  std::uint64_t value = 0;
  bool too_big = false;  // every character is still checked: a bad one makes it no number
  for (const char c : s) {
    if (c == '_') continue;
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (kBase == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (kBase == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return ReadNumber{0, NumberRefusal::not_a_number};
    }
    too_big = too_big || __builtin_mul_overflow(value, std::uint64_t{kBase}, &value) ||
              __builtin_add_overflow(value, std::uint64_t{digit}, &value);
  }
  if (too_big) return ReadNumber{0, NumberRefusal::too_big};
  return ReadNumber{value, std::nullopt};
}

}  // namespace detail

// A non-negative integer written in decimal or as 0x-prefixed hex, with
// optional '_' digit separators ("0x1_0000"). Nothing else is accepted: no
// sign, no blanks, no octal, no overflow; the refusal says which.
inline ReadNumber read_u64(std::string_view s) {
  if (s.starts_with('-')) {
    const ReadNumber magnitude = read_u64(s.substr(1));
    if (magnitude.refusal == NumberRefusal::not_a_number || s.starts_with("--")) {
      return ReadNumber{0, NumberRefusal::not_a_number};
    }
    return ReadNumber{0, NumberRefusal::negative};
  }
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return ReadNumber{0, NumberRefusal::not_a_number};
  return base == 16 ? detail::read_digits<16>(s) : detail::read_digits<10>(s);
}

// read_u64()'s value, or nothing when it refused the text.
inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
  const ReadNumber n = read_u64(s);
  if (n.refusal) return std::nullopt;
  return n.value;
}

// "0x10000000": hex with no leading zeros.
inline std::string hex(std::uint64_t v) { return fmt::format("{:#x}", v); }

// "0x0005000000010000": a 64-bit register value, all 16 digits.
inline std::string hex64(std::uint64_t v) { return fmt::format("{:#018x}", v); }

// The exclusive end of [start, start + size) in hex; "0x10000000000000000"
// when the range ends at the very top of the 64-bit space.
inline std::string hex_end(std::uint64_t start, std::uint64_t size) {
  const std::uint64_t end = start + size;
  if (size != 0 && end == 0) return "0x10000000000000000";
  return hex(end);
}

// "4K" / "16K" / "64K", either case.
inline std::optional<arch::Granule> parse_granule(std::string_view s) {
  if (s == "4K" || s == "4k") return arch::Granule::k4K;
  if (s == "16K" || s == "16k") return arch::Granule::k16K;
  if (s == "64K" || s == "64k") return arch::Granule::k64K;
  return std::nullopt;
}

}  // namespace tlbkit::text
