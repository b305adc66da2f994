// Flush points through the replay kernel: a policy that flushes per VMA
// (Linux's mmu_gather, maint::FlushPoint::per_vma) gets one plan per VMA a
// call changed, a per-call policy one plan per call; Linux 5.4's mprotect
// flushes the whole range the call named (Pending::call). Each count is the
// difference to the same trace without the call, worked out by hand from
// docs/baselines/linux.md and docs/baselines/elfuse.md. Reclaim: Linux 5.4
// flushes each page, 6.17 defers the pages' TLBIs to one DSB ISH.
#include <gtest/gtest.h>

#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::replay {
namespace {

using namespace trace;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kBase = 0x7f00'0000'0000;

// One process, one thread on PE 0: `setup` then, when `with_calls`, `calls`.
sim::SimCounters counters(const char* policy, const std::vector<Event>& setup, const std::vector<Event>& calls,
                          bool with_calls) {
  ReplayOptions o;
  o.pes = 2;
  o.features.ttl = arch::Presence::present;
  o.features.tlbi_range = arch::Presence::present;
  TraceReplayer r(baselines::find_policy(policy)->policy, *sim::find_profile("mobile-8"), o);
  EXPECT_EQ(r.put(SpaceCreate{1, SpaceKind::process, 0}), "");
  EXPECT_EQ(r.put(ThreadStart{10, 1, 0}), "");
  for (const Event& e : setup) EXPECT_EQ(r.put(e), "");
  if (with_calls) {
    for (const Event& e : calls) EXPECT_EQ(r.put(e), "");
  }
  const ReplayRun run = r.finish();
  EXPECT_TRUE(run.ok()) << policy;
  return run.counters;
}

sim::SimCounters counters(const char* policy, const std::vector<Event>& setup, const Event& call, bool with_call) {
  return counters(policy, setup, std::vector<Event>{call}, with_call);
}

// What `calls` add to `setup` under `policy`.
sim::SimCounters added(const char* policy, const std::vector<Event>& setup, const std::vector<Event>& calls) {
  const sim::SimCounters with = counters(policy, setup, calls, true);
  const sim::SimCounters without = counters(policy, setup, calls, false);
  sim::SimCounters d;
  d.plans = with.plans - without.plans;
  d.tlbi_broadcast = with.tlbi_broadcast - without.tlbi_broadcast;
  d.dsb = with.dsb - without.dsb;
  return d;
}

// Two VMAs side by side (different rights, so they stay two), the first
// page of each written.
const std::vector<Event> kTwoVmas{
    Mmap{10, kBase, 4 * kPage, Prot::read | Prot::write, MapFlags::anonymous},
    Mmap{10, kBase + 4 * kPage, 4 * kPage, Prot::read | Prot::write | Prot::exec, MapFlags::anonymous},
    Access{10, kBase, AccessKind::write},
    Access{10, kBase + 4 * kPage, AccessKind::write},
};

TEST(LinuxFlushPoints, AMunmapOverTwoVmasIsOneFlushPerVmaForLinuxAndOneForElfuse) {
  const Event munmap = Munmap{10, kBase, 8 * kPage};
  for (const char* name : {"linux-5.4", "linux-6.17"}) {
    const sim::SimCounters with = counters(name, kTwoVmas, munmap, true);
    const sim::SimCounters without = counters(name, kTwoVmas, munmap, false);
    // tlb_end_vma after each VMA: two plans, each DSB ISHST; VALE1IS; DSB
    // ISH; the emptied page table, freed with the second VMA's part, adds
    // one VAE1IS at its address (pte_free_tlb) to the second plan.
    EXPECT_EQ(with.plans - without.plans, 2u) << name;
    EXPECT_EQ(with.tlbi_broadcast - without.tlbi_broadcast, 3u) << name;
  }
  // elfuse: one request per call, the box of both pages and the freed
  // table's first page (pages 0..4): one plan of 5 VAE1IS.
  const sim::SimCounters with = counters("elfuse-00ed78b", kTwoVmas, munmap, true);
  const sim::SimCounters without = counters("elfuse-00ed78b", kTwoVmas, munmap, false);
  EXPECT_EQ(with.plans - without.plans, 1u);
  EXPECT_EQ(with.tlbi_broadcast - without.tlbi_broadcast, 5u);
}

TEST(LinuxFlushPoints, Linux54MprotectFlushesTheRangeItNamedAnd617OnlyWhatChanged) {
  // Three pages asked, only the middle one present.
  const std::vector<Event> setup{Mmap{10, kBase, 3 * kPage, Prot::read | Prot::write, MapFlags::anonymous},
                                 Access{10, kBase + kPage, AccessKind::write}};
  const Event mprotect = Mprotect{10, kBase, 3 * kPage, Prot::read};
  const sim::SimCounters with54 = counters("linux-5.4", setup, mprotect, true);
  const sim::SimCounters without54 = counters("linux-5.4", setup, mprotect, false);
  EXPECT_EQ(with54.tlbi_broadcast - without54.tlbi_broadcast, 3u) << "flush_tlb_range over 3 pages: 3 VAE1IS";
  const sim::SimCounters with617 = counters("linux-6.17", setup, mprotect, true);
  const sim::SimCounters without617 = counters("linux-6.17", setup, mprotect, false);
  EXPECT_EQ(with617.tlbi_broadcast - without617.tlbi_broadcast, 1u) << "the changed page: 1 VALE1IS";
}

// Eight pages written in one VMA: a reclaim of some of them keeps the
// page table in use, so the batch is only the pages' TLBIs.
const std::vector<Event> kEightPages{
    Mmap{10, kBase, 8 * kPage, Prot::read | Prot::write, MapFlags::anonymous},
    Access{10, kBase, AccessKind::write},           Access{10, kBase + 1 * kPage, AccessKind::write},
    Access{10, kBase + 2 * kPage, AccessKind::write}, Access{10, kBase + 3 * kPage, AccessKind::write},
    Access{10, kBase + 4 * kPage, AccessKind::write}, Access{10, kBase + 5 * kPage, AccessKind::write},
    Access{10, kBase + 6 * kPage, AccessKind::write}, Access{10, kBase + 7 * kPage, AccessKind::write},
};

TEST(LinuxReclaim, Linux54FlushesEachReclaimedPageAnd617CompletesThePagesWithOneDsb) {
  const std::vector<Event> reclaim{Reclaim{10, 1, kBase + kPage, 3 * kPage}};
  // 5.4: flush_tlb_page per page: 3 x (DSB ISHST; VALE1IS; DSB ISH).
  const sim::SimCounters v54 = added("linux-5.4", kEightPages, reclaim);
  EXPECT_EQ(v54.plans, 1u);
  EXPECT_EQ(v54.tlbi_broadcast, 3u);
  EXPECT_EQ(v54.dsb, 6u);
  // 6.17: 3 x (DSB ISHST; VALE1IS TTL 3), then DSB ISH.
  const sim::SimCounters v617 = added("linux-6.17", kEightPages, reclaim);
  EXPECT_EQ(v617.plans, 1u);
  EXPECT_EQ(v617.tlbi_broadcast, 3u);
  EXPECT_EQ(v617.dsb, 4u);
}

TEST(LinuxReclaim, ReclaimsApartInOneGatherAreOneBatchWithOneDsbIshAt617) {
  // Pages 1 and 5 reclaimed in one explicit gather: one reclaim batch
  // (Gather::note_call keeps reclaim calls apart together), one plan.
  const std::vector<Event> reclaims{GatherBegin{10}, Reclaim{10, 1, kBase + kPage, kPage},
                                    Reclaim{10, 1, kBase + 5 * kPage, kPage}, Flush{10, FlushReason::gather}};
  const sim::SimCounters v54 = added("linux-5.4", kEightPages, reclaims);
  EXPECT_EQ(v54.plans, 1u);
  EXPECT_EQ(v54.tlbi_broadcast, 2u);
  EXPECT_EQ(v54.dsb, 4u) << "2 x (DSB ISHST; VALE1IS; DSB ISH)";
  const sim::SimCounters v617 = added("linux-6.17", kEightPages, reclaims);
  EXPECT_EQ(v617.plans, 1u);
  EXPECT_EQ(v617.tlbi_broadcast, 2u) << "not munmap's box of 5 pages";
  EXPECT_EQ(v617.dsb, 3u) << "2 x DSB ISHST, 1 DSB ISH";
}

}  // namespace
}  // namespace tlbkit::replay
