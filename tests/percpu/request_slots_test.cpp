// Per-CPU request slots: merging, overflow, ownership, the shared-slot race
// (docs/KNOWN-BUGS.md, bug 3) and a multi-threaded ownership check.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "percpu/broken_variants.hpp"
#include "support/tlb_model.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/exec/recorder.hpp"
#include "tlbkit/percpu/request_slots.hpp"
#include "tlbkit/maint/simple_policy.hpp"

namespace tlbkit::percpu {

using maint::SimplePolicy;

using maint::VirtAddr;
using maint::PhysAddr;
using maint::ChangeKind;
using maint::EntryKind;
using maint::CacheMaintenance;

namespace {

using arch::Instr;
using arch::Op;
using test::ModelExecutor;
using test::TlbModel;
using test::Use;

constexpr std::uint64_t kPage = 0x1000;

Change change(VirtAddr va, std::uint64_t size, ChangeKind kind, unsigned level = 3,
              EntryKind entry = EntryKind::leaf) {
  Change c;
  c.va = va;
  c.size = size;
  c.level = static_cast<std::uint8_t>(level);
  c.entry = entry;
  c.kind = kind;
  return c;
}

Change unmap_page(VirtAddr va) { return change(va, kPage, ChangeKind::unmap); }

PendingRange leaf_range(VirtAddr va, std::uint64_t size) { return PendingRange{va, size, 3, EntryKind::leaf}; }

std::vector<PendingRange> ranges_of(const StagedRequest& r) { return {r.ranges().begin(), r.ranges().end()}; }

void stage_ok(RequestSlot& slot, const Change& c) { ASSERT_TRUE(slot.stage(c).ok()); }

TEST(RequestSlots, DrainReturnsOnlyTheCallingCpusRequestAndClearsOnlyItsSlot) {
  RequestSlots<2> slots;
  ASSERT_TRUE(slots.stage(0, unmap_page(0x1000'0000)).ok());
  ASSERT_TRUE(slots.stage(1, unmap_page(0x2000'0000)).ok());

  const StagedRequest cpu0 = slots.drain(0).value();
  EXPECT_EQ(ranges_of(cpu0), std::vector<PendingRange>{leaf_range(0x1000'0000, kPage)});
  EXPECT_EQ(ranges_of(slots.peek(1)), std::vector<PendingRange>{leaf_range(0x2000'0000, kPage)})
      << "CPU 1's slot is untouched by CPU 0's drain";
  EXPECT_TRUE(slots.drain(0).value().empty()) << "a drained slot is empty";
  EXPECT_EQ(ranges_of(slots.drain(1).value()), std::vector<PendingRange>{leaf_range(0x2000'0000, kPage)});
}

TEST(RequestSlots, AdjacentAndOverlappingRangesOfOneLevelMergeIntoOne) {
  RequestSlot slot;
  stage_ok(slot, unmap_page(0x1000));
  stage_ok(slot, unmap_page(0x2000));                                     // abuts
  stage_ok(slot, change(0x1800, 0x1000, ChangeKind::restrict));           // overlaps both
  stage_ok(slot, change(0x5000, 3 * kPage, ChangeKind::unmap));
  stage_ok(slot, unmap_page(0x6000));                                     // inside
  EXPECT_EQ(ranges_of(slot.peek()),
            (std::vector<PendingRange>{leaf_range(0x1000, 2 * kPage), leaf_range(0x5000, 3 * kPage)}));
}

TEST(RequestSlots, ARangeBridgingTwoOthersMergesAllThree) {
  RequestSlot slot;
  stage_ok(slot, unmap_page(0x10000));
  stage_ok(slot, unmap_page(0x12000));
  ASSERT_EQ(slot.peek().ranges().size(), 2u);
  stage_ok(slot, unmap_page(0x11000));
  EXPECT_EQ(ranges_of(slot.peek()), std::vector<PendingRange>{leaf_range(0x10000, 3 * kPage)});
}

TEST(RequestSlots, RangesOfDifferentLevelsOrEntryKindsStayApart) {
  RequestSlot slot;
  stage_ok(slot, unmap_page(0x20'0000));
  stage_ok(slot, change(0x20'0000, 0x20'0000, ChangeKind::unmap, 2, EntryKind::table));
  stage_ok(slot, change(0x40'0000, 0x20'0000, ChangeKind::unmap, 2, EntryKind::leaf));
  const std::vector<PendingRange> expected{
      PendingRange{0x20'0000, kPage, 3, EntryKind::leaf},
      PendingRange{0x20'0000, 0x20'0000, 2, EntryKind::table},
      PendingRange{0x40'0000, 0x20'0000, 2, EntryKind::leaf},
  };
  std::vector<PendingRange> got = ranges_of(slot.peek());
  ASSERT_EQ(got.size(), expected.size());
  for (const PendingRange& r : expected) {
    EXPECT_NE(std::find(got.begin(), got.end(), r), got.end()) << "missing range at " << r.va;
  }
}

TEST(RequestSlots, AnEmptiedTableMergesWithEmptiedNeighboursButNotWithATableUnhookedWhole) {
  RequestSlot slot;
  Change whole = change(0x20'0000, 0x20'0000, ChangeKind::unmap, 2, EntryKind::table);
  Change emptied = change(0x40'0000, 0x20'0000, ChangeKind::unmap, 2, EntryKind::table);
  emptied.beneath = maint::Beneath::reported;
  Change emptied_next = emptied;
  emptied_next.va = 0x60'0000;
  stage_ok(slot, whole);
  stage_ok(slot, emptied_next);
  stage_ok(slot, emptied);  // abuts both: merges only with the emptied one
  const std::vector<PendingRange> expected{
      PendingRange{0x20'0000, 0x20'0000, 2, EntryKind::table, maint::Beneath::unseen},
      PendingRange{0x40'0000, 0x40'0000, 2, EntryKind::table, maint::Beneath::reported},
  };
  std::vector<PendingRange> got = ranges_of(slot.peek());
  ASSERT_EQ(got.size(), expected.size());
  for (const PendingRange& r : expected) {
    EXPECT_NE(std::find(got.begin(), got.end(), r), got.end()) << "missing range at " << r.va;
  }
}

TEST(RequestSlots, RangeEndingAtTheTopOfTheAddressSpaceMergesWithoutWrapping) {
  RequestSlot slot;
  stage_ok(slot, unmap_page(0xffff'ffff'ffff'f000));
  stage_ok(slot, unmap_page(0xffff'ffff'ffff'e000));
  stage_ok(slot, unmap_page(0x0));  // numerically "next" after the top only if the end wrapped
  EXPECT_EQ(ranges_of(slot.peek()),
            (std::vector<PendingRange>{leaf_range(0x0, kPage), leaf_range(0xffff'ffff'ffff'e000, 2 * kPage)}));
}

TEST(RequestSlots, EightDistinctRangesFitAndANinthOverflowsToEverything) {
  RequestSlot slot;
  for (unsigned i = 0; i < kSlotRanges; ++i) stage_ok(slot, unmap_page(0x10'0000 + i * 2 * kPage));
  EXPECT_EQ(slot.peek().coverage(), Coverage::exact);
  EXPECT_EQ(slot.peek().ranges().size(), 8u);
  stage_ok(slot, unmap_page(0x10'0000 + 8 * 2 * kPage));
  EXPECT_EQ(slot.peek().coverage(), Coverage::everything);
  EXPECT_TRUE(slot.peek().ranges().empty());
  stage_ok(slot, unmap_page(0x9000'0000));
  EXPECT_EQ(slot.peek().coverage(), Coverage::everything) << "stays everything until drained";
  EXPECT_EQ(slot.drain().coverage(), Coverage::everything);
  EXPECT_TRUE(slot.peek().empty());
}

TEST(RequestSlots, MapsAndRelaxationsStageOnlyTheirExecGain) {
  RequestSlot slot;
  stage_ok(slot, change(0x1000, kPage, ChangeKind::map));
  stage_ok(slot, change(0x2000, kPage, ChangeKind::relax));
  EXPECT_TRUE(slot.peek().empty());
  Change exec_map = change(0x3000, kPage, ChangeKind::map);
  exec_map.exec = ExecGain::yes;
  stage_ok(slot, exec_map);
  EXPECT_FALSE(slot.peek().empty());
  EXPECT_EQ(slot.peek().exec(), ExecGain::yes);
  EXPECT_TRUE(slot.peek().ranges().empty());
}

TEST(RequestSlots, ACpuBeyondTheSlotsIsRefused) {
  RequestSlots<2> slots;
  EXPECT_EQ(slots.stage(2, unmap_page(0x1000)).error().code, Errc::out_of_range);
  EXPECT_EQ(slots.drain(2).error().code, Errc::out_of_range);
  EXPECT_EQ(slots.stage_everything(7, ExecGain::no).error().code, Errc::out_of_range);
}

TEST(RequestSlots, ADrainedRequestRunsAsOnePlanOnTheDrainingCpu) {
  RequestSlots<1> slots;
  ASSERT_TRUE(slots.stage(0, unmap_page(0x1000'0000)).ok());
  ASSERT_TRUE(slots.stage(0, unmap_page(0x1000'1000)).ok());
  std::array<Op, 16> storage{};
  exec::Recorder recorder(storage);
  AddressSpace space;
  space.asid = 5;
  ASSERT_TRUE(run_staged_request(slots.drain(0).value(), space, {}, SimplePolicy{}, recorder).ok());
  // Hand-encoded: ASID 5 in 63:48, VA >> 12 in 43:0, no TTL.
  const std::vector<Op> expected{{Instr::dsb_ishst, 0},
                                 {Instr::vale1is, 0x0005'0000'0001'0000},
                                 {Instr::vale1is, 0x0005'0000'0001'0001},
                                 {Instr::dsb_ish, 0}};
  EXPECT_EQ(std::vector<Op>(recorder.ops().begin(), recorder.ops().end()), expected);
  EXPECT_EQ(recorder.plans(), 1u);

  recorder.clear();
  ASSERT_TRUE(run_staged_request(slots.drain(0).value(), space, {}, SimplePolicy{}, recorder).ok());
  EXPECT_EQ(recorder.plans(), 0u) << "an empty request runs nothing";
}

Change stage2_unmap_needing_clean(VirtAddr ipa, PhysAddr pa) {
  Change c = unmap_page(ipa);
  c.output = pa;
  c.cmo = CacheMaintenance::clean_invalidate;
  return c;
}

TEST(RequestSlots, MemoryNeedingCleaningIsStagedMergedAndPassedToThePolicy) {
  RequestSlot slot;
  stage_ok(slot, stage2_unmap_needing_clean(0x1000, 0x8000'1000));
  stage_ok(slot, stage2_unmap_needing_clean(0x2000, 0x8000'2000));  // physically adjacent
  stage_ok(slot, stage2_unmap_needing_clean(0x9000, 0x8100'0000));
  const std::vector<PhysRange> clean(slot.peek().clean().begin(), slot.peek().clean().end());
  EXPECT_EQ(clean, (std::vector<PhysRange>{{0x8000'1000, 2 * kPage}, {0x8100'0000, kPage}}));
  const Pending p = slot.peek().pending();
  EXPECT_EQ(p.clean.size(), 2u);
  EXPECT_EQ(p.ranges.size(), 2u);  // [0x1000, 0x3000) and [0x9000, 0xa000)
}

TEST(RequestSlots, AFullCleanListRefusesTheChangeAndStagesNothingOfIt) {
  RequestSlot slot;
  for (unsigned i = 0; i < kSlotCleanRanges; ++i) {
    stage_ok(slot, stage2_unmap_needing_clean(0x10'0000 + i * kPage, 0x8000'0000 + i * 2 * kPage));
  }
  const StagedRequest before = slot.peek();
  const Status refused = slot.stage(stage2_unmap_needing_clean(0x90'0000, 0x9000'0000));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::out_of_range);
  EXPECT_EQ(ranges_of(slot.peek()), ranges_of(before)) << "the refused change's range is not staged";
  EXPECT_EQ(slot.peek().clean().size(), kSlotCleanRanges);
  // Memory touching listed ranges still merges: this page bridges the
  // first two (0x8000'0000 and 0x8000'2000).
  stage_ok(slot, stage2_unmap_needing_clean(0x20'0000, 0x8000'1000));
  EXPECT_EQ(slot.peek().clean().size(), kSlotCleanRanges - 1);
  EXPECT_EQ(slot.peek().clean()[0], (PhysRange{0x8000'0000, 3 * kPage}));
  // After the drain the change fits.
  (void)slot.drain();
  stage_ok(slot, stage2_unmap_needing_clean(0x90'0000, 0x9000'0000));
}

// ---------------------------------------------------------------------------
// Bug 3: vCPU B drains the request vCPU A staged before A returns to EL0.

constexpr std::uint16_t kGuestAsid = 7;
constexpr VirtAddr kX = 0x4000'0000;
constexpr PhysAddr kP = 0x8000'0000;
constexpr unsigned kVcpuA = 0;
constexpr unsigned kVcpuB = 1;

struct Bug3Outcome {
  std::size_t ranges_drained_by_a = 0;
  std::size_t ranges_drained_by_b = 0;
  Use a_touches_x_at_el0 = Use::fault;
  bool a_holds_x_after_b_ran = true;
};

template <class Slots>
Bug3Outcome vcpu_b_drains_before_vcpu_a_returns(Slots& slots) {
  TlbModel model(2);
  ModelExecutor on_a(model, kVcpuA);
  ModelExecutor on_b(model, kVcpuB);
  AddressSpace guest;
  guest.asid = kGuestAsid;
  const SimplePolicy policy;
  Bug3Outcome out;

  model.map(kGuestAsid, kX, kP);
  EXPECT_EQ(model.access(kVcpuA, kGuestAsid, kX), Use::fresh);  // both vCPUs have used X
  EXPECT_EQ(model.access(kVcpuB, kGuestAsid, kX), Use::fresh);

  // A traps (munmap of X): the entry goes, the TLBI is staged.
  model.unmap(kGuestAsid, kX);
  EXPECT_TRUE(slots.stage(kVcpuA, unmap_page(kX)).ok());
  // B reaches its syscall epilogue first and drains; the host deschedules
  // it before it runs what it drained.
  const StagedRequest b_request = slots.drain(kVcpuB).value();
  // A's epilogue: drain, run on A, return to EL0, touch X.
  const StagedRequest a_request = slots.drain(kVcpuA).value();
  EXPECT_TRUE(run_staged_request(a_request, guest, {}, policy, on_a).ok());
  out.a_touches_x_at_el0 = model.access(kVcpuA, kGuestAsid, kX);
  // B resumes and runs its drained request.
  EXPECT_TRUE(run_staged_request(b_request, guest, {}, policy, on_b).ok());
  out.a_holds_x_after_b_ran = model.holds(kVcpuA, kGuestAsid, kX);
  out.ranges_drained_by_a = a_request.ranges().size();
  out.ranges_drained_by_b = b_request.ranges().size();
  return out;
}

TEST(RequestSlotsRace, SharedSlotLetsVcpuBDrainVcpuAsRequestAndAUsesTheStaleEntry) {
  test::SharedSlotForTest shared;
  const Bug3Outcome out = vcpu_b_drains_before_vcpu_a_returns(shared);
  EXPECT_EQ(out.ranges_drained_by_b, 1u) << "B took A's request";
  EXPECT_EQ(out.ranges_drained_by_a, 0u);
  EXPECT_EQ(out.a_touches_x_at_el0, Use::stale) << "A returned to EL0 with X still cached";
  EXPECT_FALSE(out.a_holds_x_after_b_ran) << "B's broadcast catches up only later";
}

TEST(RequestSlotsRace, PerCpuSlotKeepsTheRequestWithItsOwnerAndANeverUsesAStaleEntry) {
  RequestSlots<2> slots;
  const Bug3Outcome out = vcpu_b_drains_before_vcpu_a_returns(slots);
  EXPECT_EQ(out.ranges_drained_by_b, 0u) << "B drains only its own (empty) slot";
  EXPECT_EQ(out.ranges_drained_by_a, 1u);
  EXPECT_EQ(out.a_touches_x_at_el0, Use::fault) << "A's own TLBI completed before it returned";
  EXPECT_FALSE(out.a_holds_x_after_b_ran);
}

// ---------------------------------------------------------------------------
// Threads: each CPU stages pages of its own region and drains at its own
// boundaries. Every staged page comes back exactly once, to its own CPU, and
// the slot overflows exactly when the staged pages formed more than
// kSlotRanges separate runs (computed here from the page set, not from the
// slot).

std::size_t runs(const std::set<std::uint64_t>& pages) {
  std::size_t n = 0;
  std::uint64_t previous = 0;
  bool first = true;
  for (std::uint64_t p : pages) {
    if (first || p != previous + 1) ++n;
    previous = p;
    first = false;
  }
  return n;
}

TEST(RequestSlotsStress, EveryStagedPageIsDrainedExactlyOnceByItsOwnCpu) {
  constexpr unsigned kCpus = 4;
  constexpr unsigned kRounds = 20000;
  RequestSlots<kCpus> slots;
  std::atomic<std::uint64_t> staged_total{0};
  std::atomic<std::uint64_t> drained_total{0};
  std::atomic<unsigned> failures{0};
  std::atomic<unsigned> overflows{0};

  auto cpu_main = [&](unsigned cpu) {
    std::mt19937 rng(1234 + cpu);
    const std::uint64_t region_page = (std::uint64_t{cpu} + 1) << 20;  // region (cpu+1) << 32 bytes
    for (unsigned round = 0; round < kRounds; ++round) {
      std::set<std::uint64_t> pages;
      std::size_t most_runs = 0;
      const unsigned count = 1 + static_cast<unsigned>(rng() % 14);
      for (unsigned i = 0; i < count; ++i) {
        const std::uint64_t page = region_page + rng() % 48;
        if (!slots.stage(cpu, unmap_page(page * kPage)).ok()) ++failures;
        pages.insert(page);
        most_runs = std::max(most_runs, runs(pages));
      }
      staged_total += pages.size();
      const StagedRequest got = slots.drain(cpu).value();
      if (most_runs > kSlotRanges) {
        if (got.coverage() != Coverage::everything) ++failures;
        ++overflows;
        drained_total += pages.size();  // everything covers them all
        continue;
      }
      if (got.coverage() != Coverage::exact) ++failures;
      std::set<std::uint64_t> drained;
      for (const PendingRange& r : got.ranges()) {
        for (std::uint64_t va = r.va; va < r.va + r.size; va += kPage) {
          if (!drained.insert(va / kPage).second) ++failures;  // drained twice
        }
      }
      if (drained != pages) ++failures;  // someone else's page, or one of ours missing
      drained_total += drained.size();
    }
  };

  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < kCpus; ++cpu) threads.emplace_back(cpu_main, cpu);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(drained_total.load(), staged_total.load());
  EXPECT_GT(overflows.load(), 0u) << "the run must exercise overflow";
  for (unsigned cpu = 0; cpu < kCpus; ++cpu) EXPECT_TRUE(slots.peek(cpu).empty());
}

}  // namespace
}  // namespace tlbkit::percpu
