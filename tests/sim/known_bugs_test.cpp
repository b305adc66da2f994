// Known bugs 1, 2, 3, 4, 5, 6, 9, 10 and 12 of docs/KNOWN-BUGS.md on the
// simulated machine. The other five are in machine_test.cpp:
//   7  FreeingATableStillInAWalkCacheIsAUseAfterFree (leaf-only ops after a
//      table was freed) / ThePlannerFreesTheTableOnlyAfterTheWalkCacheIsClean
//   8  ATlbiIsCompleteOnlyAfterTheIssuersOwnDsb
//   11 ALocalTlbiLeavesOtherPesStale
//   13 WithoutAStoreBarrierAnotherPeRefillsTheOldEntry /
//      WithAStoreBarrierTheRefillSeesTheNewTable
//   14 ReplacingACachedTableEntryWithABlockInPlaceBreaksBbm
//
// Each bug is reproduced as a deliberately broken policy, executor, table
// memory or building block driving a real sim::Machine (mostly the two-PE
// stage-1 rig of tests/support/stage1_machine.hpp, with user pages): tables
// written by pt::Table into sim::PhysicalMemory, accesses made by PEs
// through Machine::access, maintenance executed on the machine. The broken
// variant must trip a checker (the first violation names the kind, the PE
// and the address, and for a use-after-free the page); the correct variant
// (the real tlbkit encoder, planner, policy or building block) on the same
// sequence must leave no violation at all.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "percpu/broken_variants.hpp"
#include "support/stage1_machine.hpp"
#include "tlbkit/sim/machine.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/percpu/deferred_flush.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/percpu/request_slots.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::sim {
namespace {

using arch::Instr;
using arch::Presence;
using percpu::FlushTicket;
using namespace test;  // the rig, kVa, kData, kPage, kAsid, op() and the violation checks

constexpr std::uint64_t kBlock = 0x20'0000;    // 2 MiB: a level-2 entry
constexpr std::uint64_t kGiB = 0x4000'0000;    // 1 GiB: a level-1 entry

// DSB ISHST; TLBI ASIDE1IS; DSB ISH: what the test policies do when the
// Gather's ranges overflowed (coverage "everything").
Status flush_asid(const maint::AddressSpace& space, Plan& plan) {
  Status s = plan.append(op(Instr::dsb_ishst));
  if (s.ok()) s = plan.append(arch::encode_asid(Instr::aside1is, arch::Asid{space.asid}));
  if (s.ok()) s = plan.append(op(Instr::dsb_ish));
  return s;
}

// The two-PE machine with one EL1&0 stage-1 address space
// (support/stage1_machine.hpp) with user memory: map() maps EL0
// read/write, non-global pages (EL1 is kept out by PAN in the model), and
// read() reads at EL0 unless told otherwise.
const Stage1Setup kUserSpace{.pages = Pages::user};

// The real planner forced to one of its shapes (here: to make sure the
// plan holds range ops).
class ShapePolicy final : public maint::Policy {
 public:
  ShapePolicy(const maint::Planner& planner, maint::Shape shape) : planner_(planner), shape_(shape) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override {
    return planner_.plan_as(shape_, pending, space, features, plan);
  }

 private:
  const maint::Planner& planner_;
  maint::Shape shape_;
};

// Runs plans on the machine and keeps every op it ran.
class RecordingExecutor final : public Executor {
 public:
  explicit RecordingExecutor(Executor& inner) : inner_(inner) {}
  void execute(const Plan& plan) override {
    for (const arch::Op& o : plan.ops()) ops.push_back(o);
    inner_.execute(plan);
  }
  std::vector<arch::Op> ops;

 private:
  Executor& inner_;
};

// ---------------------------------------------------------------------------------------
// Known bug 1 (Linux, 2024): range operands with NUM capped at 30. Exactly
// 2^21 pages needs the single op NUM 31, SCALE 3; with the cap SCALE
// underflowed and the op issued covered 1 GiB instead of 8 GiB.

using Decompose = arch::RangeDecomposition (*)(std::uint64_t pages);

// The broken decomposition: one op per nonzero base-32 digit of pages/2,
// NUM capped at 30. Exactly 2^21 pages has no nonzero digit at SCALE 3..0
// (it would need NUM 31 at SCALE 3): SCALE underflows, and the op that
// comes out covers 1 GiB (2^18 pages) from the base, modelled as SCALE 3,
// NUM 3 (the exact wrapped field values are not modelled).
arch::RangeDecomposition range_pieces_num_capped_at_30(std::uint64_t pages) {
  arch::RangeDecomposition out;
  out.trailing_single_page = (pages & 1) != 0;
  const std::uint64_t pairs = pages >> 1;
  for (unsigned scale = arch::kMaxRangeScale + 1; scale-- > 0;) {
    const auto digit = static_cast<unsigned>((pairs >> (5 * scale)) & 31);
    if (digit != 0) out.pieces[out.count++] = arch::RangePiece{scale, std::min(digit - 1, 30u)};
  }
  if (out.count == 0 && pairs != 0) out.pieces[out.count++] = arch::RangePiece{3, 3};  // SCALE underflowed
  return out;
}

// Linux-style range invalidation: DSB ISHST; per pending range the range
// pieces from its base (non-leaf RVAE1IS, no TTL) and a VAE1IS for an odd
// last page; DSB ISH. The pieces come from `decompose`.
class RangePolicy final : public maint::Policy {
 public:
  explicit RangePolicy(Decompose decompose) : decompose_(decompose) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures&,
              Plan& plan) const override {
    if (pending.coverage == maint::Coverage::everything) return flush_asid(space, plan);
    Status s = plan.append(op(Instr::dsb_ishst));
    for (const maint::PendingRange& r : pending.ranges) {
      const arch::RangeDecomposition d = decompose_(r.size / kPage);
      VirtAddr va = r.va;
      for (const arch::RangePiece& p : d.used()) {
        if (s.ok()) {
          s = plan.append(arch::encode_range(Instr::rvae1is, arch::Asid{space.asid}, va,
                                             arch::RangeFields{arch::Granule::k4K, p.scale, p.num, {}}));
        }
        va += p.pages() * kPage;
      }
      if (s.ok() && d.trailing_single_page) {
        s = plan.append(arch::encode_va(Instr::vae1is, arch::Asid{space.asid}, va, arch::kNoTtl));
      }
    }
    if (s.ok()) s = plan.append(op(Instr::dsb_ish));
    return s;
  }

