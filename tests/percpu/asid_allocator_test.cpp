// The ASID/VMID allocator: allocation, rollover with per-CPU local flushes,
// reserved running ids, teardown without TLBI, the "active slot already 0"
// race (docs/ARCHITECTURE-FACTS.md section 6), and a multi-threaded uniqueness check.
// Expected ids and context ids are worked out by hand in the comments.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "support/tlb_model.hpp"
#include "tlbkit/percpu/asid_allocator.hpp"

namespace tlbkit::percpu {

using arch::VirtAddr;
using arch::PhysAddr;

namespace {

using arch::Instr;
using arch::Op;
using arch::PhysAddr;
using arch::VirtAddr;

// Generation g, id i, 8-bit ids: g << 8 | i.
constexpr std::uint64_t ctx8(std::uint64_t generation, std::uint64_t id) { return generation << 8 | id; }

SwitchResult must_switch(IdAllocator<3>& a, unsigned cpu, IdContext& c) {
  const Result<SwitchResult> r = a.switch_to(cpu, c);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : SwitchResult{};
}

TEST(AsidAllocator, FirstSwitchGetsId1OfGeneration1WithNoFlush) {
  IdAllocator<3> ids(IdWidth::bits8, IdKind::asid);
  IdContext a;
  const SwitchResult r = must_switch(ids, 0, a);
  EXPECT_EQ(r.id, 1u);
  EXPECT_EQ(r.context_id, ctx8(1, 1));
  EXPECT_EQ(r.flush, LocalFlush::none);
  EXPECT_EQ(a.value.load(), ctx8(1, 1));
}

TEST(AsidAllocator, SwitchingBackToALiveSpaceKeepsItsId) {
  IdAllocator<3> ids(IdWidth::bits8, IdKind::asid);
  IdContext a, b;
  EXPECT_EQ(must_switch(ids, 0, a).id, 1u);
  EXPECT_EQ(must_switch(ids, 0, b).id, 2u);
  EXPECT_EQ(must_switch(ids, 1, a).id, 1u) << "same space on another CPU: same id";
  const SwitchResult again = must_switch(ids, 0, a);
  EXPECT_EQ(again.context_id, ctx8(1, 1));
  EXPECT_EQ(again.flush, LocalFlush::none);
}

TEST(AsidAllocator, EightBitIdsRollOverAfter255AndEachCpuFlushesLocallyOnce) {
  IdAllocator<3> ids(IdWidth::bits8, IdKind::asid);
  std::vector<IdContext> c(260);
  for (unsigned i = 0; i < 255; ++i) {
    const SwitchResult r = must_switch(ids, 0, c[i]);
    ASSERT_EQ(r.context_id, ctx8(1, i + 1));
    ASSERT_EQ(r.flush, LocalFlush::none);
  }
  // No id left: generation 2. CPU 0 runs c[254] (id 255): kept reserved.
  // CPU 1 and 2 never ran anything. Free again: 1..254.
  const SwitchResult rolled = must_switch(ids, 0, c[255]);
  EXPECT_EQ(ids.generation(), 2u);
  EXPECT_EQ(rolled.context_id, ctx8(2, 1));
  EXPECT_EQ(rolled.flush, LocalFlush::all_ids);
  // c[0] had id 1, now taken by c[255]: the next free one is 2. CPU 1's
  // first switch since the rollover flushes; its second does not.
  const SwitchResult c0 = must_switch(ids, 1, c[0]);
  EXPECT_EQ(c0.context_id, ctx8(2, 2));
  EXPECT_EQ(c0.flush, LocalFlush::all_ids);
  EXPECT_EQ(must_switch(ids, 1, c[0]).flush, LocalFlush::none);
  // c[254] was running at the rollover: it keeps id 255, and CPU 0 already
  // flushed.
  const SwitchResult c254 = must_switch(ids, 0, c[254]);
  EXPECT_EQ(c254.context_id, ctx8(2, 255));
  EXPECT_EQ(c254.flush, LocalFlush::none);
  // c[1] had id 2 (now c[0]'s): next free after 2 is 3.
  EXPECT_EQ(must_switch(ids, 0, c[1]).context_id, ctx8(2, 3));
  // CPU 2 flushes on its first switch too, even to an id it never held.
  EXPECT_EQ(must_switch(ids, 2, c[255]).flush, LocalFlush::all_ids);
}

TEST(AsidAllocator, SixteenBitIdsRollOverAfter65535) {
  IdAllocator<3> ids(IdWidth::bits16, IdKind::asid);
  const auto c = std::make_unique<IdContext[]>(65536);
  for (unsigned i = 0; i < 65535; ++i) {
    const SwitchResult r = must_switch(ids, 0, c[i]);
    ASSERT_EQ(r.id, i + 1);
    ASSERT_EQ(r.context_id, (std::uint64_t{1} << 16) | (i + 1));
  }
  EXPECT_EQ(ids.generation(), 1u);
  const SwitchResult r = must_switch(ids, 0, c[65535]);
  EXPECT_EQ(ids.generation(), 2u);
  EXPECT_EQ(r.context_id, (std::uint64_t{2} << 16) | 1);
  EXPECT_EQ(r.flush, LocalFlush::all_ids);
}

// A dead space's teardown issues no TLBI (release() takes no executor and
// the model sees no op). Its id is not handed out again before a rollover;
// after one, the CPU's local flush removes the dead space's entries before
// the new owner of the id runs.
TEST(AsidAllocator, ReleasedIdIsReusedOnlyAfterRolloverAndTheLocalFlushRemovesTheDeadEntries) {
  constexpr VirtAddr kX = 0x40'0000;
  constexpr PhysAddr kDeadPage = 0x8000'0000;
  constexpr PhysAddr kNewPage = 0x8800'0000;
  test::TlbModel model(1);
  test::ModelExecutor on0(model, 0);
  IdAllocator<1> ids(IdWidth::bits8, IdKind::asid);

  IdContext dead;
  const Result<SwitchResult> d = ids.switch_to(0, dead);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->id, 1u);
  model.map(1, kX, kDeadPage);
  ASSERT_EQ(model.access(0, 1, kX), test::Use::fresh);
  // Teardown: tables and pages go, no TLBI.
  ids.release(dead);
  model.unmap(1, kX);
  model.free_page(kDeadPage);
  EXPECT_EQ(on0.plans, 0u);

