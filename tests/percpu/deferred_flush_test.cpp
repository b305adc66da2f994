// Deferred flush with generations: tickets, catch-up, flush plans, the
// deferred free list, the three known races (docs/KNOWN-BUGS.md, bugs
// 4, 5 and 8) against deliberately broken variants, and a multi-threaded
// run checking that no page is used after it was freed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "percpu/broken_variants.hpp"
#include "support/tlb_model.hpp"
#include "tlbkit/percpu/deferred_flush.hpp"

namespace tlbkit::percpu {

using maint::GlobalEntries;
using maint::VirtAddr;

namespace {

using arch::Instr;
using arch::Op;
using test::ModelExecutor;
using test::TlbModel;
using test::Use;

constexpr std::uint16_t kAsid = 9;
constexpr std::uint64_t kAsid9Operand = 0x0009'0000'0000'0000;  // ASID in 63:48

AddressSpace space_asid9() {
  AddressSpace s;
  s.asid = kAsid;
  return s;
}

// ---------------------------------------------------------------------------
// Tickets and plans.

TEST(DeferredFlush, ATicketOfASpaceNoCpuIsRunningIsCompleteAtOnce) {
  DeferredFlush flush;
  const FlushTicket t = flush.defer();
  EXPECT_EQ(t.generation, 0u);
  EXPECT_TRUE(flush.is_complete(t));
  EXPECT_EQ(flush.requested_generation(), 1u) << "the generation moves so CPUs catch up";
}

TEST(DeferredFlush, ATicketCompletesOnlyWhenTheFlushersOwnDsbHasRun) {
  TlbModel model(2);
  ModelExecutor on0(model, 0);
  ModelExecutor on1(model, 1);
  DeferredFlush flush;
  ASSERT_EQ(flush.activate(1, space_asid9(), on1).value(), CatchUp::none);
  const FlushTicket t = flush.defer();
  EXPECT_EQ(t.generation, 1u);
  EXPECT_FALSE(flush.is_complete(t));

  const FlushInProgress started = flush.start_flush(0, space_asid9(), on0).value();
  EXPECT_EQ(started.reach, FlushReach::inner_shareable);
  EXPECT_EQ(on0.ops, (std::vector<Op>{{Instr::dsb_ishst, 0}, {Instr::aside1is, kAsid9Operand}}));
  EXPECT_FALSE(flush.is_complete(t)) << "TLBIs issued, not completed";

  ASSERT_TRUE(flush.finish_flush(started, 0, space_asid9(), on0).ok());
  ASSERT_EQ(on0.ops.size(), 3u) << "on the issuing PE only the DSB is added";
  EXPECT_EQ(on0.ops.back(), (Op{Instr::dsb_ish, 0}));
  EXPECT_TRUE(flush.is_complete(t));
}

TEST(DeferredFlush, AFlushWithNothingRequestedIssuesNothing) {
  TlbModel model(1);
  ModelExecutor on0(model, 0);
  DeferredFlush flush;
  ASSERT_TRUE(flush.activate(0, space_asid9(), on0).ok());
  ASSERT_TRUE(flush.flush(0, space_asid9(), on0).ok());
  EXPECT_EQ(on0.plans, 0u);
}

TEST(DeferredFlush, ActivateFlushesLocallyOnlyWhenGenerationsPassedSinceItsLastCatchUp) {
  TlbModel model(1);
  ModelExecutor on0(model, 0);
  DeferredFlush flush;
  EXPECT_EQ(flush.activate(0, space_asid9(), on0).value(), CatchUp::none);
  ASSERT_TRUE(flush.deactivate(0).ok());
  EXPECT_EQ(flush.defer().generation, 0u);  // nobody active
  EXPECT_EQ(flush.activate(0, space_asid9(), on0).value(), CatchUp::local_flush);
  EXPECT_EQ(on0.ops, (std::vector<Op>{{Instr::dsb_ish, 0},
                                      {Instr::aside1, kAsid9Operand},
                                      {Instr::dsb_nsh, 0},
                                      {Instr::isb, 0}}));
  ASSERT_TRUE(flush.deactivate(0).ok());
  EXPECT_EQ(flush.activate(0, space_asid9(), on0).value(), CatchUp::none) << "already caught up";
}

TEST(DeferredFlush, TheWholeSpaceOpFollowsTheRegimeAndGlobalEntries) {
  struct Case {
    arch::Regime regime;
    GlobalEntries global;
    Instr broadcast;
  };
  for (const Case& c : {Case{arch::Regime::el1_stage1, GlobalEntries::present, Instr::vmalle1is},
                        Case{arch::Regime::el2_stage1, GlobalEntries::absent, Instr::alle2is},
                        Case{arch::Regime::stage2, GlobalEntries::absent, Instr::vmalls12e1is}}) {
    TlbModel model(2);
    ModelExecutor on0(model, 0);
    ModelExecutor on1(model, 1);
    AddressSpace space;
    space.regime = c.regime;
    space.global = c.global;
    DeferredFlush flush;
    ASSERT_TRUE(flush.activate(1, space, on1).ok());
    (void)flush.defer();
    ASSERT_TRUE(flush.flush(0, space, on0).ok());
    EXPECT_EQ(on0.ops, (std::vector<Op>{{Instr::dsb_ishst, 0}, {c.broadcast, 0}, {Instr::dsb_ish, 0}}))
        << arch::regime_name(c.regime);
  }
}

TEST(DeferredFlush, AnOlderFlushFinishingLastDoesNotMoveCompletionBack) {
  TlbModel model(3);
  ModelExecutor on0(model, 0);
  ModelExecutor on1(model, 1);
  ModelExecutor on2(model, 2);
  DeferredFlush flush;
  ASSERT_TRUE(flush.activate(2, space_asid9(), on2).ok());
  (void)flush.defer();
  const FlushInProgress slow = flush.start_flush(0, space_asid9(), on0).value();
  EXPECT_EQ(slow.generation, 1u);
  const FlushTicket later = flush.defer();
  EXPECT_EQ(later.generation, 2u);
  ASSERT_TRUE(flush.flush(1, space_asid9(), on1).ok());
  EXPECT_EQ(flush.completed_generation(), 2u);
  ASSERT_TRUE(flush.finish_flush(slow, 0, space_asid9(), on0).ok());
  EXPECT_EQ(flush.completed_generation(), 2u);
  EXPECT_TRUE(flush.is_complete(later));
}

TEST(DeferredFlush, ACpuBeyondTheMaskIsRefused) {
  TlbModel model(1);
  ModelExecutor on0(model, 0);
  DeferredFlush flush;
  EXPECT_EQ(flush.activate(64, space_asid9(), on0).error().code, Errc::out_of_range);
  EXPECT_EQ(flush.deactivate(64).error().code, Errc::out_of_range);
  EXPECT_EQ(flush.start_flush(64, space_asid9(), on0).error().code, Errc::out_of_range);
  EXPECT_EQ(flush.flush(70, space_asid9(), on0).error().code, Errc::out_of_range);
  EXPECT_EQ(on0.plans, 0u);
}

class RecordingReleaser final : public PageReleaser {
 public:
  void release(arch::PhysAddr page) override { released.push_back(page); }
  std::vector<arch::PhysAddr> released;
};

TEST(DeferredFreeList, ReleasesOnlyPagesWhoseTicketCompletedAndKeepsTheRestInOrder) {
  TlbModel model(2);
  ModelExecutor on0(model, 0);
  ModelExecutor on1(model, 1);
  DeferredFlush flush;
  ASSERT_TRUE(flush.activate(1, space_asid9(), on1).ok());
  std::array<RetiredPage, 3> storage{};
  DeferredFreeList list(storage);
  RecordingReleaser releaser;

  ASSERT_TRUE(list.retire(flush.defer(), 0xa000).ok());  // generation 1
  ASSERT_TRUE(flush.flush(0, space_asid9(), on0).ok());  // completes 1
  ASSERT_TRUE(list.retire(flush.defer(), 0xb000).ok());  // generation 2
  ASSERT_TRUE(list.retire(FlushTicket{0}, 0xc000).ok());
  EXPECT_EQ(list.retire(flush.defer(), 0xd000).error().code, Errc::no_memory) << "full";

  EXPECT_EQ(list.release_completed(flush, releaser), 2u);
  EXPECT_EQ(releaser.released, (std::vector<arch::PhysAddr>{0xa000, 0xc000}));
  EXPECT_EQ(list.size(), 1u);
  ASSERT_TRUE(flush.flush(0, space_asid9(), on0).ok());
  EXPECT_EQ(list.release_completed(flush, releaser), 1u);
  EXPECT_EQ(releaser.released.back(), 0xb000u);
}

// ---------------------------------------------------------------------------
// Bug 4, lost flush: a request made between the flush and its bookkeeping.

constexpr unsigned kReclaimer = 0;
constexpr unsigned kUser = 1;
constexpr VirtAddr kX1 = 0x10'0000;
constexpr VirtAddr kX2 = 0x20'0000;
constexpr PhysAddr kP1 = 0x8000'0000;
constexpr PhysAddr kP2 = 0x8000'1000;

struct Bug4Outcome {
  bool p2_cached_when_freed = false;
  Use user_touches_x2 = Use::fault;
  std::size_t pages_still_retired = 0;
};

template <class Flusher>
Bug4Outcome request_between_flush_and_bookkeeping(Flusher& flusher) {
  TlbModel model(2);
  ModelExecutor on_reclaimer(model, kReclaimer);
  ModelExecutor on_user(model, kUser);
  const AddressSpace space = space_asid9();
  Bug4Outcome out;
  std::vector<std::pair<FlushTicket, PhysAddr>> retired;

  auto reclaim = [&](VirtAddr va, PhysAddr pa) {
    model.unmap(kAsid, va);
    retired.emplace_back(flusher.defer(), pa);
  };
  auto release_completed = [&] {
    std::erase_if(retired, [&](const std::pair<FlushTicket, PhysAddr>& r) {
      if (!flusher.is_complete(r.first)) return false;
      if (r.second == kP2) out.p2_cached_when_freed = model.holds(kUser, kAsid, kX2);
      model.free_page(r.second);
      return true;
    });
  };

  model.map(kAsid, kX1, kP1);
  model.map(kAsid, kX2, kP2);
  EXPECT_TRUE(flusher.activate(kUser, space, on_user).ok());
  EXPECT_EQ(model.access(kUser, kAsid, kX1), Use::fresh);
  EXPECT_EQ(model.access(kUser, kAsid, kX2), Use::fresh);

  reclaim(kX1, kP1);
  // The racy point: right after the flush's completing DSB, before the
  // flusher does its bookkeeping, the user refills X2 and another
  // reclaimer unmaps it.
  bool fired = false;
  on_reclaimer.after = [&] {
    if (fired || on_reclaimer.ops.empty() || on_reclaimer.ops.back().instr != Instr::dsb_ish) return;
    fired = true;
    EXPECT_EQ(model.access(kUser, kAsid, kX2), Use::fresh);
    reclaim(kX2, kP2);
  };
  EXPECT_TRUE(flusher.flush(kReclaimer, space, on_reclaimer).ok());
  EXPECT_TRUE(fired);
  release_completed();
  // The next reclaim pass: flush whatever is still required, then free.
  EXPECT_TRUE(flusher.flush(kReclaimer, space, on_reclaimer).ok());
  release_completed();

  out.user_touches_x2 = model.access(kUser, kAsid, kX2);
  out.pages_still_retired = retired.size();
  return out;
}

TEST(DeferredFlushRace, FlagClearedAfterFlushingLosesARequestAndFreesAPageStillCached) {
  test::FlagFlushForTest broken;
  const Bug4Outcome out = request_between_flush_and_bookkeeping(broken);
  EXPECT_TRUE(out.p2_cached_when_freed) << "P2 freed while the user's TLB still maps X2 to it";
  EXPECT_EQ(out.user_touches_x2, Use::freed);
}

TEST(DeferredFlushRace, GenerationsKeepARequestMadeDuringAFlushPendingUntilTheNextFlush) {
  DeferredFlush real;
  const Bug4Outcome out = request_between_flush_and_bookkeeping(real);
  EXPECT_FALSE(out.p2_cached_when_freed);
  EXPECT_EQ(out.user_touches_x2, Use::fault);
  EXPECT_EQ(out.pages_still_retired, 0u) << "both pages freed, each after its own flush";
}

// ---------------------------------------------------------------------------
// Bug 5, missing barrier between the generation bump and the read of the
// active CPUs. A user thread ran the space on CPU 1 and was switched out;
// CPU 1's TLB keeps X lazily. A reclaimer on CPU 0 (not running the space)
// unmaps X while CPU 1 switches the user back in.

constexpr VirtAddr kX = 0x30'0000;
constexpr PhysAddr kP = 0x9000'0000;

TEST(DeferredFlushRace, ReadingTheActiveCpusBeforeTheBumpFreesAPageACpuIsAboutToUse) {
  TlbModel model(2);
  ModelExecutor on_user(model, kUser);
  test::UnorderedDeferForTest broken;
  model.map(kAsid, kX, kP);
  ASSERT_EQ(broken.activate(kUser, space_asid9(), on_user).value(), CatchUp::none);
  ASSERT_EQ(model.access(kUser, kAsid, kX), Use::fresh);
  ASSERT_TRUE(broken.deactivate(kUser).ok());

  model.unmap(kAsid, kX);
  const std::uint64_t seen = broken.read_active_cpus();  // satisfied before the bump is visible
  EXPECT_EQ(broken.activate(kUser, space_asid9(), on_user).value(), CatchUp::none)
      << "CPU 1 reads the old generation: no catch-up";
  const FlushTicket t = broken.bump(seen);
  ASSERT_TRUE(broken.is_complete(t)) << "nobody seemed active: complete at once";
  EXPECT_TRUE(model.holds(kUser, kAsid, kX)) << "CPU 1 still caches X as P is freed";
  model.free_page(kP);
  EXPECT_EQ(model.access(kUser, kAsid, kX), Use::freed);
}

// The real defer() is one call with no gap between its bump and its read
// (seq_cst, see deferred_flush.cpp), so the switch-in lands either before
// it or after it. Both orders are safe.
TEST(DeferredFlushRace, DeferBeforeTheSwitchInMakesTheCpuCatchUp) {
  TlbModel model(2);
  ModelExecutor on_user(model, kUser);
  DeferredFlush real;
  model.map(kAsid, kX, kP);
  ASSERT_EQ(real.activate(kUser, space_asid9(), on_user).value(), CatchUp::none);
  ASSERT_EQ(model.access(kUser, kAsid, kX), Use::fresh);
  ASSERT_TRUE(real.deactivate(kUser).ok());

  model.unmap(kAsid, kX);
  const FlushTicket t = real.defer();
  ASSERT_TRUE(real.is_complete(t)) << "no CPU active: nothing to wait for";
  model.free_page(kP);
  EXPECT_EQ(real.activate(kUser, space_asid9(), on_user).value(), CatchUp::local_flush);
  EXPECT_FALSE(model.holds(kUser, kAsid, kX));
  EXPECT_EQ(model.access(kUser, kAsid, kX), Use::fault);
}

TEST(DeferredFlushRace, SwitchInBeforeTheDeferMakesTheTicketWaitForAFlush) {
  TlbModel model(2);
  ModelExecutor on_reclaimer(model, kReclaimer);
  ModelExecutor on_user(model, kUser);
  DeferredFlush real;
  model.map(kAsid, kX, kP);
  ASSERT_EQ(real.activate(kUser, space_asid9(), on_user).value(), CatchUp::none);
  ASSERT_EQ(model.access(kUser, kAsid, kX), Use::fresh);
  ASSERT_TRUE(real.deactivate(kUser).ok());

  model.unmap(kAsid, kX);
  EXPECT_EQ(real.activate(kUser, space_asid9(), on_user).value(), CatchUp::none);
  const FlushTicket t = real.defer();
  EXPECT_FALSE(real.is_complete(t)) << "CPU 1 is active: the page must wait";
  EXPECT_EQ(model.access(kUser, kAsid, kX), Use::stale) << "allowed: P is not freed yet";
  ASSERT_TRUE(real.flush(kReclaimer, space_asid9(), on_reclaimer).ok());
  ASSERT_TRUE(real.is_complete(t));
  EXPECT_FALSE(model.holds(kUser, kAsid, kX));
  model.free_page(kP);
  EXPECT_EQ(model.access(kUser, kAsid, kX), Use::fault);
}

// ---------------------------------------------------------------------------
// Bug 8: the flushing thread issues its TLBIs on CPU 0, migrates to CPU 1
// and runs the DSB there.

constexpr unsigned kIssuer = 0;
constexpr unsigned kMigratedTo = 1;
constexpr unsigned kRunner = 2;

struct Bug8Outcome {
  bool complete = false;
  bool cached_when_freed = true;
  Use runner_touches_x = Use::fault;
  std::vector<Op> ops_on_migrated_pe;
};

template <class Flusher>
Bug8Outcome flush_migrates_between_tlbi_and_dsb(Flusher& flusher) {
  TlbModel model(3);
  ModelExecutor on_issuer(model, kIssuer);
  ModelExecutor on_migrated(model, kMigratedTo);
  ModelExecutor on_runner(model, kRunner);
  const AddressSpace space = space_asid9();
  Bug8Outcome out;
  model.map(kAsid, kX, kP);
  EXPECT_TRUE(flusher.activate(kRunner, space, on_runner).ok());
  EXPECT_EQ(model.access(kRunner, kAsid, kX), Use::fresh);

  model.unmap(kAsid, kX);
  const FlushTicket t = flusher.defer();
  const FlushInProgress started = flusher.start_flush(kIssuer, space, on_issuer).value();
  // Preempted and migrated.
  EXPECT_TRUE(flusher.finish_flush(started, kMigratedTo, space, on_migrated).ok());
  out.complete = flusher.is_complete(t);
  out.cached_when_freed = model.holds(kRunner, kAsid, kX);
  model.free_page(kP);
  out.runner_touches_x = model.access(kRunner, kAsid, kX);
  out.ops_on_migrated_pe = on_migrated.ops;
  EXPECT_EQ(model.in_flight(kIssuer), 1u) << "CPU 0's TLBI never saw a DSB of its own";
  return out;
}

TEST(DeferredFlushRace, ADsbOnAnotherPeTakenAsCompletionFreesAPageStillCached) {
  test::DsbElsewhereFlushForTest broken;
  const Bug8Outcome out = flush_migrates_between_tlbi_and_dsb(broken);
  EXPECT_TRUE(out.complete);
  EXPECT_TRUE(out.cached_when_freed);
  EXPECT_EQ(out.runner_touches_x, Use::freed);
}

TEST(DeferredFlushRace, FinishingOnAnotherPeReissuesTheTlbisThereBeforeItsDsb) {
  DeferredFlush real;
  const Bug8Outcome out = flush_migrates_between_tlbi_and_dsb(real);
  EXPECT_TRUE(out.complete);
  EXPECT_FALSE(out.cached_when_freed);
  EXPECT_EQ(out.runner_touches_x, Use::fault);
  EXPECT_EQ(out.ops_on_migrated_pe, (std::vector<Op>{{Instr::dsb_ishst, 0},
                                                     {Instr::aside1is, kAsid9Operand},
                                                     {Instr::dsb_ish, 0}}));
}

// ---------------------------------------------------------------------------
// Threads: every CPU runs the space on and off, touches pages of all CPUs,
// unmaps and remaps its own pages with deferred flushes, flushes now and
// then and frees what completed. A page reused while some TLB still maps it
// and that TLB's CPU then touches it is the failure (Use::freed), whatever
// the interleaving.

TEST(DeferredFlushStress, NoCpuEverUsesAFreedPageThroughItsTlb) {
  constexpr unsigned kCpus = 4;
  constexpr unsigned kIterations = 20000;
  constexpr unsigned kSlotsPerCpu = 8;
  constexpr unsigned kPagesPerCpu = 12;
  TlbModel model(kCpus);
  DeferredFlush flush;
  const AddressSpace space = space_asid9();
  std::atomic<unsigned> freed_uses{0};
  std::atomic<unsigned> catch_ups{0};
  std::atomic<unsigned> immediate_tickets{0};
  std::atomic<unsigned> waiting_tickets{0};
  std::atomic<unsigned> released{0};
  std::atomic<unsigned> errors{0};

  auto slot_va = [](unsigned cpu, unsigned slot) {
    return VirtAddr{0x4000'0000} + (VirtAddr{cpu} * kSlotsPerCpu + slot) * TlbModel::kPage;
  };

  auto cpu_main = [&](unsigned cpu) {
    std::mt19937 rng(99 + cpu);
    ModelExecutor on_cpu(model, cpu);
    std::array<RetiredPage, 2 * kPagesPerCpu> storage{};
    DeferredFreeList list(storage);
    std::vector<PhysAddr> free_pages;
    for (unsigned k = 0; k < kPagesPerCpu; ++k) {
      free_pages.push_back(PhysAddr{0x9'0000'0000} + (PhysAddr{cpu} * 64 + k) * TlbModel::kPage);
    }
    std::array<std::optional<PhysAddr>, kSlotsPerCpu> mapped{};
    struct ToPool final : PageReleaser {
      TlbModel* model = nullptr;
      std::vector<PhysAddr>* pool = nullptr;
      void release(PhysAddr page) override {
        model->free_page(page);  // reused from here on
        pool->push_back(page);
      }
    } releaser;
    releaser.model = &model;
    releaser.pool = &free_pages;
    bool active = false;

    for (unsigned i = 0; i < kIterations; ++i) {
      if (!active && rng() % 4 != 0) {
        const Result<CatchUp> c = flush.activate(cpu, space, on_cpu);
        if (!c.ok()) ++errors;
        if (c.ok() && *c == CatchUp::local_flush) ++catch_ups;
        active = true;
      }
      if (active) {
        for (int n = 0; n < 4; ++n) {
          const auto owner = static_cast<unsigned>(rng() % kCpus);
          const auto slot = static_cast<unsigned>(rng() % kSlotsPerCpu);
          if (model.access(cpu, kAsid, slot_va(owner, slot)) == Use::freed) ++freed_uses;
        }
      }
      const auto slot = static_cast<unsigned>(rng() % kSlotsPerCpu);
      if (mapped[slot]) {
        model.unmap(kAsid, slot_va(cpu, slot));
        const FlushTicket t = flush.defer();
        ++(t.generation == 0 ? immediate_tickets : waiting_tickets);
        while (!list.retire(t, *mapped[slot]).ok()) {
          if (!flush.flush(cpu, space, on_cpu).ok()) ++errors;
          released += static_cast<unsigned>(list.release_completed(flush, releaser));
        }
        mapped[slot].reset();
      } else if (!free_pages.empty()) {
        mapped[slot] = free_pages.back();
        free_pages.pop_back();
        model.map(kAsid, slot_va(cpu, slot), *mapped[slot]);
      }
      if (rng() % 4 == 0 && !flush.flush(cpu, space, on_cpu).ok()) ++errors;
      released += static_cast<unsigned>(list.release_completed(flush, releaser));
      if (active && rng() % 3 == 0) {
        if (!flush.deactivate(cpu).ok()) ++errors;
        active = false;
      }
    }
    if (active && !flush.deactivate(cpu).ok()) ++errors;
    while (list.size() > 0) {
      if (!flush.flush(cpu, space, on_cpu).ok()) ++errors;
      released += static_cast<unsigned>(list.release_completed(flush, releaser));
    }
  };

  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < kCpus; ++cpu) threads.emplace_back(cpu_main, cpu);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(freed_uses.load(), 0u);
  EXPECT_EQ(errors.load(), 0u);
  // The run must have exercised every path.
  EXPECT_GT(catch_ups.load(), 0u);
  EXPECT_GT(immediate_tickets.load(), 0u);
  EXPECT_GT(waiting_tickets.load(), 0u);
  EXPECT_EQ(released.load(), immediate_tickets.load() + waiting_tickets.load())
      << "every retired page is freed in the end";
}

}  // namespace
}  // namespace tlbkit::percpu