 private:
  Decompose decompose_;
};

constexpr VirtAddr kEightGiBBase = 0x1'0000'0000;              // 4 GiB, 1 GiB aligned
constexpr std::uint64_t kEightGiB = std::uint64_t{8} * kGiB;   // 2^21 pages
constexpr PhysAddr kBlocksData = kData + kBlock;               // 2 MiB aligned only: 2 MiB blocks
constexpr VirtAddr kBeyondFirstGiB = kEightGiBBase + 5 * kGiB + 3 * kBlock + 0x123 * 8;

// Maps 8 GiB with 2 MiB blocks, PE 1 caches a block beyond the first GiB,
// PE 0 unmaps all 8 GiB with `policy` (the emptied level-2 tables are freed
// after the flush), then PE 1 reads the address again. `probed_table`: the
// level-2 table that mapped the address.
void unmap_eight_gib(Stage1Machine& s, const maint::Policy& policy, PhysAddr& probed_table,
                     RecordingExecutor* executor = nullptr) {
  s.features.tlbi_range = Presence::present;
  s.map(kEightGiBBase, kBlocksData, kEightGiB);
  probed_table = arch::output_address(s.memory.peek(s.table.root())[geometry39().index(kBeyondFirstGiB, 1)]);
  const Access before = s.read(1, kBeyondFirstGiB);
  ASSERT_EQ(before.outcome, AccessOutcome::ok);
  ASSERT_EQ(before.pa, kBlocksData + (kBeyondFirstGiB - kEightGiBBase));
  s.unmap(kEightGiBBase, kEightGiB, policy, executor);
  (void)s.read(1, kBeyondFirstGiB);
}

TEST(KnownBugs, KnownBug01_RangeNumCappedAt30CoversOneGigabyteOfEightAndLeavesStaleEntries) {
  Stage1Machine s(kUserSpace);
  const RangePolicy capped(range_pieces_num_capped_at_30);
  RecordingExecutor recorder(s.machine.executor(0));
  PhysAddr table = 0;  // the level-2 table of the GiB PE 1 read from
  unmap_eight_gib(s, capped, table, &recorder);
  std::vector<arch::DecodedOp> ranges;
  for (const arch::Op& o : recorder.ops) {
    if (arch::operand_kind(o.instr) == arch::OperandKind::range) ranges.push_back(arch::decode(o));
  }
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].start, kEightGiBBase);
  EXPECT_EQ(ranges[0].size, kGiB) << "one GiB of the eight";
  // The walk entry of the sixth GiB survives the 1 GiB op: its table is
  // freed under it, and the block entry still translates afterwards.
  ASSERT_TRUE(first_violation_is_use_after_free(s.machine, 1, kEightGiBBase + 5 * kGiB, table, CachedKind::walk));
  const auto stale = std::find_if(s.machine.violations().begin(), s.machine.violations().end(),
                                  [](const Violation& v) { return v.kind == ViolationKind::stale_translation; });
  ASSERT_NE(stale, s.machine.violations().end()) << list(s.machine);
  EXPECT_EQ(stale->pe, 1u);
  EXPECT_EQ(stale->va, kBeyondFirstGiB);
  EXPECT_FALSE(stale->current.has_value()) << "the tables map nothing there any more";
}

TEST(KnownBugs, KnownBug01_TheRealEncoderCoversAllEightGigabytes) {
  Stage1Machine s(kUserSpace);
  const ShapePolicy range_exact(s.planner, maint::Shape::range_exact);
  RecordingExecutor recorder(s.machine.executor(0));
  PhysAddr table = 0;
  unmap_eight_gib(s, range_exact, table, &recorder);
  EXPECT_FALSE(s.memory.is_live(table)) << "the unmap freed the emptied level-2 tables";
  EXPECT_TRUE(no_violation(s.machine));
  EXPECT_EQ(s.read(1, kBeyondFirstGiB).outcome, AccessOutcome::translation_fault);
  // One op: NUM 31, SCALE 3 from the base, 2^21 pages.
  std::vector<arch::DecodedOp> ranges;
  for (const arch::Op& o : recorder.ops) {
    if (arch::operand_kind(o.instr) == arch::OperandKind::range) ranges.push_back(arch::decode(o));
  }
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].num, 31u);
  EXPECT_EQ(ranges[0].scale, 3u);
  EXPECT_EQ(ranges[0].start, kEightGiBBase);
  EXPECT_EQ(ranges[0].size, kEightGiB);
}

// ---------------------------------------------------------------------------------------
// Known bug 2 (QEMU, 2021): an emulator decoded the range operand's NUM as
// 4 bits and used a wrong page shift, so it invalidated another range than
// the op named. Modelled: NUM read from bits 42:39 (bit 43 lost) and the
// page shift taken as 12 + 2 * TG instead of 12 + 2 * (TG - 1) (14 for a
// 4 KiB TG); each range op is replaced by exact ops over what that decoder
// computes.

class BuggyRangeDecoderExecutor final : public Executor {
 public:
  explicit BuggyRangeDecoderExecutor(Executor& inner) : inner_(inner) {}
  void execute(const Plan& plan) override {
    Plan out;
    for (const arch::Op& o : plan.ops()) {
      const arch::OperandKind kind = arch::operand_kind(o.instr);
      if (kind != arch::OperandKind::range && kind != arch::OperandKind::range_all_asid) {
        EXPECT_TRUE(out.append(o).ok());
        continue;
      }
      const std::uint64_t v = o.operand;
      const auto tg = static_cast<unsigned>((v >> 46) & 3);
      const auto scale = static_cast<unsigned>((v >> 44) & 3);
      const auto num = static_cast<unsigned>((v >> 39) & 0xf);  // BUG: NUM is 43:39
      const auto ttl = static_cast<unsigned>((v >> 37) & 3);
      const unsigned shift = 12 + 2 * tg;                       // BUG: 12 + 2 * (TG - 1)
      VirtAddr start = (v & ((std::uint64_t{1} << 37) - 1)) << shift;
      std::uint64_t pages = arch::range_pages(scale, num) << (shift - 12);  // in 4 KiB pages
      while (pages > 0) {
        const std::uint64_t chunk = std::min(pages, arch::kMaxRangePages);
        const auto pieces = arch::range_pieces(chunk);  // named: used() views into it
        for (const arch::RangePiece& p : pieces.used()) {
          const arch::RangeFields fields{arch::Granule::k4K, p.scale, p.num,
                                         ttl == 0 ? std::nullopt : std::optional<unsigned>(ttl)};
          const Result<arch::Op> reissued =
              kind == arch::OperandKind::range
                  ? arch::encode_range(o.instr, arch::Asid{static_cast<std::uint32_t>(v >> 48)}, start, fields)
                  : arch::encode_range_all_asid(o.instr, start, fields);
          EXPECT_TRUE(reissued.ok());
          if (reissued.ok()) {
            EXPECT_TRUE(out.append(*reissued).ok());
          }
          start += p.pages() * kPage;
        }
        pages -= chunk;
      }
    }
    inner_.execute(out);
  }