  std::vector<IdContext> others(254);
  for (IdContext& c : others) {
    const Result<SwitchResult> r = ids.switch_to(0, c);
    ASSERT_TRUE(r.ok());
    ASSERT_NE(r->id, 1u) << "released id reused within its generation";
    ASSERT_EQ(r->flush, LocalFlush::none);
  }
  // Ids 2..255 used: the next space rolls over and gets id 1 (CPU 0 keeps
  // 255 reserved).
  IdContext fresh;
  const Result<SwitchResult> n = ids.switch_to(0, fresh);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->context_id, ctx8(2, 1));
  ASSERT_EQ(n->flush, LocalFlush::all_ids);
  model.map(1, kX, kNewPage);
  EXPECT_EQ(model.access(0, 1, kX), test::Use::freed) << "what running without the flush would do";
  Plan flush;
  ASSERT_TRUE(append_local_flush(IdKind::asid, flush).ok());
  on0.execute(flush);
  EXPECT_EQ(model.access(0, 1, kX), test::Use::fresh);
}

// docs/ARCHITECTURE-FACTS.md section 6: "replacing an active ASID slot that is already
// 0". CPU 1 runs X and does not switch across two rollovers; its active
// slot is 0 from the first one on. The second must keep X's id reserved
// from CPU 1's reserved entry, not from the 0 slot; and CPU 1's next
// switch must not take the lock-free path with its 0 slot, which would
// skip its pending local flush.
TEST(AsidAllocator, ACpuIdleAcrossTwoRolloversKeepsItsIdReservedAndStillFlushes) {
  IdAllocator<3> ids(IdWidth::bits8, IdKind::asid);
  IdContext x;
  ASSERT_EQ(must_switch(ids, 1, x).context_id, ctx8(1, 1));
  std::vector<IdContext> c(760);
  // Generation 1: ids 2..255 for c[0..253].
  for (unsigned i = 0; i <= 253; ++i) ASSERT_EQ(must_switch(ids, 0, c[i]).context_id, ctx8(1, i + 2));
  // Rollover 1: reserved 255 (CPU 0) and 1 (CPU 1). c[254] gets 2.
  ASSERT_EQ(must_switch(ids, 0, c[254]).context_id, ctx8(2, 2));
  // Generation 2: 3..254 for c[255..506].
  for (unsigned i = 255; i <= 506; ++i) ASSERT_EQ(must_switch(ids, 0, c[i]).context_id, ctx8(2, i - 252));
  // Rollover 2 with CPU 1's slot still 0: reserved 254 (CPU 0) and, from
  // CPU 1's reserved entry, 1. c[507] gets 2, not 1.
  ASSERT_EQ(must_switch(ids, 0, c[507]).context_id, ctx8(3, 2));
  EXPECT_EQ(ids.generation(), 3u);
  // The rest of generation 3: 3..253 and 255; never 1.
  for (unsigned i = 508; i <= 759; ++i) {
    const SwitchResult r = must_switch(ids, 0, c[i]);
    ASSERT_NE(r.id, 1u) << "X's id given away while CPU 1 still runs X";
    ASSERT_EQ(r.context_id, ctx8(3, i <= 758 ? i - 505 : 255));
  }
  // X on CPU 2 keeps id 1 in generation 3 (so TLBIs for X by its current
  // id still reach CPU 1's entries).
  const SwitchResult x_on_2 = must_switch(ids, 2, x);
  EXPECT_EQ(x_on_2.context_id, ctx8(3, 1));
  EXPECT_EQ(x_on_2.flush, LocalFlush::all_ids);
  // X is of the current generation now, but CPU 1's slot is 0: slow path,
  // and its local flush is still due.
  const SwitchResult x_on_1 = must_switch(ids, 1, x);
  EXPECT_EQ(x_on_1.context_id, ctx8(3, 1));
  EXPECT_EQ(x_on_1.flush, LocalFlush::all_ids);
  EXPECT_EQ(must_switch(ids, 1, x).flush, LocalFlush::none);
}

