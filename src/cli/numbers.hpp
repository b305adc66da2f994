// The one way the tlbkit command reads a number from an option or an
// argument, and the one way it refuses one.
#pragma once

#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "usage_error.hpp"
#include "tlbkit/text/parse.hpp"

namespace tlbkit::cli {

// The value of `option` (e.g. "--pes"; "operand" for a positional value):
// decimal or 0x-hex, '_' separators allowed ("0x1_0000"), no sign, no
// blanks, between `low` and `high` inclusive. Bad input throws UsageError:
//   --pes: "x" is not a number
//   --pes: "65" is out of range (1..64)
// A negative number, or one past 64 bits, is out of range; the range is
// given in hex when the value was.
inline std::uint64_t parse_number(std::string_view option, std::string_view text, std::uint64_t low = 0,
                                  std::uint64_t high = UINT64_MAX) {
  const text::ReadNumber n = text::read_u64(text);
  if (!n.refusal && n.value >= low && n.value <= high) return n.value;
  if (n.refusal == text::NumberRefusal::not_a_number) {
    throw UsageError(fmt::format("{}: \"{}\" is not a number", option, text));
  }
  const std::string_view digits = text.substr(text.starts_with('-') ? 1 : 0);
  const bool hex = digits.starts_with("0x") || digits.starts_with("0X");
  throw UsageError(hex ? fmt::format("{}: \"{}\" is out of range ({:#x}..{:#x})", option, text, low, high)
                       : fmt::format("{}: \"{}\" is out of range ({}..{})", option, text, low, high));
}

}  // namespace tlbkit::cli
