// The kernel model of trace replay: demand paging, the zero page, huge
// pages, copy-on-write, spurious faults, gathers, ASID rollover, stage 2,
// kernel mappings and bad input. Expected counts are worked out by hand in
// each test's comments from the rules of docs/REPLAY.md.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/forgetful_policy.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::replay {
namespace {

using namespace trace;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kBlock = 0x20'0000;
constexpr std::uint64_t kBase = 0x7f00'0000'0000;

const Prot kRw = Prot::read | Prot::write;
const MapFlags kAnon = MapFlags::anonymous;

const sim::Profile& mobile() { return *sim::find_profile("mobile-8"); }

// A replayer with the planner on 2 PEs of mobile-8 (TTL and range ops), fed
// events that must all be taken.
class Replay {
 public:
  explicit Replay(ReplayOptions options = two_pes(), const sim::Profile& profile = mobile(),
                  const maint::Policy* policy = nullptr)
      : replayer_(policy != nullptr ? *policy : planner_, profile, options) {}

  static ReplayOptions two_pes() {
    ReplayOptions o;
    o.pes = 2;
    o.features.ttl = arch::Presence::present;
    o.features.tlbi_range = arch::Presence::present;
    return o;
  }

  void operator()(const Event& e) {
    const std::string refused = replayer_.put(e);
    ASSERT_EQ(refused, "") << "event refused";
  }
  std::string refusal(const Event& e) { return replayer_.put(e); }
  ReplayRun finish() { return replayer_.finish(); }

  // Process 1 with thread 10 on PE 0 only, 8 pages mapped at kBase and the
  // first written (PE 0 caches it).
  void process_on_pe0_with_a_written_page() {
    (*this)(SpaceCreate{1, SpaceKind::process, 0});
    (*this)(ThreadStart{10, 1, 0});
    (*this)(Mmap{10, kBase, 8 * kPage, kRw, kAnon});
    (*this)(Access{10, kBase, AccessKind::write});
  }

  // Process 1 with thread 10 on PE 0 and thread 11 on PE 1.
  void process_with_two_threads() {
    (*this)(SpaceCreate{1, SpaceKind::process, 0});
    (*this)(ThreadStart{10, 1, 0});
    (*this)(ThreadStart{11, 1, 1});
  }

 private:
  maint::Planner planner_;
  TraceReplayer replayer_;
};

void expect_clean(const ReplayRun& run) {
  EXPECT_TRUE(run.violations.empty()) << run.violations.size() << " violation(s), first: "
                                      << (run.violations.empty() ? "" : run.violations.front().message);
  EXPECT_TRUE(run.problems.empty()) << (run.problems.empty() ? "" : run.problems.front());
}

TEST(TraceReplay, UnmappingMemoryThatWasNeverTouchedCostsNothing) {
  Replay r;
  r.process_with_two_threads();
  r(Mmap{10, kBase, 1ull << 30, kRw, kAnon});
  r(Munmap{10, kBase, 1ull << 30});
  const ReplayRun run = r.finish();
  expect_clean(run);
  // Nothing was ever present: the munmap plans nothing. The teardown at
  // the end retires the root and invalidates the space whole: one plan.
  EXPECT_EQ(run.kernel.faults, 0u);
  EXPECT_EQ(run.kernel.pages_faulted_in, 0u);
  EXPECT_EQ(run.counters.plans, 1u);
}

TEST(TraceReplay, EachFirstWriteFaultsInOnePageAndLaterWritesHitTheTables) {
  Replay r;
  r.process_with_two_threads();
  r(Mmap{10, kBase, 16 * kPage, kRw, kAnon});
  r(Access{10, kBase, AccessKind::write});
  r(Access{10, kBase + 5 * kPage + 8, AccessKind::write});
  r(Access{10, kBase + 5 * kPage + 16, AccessKind::write});  // same page: no fault
  r(Access{11, kBase + 5 * kPage, AccessKind::read});        // other PE: walks, no fault
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.faults, 2u);
  EXPECT_EQ(run.kernel.pages_faulted_in, 2u);
  EXPECT_EQ(run.kernel.accesses, 4u);
}