TEST(AsidAllocator, LocalFlushIsVmalle1ForAsidsAndAlle1ForVmids) {
  EXPECT_EQ(std::vector<Op>(local_flush_ops(IdKind::asid).begin(), local_flush_ops(IdKind::asid).end()),
            (std::vector<Op>{{Instr::dsb_nsh, 0}, {Instr::vmalle1, 0}, {Instr::dsb_nsh, 0}, {Instr::isb, 0}}));
  EXPECT_EQ(std::vector<Op>(local_flush_ops(IdKind::vmid).begin(), local_flush_ops(IdKind::vmid).end()),
            (std::vector<Op>{{Instr::dsb_nsh, 0}, {Instr::alle1, 0}, {Instr::dsb_nsh, 0}, {Instr::isb, 0}}));
  for (const Op& op : local_flush_ops(IdKind::vmid)) {
    EXPECT_EQ(arch::info(op.instr).scope, arch::Scope::local) << "no broadcast at rollover";
  }
  IdAllocator<2> vmids(IdWidth::bits16, IdKind::vmid);
  EXPECT_EQ(vmids.core().kind(), IdKind::vmid);
  EXPECT_EQ(vmids.core().usable_ids(), 65535u);
}

TEST(AsidAllocator, ACpuBeyondTheStorageIsRefused) {
  IdAllocator<3> ids(IdWidth::bits8, IdKind::asid);
  IdContext a;
  EXPECT_EQ(ids.switch_to(3, a).error().code, Errc::out_of_range);
  EXPECT_EQ(a.value.load(), 0u);
}

