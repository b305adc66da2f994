// Bad input to every public call of pt::Table: the exact error code, a
// non-empty message, and nothing changed — the tree bit-identical, no record,
// nothing retired, the live table pages and their contents as they were.
#include <gtest/gtest.h>

#include <cstring>

#include "pt/pt_harness.hpp"

namespace tlbkit::test {
namespace {

using arch::Regime;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t k2M = std::uint64_t{1} << 21;
constexpr std::uint64_t k1G = std::uint64_t{1} << 30;
constexpr std::uint64_t kTop48 = std::uint64_t{1} << 48;

constexpr VirtAddr kBlock1G = std::uint64_t{0x40} << 30;     // a 1 GiB block
constexpr VirtAddr kBlocks2M = kBlock1G + k1G;                // two 2 MiB blocks
constexpr VirtAddr kPages = kBlock1G + 2 * k1G;               // 16 pages
constexpr VirtAddr kHole = kBlock1G + 3 * k1G;                // nothing mapped
constexpr PhysAddr kPa = std::uint64_t{0x10} << 30;

std::string message_problem(const Error& e) {
  return e.message == nullptr || std::strlen(e.message) == 0 ? "empty error message" : "";
}

// A populated tree of each regime: a 1 GiB block, two 2 MiB blocks, pages.
class BadInput : public ::testing::Test {
 protected:
  void populate(const TreeConfig& tree, const AttrSet& attrs) {
    h_ = std::make_unique<Harness>(tree);
    for (const Op& op : {Op::map(kBlock1G, kPa, k1G, attrs), Op::map(kBlocks2M, kPa + k1G, 2 * k2M, attrs),
                         Op::map(kPages, kPa + 2 * k1G, 16 * kPage, attrs)}) {
      const std::vector<std::string> problems = h_->apply(op);
      ASSERT_TRUE(problems.empty()) << join(problems);
    }
  }
  void SetUp() override { populate(stage1_tree(Regime::el1_stage1, 48), arch::s1::Attributes{}); }

  void refused(const Op& op, Errc code) {
    const std::vector<std::string> problems = h_->apply_expecting_error(op, code);
    EXPECT_TRUE(problems.empty()) << join(problems);
  }

  // query()/walk() are const: also prove they changed nothing.
  void unchanged_by_const_call(std::uint64_t hash_before) {
    EXPECT_EQ(h_->memory().contents_hash(), hash_before);
    EXPECT_TRUE(h_->take() == h_->snapshot());
    EXPECT_TRUE(h_->sink().empty());
  }

