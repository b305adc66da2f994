// Baseline policies (tlbkit/baselines/policies.hpp): exact plans for hand-made
// pending work, one block per modelled system. Expected operands are derived
// by hand from docs/ARCHITECTURE-FACTS.md section 1, 4 KiB granule:
//
//   by VA   (VAE1IS ...):   ASID << 48 | TTL << 44 | VA >> 12
//           TTL = 01 (4K) << 2 | level: level 3 -> 0x7, level 2 -> 0x6
//   all-ASID / EL2 by VA:   TTL << 44 | VA >> 12              (ASID field 0)
//   by ASID (ASIDE1IS):     ASID << 48
//   range   (RVAE1IS ...):  ASID << 48 | TG(01) << 46 | SCALE << 44 | NUM << 39
//                           | TTL level << 37 | VA >> 12,   pages = (NUM+1) << (5*SCALE+1)
//   by IPA  (IPAS2E1IS):    TTL << 44 | IPA >> 12
//   IPA range (RIPAS2E1IS): as range, ASID field 0
//
// Fixed inputs: ASID 5, VA 0x1000'0000 (VA >> 12 = 0x10000); IPA 0x8000'0000
// (IPA >> 12 = 0x80000). Frequent constants:
//   ASID 5:                 0x0005'0000'0000'0000
//   TTL L3 (0x7 << 44):     0x0000'7000'0000'0000
//   TG 4K (1 << 46):        0x0000'4000'0000'0000
//   SCALE 1 (1 << 44):      0x0000'1000'0000'0000
//   NUM n (n << 39):        1 -> 0x0080'0000'0000, 7 -> 0x0380'0000'0000,
//                           8 -> 0x0400'0000'0000, 31 -> 0x0F80'0000'0000
//   range TTL L3 (3 << 37): 0x0060'0000'0000
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "tlbkit/baselines/registry.hpp"
#include "support/coverage_oracle.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/baselines/hafnium.hpp"
#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/baselines/zircon.hpp"

