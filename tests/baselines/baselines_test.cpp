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
#include "plan_steps.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/baselines/elfuse.hpp"
#include "tlbkit/baselines/linux.hpp"
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

using namespace test_support;


const LinuxPolicy kLinux{LinuxPolicy::Version::v6_17};
const LinuxPolicy kLinuxNoRange{LinuxPolicy::Version::v5_4};
const baselines::KvmPolicy kKvm{KvmPolicy::Deferral::never};
const baselines::KvmPolicy kKvmDeferred{KvmPolicy::Deferral::range_with_fwb};
const ZirconPolicy kZircon{ZirconPolicy::El2Flush::broadcast};
const HafniumPolicy kHafnium{HafniumPolicy::AsidLoop::every_page};
const FreeBsdPolicy kFreeBsd6631b58{FreeBsdPolicy::Version::d37254_era};
const FreeBsdPolicy kFreeBsd7dc22c8{FreeBsdPolicy::Version::current};
const ElfusePolicy kElfuse9fc96f7{ElfusePolicy::Version::v9fc96f7};
const ElfusePolicy kElfuse00ed78b{ElfusePolicy::Version::v00ed78b};

// ---- registry --------------------------------------------------------------

TEST(Baselines, EveryBaselineIsRegisteredUnderItsCliName) {
  for (const char* name : {"linux", "linux-norange", "kvm", "kvm-deferred", "freebsd", "zircon", "hafnium",
                           "hvf-runner-v1", "hvf-runner-v2", "elfuse-059fb2b", "elfuse-e13ade1", "elfuse-9fc96f7",
                           "elfuse-00ed78b", "linux-5.4", "linux-6.17", "kvm-6.5", "kvm-6.12", "freebsd-6631b58",
                           "freebsd-7dc22c8", "zircon-e04da11", "hafnium-07a69ab"}) {
    EXPECT_NE(baselines::find_policy(name), nullptr) << name;
  }
}

// Each system's own vectors: tests/baselines/<system>_test.cpp.

// ---- every baseline: plans always fit and stay correct ----------------------

TEST(Baselines, ManyRangesFallBackInsteadOfOverflowing) {
  std::vector<PendingRange> ranges;
  for (std::uint64_t i = 0; i < 32; ++i) ranges.push_back(leaf3(kVa + i * 0x100'0000, 5));
  for (const Policy* p : std::initializer_list<const Policy*>{&kLinux, &kLinuxNoRange, &kZircon,
                                                              &kHafnium, &kFreeBsd6631b58, &kFreeBsd7dc22c8}) {
    for (const arch::CpuFeatures& f : {kNone, kRangeTtl}) {
      steps_for(*p, Case{ranges, user(), f});
      steps_for(*p, Case{ranges, kernel(), f});
    }
  }
  for (const Policy* p : std::initializer_list<const Policy*>{&kElfuse9fc96f7, &kElfuse00ed78b}) {
    for (const arch::CpuFeatures& f : {kNone, kRangeTtl}) steps_for(*p, Case{ranges, user(), f}, Oracle::skip);
  }
  for (const Policy* p : std::initializer_list<const Policy*>{&kKvm, &kKvmDeferred, &kLinux, &kFreeBsd7dc22c8}) {
    std::vector<PendingRange> ipas;
    for (std::uint64_t i = 0; i < 32; ++i) ipas.push_back(leaf3(kIpa + i * 0x100'0000, 5));
    steps_for(*p, Case{ipas, guest(), kRangeFwb});
  }
}

// ---- every baseline but Linux's: a reclaim batch is planned as before -------

// Plans `c` with `policy` as a batch of `kind` (its span the case's first
// range).
Plan plan_as(const Policy& policy, Case c, maint::CallKind kind) {
  c.call = maint::CallSpan{kind, c.ranges.front().va, c.ranges.front().va + c.ranges.front().size};
  const Pending pending = pending_of(c);
  Plan plan;
  EXPECT_TRUE(policy.plan(pending, c.space, c.features, plan).ok());
  return plan;
}

TEST(Baselines, OnlyLinuxPlansAReclaimBatchOtherwiseThanAnUnnotedOne) {
  // Before CallKind::reclaim the replay noted no call for reclaim (unknown):
  // every policy but the two Linux models must keep that plan. A block
  // (FreeBSD d37254-era reads an unnoted block as a demotion) and a freed
  // table are among the cases.
  const PendingRange block{kVa, 0x20'0000, 2, EntryKind::leaf};
  const PendingRange table{kVa, 0x20'0000, 2, EntryKind::table, maint::Beneath::reported};
  const std::vector<std::vector<PendingRange>> batches{
      {leaf3(kVa, 3)}, {leaf3(kVa, 1), leaf3(kVa + 10 * kPage, 2)}, {block}, {leaf3(kVa, 1), table}};
  for (const PolicyEntry& entry : all_policies()) {
    if (entry.system == "Linux arm64") continue;
    for (const std::vector<PendingRange>& ranges : batches) {
      for (const arch::CpuFeatures& f : {kNone, kRangeTtl}) {
        const Case c{ranges, user(), f};
        EXPECT_EQ(plan_as(entry.policy, c, maint::CallKind::reclaim), plan_as(entry.policy, c, maint::CallKind::unknown))
            << entry.name << ", " << ranges.size() << " ranges";
      }
    }
  }
}

}  // namespace
}  // namespace tlbkit::baselines
