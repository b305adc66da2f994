// expand(): exactly the ops the shim runs for each command, operands derived
// by hand from docs/ARCHITECTURE-FACTS.md section 1:
//   by VA:  ASID 63:48 | TTL 47:44 (01 4K : level) | VA[55:12] 43:0
//   range:  ASID 63:48 | TG 47:46 (01 4K) | SCALE 45:44 | NUM 43:39 | TTL 38:37 | VA >> 12 36:0
// Range pieces: pairs = pages / 2 in base 32, one op per nonzero digit,
// highest SCALE first, each op covering (NUM + 1) << (5 * SCALE + 1) pages.
#include <gtest/gtest.h>

#include <vector>

#include "exec/plan_coverage.hpp"
#include "tlbkit/exec/shim_protocol.hpp"

namespace tlbkit::exec {
namespace {

using arch::Instr;
using arch::Op;
using test::ops_of;

const Op kDsbIshst{Instr::dsb_ishst, 0};
const Op kDsbIsh{Instr::dsb_ish, 0};
const Op kIcIalluis{Instr::ic_ialluis, 0};
const Op kIsb{Instr::isb, 0};

std::vector<Op> expanded(const ShimRequest& r) {
  const Result<Plan> plan = expand(r);
  EXPECT_TRUE(plan.ok()) << plan.error().message;
  return plan.ok() ? ops_of(*plan) : std::vector<Op>{};
}

ShimRequest request(ShimCommand command, arch::VirtAddr start = 0, std::uint64_t count = 0,
                    std::uint16_t asid = 0) {
  ShimRequest r;
  r.command = command;
  r.start = start;
  r.count = count;
  r.asid = asid;
  return r;
}

TEST(ShimExpand, NoneRunsNothing) { EXPECT_TRUE(expanded(ShimRequest{}).empty()); }

TEST(ShimExpand, NoneWithICacheRunsOnlyTheICacheTail) {
  ShimRequest r;
  r.icache = ShimICache::invalidate;
  EXPECT_EQ(expanded(r), (std::vector<Op>{kIcIalluis, kDsbIsh, kIsb}));
}

TEST(ShimExpand, BroadcastIsVmalle1isBetweenTheTwoBarriers) {
  EXPECT_EQ(expanded(request(ShimCommand::broadcast)),
            (std::vector<Op>{kDsbIshst, {Instr::vmalle1is, 0}, kDsbIsh}));
}

TEST(ShimExpand, BroadcastWithICacheAppendsIcIalluisDsbIsb) {
  ShimRequest r = request(ShimCommand::broadcast);
  r.icache = ShimICache::invalidate;
  EXPECT_EQ(expanded(r),
            (std::vector<Op>{kDsbIshst, {Instr::vmalle1is, 0}, kDsbIsh, kIcIalluis, kDsbIsh, kIsb}));
}

TEST(ShimExpand, AsidCommandIsAside1isWithTheAsidInTheTopSixteenBits) {
  // 0x1234 << 48.
  EXPECT_EQ(expanded(request(ShimCommand::asid, 0, 0, 0x1234)),
            (std::vector<Op>{kDsbIshst, {Instr::aside1is, 0x1234'0000'0000'0000}, kDsbIsh}));
}

TEST(ShimExpand, LoopIssuesOneVae1isPerPage) {
  // ASID 5 << 48 | 0x40_0000 >> 12 = 0x400, then 0x401, 0x402.
  EXPECT_EQ(expanded(request(ShimCommand::va_loop, 0x40'0000, 3, 5)),
            (std::vector<Op>{kDsbIshst,
                             {Instr::vae1is, 0x0005'0000'0000'0400},
                             {Instr::vae1is, 0x0005'0000'0000'0401},
                             {Instr::vae1is, 0x0005'0000'0000'0402},
                             kDsbIsh}));
}

TEST(ShimExpand, LeafLoopWithLevelThreeHintUsesVale1isAndTtlSeven) {
  ShimRequest r = request(ShimCommand::va_loop, 0x40'0000, 2, 5);
  r.levels = ShimLevels::leaf_only;
  r.ttl_level = 3;
  // TTL = 01 (4K) : 11 (level 3) = 0x7 in 47:44.
  EXPECT_EQ(expanded(r), (std::vector<Op>{kDsbIshst,
                                          {Instr::vale1is, 0x0005'7000'0000'0400},
                                          {Instr::vale1is, 0x0005'7000'0000'0401},
                                          kDsbIsh}));
}

TEST(ShimExpand, TwoMegabyteStrideLoopStepsFiveHundredTwelvePagesPerOp) {
  ShimRequest r = request(ShimCommand::va_loop, 0x4000'0000, 2, 5);
  r.stride = ShimStride::k2M;
  r.levels = ShimLevels::leaf_only;
  r.ttl_level = 2;
  // TTL 01:10 = 0x6; 0x4000_0000 >> 12 = 0x4_0000, + 0x200 per 2 MiB.
  EXPECT_EQ(expanded(r), (std::vector<Op>{kDsbIshst,
                                          {Instr::vale1is, 0x0005'6000'0004'0000},
                                          {Instr::vale1is, 0x0005'6000'0004'0200},
                                          kDsbIsh}));
}

TEST(ShimExpand, KernelHalfLoopKeepsVaBits55To12) {
  // 0xFFFF_8000_0000_0000 >> 12 = 0xF_FFF8_0000_0000; bits 43:0 = 0xFF8_0000_0000.
  EXPECT_EQ(expanded(request(ShimCommand::va_loop, 0xFFFF'8000'0000'0000, 1, 0)),
            (std::vector<Op>{kDsbIshst, {Instr::vae1is, 0x0000'0FF8'0000'0000}, kDsbIsh}));
}

TEST(ShimExpand, OddRangeIsOneRangeOpAndATrailingPage) {
  // 7 pages: 3 pairs = digit 3 at SCALE 0 -> NUM 2 (6 pages), then one page.
  // RVAE1IS: 5 << 48 | TG 01 << 46 = 0x4000_0000_0000 | NUM 2 << 39 = 0x100_0000_0000
  //          | 0x1000_0000 >> 12 = 0x1_0000  -> 0x0005_4100_0001_0000.
  // Trailing page 0x1000_6000: VAE1IS 0x0005_0000_0001_0006.
  EXPECT_EQ(expanded(request(ShimCommand::range, 0x1000'0000, 7, 5)),
            (std::vector<Op>{kDsbIshst,
                             {Instr::rvae1is, 0x0005'4100'0001'0000},
                             {Instr::vae1is, 0x0005'0000'0001'0006},
                             kDsbIsh}));
}

TEST(ShimExpand, SixtyFourLeafPagesAreOneScaleOneOpWithRangeTtl) {
  ShimRequest r = request(ShimCommand::range, 0x1000'0000, 64, 5);
  r.levels = ShimLevels::leaf_only;
  r.ttl_level = 3;
  // 32 pairs = "10" in base 32: SCALE 1, NUM 0 -> 1 << 6 = 64 pages.
  // 5 << 48 | TG 0x4000_0000_0000 | SCALE 1 << 44 = 0x1000_0000_0000
  // | TTL 3 << 37 = 0x60_0000_0000 | 0x1_0000  -> 0x0005_5060_0001_0000.
  EXPECT_EQ(expanded(r), (std::vector<Op>{kDsbIshst, {Instr::rvale1is, 0x0005'5060'0001'0000}, kDsbIsh}));
}

TEST(ShimExpand, ThreeLeafPagesWithHintGiveTheTrailingPageTheSameLevel) {
  ShimRequest r = request(ShimCommand::range, 0x2000, 3, 0);
  r.levels = ShimLevels::leaf_only;
  r.ttl_level = 3;
  // RVALE1IS TG 01 | NUM 0 | TTL 3 << 37 | base 2 = 0x0000_4060_0000_0002 (2 pages);
  // VALE1IS of 0x4000 with TTL 0111: 0x0000_7000_0000_0004.
  EXPECT_EQ(expanded(r), (std::vector<Op>{kDsbIshst,
                                          {Instr::rvale1is, 0x0000'4060'0000'0002},
                                          {Instr::vale1is, 0x0000'7000'0000'0004},
                                          kDsbIsh}));
}

TEST(ShimExpand, TwoToTheTwentyOnePagesIsTheSingleLargestRangeOp_KnownBug1) {
  // NUM 31, SCALE 3: TG 0x4000_0000_0000 | 0x3000_0000_0000 | 31 << 39 = 0xF80_0000_0000
  // = 0x0000_7F80_0000_0000 (not NUM 30 with a SCALE underflow).
  EXPECT_EQ(expanded(request(ShimCommand::range, 0, std::uint64_t{1} << 21, 0)),
            (std::vector<Op>{kDsbIshst, {Instr::rvae1is, 0x0000'7F80'0000'0000}, kDsbIsh}));
}

TEST(ShimExpand, RangePiecesAreIssuedBackToBackHighestScaleFirst) {
  // 1026 pages = 513 pairs = "G1" in base 32 (16, 1): SCALE 1 NUM 15 (512 pairs
  // = 1024 pages), then SCALE 0 NUM 0 (2 pages) at base + 1024 pages.
  // Op 1: TG | SCALE 1 << 44 | NUM 15 << 39 = 0x780_0000_0000 | 0 -> 0x0000_5780_0000_0000.
  // Op 2: TG | base 0x400                                          -> 0x0000_4000_0000_0400.
  EXPECT_EQ(expanded(request(ShimCommand::range, 0, 1026, 0)),
            (std::vector<Op>{kDsbIshst,
                             {Instr::rvae1is, 0x0000'5780'0000'0000},
                             {Instr::rvae1is, 0x0000'4000'0000'0400},
                             kDsbIsh}));
}

TEST(ShimExpand, OnePageRangeIsASingleByVaOp) {
  EXPECT_EQ(expanded(request(ShimCommand::range, 0x5000, 1, 2)),
            (std::vector<Op>{kDsbIshst, {Instr::vae1is, 0x0002'0000'0000'0005}, kDsbIsh}));
}

TEST(ShimExpand, LongestLoopExpandsIntoOnePlan) {
  ShimRequest r = request(ShimCommand::va_loop, 0, kShimMaxLoopOps, 1);
  r.icache = ShimICache::invalidate;
  const std::vector<Op> ops = expanded(r);
  ASSERT_EQ(ops.size(), kShimMaxLoopOps + 5);
  EXPECT_EQ(ops[kShimMaxLoopOps], (Op{Instr::vae1is, 0x0001'0000'0000'0000 | (kShimMaxLoopOps - 1)}));
}

TEST(ShimExpand, InvalidRequestsExpandToTheirError) {
  EXPECT_EQ(expand(request(ShimCommand::va_loop, 0x40'0000, 0, 0)).error().code, Errc::invalid_argument);
  EXPECT_EQ(expand(request(ShimCommand::range, 0x40'0100, 1, 0)).error().code, Errc::misaligned);
  EXPECT_EQ(expand(request(ShimCommand::broadcast, 0, 0, 3)).error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace tlbkit::exec