namespace tlbkit::baselines {

using arch::Op;
using maint::Coverage;
using maint::EntryKind;
using maint::ExecGain;
using maint::GlobalEntries;
using maint::PendingRange;
using maint::PhysRange;
using maint::VirtAddr;

namespace {

using arch::Instr;
using arch::Presence;

constexpr std::uint64_t kPage = 0x1000;
constexpr VirtAddr kVa = 0x1000'0000;
constexpr VirtAddr kIpa = 0x8000'0000;

// One expected step: an op repeated `count` times, operand + stride each.
Step st(Instr i, std::uint64_t operand = 0, std::uint32_t count = 1, std::uint64_t stride = 0) {
  return Step{arch::Op{i, operand}, count, stride};
}

std::string show(const std::vector<Step>& steps) {
  std::string out;
  for (const Step& s : steps) {
    char b[96];
    std::snprintf(b, sizeof b, "  instr %d operand %#llx count %u stride %llu\n", static_cast<int>(s.first.instr),
                  static_cast<unsigned long long>(s.first.operand), s.count,
                  static_cast<unsigned long long>(s.stride));
    out += b;
  }
  return out;
}

struct Case {
  Case(std::vector<PendingRange> r, const AddressSpace& s, const arch::CpuFeatures& f)
      : ranges(std::move(r)), space(s), features(f) {}
  std::vector<PendingRange> ranges;
  AddressSpace space;
  arch::CpuFeatures features;
  Coverage coverage = Coverage::exact;
  ExecGain exec = ExecGain::no;
  std::vector<PhysRange> clean;
};

// Plans `c` with `policy`, checks the plan with the independent coverage
// oracle and returns its steps.
std::vector<Step> steps_for(const Policy& policy, const Case& c) {
  Pending pending;
  pending.ranges = c.ranges;
  pending.coverage = c.coverage;
  pending.exec = c.exec;
  pending.clean = c.clean;
  Plan plan;
  const Status s = policy.plan(pending, c.space, c.features, plan);
  EXPECT_TRUE(s.ok());
  const std::vector<std::string> problems = test::plan_problems(test::expand(plan), pending, c.space, c.features);
  EXPECT_TRUE(problems.empty()) << problems.front();
  std::vector<Step> steps(plan.steps().begin(), plan.steps().end());
  // A single op's stride means nothing: compare it as 0.
  for (Step& st : steps) {
    if (st.count == 1) st.stride = 0;
  }
  return steps;
}

#define EXPECT_STEPS(policy, c, ...)                                      \
  do {                                                                    \
    const std::vector<Step> got_ = steps_for(policy, c);                  \
    const std::vector<Step> want_{__VA_ARGS__};                           \
    EXPECT_EQ(got_, want_) << "got:\n" << show(got_) << "want:\n" << show(want_); \
  } while (0)

AddressSpace user() {
  AddressSpace s;
  s.regime = arch::Regime::el1_stage1;
  s.asid = 5;
  return s;
}

AddressSpace kernel() {
  AddressSpace s = user();
  s.global = GlobalEntries::present;
  return s;
}

AddressSpace guest() {
  AddressSpace s;
  s.regime = arch::Regime::stage2;
  s.vmid = 1;
  return s;
}

arch::CpuFeatures feats(Presence range, Presence ttl, Presence fwb = Presence::absent) {
  arch::CpuFeatures f;
  f.tlbi_range = range;
  f.ttl = ttl;
  f.fwb = fwb;
  return f;
}

const arch::CpuFeatures kNone = feats(Presence::absent, Presence::absent);
const arch::CpuFeatures kTtl = feats(Presence::absent, Presence::present);
const arch::CpuFeatures kRange = feats(Presence::present, Presence::absent);
const arch::CpuFeatures kRangeTtl = feats(Presence::present, Presence::present);
const arch::CpuFeatures kRangeFwb = feats(Presence::present, Presence::absent, Presence::present);

PendingRange leaf3(VirtAddr va, std::uint64_t pages) { return PendingRange{va, pages * kPage, 3, EntryKind::leaf}; }
PendingRange table2(VirtAddr va, std::uint64_t pages) { return PendingRange{va, pages * kPage, 2, EntryKind::table}; }

const baselines::LinuxPolicy kLinux{LinuxPolicy::RangeOps::when_present};
const baselines::LinuxPolicy kLinuxNoRange{LinuxPolicy::RangeOps::never};
const baselines::KvmPolicy kKvm{KvmPolicy::Deferral::never};
const baselines::KvmPolicy kKvmDeferred{KvmPolicy::Deferral::range_with_fwb};
const baselines::FreeBsdPolicy kFreeBsd;
const baselines::ZirconPolicy kZircon;
const baselines::HafniumPolicy kHafnium;
const baselines::HvfRunnerV1Policy kHvfV1;
const baselines::HvfRunnerV2Policy kHvfV2;

// ---- registry --------------------------------------------------------------

TEST(Baselines, EveryBaselineIsRegisteredUnderItsCliName) {
  for (const char* name : {"linux", "linux-norange", "kvm", "kvm-deferred", "freebsd", "zircon", "hafnium",
                           "hvf-runner-v1", "hvf-runner-v2"}) {
    EXPECT_NE(baselines::find_policy(name), nullptr) << name;
  }
}

// ---- linux -----------------------------------------------------------------

TEST(LinuxBaseline, OnePageUnmapIsOneLeafTlbiWithTtl) {
  // VALE1IS: ASID 5 | TTL L3 0x7 | 0x10000 = 0x0005'7000'0001'0000.
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 1)}, user(), kTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'7000'0001'0000), st(Instr::dsb_ish));
  // With TLBIRANGE a one-page range is still a by-VA op (pages == 1).
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'7000'0001'0000), st(Instr::dsb_ish));
  // Without FEAT_TTL: no hint, 0x0005'0000'0001'0000.
  EXPECT_STEPS(kLinuxNoRange, (Case{{leaf3(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'7000'0001'0000), st(Instr::dsb_ish));
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 1)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'0000'0001'0000), st(Instr::dsb_ish));
}

TEST(LinuxBaseline, MaxDvmOpsEdge511PerPage512AsidWide) {
  // 511 < MAX_DVM_OPS: a VALE1IS loop from 0x0005'0000'0001'0000, +1 per page.
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 511)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'0000'0001'0000, 511, 1), st(Instr::dsb_ish));
  // 512: flush_tlb_mm, ASIDE1IS 5 << 48.
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 512)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::aside1is, 0x0005'0000'0000'0000), st(Instr::dsb_ish));
  // Same with TLBIRANGE but the policy told not to use it.
  EXPECT_STEPS(kLinuxNoRange, (Case{{leaf3(kVa, 512)}, user(), kRange}), st(Instr::dsb_ishst),
               st(Instr::aside1is, 0x0005'0000'0000'0000), st(Instr::dsb_ish));
}

TEST(LinuxBaseline, RangeOpsScaleThreeDownToZeroPlusOddPage) {
  // 69 pages: 68 = 2 * 34 = 2 * (1 * 32 + 2): SCALE 1 NUM 0 (64 pages), then
  // SCALE 0 NUM 1 (4 pages) at VA + 64 pages (0x10040), then one VALE1IS at
  // VA + 68 pages (0x10044). With TTL: range TTL level 3 in 38:37.
  //   0x0005'0000'0000'0000 | TG 0x4000'0000'0000 | SCALE1 0x1000'0000'0000 | TTL 0x60'0000'0000 | 0x10000
  //     = 0x0005'5060'0001'0000
  //   0x0005'0000'0000'0000 | TG | NUM1 0x80'0000'0000 | TTL | 0x10040 = 0x0005'40E0'0001'0040
  //   VALE1IS 0x0005'7000'0001'0044
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 69)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvale1is, 0x0005'5060'0001'0000), st(Instr::rvale1is, 0x0005'40E0'0001'0040),
               st(Instr::vale1is, 0x0005'7000'0001'0044), st(Instr::dsb_ish));
}

TEST(LinuxBaseline, EachRangeIsItsOwnFlushWithItsOwnBarriers) {
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 2), leaf3(0x2000'0000, 1)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'0000'0001'0000, 2, 1), st(Instr::dsb_ish), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'0000'0002'0000), st(Instr::dsb_ish));
}

TEST(LinuxBaseline, ChangedTableForcesNonLeafOpsWithoutTtl) {
  // Table at level 2 covering 512 pages: with TLBIRANGE one RVAE1IS,
  // 512 = 2 * 256 = 2 * 8 * 32: SCALE 1 NUM 7, no TTL:
  //   0x0005'0000'0000'0000 | TG 0x4000'0000'0000 | SCALE1 0x1000'0000'0000 | NUM7 0x380'0000'0000 | 0x10000
  //     = 0x0005'5380'0001'0000.
  // The leaf range at 0x2000'0000 too: VAE1IS, no TTL: 0x0005'0000'0002'0000.
  const Case c{{table2(kVa, 512), leaf3(0x2000'0000, 1)}, user(), kRangeTtl};
  EXPECT_STEPS(kLinux, c, st(Instr::dsb_ishst), st(Instr::rvae1is, 0x0005'5380'0001'0000), st(Instr::dsb_ish),
               st(Instr::dsb_ishst), st(Instr::vae1is, 0x0005'0000'0002'0000), st(Instr::dsb_ish));
  // Without range ops the table's 512 pages reach MAX_DVM_OPS: ASIDE1IS.
  EXPECT_STEPS(kLinuxNoRange, c, st(Instr::dsb_ishst), st(Instr::aside1is, 0x0005'0000'0000'0000),
               st(Instr::dsb_ish), st(Instr::dsb_ishst), st(Instr::vae1is, 0x0005'0000'0002'0000),
               st(Instr::dsb_ish));
}

TEST(LinuxBaseline, KernelRangeUsesAllAsidLeafOpsPerPageThenFlushTlbAll) {
  // VAALE1IS: no ASID, no TTL (flush_tlb_kernel_range): 0x10000; DSB ISH; ISB.
  EXPECT_STEPS(kLinux, (Case{{leaf3(kVa, 3)}, kernel(), kTtl}), st(Instr::dsb_ishst),
               st(Instr::vaale1is, 0x10000, 3, 1), st(Instr::dsb_ish), st(Instr::isb));
  // A 2 MiB block counts 512 pages (PAGE_SIZE stride): flush_tlb_all.
  EXPECT_STEPS(kLinux, (Case{{PendingRange{0x4000'0000, 0x20'0000, 2, EntryKind::leaf}}, kernel(), kTtl}),
               st(Instr::dsb_ishst), st(Instr::vmalle1is), st(Instr::dsb_ish), st(Instr::isb));
}

TEST(LinuxBaseline, Stage2IsKvms) {
  const Case c{{leaf3(kIpa, 3)}, guest(), kRangeFwb};
  EXPECT_EQ(steps_for(kLinux, c), steps_for(kKvmDeferred, c));
  EXPECT_EQ(steps_for(kLinuxNoRange, c), steps_for(kKvm, c));
}

// ---- kvm / kvm-deferred ----------------------------------------------------

// __kvm_tlb_flush_vmid_ipa: DSB ISHST; IPAS2E1IS `operand`; DSB ISH;
// VMALLE1IS; DSB ISH; ISB.
std::vector<Op> kvm_sequence(std::uint64_t operand) {
  return {Op{Instr::dsb_ishst}, Op{Instr::ipas2e1is, operand}, Op{Instr::dsb_ish},
          Op{Instr::vmalle1is}, Op{Instr::dsb_ish},            Op{Instr::isb}};
}

// The ops of kvm_sequence() for `count` entries from `operand`, `advance`
// apart.
std::vector<Op> kvm_sequences(std::uint64_t operand, std::uint64_t count, std::uint64_t advance) {
  std::vector<Op> ops;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::vector<Op> one = kvm_sequence(operand + i * advance);
    ops.insert(ops.end(), one.begin(), one.end());
  }
  return ops;
}

// Plans `c` with `policy` (checked by the oracle, as steps_for) and returns
// the plan.
Plan plan_for(const Policy& policy, const Case& c) {
  Pending pending;
  pending.ranges = c.ranges;
  pending.coverage = c.coverage;
  pending.exec = c.exec;
  pending.clean = c.clean;
  Plan plan;
  EXPECT_TRUE(policy.plan(pending, c.space, c.features, plan).ok());
  const std::vector<std::string> problems = test::plan_problems(test::expand(plan), pending, c.space, c.features);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return plan;
}

TEST(KvmBaseline, OneSequencePerEntry) {
  // __kvm_tlb_flush_vmid_ipa per PTE: IPAS2E1IS TTL L3 | 0x80000 = 0x0000'7000'0008'0000,
  // then 0x80001 for the second page.
  const Case c{{leaf3(kIpa, 2)}, guest(), kTtl};
  std::vector<Op> want = kvm_sequence(0x0000'7000'0008'0000);
  const std::vector<Op> second = kvm_sequence(0x0000'7000'0008'0001);
  want.insert(want.end(), second.begin(), second.end());
  EXPECT_EQ(test::expand(plan_for(kKvm, c)), want);
}

TEST(KvmBaseline, ARangeOfEntriesIsOneLoopOfWholeSequences) {
  // 100 pages: 100 sequences, 600 ops, held as one group of 6 steps.
  const Plan plan = plan_for(kKvm, Case{{leaf3(kIpa, 100)}, guest(), kNone});
  EXPECT_EQ(test::expand(plan), kvm_sequences(0x80000, 100, 1));
  ASSERT_EQ(plan.groups().size(), 1u);
  EXPECT_EQ(plan.groups()[0], (StepGroup{0, 6, 100, 1}));
}

TEST(KvmBaseline, MoreRangesThanAPlanHoldsFallBackToTheVmidFlush) {
  // 11 separate ranges need 66 steps: __kvm_tlb_flush_vmid instead.
  std::vector<PendingRange> ranges;
  for (std::uint64_t i = 0; i < 11; ++i) ranges.push_back(leaf3(kIpa + i * 2 * kPage, 1));
  EXPECT_STEPS(kKvm, (Case{ranges, guest(), kNone}), st(Instr::dsb_ishst), st(Instr::vmalls12e1is),
               st(Instr::dsb_ish), st(Instr::isb));
}

TEST(KvmBaseline, EverythingIsVmalls12e1is) {
  Case c{{}, guest(), kNone};
  c.coverage = Coverage::everything;
  EXPECT_STEPS(kKvm, c, st(Instr::dsb_ishst), st(Instr::vmalls12e1is), st(Instr::dsb_ish), st(Instr::isb));
}

TEST(KvmBaseline, DeferredUnmapIsOneRangeFlushWithTlbiRangeAndFwb) {
  // 68 pages: SCALE 1 NUM 0 (64) then SCALE 0 NUM 1 (4), no TTL:
  //   TG 0x4000'0000'0000 | SCALE1 0x1000'0000'0000 | 0x80000 = 0x0000'5000'0008'0000
  //   TG | NUM1 0x80'0000'0000 | 0x80040 = 0x0000'4080'0008'0040
  const Case c{{leaf3(kIpa, 68)}, guest(), kRangeFwb};
  EXPECT_STEPS(kKvmDeferred, c, st(Instr::dsb_ishst), st(Instr::ripas2e1is, 0x0000'5000'0008'0000),
               st(Instr::ripas2e1is, 0x0000'4080'0008'0040), st(Instr::dsb_ish), st(Instr::vmalle1is),
               st(Instr::dsb_ish), st(Instr::isb));
  // Odd count, 3 pages: SCALE 0 NUM 0 (2 pages) = 0x0000'4000'0008'0000, then IPAS2E1IS 0x80002.
  EXPECT_STEPS(kKvmDeferred, (Case{{leaf3(kIpa, 3)}, guest(), kRangeFwb}), st(Instr::dsb_ishst),
               st(Instr::ripas2e1is, 0x0000'4000'0008'0000), st(Instr::ipas2e1is, 0x80002), st(Instr::dsb_ish),
               st(Instr::vmalle1is), st(Instr::dsb_ish), st(Instr::isb));
}

TEST(KvmBaseline, NoDeferralWithoutFwbOrWithoutTlbiRange) {
  const std::vector<Step> per_entry{st(Instr::dsb_ishst), st(Instr::ipas2e1is, 0x80000), st(Instr::dsb_ish),
                                    st(Instr::vmalle1is), st(Instr::dsb_ish), st(Instr::isb)};
  EXPECT_EQ(steps_for(kKvmDeferred, Case{{leaf3(kIpa, 1)}, guest(), kRange}), per_entry);  // no FWB
  EXPECT_EQ(steps_for(kKvmDeferred, Case{{leaf3(kIpa, 1)}, guest(),
                                         feats(Presence::absent, Presence::absent, Presence::present)}),
            per_entry);  // FWB, no TLBIRANGE
  EXPECT_EQ(steps_for(kKvm, Case{{leaf3(kIpa, 1)}, guest(), kRangeFwb}), per_entry);  // kvm never defers
}

TEST(KvmBaseline, DeferredNeverDefersTableEntries) {
  // The table's pages go first, one sequence per page (512, no TTL), then
  // the deferred leaf flush: one page is a single IPAS2E1IS 0xC0000.
  const Case c{{table2(kIpa, 512), leaf3(0xC000'0000, 1)}, guest(), kRangeFwb};
  std::vector<Op> want = kvm_sequences(0x80000, 512, 1);
  const std::vector<Op> leaf = kvm_sequence(0xC0000);
  want.insert(want.end(), leaf.begin(), leaf.end());
  EXPECT_EQ(test::expand(plan_for(kKvmDeferred, c)), want);
}

TEST(KvmBaseline, UncleanedMemoryIsCleanedAfterTheFlush) {
  // Without FWB: DC CIVAC per 64-byte line of the page at PA + offset, then DSB ISH.
  Case c{{leaf3(kIpa, 1)}, guest(), kNone};
  c.space.linear_map_offset = 0xFFFF'0000'0000'0000;
  c.clean = {PhysRange{0x9'0000'0000, kPage}};
  EXPECT_STEPS(kKvm, c, st(Instr::dsb_ishst), st(Instr::ipas2e1is, 0x80000), st(Instr::dsb_ish),
               st(Instr::vmalle1is), st(Instr::dsb_ish), st(Instr::isb),
               st(Instr::dc_civac, 0xFFFF'0009'0000'0000, 64, 64), st(Instr::dsb_ish));
}

// ---- freebsd ---------------------------------------------------------------

TEST(FreeBsdBaseline, OneLeafTlbiPerPageNoThreshold) {
  EXPECT_STEPS(kFreeBsd, (Case{{leaf3(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'0000'0001'0000), st(Instr::dsb_ish), st(Instr::isb));
  EXPECT_STEPS(kFreeBsd, (Case{{leaf3(kVa, 700)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vale1is, 0x0005'0000'0001'0000, 700, 1), st(Instr::dsb_ish), st(Instr::isb));
}

TEST(FreeBsdBaseline, TableKernelEverythingAndStage2) {
  // Changed table: VAE1IS per page (non-final).
  EXPECT_STEPS(kFreeBsd, (Case{{table2(kVa, 4)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vae1is, 0x0005'0000'0001'0000, 4, 1), st(Instr::dsb_ish), st(Instr::isb));
  // Kernel pmap: VAALE1IS, no ASID.
  EXPECT_STEPS(kFreeBsd, (Case{{leaf3(kVa, 1)}, kernel(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vaale1is, 0x10000), st(Instr::dsb_ish), st(Instr::isb));
  Case all{{}, user(), kNone};
  all.coverage = Coverage::everything;
  EXPECT_STEPS(kFreeBsd, all, st(Instr::dsb_ishst), st(Instr::aside1is, 0x0005'0000'0000'0000), st(Instr::dsb_ish),
               st(Instr::isb));
  EXPECT_STEPS(kFreeBsd, (Case{{leaf3(kIpa, 1)}, guest(), kNone}), st(Instr::dsb_ishst),
               st(Instr::ipas2le1is, 0x80000), st(Instr::dsb_ish), st(Instr::vmalle1is), st(Instr::dsb_ish),
               st(Instr::isb));
}

// ---- hvf-runner-v1 / v2 ----------------------------------------------------

TEST(HvfRunnerV1Baseline, AlwaysVmalle1isThenTheShimTail) {
  EXPECT_STEPS(kHvfV1, (Case{{leaf3(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst), st(Instr::vmalle1is),
               st(Instr::dsb_ish), st(Instr::ic_iallu), st(Instr::dsb_ish), st(Instr::isb));
  // Exec gained: the broadcast I-cache invalidation.
  Case exec{{table2(kVa, 4)}, user(), kNone};
  exec.exec = ExecGain::yes;
  EXPECT_STEPS(kHvfV1, exec, st(Instr::dsb_ishst), st(Instr::vmalle1is), st(Instr::dsb_ish),
               st(Instr::ic_ialluis), st(Instr::dsb_ish), st(Instr::isb));
  // Nothing to invalidate (X8 = 0): no flush.
  Case none{{}, user(), kNone};
  none.exec = ExecGain::yes;
  EXPECT_STEPS(kHvfV1, none, st(Instr::ic_ialluis), st(Instr::dsb_ish), st(Instr::isb));
}

TEST(HvfRunnerV2Baseline, LoopUpTo16RangeUpTo64ElseVmalle1is) {
  // <= 16 pages: VAE1IS (non-leaf, no TTL) loop from 0x0005'0000'0001'0000.
  EXPECT_STEPS(kHvfV2, (Case{{leaf3(kVa, 1)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vae1is, 0x0005'0000'0001'0000), st(Instr::dsb_ish), st(Instr::ic_iallu),
               st(Instr::dsb_ish), st(Instr::isb));
  EXPECT_STEPS(kHvfV2, (Case{{leaf3(kVa, 16)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::vae1is, 0x0005'0000'0001'0000, 16, 1), st(Instr::dsb_ish), st(Instr::ic_iallu),
               st(Instr::dsb_ish), st(Instr::isb));
  // 17 pages: one RVAE1IS SCALE 0, NUM = ceil(17/2) - 1 = 8 (18 pages, one over):
  //   ASID 5 | TG 0x4000'0000'0000 | NUM8 0x400'0000'0000 | 0x10000 = 0x0005'4400'0001'0000.
  EXPECT_STEPS(kHvfV2, (Case{{leaf3(kVa, 17)}, user(), kRangeTtl}), st(Instr::dsb_ishst),
               st(Instr::rvae1is, 0x0005'4400'0001'0000), st(Instr::dsb_ish), st(Instr::ic_iallu),
               st(Instr::dsb_ish), st(Instr::isb));
  // 64 pages: NUM 31: 0x0005'4000'0000'0000 | 0xF80'0000'0000 | 0x10000 = 0x0005'4F80'0001'0000.
  EXPECT_STEPS(kHvfV2, (Case{{leaf3(kVa, 64)}, user(), kRange}), st(Instr::dsb_ishst),
               st(Instr::rvae1is, 0x0005'4F80'0001'0000), st(Instr::dsb_ish), st(Instr::ic_iallu),
               st(Instr::dsb_ish), st(Instr::isb));
  // 65 pages, and 17 without TLBIRANGE: VMALLE1IS.
  const std::vector<Step> broadcast{st(Instr::dsb_ishst), st(Instr::vmalle1is), st(Instr::dsb_ish),
                                    st(Instr::ic_iallu),  st(Instr::dsb_ish),   st(Instr::isb)};
  EXPECT_EQ(steps_for(kHvfV2, Case{{leaf3(kVa, 65)}, user(), kRange}), broadcast);
  EXPECT_EQ(steps_for(kHvfV2, Case{{leaf3(kVa, 17)}, user(), kNone}), broadcast);
}

TEST(HvfRunnerV2Baseline, RangesMergeIntoOneBoundingBox) {
  // Pages 0x10000 and 0x1000F: a 16-page box, gap included.
  EXPECT_STEPS(kHvfV2, (Case{{leaf3(kVa, 1), leaf3(kVa + 15 * kPage, 1)}, user(), kNone}), st(Instr::dsb_ishst),
               st(Instr::vae1is, 0x0005'0000'0001'0000, 16, 1), st(Instr::dsb_ish), st(Instr::ic_iallu),
               st(Instr::dsb_ish), st(Instr::isb));
  // A changed table needs nothing more: VAE1IS is non-leaf already.
  EXPECT_STEPS(kHvfV2, (Case{{table2(kVa, 4)}, user(), kTtl}), st(Instr::dsb_ishst),
               st(Instr::vae1is, 0x0005'0000'0001'0000, 4, 1), st(Instr::dsb_ish), st(Instr::ic_iallu),
               st(Instr::dsb_ish), st(Instr::isb));
}

// ---- every baseline: plans always fit and stay correct ----------------------

TEST(Baselines, ManyRangesFallBackInsteadOfOverflowing) {
  std::vector<PendingRange> ranges;
  for (std::uint64_t i = 0; i < 32; ++i) ranges.push_back(leaf3(kVa + i * 0x100'0000, 5));
  for (const Policy* p : std::initializer_list<const Policy*>{&kLinux, &kLinuxNoRange, &kFreeBsd, &kZircon,
                                                              &kHafnium, &kHvfV1, &kHvfV2}) {
    for (const arch::CpuFeatures& f : {kNone, kRangeTtl}) {
      steps_for(*p, Case{ranges, user(), f});
      steps_for(*p, Case{ranges, kernel(), f});
    }
  }
  for (const Policy* p : std::initializer_list<const Policy*>{&kKvm, &kKvmDeferred, &kLinux, &kFreeBsd}) {
    std::vector<PendingRange> ipas;
    for (std::uint64_t i = 0; i < 32; ++i) ipas.push_back(leaf3(kIpa + i * 0x100'0000, 5));
    steps_for(*p, Case{ipas, guest(), kRangeFwb});
  }
}

}  // namespace
}  // namespace tlbkit::baselines