  std::unique_ptr<Harness> h_;
};

// ------------------------------------------------------------------ create --

TEST(BadInputCreate, RefusesAGeometryOfTheOtherStageWithInvalidArgumentAndAllocatesNothing) {
  const TreeConfig s1 = stage1_tree(Regime::el1_stage1, 48);
  const TreeConfig s2 = stage2_tree(40, 1);
  const struct {
    Regime regime;
    arch::Geometry geometry;
  } cases[] = {{Regime::el1_stage1, s2.geometry}, {Regime::el2_stage1, s2.geometry}, {Regime::stage2, s1.geometry}};
  for (const auto& c : cases) {
    FakeMemory memory;
    const Result<pt::Table> t = pt::Table::create(c.regime, c.geometry, memory);
    ASSERT_FALSE(t.ok()) << arch::regime_name(c.regime);
    EXPECT_EQ(t.error().code, Errc::invalid_argument) << arch::regime_name(c.regime);
    EXPECT_EQ(message_problem(t.error()), "");
    EXPECT_EQ(memory.allocations(), 0u);
    EXPECT_EQ(memory.live_page_count(), 0u);
  }
}

TEST(BadInputCreate, ReportsNoMemoryWhenTheRootCannotBeAllocatedAndLeaksNothing) {
  for (const TreeConfig& tree : {stage1_tree(Regime::el1_stage1, 39), stage2_tree(40, 1)}) {
    FakeMemory memory;
    memory.fail_after(0);
    const Result<pt::Table> t = pt::Table::create(tree.regime, tree.geometry, memory);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, Errc::no_memory);
    EXPECT_EQ(message_problem(t.error()), "");
    EXPECT_EQ(memory.live_page_count(), 0u);
  }
}

TEST(BadInputCreate, UnsupportedGranulesAndGeometriesNeverReachTheEngine) {
  // Table::create takes a Geometry, and only these factories make one: the
  // unsupported shapes are refused there, with these codes.
  const auto code = [](const Result<arch::Geometry>& g) { return g.ok() ? std::string("ok") : errc_name(g.error().code); };
  using arch::Granule;
  EXPECT_EQ(code(arch::Geometry::stage1(Granule::k16K, 48)), "unsupported");
  EXPECT_EQ(code(arch::Geometry::stage1(Granule::k64K, 42)), "unsupported");
  EXPECT_EQ(code(arch::Geometry::stage1(Granule::k4K, 52)), "unsupported");
  EXPECT_EQ(code(arch::Geometry::stage1(Granule::k4K, 24)), "out_of_range");
  EXPECT_EQ(code(arch::Geometry::stage2(Granule::k16K, 40, 1)), "unsupported");
  EXPECT_EQ(code(arch::Geometry::stage2(Granule::k4K, 40, 3)), "invalid_argument");
  EXPECT_EQ(code(arch::Geometry::stage2(Granule::k4K, 39, 0)), "invalid_argument");  // one root entry
  EXPECT_EQ(code(arch::Geometry::stage2(Granule::k4K, 48, 2)), "invalid_argument");  // 64 root tables
  EXPECT_EQ(code(arch::Geometry::from_vtcr(25 | (1u << 6) | (1u << 14))), "unsupported");  // TG0 64K
  EXPECT_EQ(code(arch::Geometry::from_vtcr(25 | (1u << 6) | (2u << 14))), "unsupported");  // TG0 16K
  EXPECT_EQ(code(arch::Geometry::from_vtcr(25 | (1u << 6) | (3u << 14))), "invalid_argument");  // reserved
  EXPECT_EQ(code(arch::Geometry::from_vtcr(25 | (3u << 6))), "invalid_argument");  // SL0 = 3 reserved
  EXPECT_EQ(code(arch::Geometry::from_vtcr(25 | (1u << 6) | (std::uint64_t{1} << 32))), "unsupported");  // DS
}

// --------------------------------------------------------------------- map --

TEST_F(BadInput, MapRefusesMisalignedAddressesSizesAndZeroSize) {
  const arch::s1::Attributes a;
  refused(Op::map(kHole + 0x800, kPa, kPage, a), Errc::misaligned);
  refused(Op::map(kHole, kPa + 0x10, kPage, a), Errc::misaligned);
  refused(Op::map(kHole, kPa, kPage + 0x200, a), Errc::misaligned);
  refused(Op::map(kHole, kPa, 0, a), Errc::misaligned);
}

TEST_F(BadInput, MapRefusesInputAndOutputRangesOutsideTheirSpaces) {
  const arch::s1::Attributes a;
  refused(Op::map(kTop48, kPa, kPage, a), Errc::out_of_range);
  refused(Op::map(kTop48 - kPage, kPa, 2 * kPage, a), Errc::out_of_range);
  refused(Op::map(~std::uint64_t{0} - kPage + 1, kPa, 2 * kPage, a), Errc::out_of_range);  // wraps
  refused(Op::map(kHole, kTop48, kPage, a), Errc::out_of_range);
  refused(Op::map(kHole, kTop48 - kPage, 2 * kPage, a), Errc::out_of_range);
}

TEST_F(BadInput, MapRefusesAttributesOfAnotherRegimeOrOutsideTheRegimesFields) {
  refused(Op::map(kHole, kPa, kPage, arch::s2::Attributes{}), Errc::invalid_argument);
  refused(Op::map(kHole, kPa, kPage, arch::el2::Attributes{}), Errc::invalid_argument);
  refused(Op::map(kHole, kPa, kPage, RawAttributes{Regime::el2_stage1, arch::kAfBit}), Errc::invalid_argument);
  for (const Descriptor bit : {Descriptor{1} << 0, Descriptor{1} << 1, Descriptor{1} << 12, Descriptor{1} << 47,
                               Descriptor{1} << 48, Descriptor{1} << 50, Descriptor{1} << 59, Descriptor{1} << 63}) {
    SCOPED_TRACE(hex(bit));
    refused(Op::map(kHole, kPa, kPage, RawAttributes{Regime::el1_stage1, arch::kAfBit | bit}),
            Errc::invalid_argument);
  }
}

TEST_F(BadInput, MapRefusesTypedSetsThatCannotBeEncoded) {
  arch::s1::Attributes bad_index;
  bad_index.mair_index = 8;
  refused(Op::map(kHole, kPa, kPage, bad_index), Errc::invalid_argument);
  arch::s1::Attributes bad_software;
  bad_software.software = 16;
  refused(Op::map(kHole, kPa, kPage, bad_software), Errc::invalid_argument);
}

TEST_F(BadInput, MapRefusesTheContiguousHintAsUnsupported) {
  arch::s1::Attributes a;
  a.contiguous = arch::Contiguous::yes;
  refused(Op::map(kHole, kPa, 16 * kPage, a), Errc::unsupported);
  refused(Op::map(kHole, kPa, kPage, RawAttributes{Regime::el1_stage1, arch::kAfBit | arch::kContiguousBit}),
          Errc::unsupported);
}

TEST_F(BadInput, MapRefusesAnyOverlapWithPagesBlocksOrAGigabyteBlock) {
  const arch::s1::Attributes a;
  refused(Op::map(kPages, kPa, kPage, a), Errc::overlap);                           // same page
  refused(Op::map(kPages + 15 * kPage, kPa, 2 * kPage, a), Errc::overlap);          // last page + hole
  refused(Op::map(kPages - kPage, kPa, 2 * kPage, a), Errc::overlap);               // hole + first page
  refused(Op::map(kBlocks2M + k2M + kPage, kPa, kPage, a), Errc::overlap);          // inside a 2 MiB block
  refused(Op::map(kBlock1G + k1G / 2, kPa, kPage, a), Errc::overlap);               // inside the 1 GiB block
  refused(Op::map(kBlock1G, kPa, k1G, a), Errc::overlap);                           // the same block
  refused(Op::map(kBlock1G - k1G, kPa, 5 * k1G, a), Errc::overlap);                 // everything and more
  refused(Op::map(kPages + 16 * kPage - 4 * kPage, kPa, k2M, a, pt::BlockMappings::forbidden), Errc::overlap);
}

// ------------------------------------------------------------------- unmap --

TEST_F(BadInput, UnmapRefusesMisalignedOrEmptyRanges) {
  refused(Op::unmap(kPages + 0x800, kPage), Errc::misaligned);
  refused(Op::unmap(kPages, kPage + 1), Errc::misaligned);
  refused(Op::unmap(kPages, 0), Errc::misaligned);
}

TEST_F(BadInput, UnmapRefusesRangesOutsideTheInputSpace) {
  refused(Op::unmap(kTop48, kPage), Errc::out_of_range);
  refused(Op::unmap(kTop48 - kPage, 2 * kPage), Errc::out_of_range);
  refused(Op::unmap(kBlock1G, ~std::uint64_t{0} - kPage + 1), Errc::out_of_range);  // wraps
}

// ----------------------------------------------------------------- protect --

TEST_F(BadInput, ProtectRefusesMisalignedOrEmptyRangesAndRangesOutsideTheSpace) {
  refused(Op::protect(kPages + 0x10, kPage, arch::s1::kApMask, 0), Errc::misaligned);
  refused(Op::protect(kPages, 0, arch::s1::kApMask, 0), Errc::misaligned);
  refused(Op::protect(kTop48 - kPage, 2 * kPage, arch::s1::kApMask, 0), Errc::out_of_range);
}

TEST_F(BadInput, ProtectRefusesChangesOfBitsOutsideTheAttributeFields) {
  for (const Descriptor bit : {Descriptor{1} << 0, Descriptor{1} << 1, Descriptor{1} << 12, Descriptor{1} << 48,
                               Descriptor{1} << 50, Descriptor{1} << 63}) {
    SCOPED_TRACE(hex(bit));
    refused(Op::protect(kPages, kPage, bit, 0), Errc::invalid_argument);
    refused(Op::protect(kPages, kPage, 0, bit), Errc::invalid_argument);
  }
}

TEST_F(BadInput, ProtectRefusesSettingTheContiguousHintAsUnsupported) {
  refused(Op::protect(kBlock1G, k1G, 0, arch::kContiguousBit), Errc::unsupported);
  refused(Op::protect(kPages, kPage, arch::s1::kApMask, arch::kContiguousBit), Errc::unsupported);
}

TEST_F(BadInput, ProtectMayClearTheContiguousHintWhichIsNoChangeHere) {
  const std::vector<std::string> problems = h_->apply(Op::protect(kPages, 16 * kPage, arch::kContiguousBit, 0));
  EXPECT_TRUE(problems.empty()) << join(problems);
  EXPECT_TRUE(h_->sink().events().empty());
}

// ------------------------------------------------------------------- split --

TEST_F(BadInput, SplitRefusesMisalignedRangesRangesOutsideTheSpaceAndBadLevels) {
  refused(Op::split(kBlock1G + 0x100, kPage, 3), Errc::misaligned);
  refused(Op::split(kBlock1G, 0, 3), Errc::misaligned);
  refused(Op::split(kTop48 - kPage, 2 * kPage, 3), Errc::out_of_range);
  for (const unsigned level : {0u, 4u, 99u}) refused(Op::split(kBlock1G, k2M, level), Errc::invalid_argument);
}

// ----------------------------------------------------------------- promote --

TEST_F(BadInput, PromoteRefusesAddressesOutsideTheSpaceAndLevelsWithoutBlocks) {
  refused(Op::promote(kTop48, 2), Errc::out_of_range);
  refused(Op::promote(~std::uint64_t{0}, 1), Errc::out_of_range);
  for (const unsigned level : {0u, 3u, 4u}) refused(Op::promote(kPages, level), Errc::unsupported);
}

TEST_F(BadInput, PromoteReportsNotMappedWhenTheSlotHoldsNoTable) {
  refused(Op::promote(kHole, 2), Errc::not_mapped);              // empty slot
  refused(Op::promote(kHole, 1), Errc::not_mapped);
  refused(Op::promote(kBlock1G, 1), Errc::not_mapped);           // holds a 1 GiB block
  refused(Op::promote(kBlock1G + k2M, 2), Errc::not_mapped);     // inside a 1 GiB block: no slot
  refused(Op::promote(kBlocks2M + k2M, 2), Errc::not_mapped);    // holds a 2 MiB block
}

TEST_F(BadInput, PromoteRefusesNonUniformTranslationsWithInvalidArgument) {
  const arch::s1::Attributes a;
  // kPages: a table of 16 pages, the rest unmapped.
  refused(Op::promote(kPages, 2), Errc::invalid_argument);
  // The level-1 slot of kBlocks2M: two blocks, then nothing.
  refused(Op::promote(kBlocks2M, 1), Errc::invalid_argument);
  // A whole 2 MiB of pages whose output is not 2 MiB aligned.
  const VirtAddr shifted = kHole;
  ASSERT_TRUE(h_->apply(Op::map(shifted, kPa + 3 * k1G + kPage, k2M, a)).empty());
  refused(Op::promote(shifted, 2), Errc::invalid_argument);
  // A whole 2 MiB of pages with a gap in the output.
  const VirtAddr gap = kHole + k2M;
  ASSERT_TRUE(h_->apply(Op::map(gap, kPa + 4 * k1G, k2M / 2, a, pt::BlockMappings::forbidden)).empty());
  ASSERT_TRUE(h_->apply(Op::map(gap + k2M / 2, kPa + 4 * k1G + k2M, k2M / 2, a)).empty());
  refused(Op::promote(gap, 2), Errc::invalid_argument);
  // A whole contiguous 2 MiB of pages where one page differs in attributes.
  const VirtAddr differ = kHole + 2 * k2M;
  ASSERT_TRUE(h_->apply(Op::map(differ, kPa + 5 * k1G, k2M, a, pt::BlockMappings::forbidden)).empty());
  ASSERT_TRUE(h_->apply(Op::protect(differ + 7 * kPage, kPage, arch::s1::kUxnBit, 0)).empty());
  refused(Op::promote(differ, 2), Errc::invalid_argument);
  // The same 2 MiB with one page missing.
  ASSERT_TRUE(h_->apply(Op::protect(differ + 7 * kPage, kPage, 0, arch::s1::kUxnBit)).empty());
  ASSERT_TRUE(h_->apply(Op::unmap(differ + 100 * kPage, kPage)).empty());
  refused(Op::promote(differ, 2), Errc::invalid_argument);
}

TEST(BadInputPromote, ALevelAboveTheStartLevelHasNoSlotToPromote) {
  // VTCR T0SZ = 32, SL0 = 0: the walk starts at level 2, so no level-1 slot
  // exists. The contract lists no code for this; not_mapped or unsupported
  // are the plausible ones.
  Harness h(stage2_tree_from_vtcr(32));
  ASSERT_TRUE(h.apply(Op::map(0, kPa, 2 * k2M, arch::s2::Attributes{}, pt::BlockMappings::forbidden)).empty());
  h.sink().clear_events();
  const Status s = h.run_engine(Op::promote(0, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.error().code == Errc::not_mapped || s.error().code == Errc::unsupported)
      << errc_name(s.error().code);
  EXPECT_TRUE(h.take() == h.snapshot());
  EXPECT_TRUE(h.sink().empty());
}

// --------------------------------------------------------------- query/walk --

TEST_F(BadInput, QueryReportsOutOfRangeAndNotMappedAndChangesNothing) {
  h_->sink().clear_events();
  const std::uint64_t hash = h_->memory().contents_hash();
  for (const VirtAddr va : {kTop48, ~std::uint64_t{0}}) {
    const Result<pt::Translation> t = h_->table().query(va);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, Errc::out_of_range);
    EXPECT_EQ(message_problem(t.error()), "");
  }
  for (const VirtAddr va : {kHole, kPages + 16 * kPage, kPages - 1, VirtAddr{0}}) {
    const Result<pt::Translation> t = h_->table().query(va);
    ASSERT_FALSE(t.ok()) << hex(va);
    EXPECT_EQ(t.error().code, Errc::not_mapped);
    EXPECT_EQ(message_problem(t.error()), "");
  }
  const std::vector<std::string> ok = h_->check_queries({kBlock1G + 0x1234, kBlocks2M + k2M + 8, kPages + 0xfff});
  EXPECT_TRUE(ok.empty()) << join(ok);
  unchanged_by_const_call(hash);
}

class NoCalls final : public pt::WalkVisitor {
 public:
  void table(unsigned, VirtAddr, Descriptor) override { ++calls; }
  void leaf(unsigned, VirtAddr, Descriptor) override { ++calls; }
  int calls = 0;
};

TEST_F(BadInput, WalkRefusesMisalignedEmptyAndOutOfRangeRangesWithoutVisiting) {
  h_->sink().clear_events();
  const std::uint64_t hash = h_->memory().contents_hash();
  const struct {
    VirtAddr va;
    std::uint64_t size;
    Errc code;
  } cases[] = {{kBlock1G + 0x800, kPage, Errc::misaligned},
               {kBlock1G, 0x800, Errc::misaligned},
               {kBlock1G, 0, Errc::misaligned},
               {kTop48, kPage, Errc::out_of_range},
               {kTop48 - kPage, 2 * kPage, Errc::out_of_range},
               {kBlock1G, ~std::uint64_t{0} - kPage + 1, Errc::out_of_range}};
  for (const auto& c : cases) {
    NoCalls visitor;
    const Status s = h_->table().walk(c.va, c.size, visitor);
    ASSERT_FALSE(s.ok()) << hex(c.va) << " " << hex(c.size);
    EXPECT_EQ(s.error().code, c.code) << hex(c.va) << " " << hex(c.size);
    EXPECT_EQ(message_problem(s.error()), "");
    EXPECT_EQ(visitor.calls, 0);
  }
  const std::vector<std::string> ok = h_->check_walk(kBlock1G - k1G, 5 * k1G);
  EXPECT_TRUE(ok.empty()) << join(ok);
  unchanged_by_const_call(hash);
}

// --------------------------------------------- the other regimes' fields --

TEST_F(BadInput, El2TablesRefuseStage1El1OnlyBits) {
  populate(stage1_tree(Regime::el2_stage1, 48), arch::el2::Attributes{});
  refused(Op::map(kHole, kPa, kPage, arch::s1::Attributes{}), Errc::invalid_argument);
  refused(Op::map(kHole, kPa, kPage, RawAttributes{Regime::el2_stage1, arch::kAfBit | arch::kNgBit}),
          Errc::invalid_argument);
  refused(Op::map(kHole, kPa, kPage, RawAttributes{Regime::el2_stage1, arch::kAfBit | arch::s1::kPxnBit}),
          Errc::invalid_argument);
  refused(Op::protect(kPages, kPage, 0, arch::kNgBit), Errc::invalid_argument);
  refused(Op::protect(kPages, kPage, arch::s1::kPxnBit, 0), Errc::invalid_argument);
  refused(Op::map(kPages, kPa, kPage, arch::el2::Attributes{}), Errc::overlap);
}

TEST_F(BadInput, Stage2TablesRefuseStage1BitsAndStage1Sets) {
  populate(stage2_tree(40, 1), arch::s2::Attributes{});
  refused(Op::map(kHole, kPa, kPage, arch::s1::Attributes{}), Errc::invalid_argument);
  refused(Op::map(kHole, kPa, kPage, RawAttributes{Regime::stage2, arch::kAfBit | arch::kNgBit}),
          Errc::invalid_argument);
  refused(Op::map(std::uint64_t{1} << 40, kPa, kPage, arch::s2::Attributes{}), Errc::out_of_range);
  refused(Op::protect(kPages, kPage, 0, arch::kNgBit), Errc::invalid_argument);
  refused(Op::promote(std::uint64_t{1} << 40, 2), Errc::out_of_range);
  arch::s2::Attributes contiguous;
  contiguous.contiguous = arch::Contiguous::yes;
  refused(Op::map(kHole, kPa, kPage, contiguous), Errc::unsupported);
  arch::s2::Attributes bad_memattr;
  bad_memattr.memattr = 16;
  refused(Op::map(kHole, kPa, kPage, bad_memattr), Errc::invalid_argument);
}

}  // namespace
}  // namespace tlbkit::test
