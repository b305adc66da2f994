// text::read_u64, the number reader of trace lines and command options:
// decimal or 0x-hex with '_' separators, every refusal named. Values at
// the 64-bit edge written out by hand.
#include <gtest/gtest.h>

#include "tlbkit/text/parse.hpp"

namespace tlbkit::text {
namespace {

std::optional<NumberRefusal> refusal_of(std::string_view s) { return read_u64(s).refusal; }

TEST(ReadU64, ReadsDecimalAndHexUpToTheLargest64BitValue) {
  EXPECT_EQ(read_u64("0").value, 0u);
  EXPECT_EQ(read_u64("4096").value, 4096u);
  EXPECT_EQ(read_u64("0x7f0000000000").value, 0x7f00'0000'0000u);
  EXPECT_EQ(read_u64("0XaBcD").value, 0xabcdu);
  EXPECT_EQ(read_u64("0x1_0000").value, 0x10000u);
  EXPECT_EQ(read_u64("1_000_000").value, 1'000'000u);
  const ReadNumber max_dec = read_u64("18446744073709551615");
  EXPECT_FALSE(max_dec.refusal);
  EXPECT_EQ(max_dec.value, UINT64_MAX);
  const ReadNumber max_hex = read_u64("0xffffffffffffffff");
  EXPECT_FALSE(max_hex.refusal);
  EXPECT_EQ(max_hex.value, UINT64_MAX);
}

TEST(ReadU64, OneMoreThanTheLargestIsTooBigInEitherBase) {
  EXPECT_EQ(refusal_of("18446744073709551616"), NumberRefusal::too_big);
  EXPECT_EQ(refusal_of("0x10000000000000000"), NumberRefusal::too_big);
  EXPECT_EQ(refusal_of("99999999999999999999"), NumberRefusal::too_big);
  // Past 2^64 and then not a digit: no number at all.
  EXPECT_EQ(refusal_of("99999999999999999999z"), NumberRefusal::not_a_number);
}

TEST(ReadU64, SignsSeparatorsAndStrayCharactersAreRefusedByName) {
  EXPECT_EQ(refusal_of("-5"), NumberRefusal::negative);
  EXPECT_EQ(refusal_of("--5"), NumberRefusal::not_a_number);
  EXPECT_EQ(refusal_of(""), NumberRefusal::not_a_number);
  EXPECT_EQ(refusal_of("0x"), NumberRefusal::not_a_number);
  EXPECT_EQ(refusal_of("_1"), NumberRefusal::not_a_number);
  EXPECT_EQ(refusal_of("1_"), NumberRefusal::not_a_number);
  EXPECT_EQ(refusal_of("12a"), NumberRefusal::not_a_number) << "hex digits need 0x";
  EXPECT_EQ(refusal_of("0xg"), NumberRefusal::not_a_number);
  EXPECT_EQ(refusal_of(" 1"), NumberRefusal::not_a_number);
}

}  // namespace
}  // namespace tlbkit::text