 private:
  Executor& inner_;
};

// 34 pages: one range op with NUM 16 (bit 43 set), SCALE 0.
constexpr std::uint64_t kRangePages = 34;
constexpr VirtAddr kInsideRange = kVa + 20 * kPage;

// Maps 64 pages, PE 1 caches page 20, PE 0 unmaps pages 0..33 with the
// planner's exact range shape run through `executor`.
void unmap_34_pages_with_a_range_op(Stage1Machine& s, Executor& executor) {
  s.features.tlbi_range = Presence::present;
  s.map(kVa, kData, 64 * kPage);
  ASSERT_EQ(s.read(1, kInsideRange).outcome, AccessOutcome::ok);
  const ShapePolicy range_exact(s.planner, maint::Shape::range_exact);
  s.unmap(kVa, kRangePages * kPage, range_exact, &executor);
  (void)s.read(1, kInsideRange);
}

TEST(KnownBugs, KnownBug02_AFourBitNumAndAWrongPageShiftInTheDecoderLeaveTheRangeStale) {
  Stage1Machine s(kUserSpace);
  RecordingExecutor planned(s.machine.executor(0));  // the machine runs what the buggy decoder made of it
  BuggyRangeDecoderExecutor buggy(planned);
  RecordingExecutor issued(buggy);
  unmap_34_pages_with_a_range_op(s, issued);
  // The plan held one op with NUM 16; the decoder saw NUM 0 at 4 x the base.
  const auto is_range = [](const arch::Op& o) { return arch::operand_kind(o.instr) == arch::OperandKind::range; };
  const auto planned_range = std::find_if(issued.ops.begin(), issued.ops.end(), is_range);
  ASSERT_NE(planned_range, issued.ops.end());
  EXPECT_EQ(arch::decode(*planned_range).num, 16u);
  const auto decoded_range = std::find_if(planned.ops.begin(), planned.ops.end(), is_range);
  ASSERT_NE(decoded_range, planned.ops.end());
  EXPECT_EQ(arch::decode(*decoded_range).start, kVa << 2);
  EXPECT_EQ(arch::decode(*decoded_range).size, 2 * 0x4000u);
  ASSERT_TRUE(first_violation_is(s.machine, ViolationKind::stale_translation, 1, kInsideRange));
  EXPECT_EQ(s.machine.violations().front().stale->output, kData + 20 * kPage);
}

TEST(KnownBugs, KnownBug02_TheArchitecturalDecoderInvalidatesAllThirtyFourPages) {
  Stage1Machine s(kUserSpace);
  unmap_34_pages_with_a_range_op(s, s.machine.executor(0));
  EXPECT_TRUE(no_violation(s.machine));
  EXPECT_EQ(s.read(1, kInsideRange).outcome, AccessOutcome::translation_fault);
}

// ---------------------------------------------------------------------------------------
// Known bug 3 (the HVF-based Linux-binary runner, background doc): TLB
// requests staged in one slot shared by every vCPU. vCPU B's syscall
// epilogue drained the request vCPU A had staged before A returned to EL0;
// A found nothing to run, returned, and used its stale translation until
// B's broadcast TLBI caught up.

constexpr unsigned kVcpuA = 0;
constexpr unsigned kVcpuB = 1;

// Stages what the table engine reports in `cpu`'s slot.
template <class Slots>
class StagingSink final : public pt::ChangeSink {
 public:
  StagingSink(Slots& slots, unsigned cpu) : slots_(slots), cpu_(cpu) {}
  void record(const pt::Change& change) override { EXPECT_TRUE(slots_.stage(cpu_, change).ok()); }
  void invalidate_now(const pt::Change&) override { ADD_FAILURE() << "no break-before-make expected"; }
  void retire_table(PhysAddr, unsigned) override { ADD_FAILURE() << "no table is emptied here"; }

 private:
  Slots& slots_;
  unsigned cpu_;
};

// Both vCPUs used X; A's munmap stages its TLBI; B's epilogue drains first
// and B is descheduled before running what it drained; A's epilogue drains
// and runs its own request, A returns to EL0 and touches X; then B runs.
template <class Slots>
void vcpu_b_drains_before_vcpu_a_returns(Stage1Machine& s, Slots& slots, Access& a_at_el0) {
  s.map(kVa, kData, 2 * kPage);  // the second page keeps the table
  ASSERT_EQ(s.read(kVcpuA, kVa, Privilege::el0).outcome, AccessOutcome::ok);
  ASSERT_EQ(s.read(kVcpuB, kVa, Privilege::el0).outcome, AccessOutcome::ok);
  s.machine.begin_operation(kVcpuA, "munmap on vCPU A");
  {
    StagingSink<Slots> sink(slots, kVcpuA);
    ASSERT_TRUE(s.table.unmap(kVa, kPage, sink).ok());
  }
  const percpu::StagedRequest b_request = slots.drain(kVcpuB).value();
  const percpu::StagedRequest a_request = slots.drain(kVcpuA).value();
  ASSERT_TRUE(percpu::run_staged_request(a_request, s.space, s.features, s.planner, s.machine.executor(kVcpuA)).ok());
  s.machine.end_operation();  // A's syscall is over: it returns to EL0
  a_at_el0 = s.read(kVcpuA, kVa, Privilege::el0);
  ASSERT_TRUE(percpu::run_staged_request(b_request, s.space, s.features, s.planner, s.machine.executor(kVcpuB)).ok());
}

