// KVM arm64 models (tlbkit/baselines/kvm.hpp): one test per vector of the
// research note (docs/baselines/kvm.md, section "Vectors"), each citing the
// file:line it follows at its version:
//   6.5  = pgtable.c of nicolinc/linux-nvidia-6.5@0708212 ("B65") and the
//          pre-range nvhe/tlb.c of ricarkol/linux@5c1da19 ("B-nvhe-pre");
//   6.12 = Debian linux-source-6.12 6.12.118-1~deb12u1 ("A612").
// Conventions of the note: 4 KiB granule, no LPA2, nVHE host, FEAT_TTL
// present unless said, page A = IPA 0x8000'0000 (1 GiB aligned).
//
// Operands, by hand (docs/ARCHITECTURE-FACTS.md section 1):
//   IPAS2E1IS:  TTL << 44 | IPA >> 12;  A >> 12 = 0x80000
//     TTL (4K granule 01, level L) = 0b01LL: L3 0x7, L2 0x6
//     -> TTL L3 = 0x0000'7000'0000'0000, TTL L2 = 0x0000'6000'0000'0000
//   RIPAS2E1IS: TG(01) << 46 | SCALE << 44 | NUM << 39 | IPA >> 12 (TTL 0)
//     TG 4K      0x0000'4000'0000'0000
//     SCALE 1/2/3  0x1000'0000'0000 / 0x2000'0000'0000 / 0x3000'0000'0000
//     NUM 3 0x180'0000'0000, 7 0x380'0000'0000, 30 0xF00'0000'0000, 31 0xF80'0000'0000
//     pages = (NUM + 1) << (5 * SCALE + 1)
//   VALE2IS / VAE2IS: TTL << 44 | VA >> 12 (ASID field 0)
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "plan_steps.hpp"
#include "tlbkit/baselines/kvm.hpp"
#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/gen/generator.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/physical_memory.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::baselines {
namespace {

using namespace test_support;
using arch::PhysAddr;
using Version = KvmPolicy::Version;
using TableHint = KvmPolicy::TableHint;

constexpr std::uint64_t kGiB = 0x4000'0000;
constexpr VirtAddr kA = 0x8000'0000;  // IPA >> 12 = 0x80000
constexpr std::uint64_t kTtl3 = 0x0000'7000'0000'0000;
constexpr std::uint64_t kTtl2 = 0x0000'6000'0000'0000;

const KvmPolicy k65{Version::v6_5};
const KvmPolicy k612{Version::v6_12};
const KvmPolicy k65AsReleased{Version::v6_5, TableHint::as_released};

// FEAT_TTL present unless said: kTtl (neither TLBIRANGE nor FWB) and
// kRangeTtl (TLBIRANGE without FWB) are plan_steps.hpp's; with FWB:
const arch::CpuFeatures kRangeFwbTtl = feats(Presence::present, Presence::present, Presence::present);
const arch::CpuFeatures kFwbTtl = feats(Presence::absent, Presence::present, Presence::present);

CallSpan unmap_call(VirtAddr start, std::uint64_t size) { return CallSpan{CallKind::unmap, start, start + size}; }
CallSpan protect_call(VirtAddr start, std::uint64_t size) {
  return CallSpan{CallKind::protect, start, start + size};
}

// S_ipa: __kvm_tlb_flush_vmid_ipa. Lead barrier DSB ISHST at 6.5
// (B-nvhe-pre, before the VMID switch), DSB ISH at 6.12 (A612
// nvhe/tlb.c:48-51 via enter_vmid_context); then A612 nvhe/tlb.c:161-173.
std::vector<Op> s_ipa(Instr lead, std::uint64_t operand) {
  return {Op{lead}, Op{Instr::ipas2e1is, operand}, Op{Instr::dsb_ish}, Op{Instr::vmalle1is}, Op{Instr::dsb_ish},
          Op{Instr::isb}};
}
std::vector<Op> s_ipas(Instr lead, std::uint64_t operand, std::uint64_t count, std::uint64_t advance) {
  std::vector<Op> out;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::vector<Op> one = s_ipa(lead, operand + i * advance);
    out.insert(out.end(), one.begin(), one.end());
  }
  return out;
}
// S_range: __kvm_tlb_flush_vmid_range, A612 nvhe/tlb.c:208-233.
std::vector<Op> s_range(std::vector<Op> tlbis) {
  std::vector<Op> out{Op{Instr::dsb_ish}};
  out.insert(out.end(), tlbis.begin(), tlbis.end());
  for (const Instr i : {Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish, Instr::isb}) out.push_back(Op{i});
  return out;
}
// S_vmid: __kvm_tlb_flush_vmid, A612 nvhe/tlb.c:235-247 (6.5: DSB ISHST lead).
std::vector<Op> s_vmid(Instr lead) {
  return {Op{lead}, Op{Instr::vmalls12e1is}, Op{Instr::dsb_ish}, Op{Instr::isb}};
}
Op rip(std::uint64_t operand) { return Op{Instr::ripas2e1is, operand}; }
Op ip(std::uint64_t operand) { return Op{Instr::ipas2e1is, operand}; }

constexpr Instr k65Lead = Instr::dsb_ishst;
constexpr Instr k612Lead = Instr::dsb_ish;

// ---- registry ------------------------------------------------------------------