// ---------------------------------------------------------------------------
// Threads: CPUs switch between shared spaces (running on several CPUs at
// once) and private ones they tear down and recreate, which burns ids and
// forces many rollovers. Checked, independently of the allocator:
// - no context id (generation, id) is ever seen with two different live
//   spaces, on any CPU;
// - each CPU's own TLB model (entries tagged with the id and the space
//   that filled them, cleared when switch_to asks for the local flush)
//   never holds an entry of another space under the id it switches to.

TEST(AsidAllocatorStress, NoTwoLiveSpacesShareAnIdWithinAGeneration) {
  constexpr unsigned kCpus = 4;
  constexpr unsigned kIterations = 60000;
  constexpr unsigned kShared = 40;
  constexpr unsigned kPrivate = 24;
  IdAllocator<kCpus> ids(IdWidth::bits8, IdKind::asid);
  std::vector<IdContext> shared(kShared);
  std::atomic<unsigned> foreign_entries{0};
  std::atomic<unsigned> bad_results{0};
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> seen(kCpus);  // context id, space

  auto cpu_main = [&](unsigned cpu) {
    std::mt19937 rng(7 + cpu);
    std::vector<IdContext> mine(kPrivate);
    std::vector<std::uint64_t> incarnation(kPrivate, 0);
    std::vector<std::pair<std::uint16_t, std::uint64_t>> tlb;  // id, space
    auto& log = seen[cpu];
    log.reserve(kIterations);
    for (unsigned i = 0; i < kIterations; ++i) {
      IdContext* context = nullptr;
      std::uint64_t space = 0;
      if (rng() % 2 == 0) {
        const unsigned k = static_cast<unsigned>(rng() % kShared);
        context = &shared[k];
        space = k;
      } else {
        const unsigned j = static_cast<unsigned>(rng() % kPrivate);
        if (rng() % 3 == 0) {  // the old space died; a new one reuses the struct
          ids.release(mine[j]);
          ++incarnation[j];
        }
        context = &mine[j];
        space = (std::uint64_t{1} << 63) | std::uint64_t{cpu} << 48 | std::uint64_t{j} << 32 | incarnation[j];
      }
      const Result<SwitchResult> r = ids.switch_to(cpu, *context);
      if (!r.ok() || r->id == 0 || r->id > 255 || r->id != (r->context_id & 0xff)) {
        ++bad_results;
        continue;
      }
      if (r->flush == LocalFlush::all_ids) tlb.clear();
      bool present = false;
      for (const auto& [id, owner] : tlb) {
        if (id != r->id) continue;
        if (owner == space) {
          present = true;
        } else {
          ++foreign_entries;
        }
      }
      if (!present) tlb.emplace_back(r->id, space);
      log.emplace_back(r->context_id, space);
    }
  };

  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < kCpus; ++cpu) threads.emplace_back(cpu_main, cpu);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(bad_results.load(), 0u);
  EXPECT_EQ(foreign_entries.load(), 0u);
  std::map<std::uint64_t, std::uint64_t> owner_of;
  unsigned shared_ids = 0;
  for (const auto& log : seen) {
    for (const auto& [context_id, space] : log) {
      const auto [it, inserted] = owner_of.emplace(context_id, space);
      if (!inserted && it->second != space) ++shared_ids;
    }
  }
  EXPECT_EQ(shared_ids, 0u);
  EXPECT_GT(ids.generation(), 10u) << "the run must roll over many times";
}

}  // namespace
}  // namespace tlbkit::percpu