TEST(KnownBugs, KnownBug03_ASharedRequestSlotLetsVcpuBDrainVcpuAsRequestAndAUsesItsStaleEntry) {
  Stage1Machine s(kUserSpace);
  test::SharedSlotForTest shared;
  Access a_at_el0;
  vcpu_b_drains_before_vcpu_a_returns(s, shared, a_at_el0);
  EXPECT_EQ(a_at_el0.outcome, AccessOutcome::ok) << "A still translates X";
  ASSERT_TRUE(first_violation_is(s.machine, ViolationKind::stale_translation, kVcpuA, kVa));
  EXPECT_EQ(s.machine.violations().front().stale->output, kData);
  EXPECT_EQ(s.read(kVcpuA, kVa).outcome, AccessOutcome::translation_fault) << "B's broadcast caught up later";
}

TEST(KnownBugs, KnownBug03_PerVcpuRequestSlotsKeepTheRequestWithItsOwner) {
  Stage1Machine s(kUserSpace);
  percpu::RequestSlots<2> slots;
  Access a_at_el0;
  vcpu_b_drains_before_vcpu_a_returns(s, slots, a_at_el0);
  EXPECT_EQ(a_at_el0.outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(no_violation(s.machine));
}

// ---------------------------------------------------------------------------------------
// Deferred flushes (bugs 4 and 5): the table write happens now, the TLBIs
// later, by generation (or flag), and the data page is freed only once its
// flush completed. The engine's change records are not needed: the flush
// invalidates the whole ASID.

class DeferredSink final : public pt::ChangeSink {
 public:
  void record(const pt::Change&) override {}
  void invalidate_now(const pt::Change&) override { ADD_FAILURE() << "no break-before-make expected"; }
  void retire_table(PhysAddr, unsigned) override { ADD_FAILURE() << "no table is emptied here"; }
};

// Runs plans on `inner`; once, right after a plan that ends with DSB ISH
// (a flush's completing barrier), calls `hook` before returning.
class AfterCompletingDsb final : public Executor {
 public:
  AfterCompletingDsb(Executor& inner, std::function<void()> hook) : inner_(inner), hook_(std::move(hook)) {}
  void execute(const Plan& plan) override {
    inner_.execute(plan);
    std::optional<arch::Op> last;
    for (const arch::Op& o : plan.ops()) last = o;
    if (!fired && last && last->instr == Instr::dsb_ish) {
      fired = true;
      hook_();
    }
  }
  bool fired = false;

 private:
  Executor& inner_;
  std::function<void()> hook_;
};

constexpr unsigned kReclaimer = 0;
constexpr unsigned kUser = 1;

// Unmaps one page on the reclaimer's PE (no TLBI: deferred).
void unmap_deferred(Stage1Machine& s, VirtAddr va) {
  s.machine.begin_operation(kReclaimer, "reclaim");
  {
    DeferredSink sink;
    EXPECT_TRUE(s.table.unmap(va, kPage, sink).ok());
  }
  s.machine.end_operation();
}

// ---------------------------------------------------------------------------------------
// Known bug 4 (deferred batched flush thread, background doc): a "flush
// required" flag cleared after the flush loses a request made between the
// flush and the clear; the page of that request is then freed while a TLB
// still maps it.

constexpr VirtAddr kX1 = kVa;
constexpr VirtAddr kX2 = kVa + kPage;
constexpr PhysAddr kP1 = kData;
constexpr PhysAddr kP2 = kData + kPage;

template <class Flusher>
void request_between_flush_and_bookkeeping(Stage1Machine& s, Flusher& flusher, Access& user_touches_x2) {
  std::vector<std::pair<FlushTicket, PhysAddr>> retired;
  const auto reclaim = [&](VirtAddr va, PhysAddr pa) {
    unmap_deferred(s, va);
    retired.emplace_back(flusher.defer(), pa);
  };
  const auto release_completed = [&] {
    std::erase_if(retired, [&](const std::pair<FlushTicket, PhysAddr>& r) {
      if (!flusher.is_complete(r.first)) return false;
      s.machine.release(r.second, kPage);
      return true;
    });
  };

  s.map(kVa, kData, 3 * kPage);  // the third page keeps the table
  ASSERT_TRUE(flusher.activate(kUser, s.space, s.machine.executor(kUser)).ok());
  ASSERT_EQ(s.read(kUser, kX1).outcome, AccessOutcome::ok);
  ASSERT_EQ(s.read(kUser, kX2).outcome, AccessOutcome::ok);

  reclaim(kX1, kP1);
  // Right after the flush's completing DSB, before its bookkeeping: the user
  // refills X2 and another reclaimer unmaps it.
  AfterCompletingDsb on_reclaimer(s.machine.executor(kReclaimer), [&] {
    EXPECT_EQ(s.read(kUser, kX2).outcome, AccessOutcome::ok);
    reclaim(kX2, kP2);
  });
  ASSERT_TRUE(flusher.flush(kReclaimer, s.space, on_reclaimer).ok());
  ASSERT_TRUE(on_reclaimer.fired);
  release_completed();
  // The next reclaim pass: flush what is still required, free what completed.
  ASSERT_TRUE(flusher.flush(kReclaimer, s.space, s.machine.executor(kReclaimer)).ok());
  release_completed();
  EXPECT_TRUE(retired.empty());
  user_touches_x2 = s.read(kUser, kX2);
}

TEST(KnownBugs, KnownBug04_AFlushFlagClearedAfterFlushingLosesARequestAndFreesAPageStillCached) {
  Stage1Machine s(kUserSpace);
  test::FlagFlushForTest broken;
  Access user_touches_x2;
  request_between_flush_and_bookkeeping(s, broken, user_touches_x2);
  ASSERT_TRUE(first_violation_is_use_after_free(s.machine, kUser, kX2, kP2, CachedKind::leaf));
  EXPECT_EQ(user_touches_x2.outcome, AccessOutcome::ok) << "the user still reaches the freed page";
  EXPECT_EQ(s.machine.violations().back().kind, ViolationKind::stale_translation);
}

TEST(KnownBugs, KnownBug04_GenerationsKeepARequestMadeDuringAFlushForTheNextFlush) {
  Stage1Machine s(kUserSpace);
  percpu::DeferredFlush real;
  Access user_touches_x2;
  request_between_flush_and_bookkeeping(s, real, user_touches_x2);
  EXPECT_TRUE(no_violation(s.machine));
  EXPECT_EQ(user_touches_x2.outcome, AccessOutcome::translation_fault);
}

// ---------------------------------------------------------------------------------------
// Known bug 5 (same thread): no barrier between bumping the TLB generation
// and reading the mask of CPUs running the space. The read can be
// satisfied before the bump is visible: a CPU switching the space back in
// at that moment reads the old generation (no catch-up) while the flusher
// sees nobody active (no TLBI), and the page is freed under its TLB.

TEST(KnownBugs, KnownBug05_ReadingTheActiveCpusBeforeTheBumpFreesAPageAPeStillMaps) {
  Stage1Machine s(kUserSpace);
  test::UnorderedDeferForTest broken;
  s.map(kVa, kData, 2 * kPage);
  ASSERT_EQ(broken.activate(kUser, s.space, s.machine.executor(kUser)).value(), percpu::CatchUp::none);
  ASSERT_EQ(s.read(kUser, kVa).outcome, AccessOutcome::ok);
  ASSERT_TRUE(broken.deactivate(kUser).ok());  // switched out; its TLB keeps X

  unmap_deferred(s, kVa);
  const std::uint64_t seen = broken.read_active_cpus();  // satisfied before the bump is visible
  EXPECT_EQ(broken.activate(kUser, s.space, s.machine.executor(kUser)).value(), percpu::CatchUp::none)
      << "the user's PE reads the old generation";
  const FlushTicket t = broken.bump(seen);
  ASSERT_TRUE(broken.is_complete(t)) << "nobody seemed active: complete at once";
  s.machine.release(kData, kPage);
  ASSERT_TRUE(first_violation_is_use_after_free(s.machine, kUser, kVa, kData, CachedKind::leaf));
  EXPECT_EQ(s.read(kUser, kVa).outcome, AccessOutcome::ok) << "and uses it";
}

// The real defer() bumps and reads with no gap (seq_cst): the switch-in
// lands before it or after it. Here before: the ticket waits for a flush.
// (After is safe too: the switch-in's catch-up flushes the PE before it
// uses the space. The machine cannot show it: its use-after-free checker
// flags a release while the switched-out PE still caches the page, not
// modelling that the PE cannot use the entry before its catch-up.)
TEST(KnownBugs, KnownBug05_TheRealDeferSeesTheSwitchedInPeAndWaitsForItsFlush) {
  Stage1Machine s(kUserSpace);
  percpu::DeferredFlush real;
  s.map(kVa, kData, 2 * kPage);
  ASSERT_EQ(real.activate(kUser, s.space, s.machine.executor(kUser)).value(), percpu::CatchUp::none);
  ASSERT_EQ(s.read(kUser, kVa).outcome, AccessOutcome::ok);
  ASSERT_TRUE(real.deactivate(kUser).ok());

  unmap_deferred(s, kVa);
  EXPECT_EQ(real.activate(kUser, s.space, s.machine.executor(kUser)).value(), percpu::CatchUp::none);
  const FlushTicket t = real.defer();
  EXPECT_FALSE(real.is_complete(t)) << "the user's PE is active: the page waits";
  ASSERT_TRUE(real.flush(kReclaimer, s.space, s.machine.executor(kReclaimer)).ok());
  ASSERT_TRUE(real.is_complete(t));
  s.machine.release(kData, kPage);
  EXPECT_EQ(s.read(kUser, kVa).outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(no_violation(s.machine));
}

// ---------------------------------------------------------------------------------------
// Known bug 6 (KVM, 2024): stage-2 unmap TLBIs deferred to one range flush
// after the walk (with TLBIRANGE and FWB) were deferred for table entries
// too, while the walk freed the emptied tables as it went: walk caches
// still held the freed tables until the deferred flush.

constexpr std::uint16_t kVmid = 3;
constexpr VirtAddr kIpa = 0x4000'0000;

arch::Geometry stage2_geometry() { return *arch::Geometry::stage2(arch::Granule::k4K, 40, 1); }

struct Stage2 {
  PhysicalMemory memory;
  Machine machine{memory, *find_profile("mobile-8"), MachineOptions{2}};
  pt::Table table = [this] {
    pt::TableOptions options;
    options.fwb = arch::s2::Fwb::enabled;
    return std::move(pt::Table::create(arch::Regime::stage2, stage2_geometry(), memory, options)).value();
  }();
  maint::AddressSpace space = [] {
    maint::AddressSpace s;
    s.regime = arch::Regime::stage2;
    s.vmid = kVmid;
    return s;
  }();
  arch::CpuFeatures features = [] {
    arch::CpuFeatures f;
    f.processing_elements = 2;
    f.tlbi_range = Presence::present;
    f.fwb = Presence::present;
    return f;
  }();
  maint::Planner planner;

  Stage2() {
    PeContext ctx;  // stage 1 off: the PEs access IPAs
    ctx.vmid = kVmid;
    ctx.stage2 = stage2_geometry();
    ctx.stage2_root = table.root();
    EXPECT_TRUE(machine.set_context(0, ctx).ok());
    EXPECT_TRUE(machine.set_context(1, ctx).ok());
  }

  void map(VirtAddr ipa, PhysAddr pa, std::uint64_t size) {
    maint::Gather gather(space, features, planner, machine.executor(0), memory, &machine);
    EXPECT_TRUE(table.map(ipa, pa, size, arch::s2::Attributes{}, gather).ok());
  }
};

// KVM's 2023 deferral: every entry of the unmap, table entries included,
// left to the range flush after the walk (the real KvmPolicy in its
// deferred mode, shown every range as a leaf range).
class KvmDeferringTableEntriesPolicy final : public maint::Policy {
 public:
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override {
    std::vector<maint::PendingRange> ranges(pending.ranges.begin(), pending.ranges.end());
    for (maint::PendingRange& r : ranges) r.entry = pt::EntryKind::leaf;
    maint::Pending as_leaves = pending;
    as_leaves.ranges = ranges;
    return kvm_.plan(as_leaves, space, features, plan);
  }

 private:
  baselines::KvmPolicy kvm_{baselines::KvmPolicy::Deferral::range_with_fwb};
};

// KVM's stage-2 unmap walker: it frees (put_page) each emptied table as the
// walk leaves it. Leaf TLBIs are deferred to the range flush after the
// walk; table entries are deferred too (the 2023 bug) or invalidated at
// once, before the walk goes on to free the table (the 2024 fix).
class KvmUnmapWalk final : public pt::ChangeSink {
 public:
  enum class TableEntries : std::uint8_t { deferred, invalidated_at_once };

  KvmUnmapWalk(Stage2& s, const maint::Policy& policy, TableEntries tables)
      : memory_(s.memory), gather_(s.space, s.features, policy, s.machine.executor(0), s.memory), tables_(tables) {}
  void record(const pt::Change& change) override {
    if (change.entry == pt::EntryKind::table && tables_ == TableEntries::invalidated_at_once) {
      gather_.invalidate_now(change);
    } else {
      gather_.record(change);
    }
  }
  void invalidate_now(const pt::Change& change) override { gather_.invalidate_now(change); }
  void retire_table(PhysAddr table, unsigned pages) override { memory_.free(table, pages); }

 private:
  PhysicalMemory& memory_;
  maint::Gather gather_;  // the flush after the walk: on destruction
  TableEntries tables_;
};

// Two IPA pages in one level-3 table (emptied and freed by the unmap) and
// a third in another, which keeps the level-2 table.
void map_and_cache_the_first_page(Stage2& s, PhysAddr& level3_table) {
  s.map(kIpa, kData, 2 * kPage);
  s.map(kIpa + kBlock, kData + kBlock, kPage);
  const arch::Geometry g = stage2_geometry();
  const PhysAddr level2 = arch::output_address(s.memory.peek(s.table.root())[g.index(kIpa, 1)]);
  level3_table = arch::output_address(s.memory.peek(level2)[g.index(kIpa, 2)]);
  ASSERT_EQ(s.machine.access(1, kIpa + 0x10, AccessKind::read)->outcome, AccessOutcome::ok);
}

TEST(KnownBugs, KnownBug06_DeferringTheTlbiOfATableEntryLeavesTheFreedTableInAWalkCache) {
  Stage2 s;
  PhysAddr level3_table = 0;
  map_and_cache_the_first_page(s, level3_table);
  const KvmDeferringTableEntriesPolicy deferring;
  s.machine.begin_operation(0, "stage-2 unmap");
  {
    KvmUnmapWalk walk(s, deferring, KvmUnmapWalk::TableEntries::deferred);
    ASSERT_TRUE(s.table.unmap(kIpa, 2 * kPage, walk).ok());
  }
  s.machine.end_operation();
  ASSERT_TRUE(first_violation_is_use_after_free(s.machine, 1, kIpa, level3_table, CachedKind::walk));
}

TEST(KnownBugs, KnownBug06_KvmsFixInvalidatesTableEntriesBeforeTheWalkFreesTheTable) {
  Stage2 s;
  PhysAddr level3_table = 0;
  map_and_cache_the_first_page(s, level3_table);
  const baselines::KvmPolicy kvm(baselines::KvmPolicy::Deferral::range_with_fwb);
  s.machine.begin_operation(0, "stage-2 unmap");
  {
    KvmUnmapWalk walk(s, kvm, KvmUnmapWalk::TableEntries::invalidated_at_once);
    ASSERT_TRUE(s.table.unmap(kIpa, 2 * kPage, walk).ok());
  }
  s.machine.end_operation();
  EXPECT_FALSE(s.memory.is_live(level3_table)) << "the walk did free the table";
  EXPECT_EQ(s.machine.access(1, kIpa + 0x10, AccessKind::read)->outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(no_violation(s.machine));
}

TEST(KnownBugs, KnownBug06_TheGatherFreesTheTableOnlyAfterTheDeferredKvmFlush) {
  Stage2 s;
  PhysAddr level3_table = 0;
  map_and_cache_the_first_page(s, level3_table);
  const baselines::KvmPolicy kvm(baselines::KvmPolicy::Deferral::range_with_fwb);
  s.machine.begin_operation(0, "stage-2 unmap");
  {
    maint::Gather gather(s.space, s.features, kvm, s.machine.executor(0), s.memory, &s.machine);
    ASSERT_TRUE(s.table.unmap(kIpa, 2 * kPage, gather).ok());
  }
  s.machine.end_operation();
  EXPECT_FALSE(s.memory.is_live(level3_table));
  EXPECT_EQ(s.machine.access(1, kIpa + 0x10, AccessKind::read)->outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(no_violation(s.machine));
}

// ---------------------------------------------------------------------------------------
// Known bug 9 (the project of background doc 003): across exec the table
// pool was reused in place, the new image's tables written into the old
// pages, and walk caches were not invalidated: a walk starting from a
// cached table entry read a page that now held another table.

// Table pages from a fixed pool (never returned to physical memory), lowest
// free page first.
class TablePool final : public pt::TableMemory {
 public:
  TablePool(PhysicalMemory& memory, unsigned pages) : memory_(memory) {
    for (unsigned i = 0; i < pages; ++i) pages_.push_back(Page{*memory.allocate(1), false});
  }
  Result<PhysAddr> allocate(unsigned pages) override {
    if (pages != 1) return Error{Errc::no_memory, "the pool holds single pages"};
    for (Page& p : pages_) {
      if (!p.used) {
        p.used = true;
        return p.pa;
      }
    }
    return Error{Errc::no_memory, "table pool exhausted"};
  }
  void free(PhysAddr table, unsigned) override {
    for (Page& p : pages_) {
      if (p.pa == table) p.used = false;
    }
  }
  Descriptor* descriptors(PhysAddr table) override { return memory_.descriptors(table); }

  // Exec: every page free again and cleared in place.
  void reset_in_place() {
    for (Page& p : pages_) {
      if (p.used) std::fill_n(memory_.descriptors(p.pa), PhysicalMemory::kEntries, Descriptor{0});
      p.used = false;
    }
  }

 private:
  struct Page {
    PhysAddr pa;
    bool used;
  };
  PhysicalMemory& memory_;
  std::vector<Page> pages_;
};

constexpr VirtAddr kOtherRegion = 0x8000'0000;  // another level-1 slot
constexpr PhysAddr kOldImage = kData;
constexpr PhysAddr kNewImage = kData + 0x10'0000;
constexpr PhysAddr kNewOther = kData + 0x20'0000;

enum class Exec : std::uint8_t { pool_reset_leaf_tlbis_only, release_through_gather };

// The old image maps kVa; PE 1 uses it. Exec on PE 0 replaces the tree by
// one mapping kOtherRegion first and kVa second, in the same pool pages,
// so the page that held kVa's level-3 table now holds kOtherRegion's. Then
// PE 1 reads kVa again.
void exec_reusing_the_table_pool(Exec how, Access& after, std::uint64_t& walk_cache_hits) {
  PhysicalMemory memory;
  Machine machine(memory, *find_profile("mobile-8"), MachineOptions{2});
  TablePool pool(memory, 8);
  std::optional<pt::Table> table;
  table.emplace(make_stage1_table(pool));
  const PhysAddr root = table->root();
  enter_stage1(machine, 0, root);
  enter_stage1(machine, 1, root);
  maint::AddressSpace space;
  space.asid = kAsid;
  arch::CpuFeatures features;
  features.processing_elements = 2;
  const maint::Planner planner;
  {
    maint::Gather gather(space, features, planner, machine.executor(0), pool, &machine);
    ASSERT_TRUE(table->map(kVa, kOldImage, kPage, user_rw(), gather).ok());
  }
  const arch::Geometry g = geometry39();
  const PhysAddr old_level3 =
      arch::output_address(memory.peek(arch::output_address(memory.peek(root)[g.index(kVa, 1)]))[g.index(kVa, 2)]);
  ASSERT_EQ(machine.access(1, kVa, AccessKind::read, Privilege::el0)->pa, kOldImage);

  machine.begin_operation(0, "exec");
  if (how == Exec::pool_reset_leaf_tlbis_only) {
    pool.reset_in_place();
    // The old image's pages are invalidated, leaf-only: walk caches keep
    // the table entries.
    Plan plan;
    ASSERT_TRUE(plan.append(op(Instr::dsb_ishst)).ok());
    ASSERT_TRUE(plan.append(arch::encode_va(Instr::vale1is, arch::Asid{kAsid}, kVa, arch::kNoTtl)).ok());
    ASSERT_TRUE(plan.append(op(Instr::dsb_ish)).ok());
    machine.executor(0).execute(plan);
  } else {
    maint::Gather gather(space, features, planner, machine.executor(0), pool, &machine);
    table->release(gather);
  }
  table.reset();
  table.emplace(make_stage1_table(pool));
  {
    maint::Gather gather(space, features, planner, machine.executor(0), pool, &machine);
    ASSERT_TRUE(table->map(kOtherRegion, kNewOther, kPage, user_rw(), gather).ok());
    ASSERT_TRUE(table->map(kVa, kNewImage, kPage, user_rw(), gather).ok());
  }
  machine.end_operation();
  ASSERT_EQ(table->root(), root) << "the pool gave the root page back";
  ASSERT_EQ(arch::output_address(memory.peek(arch::output_address(memory.peek(root)[g.index(kOtherRegion, 1)]))
                                     [g.index(kOtherRegion, 2)]),
            old_level3)
      << "the page of kVa's old level-3 table now holds kOtherRegion's";

  const std::uint64_t hits_before = machine.counters().walk_cache_hits;
  after = *machine.access(1, kVa, AccessKind::read, Privilege::el0);
  walk_cache_hits = machine.counters().walk_cache_hits - hits_before;
  if (how == Exec::pool_reset_leaf_tlbis_only) {
    // Rebuilding kVa's level-1 slot with another table while PE 1's walk
    // cache still holds the old one is itself caught (the slot was cleared,
    // but no TLBI came between the clear and the new value)...
    ASSERT_TRUE(first_violation_is(machine, ViolationKind::break_before_make, 1, kVa));
    EXPECT_EQ(machine.violations().front().stale->kind, CachedKind::walk);
    // ... and PE 1's next walk goes through the stale level-2 table entry
    // into the reused page: the new image's other mapping.
    const auto stale = std::find_if(machine.violations().begin(), machine.violations().end(),
                                    [](const Violation& v) { return v.kind == ViolationKind::stale_translation; });
    ASSERT_NE(stale, machine.violations().end()) << list(machine);
    EXPECT_EQ(stale->pe, 1u);
    EXPECT_EQ(stale->va, kVa);
    ASSERT_TRUE(stale->stale && stale->current);
    EXPECT_EQ(stale->stale->output, kNewOther) << "translated through the reused page";
    EXPECT_EQ(stale->current->output, kNewImage);
  } else {
    EXPECT_TRUE(no_violation(machine));
  }
}

TEST(KnownBugs, KnownBug09_AResetTablePoolReusedAcrossExecIsWalkedThroughStaleWalkCacheEntries) {
  Access after;
  std::uint64_t walk_cache_hits = 0;
  exec_reusing_the_table_pool(Exec::pool_reset_leaf_tlbis_only, after, walk_cache_hits);
  EXPECT_EQ(after.served_by, ServedBy::walk);
  EXPECT_EQ(walk_cache_hits, 1u) << "the walk started from the stale level-2 table entry";
  EXPECT_EQ(after.pa, kNewOther);
}

TEST(KnownBugs, KnownBug09_ReleasingTheOldTreeThroughTheGatherBeforeReuseLeavesNoWalkCacheEntry) {
  Access after;
  std::uint64_t walk_cache_hits = 0;
  exec_reusing_the_table_pool(Exec::release_through_gather, after, walk_cache_hits);
  EXPECT_EQ(walk_cache_hits, 0u);
  EXPECT_EQ(after.outcome, AccessOutcome::ok);
  EXPECT_EQ(after.pa, kNewImage);
}

// ---------------------------------------------------------------------------------------
// Known bug 10: a TTL hint given for a table entry. The hint names the
// level of the entry that translates; for a changed table entry the
// translations below it are at another level, so the hinted TLBI misses
// them.

// Per-VA ops as the planner's per-VA shape makes them (non-leaf VAE1IS per
// page under a changed table entry), but with the TTL hint of the changed
// descriptor's level for every range, tables included.
class TtlForEveryEntryPolicy final : public maint::Policy {
 public:
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures&,
              Plan& plan) const override {
    if (pending.coverage == maint::Coverage::everything) return flush_asid(space, plan);
    Status s = plan.append(op(Instr::dsb_ishst));
    for (const maint::PendingRange& r : pending.ranges) {
      const std::uint64_t stride = r.entry == pt::EntryKind::table ? kPage : geometry39().level_size(r.level);
      const Result<arch::Op> first = arch::encode_va(Instr::vae1is, arch::Asid{space.asid}, r.va,
                                                     arch::TtlHint{arch::Granule::k4K, r.level});  // BUG for tables
      if (!first.ok()) return first.error();
      // The operand holds VA >> 12: one entry further is stride >> 12 further.
      if (s.ok()) s = plan.append_repeated(*first, static_cast<std::uint32_t>(r.size / stride), stride >> 12);
    }
    if (s.ok()) s = plan.append(op(Instr::dsb_ish));
    return s;
  }
};

// Two pages in one level-3 table, a third under another (keeps the level-2
// table). PE 1 caches the first; PE 0 unmaps the first table's 2 MiB (the
// engine reports only the level-2 table entry) and hands the data pages
// back after the flush; PE 1 reads again.
void unmap_a_whole_level3_table(Stage1Machine& s, const maint::Policy& policy) {
  s.features.ttl = Presence::present;
  s.map(kVa, kData, 2 * kPage);
  s.map(kVa + kBlock, kData + kBlock, kPage);
  ASSERT_EQ(s.read(1, kVa).outcome, AccessOutcome::ok);
  s.unmap(kVa, kBlock, policy, nullptr, maint::PhysRange{kData, 2 * kPage});
  (void)s.read(1, kVa);
}

TEST(KnownBugs, KnownBug10_ATtlHintForATableEntryMissesTheLeavesBelowIt) {
  Stage1Machine s(kUserSpace);
  const TtlForEveryEntryPolicy hinted;
  unmap_a_whole_level3_table(s, hinted);
  // The level-3 leaf survives the level-2 hint: the data page goes back
  // while PE 1 translates to it, and PE 1 still uses it.
  ASSERT_TRUE(first_violation_is_use_after_free(s.machine, 1, kVa, kData, CachedKind::leaf));
  EXPECT_EQ(s.machine.violations().back().kind, ViolationKind::stale_translation);
  EXPECT_EQ(s.machine.violations().back().va, kVa);
}

TEST(KnownBugs, KnownBug10_ThePlannerGivesNoTtlHintWhenATableEntryChanged) {
  Stage1Machine s(kUserSpace);
  unmap_a_whole_level3_table(s, s.planner);
  EXPECT_TRUE(no_violation(s.machine));
  EXPECT_EQ(s.read(1, kVa).outcome, AccessOutcome::translation_fault);
}

// ---------------------------------------------------------------------------------------
// Known bug 12 (Zephyr, 2026): with 16 KiB or 64 KiB pages the by-VA
// operand was VA shifted by the granule's page shift; the field is always
// VA[55:12] (VA >> 12), so the TLBI named another page. The simulator and
// the table engine model only the 4 KiB granule: this reproduces the
// operand mistake (VA >> 14, the 16 KiB shift) on a 4 KiB machine, not a
// 16 KiB table.

using EncodeVa = Result<arch::Op> (*)(Instr, arch::Asid, VirtAddr, arch::Ttl);

Result<arch::Op> encode_va_shifted_by_16k_page_shift(Instr instr, arch::Asid asid, VirtAddr va, arch::Ttl) {
  return arch::Op{instr, std::uint64_t{asid.value} << 48 | va >> 14};  // BUG: va >> 12
}

// DSB ISHST; VAE1IS per page (no TTL); DSB ISH, operands from `encode`.
class PerPagePolicy final : public maint::Policy {
 public:
  explicit PerPagePolicy(EncodeVa encode) : encode_(encode) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures&,
              Plan& plan) const override {
    if (pending.coverage == maint::Coverage::everything) return flush_asid(space, plan);
    // One op per page appended one by one (a plan holds 64 steps: fine for
    // the one-page unmaps here).
    Status s = plan.append(op(Instr::dsb_ishst));
    for (const maint::PendingRange& r : pending.ranges) {
      for (VirtAddr va = r.va; va < r.va + r.size && s.ok(); va += kPage) {
        s = plan.append(encode_(Instr::vae1is, arch::Asid{space.asid}, va, arch::kNoTtl));
      }
    }
    if (s.ok()) s = plan.append(op(Instr::dsb_ish));
    return s;
  }

 private:
  EncodeVa encode_;
};

void unmap_one_page_per_va(Stage1Machine& s, const maint::Policy& policy) {
  s.map(kVa, kData, 2 * kPage);  // the second page keeps the table
  ASSERT_EQ(s.read(1, kVa).outcome, AccessOutcome::ok);
  s.unmap(kVa, kPage, policy);
  (void)s.read(1, kVa);
}

TEST(KnownBugs, KnownBug12_AByVaOperandShiftedByTheGranulesPageShiftInvalidatesTheWrongPage) {
  Stage1Machine s(kUserSpace);
  const PerPagePolicy shifted(encode_va_shifted_by_16k_page_shift);
  unmap_one_page_per_va(s, shifted);
  // The op named VA >> 2 (0x1000'0000), not kVa.
  ASSERT_TRUE(first_violation_is(s.machine, ViolationKind::stale_translation, 1, kVa));
  EXPECT_EQ(s.machine.violations().front().stale->output, kData);
}

TEST(KnownBugs, KnownBug12_TheRealEncoderShiftsByTwelveWhateverTheGranule) {
  Stage1Machine s(kUserSpace);
  const PerPagePolicy real(arch::encode_va);
  unmap_one_page_per_va(s, real);
  EXPECT_TRUE(no_violation(s.machine));
  EXPECT_EQ(s.read(1, kVa).outcome, AccessOutcome::translation_fault);
}

}  // namespace
}  // namespace tlbkit::sim