TEST(TraceReplay, AReadOfFreshAnonymousMemoryMapsTheZeroPageAndTheFirstWriteCopiesIt) {
  Replay r;
  r.process_with_two_threads();
  r(Mmap{10, kBase, 4 * kPage, kRw, kAnon});
  r(Access{10, kBase, AccessKind::read});   // zero page, read-only
  r(Access{10, kBase, AccessKind::write});  // permission fault: copy (break-before-make)
  r(Access{10, kBase, AccessKind::write});  // now writable
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.zero_page_maps, 1u);
  EXPECT_EQ(run.kernel.cow_copies, 1u);
  EXPECT_EQ(run.kernel.faults, 2u);
  // Replacing the zero page needs one invalidation of one page.
  EXPECT_GE(run.counters.tlbi_local + run.counters.tlbi_broadcast, 1u);
}

TEST(TraceReplay, HugePageEligibleAnonymousMemoryFaultsInWholeBlocksWhenTheProfileHasThp) {
  sim::Profile thp_off = mobile();
  thp_off.transparent_huge_pages = sim::Profile::HugePages::off;
  for (const bool thp : {true, false}) {
    Replay r(Replay::two_pes(), thp ? mobile() : thp_off);
    r.process_with_two_threads();
    // 4 MiB from a block boundary plus one page: two whole blocks and a tail.
    r(Mmap{10, kBase, 2 * kBlock + kPage, kRw, kAnon | MapFlags::huge});
    r(Access{10, kBase + 3 * kPage, AccessKind::write});
    r(Access{10, kBase + kBlock + 7 * kPage, AccessKind::write});
    r(Access{10, kBase + 2 * kBlock, AccessKind::write});  // the tail page cannot be a block
    r(Munmap{10, kBase + kPage, kPage});                    // splits the first block
    const ReplayRun run = r.finish();
    expect_clean(run);
    EXPECT_EQ(run.kernel.blocks_faulted_in, thp ? 2u : 0u);
    EXPECT_EQ(run.kernel.pages_faulted_in, thp ? 1u : 3u);
  }
}

TEST(TraceReplay, ForkSharesPrivatePagesCopyOnWriteUntilTheLastSharerTakesThemOver) {
  Replay r;
  r.process_with_two_threads();
  r(Mmap{10, kBase, 4 * kPage, kRw, kAnon});
  for (int i = 0; i < 3; ++i) r(Access{10, kBase + i * kPage, AccessKind::write});
  r(Fork{10, 20, 2});
  r(Access{20, kBase, AccessKind::write});  // child: frame shared by two: copy
  r(Access{10, kBase + kPage, AccessKind::write});  // parent: shared by two: copy
  r(Access{20, kBase + 2 * kPage, AccessKind::read});  // read of a shared page: no fault after the walk
  r(Exit{20});  // the child's space goes: page 2's frame is the parent's alone
  r(Access{10, kBase + 2 * kPage, AccessKind::write});  // last sharer: reuse, no copy
  r(Access{10, kBase, AccessKind::write});  // the parent's page 0 was never copied: its frame is alone now
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.cow_copies, 2u);
  EXPECT_EQ(run.kernel.cow_reuses, 2u);
  EXPECT_EQ(run.kernel.spaces, 2u);
}

TEST(TraceReplay, AReaderOnAnotherPeSeesAnUnmapAsASegfaultNeverAsAStaleTranslation) {
  Replay r;
  r.process_with_two_threads();
  r(Mmap{10, kBase, 8 * kPage, kRw, kAnon});
  r(Access{10, kBase + kPage, AccessKind::write});
  r(Access{11, kBase + kPage, AccessKind::read});  // PE 1 caches it
  r(Munmap{10, kBase, 8 * kPage});
  r(Access{11, kBase + kPage, AccessKind::read});
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.segfaults, 1u);
}

TEST(TraceReplay, APolicyThatForgetsTheInvalidationIsCaughtUsingTheFreedPage) {
  const test::ForgetfulPolicy forgetful;
  Replay r(Replay::two_pes(), mobile(), &forgetful);
  r.process_with_two_threads();
  r(Mmap{10, kBase, 8 * kPage, kRw, kAnon});
  r(Access{10, kBase + kPage, AccessKind::write});
  r(Access{11, kBase + kPage, AccessKind::read});
  r(Munmap{10, kBase, 8 * kPage});
  r(Access{11, kBase + kPage, AccessKind::read});
  const ReplayRun run = r.finish();
  ASSERT_FALSE(run.violations.empty());
  bool stale = false;
  bool freed = false;
  for (const sim::Violation& v : run.violations) {
    stale = stale || v.kind == sim::ViolationKind::stale_translation;
    freed = freed || v.kind == sim::ViolationKind::use_after_free;
  }
  EXPECT_TRUE(stale);
  EXPECT_TRUE(freed);
}