TEST(KvmRegistry, TwoVersionsReplaceTheUnversionedModelsAndKeepTheirNames) {
  const PolicyEntry* v65 = find_policy("kvm-6.5");
  const PolicyEntry* v612 = find_policy("kvm-6.12");
  ASSERT_NE(v65, nullptr);
  ASSERT_NE(v612, nullptr);
  // "kvm" never deferred (6.5); "kvm-deferred" deferred with TLBIRANGE and FWB (6.12).
  EXPECT_EQ(find_policy("kvm"), v65);
  EXPECT_EQ(find_policy("kvm-deferred"), v612);
  for (const PolicyEntry* e : {v65, v612}) {
    EXPECT_EQ(e->system, "KVM arm64");
    EXPECT_EQ(e->manages, Manages::vm_stage2);
    EXPECT_EQ(e->contract, Contract::correct) << "bug 10 cannot be shown by a workload: see kvm.hpp";
    EXPECT_FALSE(e->repository.empty());
    EXPECT_FALSE(e->sources.empty());
  }
  EXPECT_EQ(static_cast<const KvmPolicy&>(v65->policy).version(), Version::v6_5);
  EXPECT_EQ(static_cast<const KvmPolicy&>(v612->policy).version(), Version::v6_12);
  EXPECT_EQ(static_cast<const KvmPolicy&>(v65->policy).table_hint(), TableHint::none);
}

TEST(KvmRegistry, LinuxGetsTheKvmOfItsRelease) {
  // The range series ("KVM: arm64: Define kvm_tlb_flush_vmid_range()") is v6.6.
  EXPECT_EQ(KvmPolicy::version_for_linux(5, 15), Version::v6_5);
  EXPECT_EQ(KvmPolicy::version_for_linux(6, 5), Version::v6_5);
  EXPECT_EQ(KvmPolicy::version_for_linux(6, 6), Version::v6_12);
  EXPECT_EQ(KvmPolicy::version_for_linux(6, 12), Version::v6_12);
  // The unversioned constructor still works: never -> 6.5, range_with_fwb -> 6.12.
  EXPECT_EQ(KvmPolicy{KvmPolicy::Deferral::never}.version(), Version::v6_5);
  EXPECT_EQ(KvmPolicy{KvmPolicy::Deferral::range_with_fwb}.version(), Version::v6_12);
}

// ---- range decompositions (A612 tlbflush.h:158-174, 408-446; pgtable.c:653-670) ----

// n = 1: __flush_tlb_range_op takes the single-page branch (pages == 1):
// IPAS2E1IS A with TTL_UNKNOWN -> 0x80000. Reached through a deferred
// one-page unmap (pgtable.c:1161-1163).
TEST(KvmRange, OnePageIsASingleIpaOpWithoutTtl) {
  const Case c{{leaf3(kA, 1)}, guest(), kRangeFwbTtl, unmap_call(kA, kPage)};
  EXPECT_OPS(k612, c, s_range({ip(0x80000)}));
}

