// sim::PhysicalMemory: placement, reuse, counters, and misuse that is
// recorded without corrupting anything.
#include <gtest/gtest.h>

#include "tlbkit/sim/physical_memory.hpp"

namespace tlbkit::sim {
namespace {

constexpr PhysAddr kBase = 0x8000'0000;
constexpr std::uint64_t kPage = 4096;

TEST(PhysicalMemory, FirstAllocationsAreConsecutivePagesFromTheBase) {
  PhysicalMemory m(kBase, 64);
  EXPECT_EQ(m.allocate(1).value(), kBase);
  EXPECT_EQ(m.allocate(1).value(), kBase + kPage);
  EXPECT_EQ(m.allocate(1).value(), kBase + 2 * kPage);
  EXPECT_TRUE(m.misuses().empty());
}

TEST(PhysicalMemory, MultiPageAllocationsAreNaturallyAligned) {
  PhysicalMemory m(kBase, 64);
  ASSERT_EQ(m.allocate(1).value(), kBase);
  // 16 pages need 64 KiB alignment: the first such run after page 0.
  EXPECT_EQ(m.allocate(16).value(), kBase + 16 * kPage);
  // The hole below is still used for small allocations.
  EXPECT_EQ(m.allocate(2).value(), kBase + 2 * kPage);
  EXPECT_EQ(m.allocate(1).value(), kBase + kPage);
}

TEST(PhysicalMemory, FreedPagesAreReusedLowestFirstAndReadAsZero) {
  PhysicalMemory m(kBase, 8);
  const PhysAddr a = m.allocate(1).value();
  const PhysAddr b = m.allocate(1).value();
  m.descriptors(a)[7] = 0x1234;
  m.free(a, 1);
  EXPECT_FALSE(m.is_live(a));
  EXPECT_EQ(m.allocate(1).value(), a);
  EXPECT_EQ(m.peek(a)[7], 0u);
  EXPECT_TRUE(m.is_live(b));
  EXPECT_TRUE(m.misuses().empty());
}

TEST(PhysicalMemory, EveryPageOfAMultiPageAllocationHasItsOwnDescriptors) {
  PhysicalMemory m(kBase, 8);
  const PhysAddr root = m.allocate(2).value();
  m.descriptors(root)[0] = 1;
  m.descriptors(root + kPage)[0] = 2;
  EXPECT_EQ(m.peek(root)[0], 1u);
  EXPECT_EQ(m.peek(root + kPage)[0], 2u);
  EXPECT_EQ(m.allocation_pages(root), 2u);
  EXPECT_EQ(m.allocation_pages(root + kPage), std::nullopt);
  EXPECT_TRUE(m.misuses().empty());
}

TEST(PhysicalMemory, CountersTrackAllocatedFreedLiveAndPeakPages) {
  PhysicalMemory m(kBase, 64);
  const PhysAddr a = m.allocate(4).value();
  const PhysAddr b = m.allocate(1).value();
  m.free(a, 4);
  (void)m.allocate(2);
  m.free(b, 1);
  const MemoryCounters& c = m.counters();
  EXPECT_EQ(c.allocations, 3u);
  EXPECT_EQ(c.frees, 2u);
  EXPECT_EQ(c.allocated_pages, 7u);
  EXPECT_EQ(c.freed_pages, 5u);
  EXPECT_EQ(c.live_pages, 2u);
  EXPECT_EQ(c.peak_live_pages, 5u);
  EXPECT_EQ(c.failed_allocations, 0u);
}

TEST(PhysicalMemory, ExhaustionFailsWithNoMemoryAndAllocatesNothing) {
  PhysicalMemory m(kBase, 4);
  ASSERT_TRUE(m.allocate(2).ok());
  ASSERT_TRUE(m.allocate(1).ok());
  const Result<PhysAddr> r = m.allocate(2);  // one page left, and it is not 2-aligned anyway
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::no_memory);
  EXPECT_EQ(m.counters().failed_allocations, 1u);
  EXPECT_EQ(m.counters().live_pages, 3u);
  EXPECT_TRUE(m.misuses().empty());  // running out is not a misuse
}

TEST(PhysicalMemory, PageCountThatIsNotAPowerOfTwoIsRefusedAndRecorded) {
  PhysicalMemory m(kBase, 64);
  for (const unsigned bad : {0u, 3u}) {
    const Result<PhysAddr> r = m.allocate(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
  ASSERT_EQ(m.misuses().size(), 2u);
  EXPECT_EQ(m.misuses()[1], (Misuse{MisuseKind::bad_page_count, 0, 3}));
  EXPECT_EQ(m.counters().live_pages, 0u);
}

TEST(PhysicalMemory, FreeOfAnUnknownAddressIsRecordedAndFreesNothing) {
  PhysicalMemory m(kBase, 8);
  const PhysAddr a = m.allocate(2).value();
  const MemoryCounters before = m.counters();
  m.free(0x1234'5000, 1);
  m.free(a + kPage, 1);  // inside an allocation, but not its start
  ASSERT_EQ(m.misuses().size(), 2u);
  EXPECT_EQ(m.misuses()[0], (Misuse{MisuseKind::unknown_free, 0x1234'5000, 1}));
  EXPECT_EQ(m.misuses()[1].kind, MisuseKind::unknown_free);
  EXPECT_EQ(m.counters(), before);
  EXPECT_TRUE(m.is_live(a));
  EXPECT_TRUE(m.is_live(a + kPage));
}

TEST(PhysicalMemory, DoubleFreeIsRecordedAsSuchAndChangesNoCounter) {
  PhysicalMemory m(kBase, 8);
  const PhysAddr a = m.allocate(1).value();
  m.free(a, 1);
  const MemoryCounters before = m.counters();
  m.free(a, 1);
  ASSERT_EQ(m.misuses().size(), 1u);
  EXPECT_EQ(m.misuses()[0], (Misuse{MisuseKind::double_free, a, 1}));
  EXPECT_EQ(describe(m.misuses()[0]), "double free: 0x80000000 (1 page)");
  EXPECT_EQ(m.counters(), before);
}

TEST(PhysicalMemory, ReallocatedPagesAreNoLongerDoubleFreeCandidates) {
  PhysicalMemory m(kBase, 8);
  const PhysAddr a = m.allocate(1).value();
  m.free(a, 1);
  ASSERT_EQ(m.allocate(1).value(), a);
  m.free(a, 1);  // the new allocation: a correct free
  EXPECT_TRUE(m.misuses().empty());
  m.free(a, 1);
  ASSERT_EQ(m.misuses().size(), 1u);
  EXPECT_EQ(m.misuses()[0].kind, MisuseKind::double_free);
}

TEST(PhysicalMemory, FreeWithTheWrongPageCountIsRecordedAndLeavesTheAllocationLive) {
  PhysicalMemory m(kBase, 8);
  const PhysAddr a = m.allocate(2).value();
  m.free(a, 1);
  ASSERT_EQ(m.misuses().size(), 1u);
  EXPECT_EQ(m.misuses()[0], (Misuse{MisuseKind::bad_page_count, a, 1}));
  EXPECT_EQ(m.allocation_pages(a), 2u);
  EXPECT_EQ(m.counters().live_pages, 2u);
}

TEST(PhysicalMemory, AccessToAPageThatIsNotLiveIsRecordedAndCannotCorruptLivePages) {
  PhysicalMemory m(kBase, 8);
  const PhysAddr a = m.allocate(1).value();
  m.descriptors(a)[0] = 0xabc;
  Descriptor* wild = m.descriptors(kBase + 5 * kPage);
  ASSERT_NE(wild, nullptr);
  EXPECT_EQ(wild[0], 0u);
  for (unsigned i = 0; i < PhysicalMemory::kEntries; ++i) wild[i] = ~Descriptor{0};
  EXPECT_EQ(m.peek(a)[0], 0xabcu);
  EXPECT_EQ(m.peek(a)[1], 0u);
  ASSERT_EQ(m.misuses().size(), 1u);
  EXPECT_EQ(m.misuses()[0], (Misuse{MisuseKind::bad_access, kBase + 5 * kPage, 0}));
  // The scratch page is cleared for every bad access.
  EXPECT_EQ(m.descriptors(0x1001)[3], 0u);
  EXPECT_EQ(m.misuses().size(), 2u);
}

TEST(PhysicalMemory, InspectionRecordsNothing) {
  PhysicalMemory m(kBase, 8);
  EXPECT_EQ(m.peek(kBase), nullptr);
  EXPECT_FALSE(m.is_live(kBase));
  EXPECT_EQ(m.allocation_pages(kBase), std::nullopt);
  EXPECT_TRUE(m.misuses().empty());
}

}  // namespace
}  // namespace tlbkit::sim