TEST(TraceReplay, CallsInsideOneGatherShareOnePlan) {
  for (const bool gathered : {false, true}) {
    Replay r;
    r.process_with_two_threads();
    r(Mmap{10, kBase, 64 * kPage, kRw, kAnon});
    r(Access{10, kBase, AccessKind::write});
    r(Access{10, kBase + 32 * kPage, AccessKind::write});
    if (gathered) r(GatherBegin{10});
    r(MadviseDontneed{10, kBase, kPage});
    r(MadviseDontneed{10, kBase + 32 * kPage, kPage});
    if (gathered) r(Flush{10, FlushReason::gather});
    r(Exit{11});
    const ReplayRun run = r.finish();
    expect_clean(run);
    // Two plans apart, one together; then the teardown's.
    const std::uint64_t teardown = 1;
    EXPECT_EQ(run.counters.plans, (gathered ? 1u : 2u) + teardown) << (gathered ? "gathered" : "apart");
  }
}

TEST(TraceReplay, ProtNoneHidesPresentPagesAndTheNextAccessAfterRestoringMapsThemAgain) {
  Replay r;
  r.process_with_two_threads();
  r(Mmap{10, kBase, 4 * kPage, kRw, kAnon});
  r(Access{10, kBase, AccessKind::write});
  r(Mprotect{10, kBase, 4 * kPage, Prot::none});
  r(Access{11, kBase, AccessKind::read});  // PROT_NONE: a segfault
  r(Mprotect{10, kBase, 4 * kPage, kRw});
  r(Access{11, kBase, AccessKind::read});  // the same frame mapped again
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.segfaults, 1u);
  EXPECT_EQ(run.kernel.pages_faulted_in, 1u);
  EXPECT_EQ(run.kernel.faults, 2u);
}

TEST(TraceReplay, MremapMovesPresentPagesWithoutFaultingThemInAgain) {
  Replay r;
  r.process_with_two_threads();
  r(Mmap{10, kBase, 4 * kPage, kRw, kAnon});
  r(Access{10, kBase, AccessKind::write});
  r(Access{11, kBase, AccessKind::read});
  r(Mremap{10, kBase, 4 * kPage, kBase + kBlock, 8 * kPage});
  r(Access{11, kBase + kBlock, AccessKind::read});   // moved: present, no fault
  r(Access{11, kBase, AccessKind::read});            // the old place: a segfault
  r(Access{10, kBase + kBlock + 6 * kPage, AccessKind::write});  // the grown part faults in
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.pages_faulted_in, 2u);
  EXPECT_EQ(run.kernel.segfaults, 1u);
}

TEST(TraceReplay, MremapOfMemoryTheTraceNeverMappedTakesItAsAnonymousMemoryAndCountsIt) {
  Replay r;
  r.process_with_two_threads();
  r(Mremap{10, kBase, 2 * kPage, kBase + kBlock, 4 * kPage});
  r(Access{11, kBase + kBlock + 3 * kPage, AccessKind::write});
  r(Access{11, kBase, AccessKind::read});  // the old place is gone
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.implied_vmas, 1u);
  EXPECT_EQ(run.kernel.pages_faulted_in, 1u);
  EXPECT_EQ(run.kernel.segfaults, 1u);
}

TEST(TraceReplay, MoreProcessesThanAsidsRollTheGenerationOverWithLocalFlushesOnly) {
  ReplayOptions o = Replay::two_pes();
  o.asid_bits = 8;
  Replay r(o);
  // 300 processes in turn on PE 0, each writing one page and exiting. 255
  // ids are usable; process 256 rolls over once (the id PE 0 runs stays
  // reserved, but it is a dead process's: no more than one rollover).
  for (std::uint32_t p = 0; p < 300; ++p) {
    r(SpaceCreate{100 + p, SpaceKind::process, 0});
    r(ThreadStart{1000 + p, 100 + p, 0});
    r(Mmap{1000 + p, kBase, kPage, kRw, kAnon});
    r(Access{1000 + p, kBase, AccessKind::write});
    r(Exit{1000 + p});
  }
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.asid_generations, 2u);
  EXPECT_EQ(run.kernel.rollover_flushes, 1u);  // PE 0 only: PE 1 never switched
}

