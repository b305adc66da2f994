// The one way the tlbkit command reads a number from an option or an
// argument, and the one way it refuses one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "usage_error.hpp"
#include "tlbkit/text/parse.hpp"

namespace tlbkit::cli {

namespace detail {

// Whether `text` is written as a number text::parse_u64 reads, except that
// it may be negative or too big for 64 bits: every digit replaced by 0, and
// a leading '-' dropped, parse_u64 takes it.
inline bool number_shaped(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  std::string zeroed(text);
  const bool hex = zeroed.size() > 2 && zeroed[0] == '0' && (zeroed[1] == 'x' || zeroed[1] == 'X');
  for (std::size_t i = hex ? 2 : 0; i < zeroed.size(); ++i) {
    const char c = zeroed[i];
    const bool digit = (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
    if (digit) zeroed[i] = '0';
  }
  return text::parse_u64(zeroed).has_value();
}

}  // namespace detail

// The value of `option` (e.g. "--pes"; "operand" for a positional value):
// decimal or 0x-hex, '_' separators allowed ("0x1_0000"), no sign, no
// blanks, between `low` and `high` inclusive. Bad input throws UsageError:
//   --pes: "x" is not a number
//   --pes: "65" is out of range (1..64)
// A negative number, or one past 64 bits, is out of range; the range is
// given in hex when the value was.
inline std::uint64_t parse_number(std::string_view option, std::string_view text, std::uint64_t low = 0,
                                  std::uint64_t high = UINT64_MAX) {
  const std::optional<std::uint64_t> n = text::parse_u64(text);
  if (n && *n >= low && *n <= high) return *n;
  if (!n && !detail::number_shaped(text)) {
    throw UsageError(fmt::format("{}: \"{}\" is not a number", option, text));
  }
  const std::string_view digits = text.substr(text.starts_with('-') ? 1 : 0);
  const bool hex = digits.starts_with("0x") || digits.starts_with("0X");
  throw UsageError(hex ? fmt::format("{}: \"{}\" is out of range ({:#x}..{:#x})", option, text, low, high)
                       : fmt::format("{}: \"{}\" is out of range ({}..{})", option, text, low, high));
}

}  // namespace tlbkit::cli