// n = 2: SCALE 0: (2 >> 1) - 1 = 0 -> RIPAS2E1IS TG | NUM 0 | 0x80000 = 0x0000'4000'0008'0000.
TEST(KvmRange, TwoPagesIsScale0Num0) {
  const Case c{{leaf3(kA, 2)}, guest(), kRangeFwbTtl, unmap_call(kA, 2 * kPage)};
  EXPECT_OPS(k612, c, s_range({rip(0x0000'4000'0008'0000)}));
}

// n = 3: SCALE 3..1 give NUM -1 (skipped); SCALE 0: (3 >> 1) - 1 = 0: two
// pages; one page left: IPAS2E1IS 0x80002.
TEST(KvmRange, ThreePagesIsTwoByRangeThenOneByIpa) {
  const Case c{{leaf3(kA, 3)}, guest(), kRangeFwbTtl, unmap_call(kA, 3 * kPage)};
  EXPECT_OPS(k612, c, s_range({rip(0x0000'4000'0008'0000), ip(0x80002)}));
}

// n = 512: SCALE 1: (512 >> 6) - 1 = 7: TG | SCALE1 | NUM7 | 0x80000 = 0x0000'5380'0008'0000.
TEST(KvmRange, FiveHundredTwelvePagesIsScale1Num7) {
  const Case c{{leaf3(kA, 512)}, guest(), kRangeFwbTtl, unmap_call(kA, kBlock)};
  EXPECT_OPS(k612, c, s_range({rip(0x0000'5380'0008'0000)}));
}

// n = 2^18 (1 GiB): SCALE 3: (2^18 >> 16) - 1 = 3: TG | SCALE3 | NUM3 | 0x80000 = 0x0000'7180'0008'0000.
TEST(KvmRange, OneGibibyteIsScale3Num3) {
  const Case c{{leaf3(kA, 1 << 18)}, guest(), kRangeFwbTtl, unmap_call(kA, kGiB)};
  EXPECT_OPS(k612, c, s_range({rip(0x0000'7180'0008'0000)}));
}

// n = 2^21 - 1 through kvm_tlb_flush_vmid_range (the write-protect flush of
// a memslot, mmu.c:184-190 -> pgtable.c:653-670; one chunk, one hyp call):
//   SCALE 3: (2^21-1) >> 16 = 31 -> NUM 30: 31 * 2^16 pages
//     TG | SCALE3 | NUM30 | 0x80000 = 0x0000'7F00'0008'0000
//   base + 0x1F'0000 pages = 0x27'0000; SCALE 2 NUM 30 (31 * 2^11 pages):
//     0x4000 | 0x2000 | 0x0F00 -> 0x0000'6F00'0027'0000
//   + 0xF800 = 0x27'F800; SCALE 1 NUM 30 (31 * 64 pages): 0x0000'5F00'0027'F800
//   + 0x7C0 = 0x27'FFC0; SCALE 0 NUM 30 (62 pages): 0x0000'4F00'0027'FFC0
//   + 0x3E = 0x27'FFFE: the last page, IPAS2E1IS 0x27FFFE (= 0x80000 + 2^21 - 2).
TEST(KvmRange, TwoToTheTwentyOneMinusOneIsFourRangeOpsAndOnePage) {
  constexpr std::uint64_t kPages = (1u << 21) - 1;
  const Case c{{leaf3(kA, kPages)}, guest(), kRangeFwbTtl, protect_call(kA, kPages * kPage)};
  EXPECT_OPS(k612, c,
             s_range({rip(0x0000'7F00'0008'0000), rip(0x0000'6F00'0027'0000), rip(0x0000'5F00'0027'F800),
                      rip(0x0000'4F00'0027'FFC0), ip(0x27FFFE)}));
}

// n = 2^21 (MAX_TLBI_RANGE_PAGES): __TLBI_RANGE_NUM clamps to
// __TLBI_RANGE_PAGES(31, 3) = 2^21: NUM 31 at SCALE 3, one op:
//   TG | SCALE3 | NUM31 | 0x80000 = 0x0000'7F80'0008'0000.
TEST(KvmRange, TwoToTheTwentyOneIsOneOpScale3Num31) {
  constexpr std::uint64_t kPages = 1u << 21;
  const Case c{{leaf3(kA, kPages)}, guest(), kRangeFwbTtl, protect_call(kA, kPages * kPage)};
  EXPECT_OPS(k612, c, s_range({rip(0x0000'7F80'0008'0000)}));
}

// n = 2^21 + 1: kvm_tlb_flush_vmid_range makes two hyp calls
// (pgtable.c:662-669): 2^21 pages from A, then one page at A + 8 GiB:
// 0x80000 + 0x20'0000 = 0x28'0000, each with its own barriers.
TEST(KvmRange, TwoToTheTwentyOnePlusOneIsTwoHypCalls) {
  constexpr std::uint64_t kPages = (1u << 21) + 1;
  const Case c{{leaf3(kA, kPages)}, guest(), kRangeFwbTtl, protect_call(kA, kPages * kPage)};
  EXPECT_OPS(k612, c, cat({s_range({rip(0x0000'7F80'0008'0000)}), s_range({ip(0x28'0000)})}));
}

// Without FEAT_TLBIRANGE kvm_tlb_flush_vmid_range is one __kvm_tlb_flush_vmid
// (pgtable.c:657-660).
TEST(KvmRange, WithoutTlbiRangeAnyRangeIsTheVmidFlush) {
  const Case c{{leaf3(kA, 64)}, guest(), kFwbTtl, protect_call(kA, 64 * kPage)};
  EXPECT_OPS(k612, c, s_vmid(k612Lead));
}

// ---- unmap (B65 pgtable.c:813-826, 1049-1101; A612 pgtable.c:833-870, 1108-1166) ----

// U1: 3 pages, TLBIRANGE + FWB.
// 6.5: per PTE S_ipa(A + i pages, L3) (B65:822): 0x0000'7000'0008'0000 + i.
// 6.12: no TLBI in the walk (A612:863), then S_range(A, 3) (1161-1163).
TEST(KvmUnmap, U1_ThreePagesWithRangeAndFwb_PerPteAt65_OneRangeFlushAt612) {
  const Case c{{leaf3(kA, 3)}, guest(), kRangeFwbTtl, unmap_call(kA, 3 * kPage)};
  EXPECT_OPS(k65, c, s_ipas(k65Lead, kTtl3 | 0x80000, 3, 1));
  EXPECT_OPS(k612, c, s_range({rip(0x0000'4000'0008'0000), ip(0x80002)}));
  // Held as KVM's loop: one group of the 6 steps, 3 times.
  const Plan p = plan_for(k65, c);
  ASSERT_EQ(p.groups().size(), 1u);
  EXPECT_EQ(p.groups()[0], (StepGroup{0, 6, 3, 1}));
}

// U2: TLBIRANGE without FWB, cacheable: no deferral (A612:840-843), per PTE
// S_ipa(L3) (864-865), then dcache_clean_inval_poc of the old pages
// (1141-1143; B65:1082-1084): DC CIVAC per 64-byte line, DSB SY
// (cache.S:111-115). 3 pages = 192 lines from PA 0x9'0000'0000 + offset.
// The two versions differ only by the lead barrier of the hyp call.
TEST(KvmUnmap, U2_RangeWithoutFwbIsPerPteAndCleansAfterwards) {
  Case c{{leaf3(kA, 3)}, guest(), kRangeTtl, unmap_call(kA, 3 * kPage)};
  c.space.linear_map_offset = 0xFFFF'0000'0000'0000;
  c.clean = {PhysRange{0x9'0000'0000, 3 * kPage}};
  std::vector<Op> clean;
  for (std::uint64_t i = 0; i < 192; ++i) clean.push_back(Op{Instr::dc_civac, 0xFFFF'0009'0000'0000 + i * 64});
  clean.push_back(Op{Instr::dsb_sy});
  EXPECT_OPS(k65, c, cat({s_ipas(k65Lead, kTtl3 | 0x80000, 3, 1), clean}));
  EXPECT_OPS(k612, c, cat({s_ipas(k612Lead, kTtl3 | 0x80000, 3, 1), clean}));
}

// U3: FWB without TLBIRANGE: no deferral, per PTE S_ipa(L3), no CMO.
TEST(KvmUnmap, U3_FwbWithoutRangeIsPerPte) {
  const Case c{{leaf3(kA, 3)}, guest(), kFwbTtl, unmap_call(kA, 3 * kPage)};
  EXPECT_OPS(k65, c, s_ipas(k65Lead, kTtl3 | 0x80000, 3, 1));
  EXPECT_OPS(k612, c, s_ipas(k612Lead, kTtl3 | 0x80000, 3, 1));
}

// U4: neither: per PTE S_ipa(L3) and the clean of each page (one DSB SY in
// the model, KVM one per entry); without FEAT_TTL no hint: 0x80000.
TEST(KvmUnmap, U4_NeitherIsPerPteWithCleaning) {
  Case c{{leaf3(kA, 2)}, guest(), kNone,
         unmap_call(kA, 2 * kPage)};
  c.clean = {PhysRange{0x9'0000'0000, 2 * kPage}};
  std::vector<Op> clean;
  for (std::uint64_t i = 0; i < 128; ++i) clean.push_back(Op{Instr::dc_civac, 0x9'0000'0000 + i * 64});
  clean.push_back(Op{Instr::dsb_sy});
  EXPECT_OPS(k65, c, cat({s_ipas(k65Lead, 0x80000, 2, 1), clean}));
  EXPECT_OPS(k612, c, cat({s_ipas(k612Lead, 0x80000, 2, 1), clean}));
}

// U5: one 2 MiB block, TLBIRANGE + FWB.
// 6.5: S_ipa(A, L2) = 0x0000'6000'0008'0000 (B65:822).
// 6.12: deferred; S_range(A, 512) = RIPAS2E1IS 0x0000'5380'0008'0000.
TEST(KvmUnmap, U5_BlockWithRangeAndFwb) {
  const Case c{{block2(kA)}, guest(), kRangeFwbTtl, unmap_call(kA, kBlock)};
  EXPECT_OPS(k65, c, s_ipa(k65Lead, kTtl2 | 0x80000));
  EXPECT_OPS(k612, c, s_range({rip(0x0000'5380'0008'0000)}));
}

// U5b: the block without FWB: S_ipa(A, L2), then 2 MiB / 64 = 32768 lines
// of DC CIVAC from the old PA, DSB SY (same at both versions, lead aside).
TEST(KvmUnmap, U5b_BlockWithoutFwbIsCleanedWhole) {
  Case c{{block2(kA)}, guest(), kRangeTtl, unmap_call(kA, kBlock)};
  c.clean = {PhysRange{0x4200'0000, kBlock}};
  for (const auto& [policy, lead] : {std::pair{&k65, k65Lead}, std::pair{&k612, k612Lead}}) {
    const Plan p = plan_for(*policy, c);
    std::vector<Step> steps(p.steps().begin(), p.steps().end());
    ASSERT_EQ(steps.size(), 8u);
    EXPECT_EQ(steps[0].first, Op{lead});
    EXPECT_EQ(steps[1].first, ip(kTtl2 | 0x80000));
    EXPECT_EQ(steps[6], (Step{Op{Instr::dc_civac, 0x4200'0000}, 32768, 64}));
    EXPECT_EQ(steps[7].first, Op{Instr::dsb_sy});
  }
}

// U6: the whole 2 MiB of a level-3 table, TLBIRANGE + FWB, every PTE
// reported then the emptied table (Beneath::reported).
// 6.5 (B65:813-826, post-order walk 1049-1090): 512 x S_ipa(L3), then the
// table entry S_ipa(A, L2): TTL = the table's own level (known bug 10) --
// what TableHint::as_released issues; the registered model gives none.
// 6.12: the 512 PTEs deferred; the table entry S_ipa(A, TTL_UNKNOWN) at once
// (A612:858-862); then S_range(A, 512) (1161-1163).
TEST(KvmUnmap, U6_EmptiedTableIsFlushedAtOnceWithoutHintAt612AndWithItsLevelAt65) {
  const Case c{{leaf3(kA, 512), table2(kA, maint::Beneath::reported)}, guest(), kRangeFwbTtl, unmap_call(kA, kBlock)};
  EXPECT_OPS_UNCHECKED(k65AsReleased, c,
             cat({s_ipas(k65Lead, kTtl3 | 0x80000, 512, 1), s_ipa(k65Lead, kTtl2 | 0x80000)}));
  EXPECT_OPS(k65, c, cat({s_ipas(k65Lead, kTtl3 | 0x80000, 512, 1), s_ipa(k65Lead, 0x80000)}));
  EXPECT_OPS(k612, c,
             cat({s_ipa(k612Lead, 0x80000), s_range({rip(0x0000'5380'0008'0000)})}));
}

// U6, the table unhooked whole (Beneath::unseen: the engine did not report
// the leaves). KVM's walker would still visit and flush every valid leaf;
// the model, not knowing them, flushes every page (no TTL) and then the
// table entry (6.5), or leaves the pages to the deferred range (6.12).
TEST(KvmUnmap, U6_TableUnhookedWholeIsFlushedPageByPageThenTheEntry) {
  const Case c{{table2(kA, maint::Beneath::unseen)}, guest(), kRangeFwbTtl, unmap_call(kA, kBlock)};
  EXPECT_OPS(k65, c, cat({s_ipas(k65Lead, 0x80000, 512, 1), s_ipa(k65Lead, 0x80000)}));
  EXPECT_OPS(k612, c,
             cat({s_ipa(k612Lead, 0x80000), s_range({rip(0x0000'5380'0008'0000)})}));
  // 6.12 without deferral (no FWB): as 6.5, with its own lead barrier.
  Case no_fwb = c;
  no_fwb.features = kRangeTtl;
  EXPECT_OPS(k612, no_fwb, cat({s_ipas(k612Lead, 0x80000, 512, 1), s_ipa(k612Lead, 0x80000)}));
}

// U7: 4 GiB of pages from A = 2 GiB, TLBIRANGE + FWB. mmu.c:34-47, 56-89
// (stage2_apply_range) cuts it at 1 GiB boundaries: four unmap calls, each
// followed by S_range(base, 2^18) = SCALE 3 NUM 3 (0x0000'7180'...):
// bases 0x80000, 0xC0000, 0x10'0000, 0x14'0000.
// 6.5: per PTE S_ipa(L3): one loop of 2^20 sequences.
TEST(KvmUnmap, U7_FourGibibytesIsOneRangeFlushPerGibibyte) {
  const Case c{{leaf3(kA, 1 << 20)}, guest(), kRangeFwbTtl, unmap_call(kA, 4 * kGiB)};
  EXPECT_OPS(k612, c,
             cat({s_range({rip(0x0000'7180'0008'0000)}), s_range({rip(0x0000'7180'000C'0000)}),
                  s_range({rip(0x0000'7180'0010'0000)}), s_range({rip(0x0000'7180'0014'0000)})}));
  const Plan p = plan_for(k65, c, Oracle::skip);
  ASSERT_EQ(p.groups().size(), 1u);
  EXPECT_EQ(p.groups()[0], (StepGroup{0, 6, 1u << 20, 1}));
  EXPECT_EQ(p.steps()[1].first, ip(kTtl3 | 0x80000));
}

// The requested range, not only what was mapped: with the call noted, the
// deferred flush covers its whole span (A612:1161-1163 flushes addr, size);
// without it, each run of adjacent changed ranges is one request.
TEST(KvmUnmap, DeferredFlushCoversTheRequestedRange) {
  // Call over 64 pages, pages 0..1 and 10 changed: one RIPAS2E1IS of 64
  // pages: SCALE 1 NUM 0 = 0x0000'5000'0008'0000.
  Case c{{leaf3(kA, 2), leaf3(kA + 10 * kPage, 1)}, guest(), kRangeFwbTtl, unmap_call(kA, 64 * kPage)};
  EXPECT_OPS(k612, c, s_range({rip(0x0000'5000'0008'0000)}));
  // Not noted: two requests, [A, A + 2 pages) and the page at 0x8000A.
  c.call = CallSpan{};
  EXPECT_OPS(k612, c, cat({s_range({rip(0x0000'4000'0008'0000)}), s_range({ip(0x8000A)})}));
}

// ---- map (B65 pgtable.c:870-912, 1020; A612 914-971, 1079) -------------------------

// M1, M4, M5: a map into an invalid PTE needs no TLBI; KVM cleans the new
// page and invalidates the I-cache for an executable mapping before making
// the PTE (A612:958-966), then DSB ISHST after the walk (1079). The Pending
// holds only "execute gained": the model issues KVM's form for more than
// 512 lines (kvm_mmu.h:251-252, cacheflush.h:133-140), IC IALLUIS; DSB ISH,
// and the plan's ISB. The D-clean of the new page and DSB ISHST are not
// expressible.
TEST(KvmMap, M1_MapOfExecutableMemoryIsOnlyTheICacheInvalidation) {
  Case c{{}, guest(), kTtl};
  c.exec = ExecGain::yes;
  const std::vector<Op> icache{Op{Instr::ic_ialluis}, Op{Instr::dsb_ish}, Op{Instr::isb}};
  EXPECT_OPS(k65, c, icache);
  EXPECT_OPS(k612, c, icache);
  c.exec = ExecGain::no;
  EXPECT_TRUE(plan_for(k612, c).empty());
}

// M2: a map over a valid leaf (break-before-make): S_ipa(old IPA, L3)
// (B65:790-792, A612:809-811). The engine hands it over as an unnoted
// one-range batch; without deferral features the model issues exactly that.
// With TLBIRANGE + FWB the model cannot tell it from an unmap and issues the
// deferred flush of that page (IPAS2E1IS without TTL) instead.
TEST(KvmMap, M2_MapOverAValidLeafIsOneIpaFlush) {
  // Without FEAT_TTL no hint: 0x80000.
  const Case c{{leaf3(kA, 1)}, guest(), kNone};
  EXPECT_OPS(k65, c, s_ipa(k65Lead, 0x80000));
  const Case ttl{{leaf3(kA, 1)}, guest(), kFwbTtl};
  EXPECT_OPS(k65, ttl, s_ipa(k65Lead, kTtl3 | 0x80000));
  EXPECT_OPS(k612, ttl, s_ipa(k612Lead, kTtl3 | 0x80000));
  const Case deferred{{leaf3(kA, 1)}, guest(), kRangeFwbTtl};
  EXPECT_OPS(k612, deferred, s_range({ip(0x80000)}));  // KVM: S_ipa(A, L3)
}

// M3: a 2 MiB block over a level-3 table (table -> block): KVM breaks the
// table entry with S_vmid at 6.5 (B65:788-789) and
// kvm_tlb_flush_vmid_range(A, 2 MiB) at 6.12 (A612:803-808): S_range(A, 512)
// with TLBIRANGE. The model takes the unhooked table for the unmap
// walker's: at 6.12 with TLBIRANGE + FWB that is the table entry's S_ipa
// then KVM's S_range; at 6.5 every page then the entry.
TEST(KvmMap, M3_BlockOverATableIsTheUnmapWalkersFlushInTheModel) {
  const Case c{{table2(kA, maint::Beneath::unseen)}, guest(), kRangeFwbTtl};
  EXPECT_OPS(k612, c,
             cat({s_ipa(k612Lead, 0x80000), s_range({rip(0x0000'5380'0008'0000)})}));  // KVM: only the S_range
  const Plan p65 = plan_for(k65, c);  // KVM: S_vmid
  EXPECT_EQ(p65.size(), 6u * 513u);
}

// ---- permissions (B65 pgtable.c:1110-1273; A612 1175-1339; mmu.c 1179-1261) ----

// P1: relaxing permissions needs no invalidation (the Gather asks for none):
// KVM's local __kvm_tlb_flush_vmid_ipa_nsh after relax_perms (B65:1270-1271,
// A612:1335-1337; nvhe/tlb.c:178-206) is not expressible. Adding X: the
// I-cache op (A612:1200-1203) is the tail.
TEST(KvmPermissions, P1_RelaxIsNoTlbiInTheModel) {
  Case c{{}, guest(), kRangeFwbTtl};
  EXPECT_TRUE(plan_for(k65, c).empty());
  EXPECT_TRUE(plan_for(k612, c).empty());
  c.exec = ExecGain::yes;
  EXPECT_OPS(k612, c, (std::vector<Op>{Op{Instr::ic_ialluis}, Op{Instr::dsb_ish}, Op{Instr::isb}}));
}

// P2: write-protect of a 64-page memslot, pages 0..3 and 10 were writable.
// 6.5: kvm_flush_remote_tlbs = S_vmid (note section 4, [M]).
// 6.12: kvm_flush_remote_tlbs_memslot -> kvm_tlb_flush_vmid_range over the
// slot (mmu.c:1179-1196, kvm_main.c:366-378): 64 pages = SCALE 1 NUM 0:
// TG | SCALE1 | 0x80000 = 0x0000'5000'0008'0000; without TLBIRANGE S_vmid.
TEST(KvmPermissions, P2_WriteProtectIsTheMemslotFlush) {
  Case c{{leaf3(kA, 4), leaf3(kA + 10 * kPage, 1)}, guest(), kRangeTtl, protect_call(kA, 64 * kPage)};
  EXPECT_OPS(k65, c, s_vmid(k65Lead));
  EXPECT_OPS(k612, c, s_range({rip(0x0000'5000'0008'0000)}));
  c.features = kFwbTtl;
  EXPECT_OPS(k612, c, s_vmid(k612Lead));
}

// ---- split (B65 pgtable.c:1379-1459; A612 1444-1525) --------------------------------

// S1 / S2: a 2 MiB block split into a table: the block is broken with
// S_ipa(A, L2) (B65:790-792 via stage2_split_walker, A612:809-811), the DSB
// ISHST per block (B65:1445) or after the walk (A612:1523) is not
// expressible. With TLBIRANGE + FWB at 6.12 the model, taking the break for
// an unmap, issues S_range(A, 512) (one op, no TTL) instead.
TEST(KvmSplit, S1_SplittingABlockBreaksItWithALevel2IpaFlush) {
  const Case c{{block2(kA)}, guest(), kRangeTtl};
  EXPECT_OPS(k65, c, s_ipa(k65Lead, kTtl2 | 0x80000));
  EXPECT_OPS(k612, c, s_ipa(k612Lead, kTtl2 | 0x80000));
  const Case deferred{{block2(kA)}, guest(), kRangeFwbTtl};
  EXPECT_OPS(k612, deferred, s_range({rip(0x0000'5380'0008'0000)}));  // KVM: S_ipa(A, L2)
}

// ---- whole VMID (mmu.c:178-182; nvhe/tlb.c:235-247) ---------------------------------

// F1 / F2: a whole-VMID flush (kvm_arch_flush_remote_tlbs) is S_vmid. A VM
// destroy has no TLBI in KVM (mmu.c:986-990, 1062-1080); the model answers a
// teardown's Coverage::everything with the same S_vmid.
TEST(KvmVmid, F1_EverythingIsTheVmidFlush) {
  Case c{{}, guest(), kRangeFwbTtl};
  c.coverage = Coverage::everything;
  EXPECT_OPS(k65, c, s_vmid(k65Lead));
  EXPECT_OPS(k612, c, s_vmid(k612Lead));
}

// A plan holds 64 steps: 11 separate per-PTE sequences (66 steps) do not
// fit, and the model falls back to S_vmid (KVM has no such limit).
TEST(KvmVmid, ABatchTooBigForAPlanFallsBackToTheVmidFlush) {
  std::vector<PendingRange> ranges;
  for (std::uint64_t i = 0; i < 11; ++i) ranges.push_back(leaf3(kA + i * 2 * kPage, 1));
  EXPECT_OPS(k65, (Case{ranges, guest(), kTtl}), s_vmid(k65Lead));
}

// ---- hyp stage 1 (B65 pgtable.c:507-545; A612 470-508) ------------------------------

constexpr VirtAddr kHypVa = 0x1000'0000;  // >> 12 = 0x10000

// H1: one 4 KiB hyp page: DSB ISHST; VALE2IS TTL L3 | 0x10000; DSB ISH; ISB
// (B65:531-538; A612:493-501, the sync helper's DSB ISH).
TEST(KvmHyp, H1_OneHypPageIsALeafTlbiWithItsLevel) {
  const Case c{{leaf3(kHypVa, 1)}, el2(), kTtl};
  const std::vector<Op> want{Op{Instr::dsb_ishst}, Op{Instr::vale2is, kTtl3 | 0x10000}, Op{Instr::dsb_ish},
                             Op{Instr::isb}};
  EXPECT_OPS(k65, c, want);
  EXPECT_OPS(k612, c, want);
}

// H2: the hyp unmap empties a level-3 table: the leaf, then the table entry
// VAE2IS with TTL L2 at 6.5 (B65:524-526, bug 10: as released) and without
// at 6.12 (A612:489).
TEST(KvmHyp, H2_EmptiedHypTableIsVae2isWithoutHintAt612) {
  const Case c{{leaf3(kHypVa, 1), table2(kHypVa, maint::Beneath::reported)}, el2(), kTtl};
  const std::vector<Op> leaf_ops{Op{Instr::dsb_ishst}, Op{Instr::vale2is, kTtl3 | 0x10000}, Op{Instr::dsb_ish},
                                 Op{Instr::isb}};
  const auto table_ops = [](std::uint64_t operand) {
    return std::vector<Op>{Op{Instr::dsb_ishst}, Op{Instr::vae2is, operand}, Op{Instr::dsb_ish}, Op{Instr::isb}};
  };
  EXPECT_OPS_UNCHECKED(k65AsReleased, c, cat({leaf_ops, table_ops(kTtl2 | 0x10000)}));
  EXPECT_OPS(k612, c, cat({leaf_ops, table_ops(0x10000)}));
  EXPECT_OPS(k65, c, cat({leaf_ops, table_ops(0x10000)}));
}

// ---- known bug 10 at 6.5 -----------------------------------------------------------

// The oracle (the architecture's reading: a TTL hint naming a level where no
// leaf is may invalidate nothing) rejects 6.5's plans as released.
TEST(KvmKnownBug10, TheCoverageOracleRejectsTheTableHintOf65) {
  for (const Case& c : {Case{{leaf3(kA, 512), table2(kA, maint::Beneath::reported)}, guest(), kRangeFwbTtl},
                        Case{{leaf3(kHypVa, 1), table2(kHypVa, maint::Beneath::reported)}, el2(), kTtl}}) {
    const Pending pending = pending_of(c);
    Plan plan;
    ASSERT_TRUE(k65AsReleased.plan(pending, c.space, c.features, plan).ok());
    EXPECT_FALSE(test::plan_problems(test::expand(plan), pending, c.space, c.features).empty());
    Plan fixed;
    ASSERT_TRUE(k65.plan(pending, c.space, c.features, fixed).ok());
    EXPECT_TRUE(test::plan_problems(test::expand(fixed), pending, c.space, c.features).empty());
  }
}

// On the simulated machine: PE 1 caches a page of a level-3 table, PE 0's
// KVM unmap empties the table (two pages; a third page elsewhere keeps the
// level-2 table) and frees it after the plan, PE 1 reads again.
struct Stage2Machine {
  static constexpr std::uint16_t kVmid = 3;
  static constexpr VirtAddr kIpa = 0x4000'0000;
  static constexpr PhysAddr kData = 0x8000'0000;
  static arch::Geometry geometry() { return *arch::Geometry::stage2(arch::Granule::k4K, 40, 1); }

  sim::PhysicalMemory memory;
  sim::Machine machine{memory, *sim::find_profile("mobile-8"), sim::MachineOptions{2}};
  pt::Table table = [this] {
    pt::TableOptions options;
    options.fwb = arch::s2::Fwb::enabled;
    return std::move(pt::Table::create(arch::Regime::stage2, geometry(), memory, options)).value();
  }();
  AddressSpace space = [] {
    AddressSpace s = guest();
    s.vmid = kVmid;
    return s;
  }();
  arch::CpuFeatures features = [] {
    arch::CpuFeatures f = kRangeFwbTtl;
    f.processing_elements = 2;
    return f;
  }();

  Stage2Machine() {
    sim::PeContext ctx;  // stage 1 off: the PEs access IPAs
    ctx.vmid = kVmid;
    ctx.stage2 = geometry();
    ctx.stage2_root = table.root();
    EXPECT_TRUE(machine.set_context(0, ctx).ok());
    EXPECT_TRUE(machine.set_context(1, ctx).ok());
  }

  // Returns the level-3 table the first pages sit in.
  PhysAddr map_and_cache(const maint::Policy& policy) {
    {
      maint::Gather gather(space, features, policy, machine.executor(0), memory, &machine);
      EXPECT_TRUE(table.map(kIpa, kData, 2 * kPage, arch::s2::Attributes{}, gather).ok());
      EXPECT_TRUE(table.map(kIpa + kBlock, kData + kBlock, kPage, arch::s2::Attributes{}, gather).ok());
    }
    const arch::Geometry g = geometry();
    const PhysAddr level2 = arch::output_address(memory.peek(table.root())[g.index(kIpa, 1)]);
    EXPECT_EQ(machine.access(1, kIpa + 0x10, sim::AccessKind::read)->outcome, sim::AccessOutcome::ok);
    return arch::output_address(memory.peek(level2)[g.index(kIpa, 2)]);
  }

  // PE 0 unmaps the two pages through a Gather with `policy`; returns the
  // ops it ran.
  std::vector<Op> unmap(const maint::Policy& policy) {
    struct Recording final : Executor {
      explicit Recording(Executor& inner) : inner_(inner) {}
      void execute(const Plan& plan) override {
        for (const Op& o : plan.ops()) ops.push_back(o);
        inner_.execute(plan);
      }
      std::vector<Op> ops;
      Executor& inner_;
    } recording(machine.executor(0));
    machine.begin_operation(0, "stage-2 unmap");
    {
      maint::Gather gather(space, features, policy, recording, memory, &machine);
      EXPECT_TRUE(table.unmap(kIpa, 2 * kPage, gather).ok());
    }
    machine.end_operation();
    return recording.ops;
  }
};

// 6.12 flushes the emptied table entry at once (A612:858-862) and the pages
// in the deferred range flush: clean.
TEST(KvmOnTheMachine, Kvm612UnmapOfAWholeTableIsClean) {
  Stage2Machine s;
  const PhysAddr level3 = s.map_and_cache(k612);
  const std::vector<Op> ops = s.unmap(k612);
  EXPECT_FALSE(s.memory.is_live(level3)) << "the emptied table was freed";
  EXPECT_EQ(s.machine.access(1, Stage2Machine::kIpa + 0x10, sim::AccessKind::read)->outcome,
            sim::AccessOutcome::translation_fault);
  EXPECT_TRUE(s.machine.violations().empty()) << s.machine.violations().front().message;
  EXPECT_FALSE(ops.empty());
}

// 6.5 as released hints the table entry with level 2 (B65:822). The
// simulator matches a hint against the cached descriptor's level, and the
// walk-cache entry of the level-2 table descriptor has level 2: the op
// removes it and the machine sees nothing wrong -- which is why kvm-6.5
// cannot be registered as a known-bug model (no workload shows the bug) and
// gives table entries no hint instead.
TEST(KvmOnTheMachine, Kvm65TableHintIsNotCaughtByTheSimulator) {
  Stage2Machine s;
  const PhysAddr level3 = s.map_and_cache(k65AsReleased);
  const std::vector<Op> ops = s.unmap(k65AsReleased);
  // IPA 0x4000'0000 >> 12 = 0x40000; TTL L2 = 0x6 << 44.
  const Op hinted_table{Instr::ipas2e1is, kTtl2 | 0x40000};
  EXPECT_NE(std::find(ops.begin(), ops.end(), hinted_table), ops.end()) << "the plan carries 6.5's table hint";
  EXPECT_FALSE(s.memory.is_live(level3));
  EXPECT_EQ(s.machine.access(1, Stage2Machine::kIpa + 0x10, sim::AccessKind::read)->outcome,
            sim::AccessOutcome::translation_fault);
  EXPECT_TRUE(s.machine.violations().empty());
}

// The VM generators replayed on the machine under both versions, with
// and without FEAT_TLBIRANGE and FWB (every_policy_test replays them with
// TLBIRANGE but no FWB only, so 6.12's deferred mode is checked here).
TEST(KvmOnTheMachine, EveryVmGeneratorReplaysCleanWithAndWithoutDeferral) {
  const sim::Profile& profile = *sim::find_profile("mobile-8");
  for (const KvmPolicy* policy : {&k65, &k612}) {
    for (const arch::CpuFeatures& f : {kRangeFwbTtl, kRangeTtl, kFwbTtl}) {
      for (const gen::Generator& g : gen::generators()) {
        const std::string_view name = g.name;
        if (name != "vm-teardown" && name != "s2-unmap" && name != "dirty-log") continue;
        replay::ReplayOptions o;
        o.pes = 4;
        o.features = f;
        gen::Parameters p;
        p.size = g.default_size;
        replay::TraceReplayer replayer(*policy, profile, o);
        ASSERT_EQ(g.emit(p, replayer), "") << name;
        const replay::ReplayRun run = replayer.finish();
        EXPECT_TRUE(run.ok()) << name << " under 6." << (policy == &k65 ? "5" : "12") << ": "
                              << (run.violations.empty() ? std::string() : run.violations.front().message)
                              << (run.problems.empty() ? std::string() : run.problems.front());
        EXPECT_GT(run.kernel.faults, 0u) << name;
      }
    }
  }
}

}  // namespace
}  // namespace tlbkit::baselines