TEST(TraceReplay, AVmsGuestFaultsStageTwoPagesInAndTheHostsUnmapInvalidatesThem) {
  Replay r;
  r(SpaceCreate{5, SpaceKind::vm, 2});
  r(ThreadStart{50, 5, 0});
  r(ThreadStart{51, 5, 1});
  r(Mmap{50, 0x4000'0000, 16 * kPage, kRw, kAnon});
  r(Access{50, 0x4000'0000, AccessKind::write});
  r(Access{51, 0x4000'1000, AccessKind::read});
  r(Access{51, 0x4000'0000, AccessKind::read});
  r(Munmap{50, 0x4000'0000, 16 * kPage});
  r(Access{51, 0x4000'0000, AccessKind::read});
  r(SpaceDestroy{5});
  const ReplayRun run = r.finish();
  expect_clean(run);
  // Stage 2 maps no zero page: both first accesses fault a page in.
  EXPECT_EQ(run.kernel.pages_faulted_in, 2u);
  EXPECT_EQ(run.kernel.zero_page_maps, 0u);
  EXPECT_EQ(run.kernel.segfaults, 1u);
  EXPECT_GE(run.counters.tlbi_broadcast, 1u);
}

TEST(TraceReplay, KernelMappingsAreGlobalAndAProcessMayNotMapOverThem) {
  Replay r;
  r(SpaceCreate{9, SpaceKind::kernel, 0});
  r(ThreadStart{90, 9, 0});
  r(Mmap{90, 0xff80'0000'0000, 4 * kPage, kRw, kAnon});
  r(Access{90, 0xff80'0000'0000, AccessKind::write});
  r.process_with_two_threads();
  EXPECT_NE(r.refusal(Mmap{10, 0xff80'0000'0000, kPage, kRw, kAnon}), "");
  EXPECT_NE(r.refusal(Mmap{90, 0x1000, kPage, kRw, kAnon}), "") << "kernel mappings live in the kernel window";
  r(Munmap{90, 0xff80'0000'0000, 4 * kPage});
  const ReplayRun run = r.finish();
  expect_clean(run);
}

TEST(TraceReplay, AReclaimerPagesOutOtherSpacesInOneGatherAndFlushesEachOnce) {
  Replay r;
  r(SpaceCreate{9, SpaceKind::kernel, 0});
  r(ThreadStart{90, 9, 1});
  for (std::uint32_t p = 0; p < 3; ++p) {
    r(SpaceCreate{p + 1, SpaceKind::process, 0});
    r(ThreadStart{10 + p, p + 1, 0});
    r(Mmap{10 + p, kBase, 4 * kPage, kRw, kAnon});
    r(Access{10 + p, kBase, AccessKind::write});
    r(Access{10 + p, kBase + 2 * kPage, AccessKind::write});
  }
  r(GatherBegin{90});
  for (std::uint32_t p = 0; p < 3; ++p) r(Reclaim{90, p + 1, kBase, 4 * kPage});
  r(Flush{90, FlushReason::gather});
  r(Access{10, kBase, AccessKind::read});  // faults in again (zero page)
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.zero_page_maps, 1u);
  EXPECT_EQ(run.kernel.implicit_flushes, 0u);
}

TEST(TraceReplay, TheTouchModelTouchesTheGivenShareOfNewlyAccessiblePages) {
  for (const unsigned percent : {0u, 100u}) {
    ReplayOptions o = Replay::two_pes();
    o.touch_percent = percent;
    Replay r(o);
    r(OptionNoAccesses{});
    r.process_with_two_threads();
    r(Mmap{10, kBase, 40 * kPage, kRw, kAnon});
    r(Mmap{10, kBase + kBlock, 10 * kPage, Prot::none, kAnon});  // nothing accessible: nothing touched
    r(Mprotect{10, kBase + kBlock, 4 * kPage, Prot::read});      // 4 pages become readable
    const ReplayRun run = r.finish();
    expect_clean(run);
    EXPECT_EQ(run.kernel.touched, percent == 0 ? 0u : 44u);
    EXPECT_EQ(run.kernel.pages_faulted_in, percent == 0 ? 0u : 40u);
    EXPECT_EQ(run.kernel.zero_page_maps, percent == 0 ? 0u : 4u);
  }
}

TEST(TraceReplay, BadEventsAreRefusedWithAReasonAndChangeNothing) {
  Replay r;
  r.process_with_two_threads();
  EXPECT_EQ(r.refusal(SpaceCreate{1, SpaceKind::process, 0}), "space 1 exists already");
  EXPECT_EQ(r.refusal(ThreadStart{10, 1, 0}), "thread 10 exists already");
  EXPECT_EQ(r.refusal(ThreadStart{12, 7, 0}), "no space 7");
  EXPECT_EQ(r.refusal(ThreadStart{12, 1, 2}), "PE 2 is beyond the machine's 2 PEs");
  EXPECT_EQ(r.refusal(Switch{5, 10}), "PE 5 is beyond the machine's 2 PEs");
  EXPECT_EQ(r.refusal(Access{99, kBase, AccessKind::read}), "no thread 99");
  EXPECT_EQ(r.refusal(Flush{10, FlushReason::syscall}), "flush without an open gather of thread 10");
  EXPECT_EQ(r.refusal(OptionNoAccesses{}), "an option must come before the first event");
  r(GatherBegin{10});
  EXPECT_EQ(r.refusal(GatherBegin{10}), "thread 10 opens a gather inside its open gather");
  r(Flush{10, FlushReason::gather});
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.threads, 2u);
  EXPECT_EQ(run.kernel.spaces, 1u);
  EXPECT_EQ(run.kernel.memory_calls, 0u);
}

TEST(TraceReplay, EqualEventsGiveEqualRuns) {
  const auto once = [] {
    Replay r;
    r.process_with_two_threads();
    r(Mmap{10, kBase, 64 * kPage, kRw, kAnon});
    for (int i = 0; i < 64; i += 3) r(Access{10 + static_cast<std::uint32_t>(i % 2), kBase + i * kPage, AccessKind::write});
    r(Mprotect{10, kBase, 32 * kPage, Prot::read});
    r(Munmap{11, kBase + 16 * kPage, 40 * kPage});
    return r.finish();
  };
  const ReplayRun a = once();
  const ReplayRun b = once();
  expect_clean(a);
  EXPECT_EQ(a.counters, b.counters);
  EXPECT_EQ(a.machine_events, b.machine_events);
}

// ---- reach: which PEs may hold a space's entries (maint::Reach) ----------------

TEST(TraceReplay, AProcessThatOnlyEverRanOnOnePeIsInvalidatedWithLocalOpsOnly) {
  Replay r;
  r.process_on_pe0_with_a_written_page();
  r(Access{10, kBase + kPage, AccessKind::write});
  r(Munmap{10, kBase, 8 * kPage});
  r(Access{10, kBase, AccessKind::read});
  r(Exit{10});
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.segfaults, 1u);
  // PE 1 never loaded the space: the munmap and the teardown stay on PE 0.
  EXPECT_EQ(run.counters.tlbi_broadcast, 0u);
  EXPECT_GE(run.counters.tlbi_local, 2u) << "the munmap's and the teardown's";
}

TEST(TraceReplay, APeAThreadLeftStaysInTheReachAndIsInvalidatedByBroadcast) {
  Replay r;
  r.process_on_pe0_with_a_written_page();
  r(Switch{1, 10});
  r(Munmap{10, kBase, 8 * kPage});  // on PE 1; PE 0 may still hold the page
  r(Switch{0, 10});
  r(Access{10, kBase, AccessKind::read});  // a stale PE 0 entry would translate here
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.segfaults, 1u);
  EXPECT_GE(run.counters.tlbi_broadcast, 1u);
}

TEST(TraceReplay, APeThatLoadsTheSpaceWhileAGatherIsOpenIsReachedByItsFlush) {
  Replay r;
  r.process_on_pe0_with_a_written_page();
  r(Access{10, kBase + kPage, AccessKind::write});
  r(GatherBegin{10});
  r(MadviseDontneed{10, kBase, kPage});  // the gather starts while only PE 0 holds the space
  r(ThreadStart{11, 1, 1});
  r(Access{11, kBase + kPage, AccessKind::read});  // PE 1 caches the next page
  r(Munmap{10, kBase + kPage, kPage});
  r(Flush{10, FlushReason::gather});
  r(Access{11, kBase + kPage, AccessKind::read});
  const ReplayRun run = r.finish();
  expect_clean(run);
  EXPECT_EQ(run.kernel.segfaults, 1u);
  EXPECT_GE(run.counters.tlbi_broadcast, 1u);
}

}  // namespace
}  // namespace tlbkit::replay
