// FreeBSD arm64 pmap models (tlbkit/baselines/freebsd.hpp): one TEST per
// test vector of the verified research note
// (scratch/research/verified/freebsd.md, section 6), each citing where the
// behaviour is in the source read:
//   A = freebsd/freebsd-src@6631b589 sys/arm64/arm64/pmap.c, cited by
//       character offset (@c<n>) or read window (@c[a,b)) as in the note;
//   B = JamesKane/freebsd-src@7dc22c88 sys/arm64/arm64/pmap.c, cited by line
//       (B:L<n>, +-2 as the note says) or character window;
//   B-hyp = freebsd/freebsd-src@e14f3edc sys/arm64/vmm/vmm_hyp.c @c[16000,19821).
//
// Inputs as the note's vectors: ASID 5, 4 KiB pages, V = 0x40'0000
// (2 MiB aligned, V >> 12 = 0x400), P = 0x1000. FreeBSD issues no TTL.
// Operands, by hand:
//   by VA  (VALE1IS, VAE1IS):  ASID << 48 | VA >> 12      ASID 5 = 0x0005'0000'0000'0000
//   all-ASID (VAALE1IS):       VA >> 12
//   range  (RVALE1IS ...):     ASID << 48 | TG 1 << 46 (0x4000'0000'0000) | SCALE << 44 | NUM << 39 | VA >> 12
//                              SCALE 1 = 0x1000'0000'0000, SCALE 2 = 0x2000'0000'0000
//                              NUM 1 = 0x80'0000'0000, 7 = 0x380'0000'0000, 30 = 0xF00'0000'0000
//   by IPA (IPAS2LE1IS):       IPA >> 12
// S = DSB ISHST, E = DSB ISH; ISB; stage 2 closes DSB ISH; VMALLE1IS; DSB ISH; ISB.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "plan_steps.hpp"
#include "tlbkit/baselines/freebsd.hpp"
#include "tlbkit/baselines/registry.hpp"

namespace tlbkit::baselines {
namespace {

using namespace test_support;

constexpr VirtAddr kV = 0x40'0000;
constexpr VirtAddr kK = 0x4000'0000;  // kernel VA, K >> 12 = 0x40000
constexpr std::uint64_t kAsid5 = 0x0005'0000'0000'0000;
constexpr std::uint64_t kTg4K = 0x4000'0000'0000;

const FreeBsdPolicy kA{FreeBsdPolicy::Version::d37254_era};
const FreeBsdPolicy kB{FreeBsdPolicy::Version::current};

// FreeBSD's cases: an unmap call (pmap_remove) unless said. FreeBSD never
// uses TTL: the feature sets have it (kTtl: no FEAT_TLBIRANGE, kRangeTtl:
// with it), to show it is not used.
Case unmap(std::vector<PendingRange> r, const AddressSpace& s = user(), const arch::CpuFeatures& f = kTtl) {
  return Case{std::move(r), s, f, CallSpan{CallKind::unmap}};
}

// The TLBIs append_invalidate_range writes (no barriers).
std::vector<Step> loop_steps(const FreeBsdPolicy& policy, VirtAddr va, std::uint64_t pages,
                             const arch::CpuFeatures& f, const AddressSpace& space = user()) {
  Plan plan;
  EXPECT_TRUE(policy.append_invalidate_range(va, pages, true, space, f, plan).ok());
  return steps_of(plan);
}

const Step kS = st(Instr::dsb_ishst);
const Step kDsb = st(Instr::dsb_ish);
const Step kIsb = st(Instr::isb);

// ---- registry ----------------------------------------------------------------

TEST(FreeBsdRegistry, TwoVersionsTheOldNameSelectsTheCurrentOne) {
  const PolicyEntry* a = find_policy("freebsd-6631b58");
  const PolicyEntry* b = find_policy("freebsd-7dc22c8");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(find_policy("freebsd"), b);
  EXPECT_EQ(a->system, "FreeBSD arm64 pmap");
  EXPECT_NE(a->repository.find("freebsd/freebsd-src@6631b589423407c3f05bfebc62ae230ae496e061"),
            std::string_view::npos);
  EXPECT_NE(b->repository.find("JamesKane/freebsd-src@7dc22c8866a5c23bd83e3c7c53e32ddb441093a1"),
            std::string_view::npos);
  // No in-tree EL2 handler at A: it does not manage a VM's stage 2.
  EXPECT_FALSE(covers(a->manages, Manages::vm_stage2));
  EXPECT_TRUE(covers(a->manages, Manages::process_stage1 | Manages::kernel_stage1));
  EXPECT_TRUE(covers(b->manages, Manages::all));
  // Neither version's modelled paths has a known bug the note establishes.
  EXPECT_EQ(a->contract, Contract::correct);
  EXPECT_EQ(b->contract, Contract::correct);
}

// ---- vector 1: one page ----------------------------------------------------------

// A: pmap_remove_l3_range @c98542 -> pmap_invalidate_range -> pmap_s1_invalidate_range
// (window @c[44000,60000)); B: strided path B:L2229-2255, one page takes no
// range op (pages 1 < TLBI_RANGE_UNIT 2, B:L2195-2197).
TEST(FreeBsdVector1, OnePageIsOneFinalTlbi) {
  // VALE1IS 0x0005'0000'0000'0000 | 0x400.
  const Case c = unmap({leaf3(kV, 1)});
  for (const FreeBsdPolicy* p : {&kA, &kB}) {
    EXPECT_STEPS(*p, c, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb);
    Case r = c;
    r.features = kRangeTtl;
    EXPECT_STEPS(*p, r, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb);
  }
}

// ---- vector 2: a run -------------------------------------------------------------

// A: per-page loop, TLBI_VA_L3_INCR = 1 (window @c[44000,60000)); B-range:
// scale = min((fls(3) - 2) / 5, 3) = 0, units = min(3 >> 1, 32) = 1
// (B:L508-509, B:L2194-2221), then one page by VA.
TEST(FreeBsdVector2, ThreeContiguousPages) {
  const Case c = unmap({leaf3(kV, 3)});
  // A and B without FEAT_TLBIRANGE: VALE1IS 0x400, 0x401, 0x402.
  EXPECT_STEPS(kA, c, kS, st(Instr::vale1is, kAsid5 | 0x400, 3, 1), kDsb, kIsb);
  EXPECT_STEPS(kB, c, kS, st(Instr::vale1is, kAsid5 | 0x400, 3, 1), kDsb, kIsb);
  Case r = c;
  r.features = kRangeTtl;
  // A ignores FEAT_TLBIRANGE (it has no range code).
  EXPECT_STEPS(kA, r, kS, st(Instr::vale1is, kAsid5 | 0x400, 3, 1), kDsb, kIsb);
  // B: RVALE1IS R{0,0,V} = ASID 5 | TG 0x4000'0000'0000 | 0x400 = 0x0005'4000'0000'0400,
  // then VALE1IS at V + 2P: 0x0005'0000'0000'0402.
  EXPECT_STEPS(kB, r, kS, st(Instr::rvale1is, kAsid5 | kTg4K | 0x400), st(Instr::vale1is, kAsid5 | 0x402), kDsb,
               kIsb);
}

// ---- vector 3: a gap ---------------------------------------------------------------

// pmap_remove_l3_range (A @c98542; B window @c[118000,134000)): an invalid
// entry ends the run; the run is flushed there, the next at the loop's end.
TEST(FreeBsdVector3, AGapSplitsTheRunIntoTwoCalls) {
  const Case c = unmap({leaf3(kV, 2), leaf3(kV + 3 * kPage, 1)});
  // A: S; VALE1IS 0x400, 0x401; E; S; VALE1IS 0x403; E.
  EXPECT_STEPS(kA, c, kS, st(Instr::vale1is, kAsid5 | 0x400, 2, 1), kDsb, kIsb, kS,
               st(Instr::vale1is, kAsid5 | 0x403), kDsb, kIsb);
  Case r = c;
  r.features = kRangeTtl;
  // B: the two pages are R{0,0,V} (0x0005'4000'0000'0400); the lone page by VA.
  EXPECT_STEPS(kB, r, kS, st(Instr::rvale1is, kAsid5 | kTg4K | 0x400), kDsb, kIsb, kS,
               st(Instr::vale1is, kAsid5 | 0x403), kDsb, kIsb);
}

// ---- vector 4: a run across a 2 MiB boundary -----------------------------------------

// pmap_remove (B: pmap_remove1) calls pmap_remove_l3_range once per L2
// region, va_next clamped to the next L2 boundary (A @c98542; B window
// @c[118000,134000)).
TEST(FreeBsdVector4, ARunAcross2MiBIsTwoCalls) {
  // Pages V+510P .. V+513P: (V >> 12) + 510 = 0x5FE; V + 512P = 0x600.
  const Case c = unmap({leaf3(kV + 510 * kPage, 4)});
  EXPECT_STEPS(kA, c, kS, st(Instr::vale1is, kAsid5 | 0x5FE, 2, 1), kDsb, kIsb, kS,
               st(Instr::vale1is, kAsid5 | 0x600, 2, 1), kDsb, kIsb);
  Case r = c;
  r.features = kRangeTtl;
  // B: two pages each side: R{0,0,V+510P} = 0x0005'4000'0000'05FE, R{0,0,V+512P} = 0x0005'4000'0000'0600.
  EXPECT_STEPS(kB, r, kS, st(Instr::rvale1is, kAsid5 | kTg4K | 0x5FE), kDsb, kIsb, kS,
               st(Instr::rvale1is, kAsid5 | kTg4K | 0x600), kDsb, kIsb);
}

// ---- vector 5: an L2 block ---------------------------------------------------------

// pmap_remove_l2 (A window @c[94000,110000); B window @c[118000,134000)):
// pmap_load_clear, then pmap_s1_invalidate_page(sva, true): one VALE1IS at
// the block's base; then pmap_unuse_pt: a freed L2 table page gets
// pmap_invalidate_page(va, false) (_pmap_unwire_l3).
TEST(FreeBsdVector5, A2MiBBlockIsOneOpAtItsBaseThenItsFreedTable) {
  const Case c = unmap({block2(kV)}, user(), kRangeTtl);
  for (const FreeBsdPolicy* p : {&kA, &kB}) {
    EXPECT_STEPS(*p, c, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb);
  }
  // The L2 table page (a level-1 table entry, 1 GiB from 0) emptied by it:
  // VAE1IS at the address removed, V: 0x0005'0000'0000'0400, after the block's op.
  const Case freed =
      unmap({PendingRange{0, 0x4000'0000, 1, EntryKind::table, Beneath::reported}, block2(kV)}, user(), kRangeTtl);
  for (const FreeBsdPolicy* p : {&kA, &kB}) {
    EXPECT_STEPS(*p, freed, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb, kS, st(Instr::vae1is, kAsid5 | 0x400),
                 kDsb, kIsb);
  }
}

// pmap_remove_l3_range -> pmap_unuse_pt -> _pmap_unwire_l3 (A @c98542 path):
// the L3 table page emptied by the last entry cleared is invalidated at
// that entry's address, non-final, before the run is flushed (the loop
// breaks, then [va, sva) is flushed).
TEST(FreeBsdVector5, AFreedL3TableIsInvalidatedBeforeTheRunThatEmptiedIt) {
  // Pages V, V+P (run 1), gap, V+3P .. V+4P (run 2, emptying the table).
  // Table op: VAE1IS at V+4P = 0x0005'0000'0000'0404.
  const Case c = unmap({table2(kV, Beneath::reported), leaf3(kV, 2), leaf3(kV + 3 * kPage, 2)});
  EXPECT_STEPS(kA, c, kS, st(Instr::vale1is, kAsid5 | 0x400, 2, 1), kDsb, kIsb, kS, st(Instr::vae1is, kAsid5 | 0x404),
               kDsb, kIsb, kS, st(Instr::vale1is, kAsid5 | 0x403, 2, 1), kDsb, kIsb);
}

// ---- vector 6: protect ---------------------------------------------------------------

// pmap_protect -> pmap_mask_set_locked (A window @c[110000,126000); B window
// @c[134000,150000)): per run of changed entries one
// pmap_s1_invalidate_range(va, sva, true).
TEST(FreeBsdVector6, ProtectOfThreePagesIsVector2) {
  Case c = unmap({leaf3(kV, 3)});
  c.call.kind = CallKind::protect;
  EXPECT_STEPS(kA, c, kS, st(Instr::vale1is, kAsid5 | 0x400, 3, 1), kDsb, kIsb);
  c.features = kRangeTtl;
  EXPECT_STEPS(kB, c, kS, st(Instr::rvale1is, kAsid5 | kTg4K | 0x400), st(Instr::vale1is, kAsid5 | 0x402), kDsb,
               kIsb);
  // pmap_protect_l2 of a whole block: one VALE1IS at its base.
  Case block{{block2(kV)}, user(), kRangeTtl, CallSpan{CallKind::protect}};
  EXPECT_STEPS(kA, block, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb);
  EXPECT_STEPS(kB, block, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb);
}

// ---- vector 7: demote (break-before-make) ----------------------------------------------

// A: pmap_demote_l2_locked (window @c[192000,208000)) calls pmap_update_entry
// (window @c[110000,126000)) with size PAGE_SIZE, final_only false: one
// VAE1IS on the block. B: not re-read by the note; its BBM comment says
// demotion passes final_only: modelled VALE1IS [unverified].
TEST(FreeBsdVector7, DemoteIsOneOpOnTheBlock) {
  // Gather::invalidate_now names no call: the model takes the block as a demotion.
  const Case c{{block2(kV)}, user(), kRangeTtl, CallSpan{CallKind::unknown}};
  EXPECT_STEPS(kA, c, kS, st(Instr::vae1is, kAsid5 | 0x400), kDsb, kIsb);
  EXPECT_STEPS(kB, c, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb);
}

// ---- vector 8: promote -------------------------------------------------------------------

// A: pmap_promote_l2 (window @c[110000,126000)) -> pmap_update_entry with
// L2_SIZE, non-final: 512 VAE1IS. B (window @c[150000,166000)): the same
// through pmap_s1_invalidate_strided: fls(512) = 10, scale (10 - 2) / 5 = 1,
// units min(512 >> 6, 32) = 8: one RVAE1IS R{1,7,V}.
TEST(FreeBsdVector8, PromoteInvalidatesThe2MiBNonFinal) {
  // The L3 table replaced by the block: a table entry that went whole.
  const Case c{{table2(kV, Beneath::unseen)}, user(), kTtl, CallSpan{CallKind::unknown}};
  EXPECT_STEPS(kA, c, kS, st(Instr::vae1is, kAsid5 | 0x400, 512, 1), kDsb, kIsb);
  EXPECT_STEPS(kB, c, kS, st(Instr::vae1is, kAsid5 | 0x400, 512, 1), kDsb, kIsb);
  Case r = c;
  r.features = kRangeTtl;
  EXPECT_STEPS(kA, r, kS, st(Instr::vae1is, kAsid5 | 0x400, 512, 1), kDsb, kIsb);
  // RVAE1IS: 0x0005'0000'0000'0000 | TG 0x4000'0000'0000 | SCALE1 0x1000'0000'0000 | NUM7 0x380'0000'0000 | 0x400
  //   = 0x0005'5380'0000'0400.
  EXPECT_STEPS(kB, r, kS, st(Instr::rvae1is, 0x0005'5380'0000'0400), kDsb, kIsb);
}

// ---- vector 9: teardown ------------------------------------------------------------------

// pmap_remove_pages (A window @c[158000,174000)): no per-page TLBI, then
// pmap_invalidate_all (A @c49829; B:L2305-2324): S; ASIDE1IS (ASID << 48); E.
// The per-freed-table VAE1IS before it is left out (the teardown batch lists
// no tables). B: assumed the same [the note did not re-read it].
TEST(FreeBsdVector9, TeardownIsOneAside1is) {
  Case c = unmap({}, user(), kRangeTtl);
  c.coverage = Coverage::everything;
  for (const FreeBsdPolicy* p : {&kA, &kB}) {
    EXPECT_STEPS(*p, c, kS, st(Instr::aside1is, kAsid5), kDsb, kIsb);
  }
  // Kernel pmap: VMALLE1IS.
  c.space = kernel();
  EXPECT_STEPS(kB, c, kS, st(Instr::vmalle1is), kDsb, kIsb);
}

// ---- vector 10: pmap_kremove -------------------------------------------------------------

// pmap_kremove (B:L2604-2720; A window @c[44000,60000)): kernel pmap, one
// VAALE1IS (no ASID) via pmap_s1_invalidate_page.
TEST(FreeBsdVector10, KremoveIsOneVaale1is) {
  const Case c = unmap({leaf3(kK, 1)}, kernel(), kRangeTtl);
  for (const FreeBsdPolicy* p : {&kA, &kB}) EXPECT_STEPS(*p, c, kS, st(Instr::vaale1is, 0x40000), kDsb, kIsb);
}

// ---- vector 11: pmap_qenter over valid slots ----------------------------------------------

// pmap_qenter (B:L2688-2696): pmap_s1_invalidate_range(kernel, sva, va,
// true) when an old entry was valid. A: VAALE1IS per page. B-range: fls(4) = 3,
// scale 0, units min(4 >> 1, 32) = 2: R{0,1,K}, no ASID.
TEST(FreeBsdVector11, QenterOfFourPages) {
  const Case c = unmap({leaf3(kK, 4)}, kernel(), kRangeTtl);
  EXPECT_STEPS(kA, c, kS, st(Instr::vaale1is, 0x40000, 4, 1), kDsb, kIsb);
  // RVAALE1IS: TG 0x4000'0000'0000 | NUM1 0x80'0000'0000 | 0x40000 = 0x0000'4080'0004'0000.
  EXPECT_STEPS(kB, c, kS, st(Instr::rvaale1is, 0x0000'4080'0004'0000), kDsb, kIsb);
}

// ---- vector 12: stage 2 ----------------------------------------------------------------------

// pmap_s2_invalidate_range (B:L2269-2275) -> pmap_stage2_invalidate_range ->
// HYP_S2_TLBI_RANGE -> s2_tlbi_range (B-hyp @c[16000,19821)): VTTBR swapped
// in (not a plan op), IPAS2LE1IS per 4 KiB page, no range ops even with
// FEAT_TLBIRANGE, DSB ISH; VMALLE1IS; DSB ISH; ISB. The DSB ISHST first is
// the model's (VHE only in the source; the HVC path was not read).
TEST(FreeBsdVector12, Stage2RemoveOfThreePages) {
  // IPAS2LE1IS I >> 12 = 0x80000, 0x80001, 0x80002.
  const Case c = unmap({leaf3(kIpa, 3)}, guest(), kRangeTtl);
  for (const FreeBsdPolicy* p : {&kA, &kB}) {
    EXPECT_STEPS(*p, c, kS, st(Instr::ipas2le1is, 0x80000, 3, 1), kDsb, st(Instr::vmalle1is), kDsb, kIsb);
  }
}

// ---- vector 13: stage-2 teardown -----------------------------------------------------------

// pmap_s2_invalidate_all (B:L2331) -> s2_tlbi_all (B-hyp): VMALLS12E1IS; DSB ISH; ISB.
TEST(FreeBsdVector13, Stage2TeardownIsVmalls12e1is) {
  Case c = unmap({}, guest(), kRangeTtl);
  c.coverage = Coverage::everything;
  for (const FreeBsdPolicy* p : {&kA, &kB}) EXPECT_STEPS(*p, c, kS, st(Instr::vmalls12e1is), kDsb, kIsb);
}

// ---- vector 14: stage-2 enter replacing a page ---------------------------------------------

// pmap_enter (A window @c[126000,142000); B window @c[166000,182000)):
// different PA, old AF set: pmap_invalidate_page(va, true), dispatched to
// HYP_S2_TLBI_RANGE(I, I + P). FreeBSD cleans the NEW page (cpu_dcache_wb_range)
// before the store: not expressible; the model's tail cleans pending.clean
// (the old page, DC CIVAC per 64-byte line from PA + offset) after the TLBIs.
TEST(FreeBsdVector14, Stage2ReplaceIsOnePageThenTheCleanTail) {
  Case c{{leaf3(kIpa, 1)}, guest(), kRangeTtl, CallSpan{CallKind::unknown}};
  c.space.linear_map_offset = 0xFFFF'0000'0000'0000;
  c.clean = {PhysRange{0x9'0000'0000, kPage}};
  EXPECT_STEPS(kB, c, kS, st(Instr::ipas2le1is, 0x80000), kDsb, st(Instr::vmalle1is), kDsb, kIsb,
               st(Instr::dc_civac, 0xFFFF'0009'0000'0000, 64, 64), kDsb);
}

// ---- threshold probes -------------------------------------------------------------------------

// A (window @c[44000,60000)) and B without FEAT_TLBIRANGE (B:L2214-2220):
// N pages are N TLBIs, no switch to ASIDE1IS at any N.
TEST(FreeBsdThresholds, NoneAtD37254Era) {
  for (const FreeBsdPolicy* p : {&kA, &kB}) {
    EXPECT_STEPS(*p, unmap({leaf3(kV, 511)}), kS, st(Instr::vale1is, kAsid5 | 0x400, 511, 1), kDsb, kIsb);
    EXPECT_STEPS(*p, unmap({leaf3(kV, 512)}), kS, st(Instr::vale1is, kAsid5 | 0x400, 512, 1), kDsb, kIsb);
    // 513 pages span two L2 regions: two calls (0x400.. x512, then 0x600).
    EXPECT_STEPS(*p, unmap({leaf3(kV, 513)}), kS, st(Instr::vale1is, kAsid5 | 0x400, 512, 1), kDsb, kIsb, kS,
                 st(Instr::vale1is, kAsid5 | 0x600), kDsb, kIsb);
  }
  // A ignores FEAT_TLBIRANGE at every break point of B.
  for (const std::uint64_t n : {1u, 2u, 3u, 63u, 64u, 65u, 2047u, 2048u, 2049u, 65535u, 65536u, 65537u}) {
    EXPECT_EQ(loop_steps(kA, kV, n, kRangeTtl), (std::vector<Step>{st(Instr::vale1is, kAsid5 | 0x400, 
                                                                   static_cast<std::uint32_t>(n), n > 1 ? 1 : 0)}))
        << n;
  }
}

// B: pmap_s1_invalidate_loop (B:L2194-2221), scale = min((fls(pages) - 2) / 5, 3)
// (B:L508-509), units = min(pages >> (5 * scale + 1), 32); range ops only
// with FEAT_TLBIRANGE (CPU_FEAT feat_tlbi_range, B:L1928-1959).
TEST(FreeBsdThresholds, RangeBreakPointsAtCurrent) {
  const std::uint64_t r0 = kAsid5 | kTg4K;                      // SCALE 0
  const std::uint64_t r1 = kAsid5 | kTg4K | 0x1000'0000'0000;  // SCALE 1
  const std::uint64_t r2 = kAsid5 | kTg4K | 0x2000'0000'0000;  // SCALE 2
  const std::uint64_t r3 = kAsid5 | kTg4K | 0x3000'0000'0000;  // SCALE 3
  const std::uint64_t num30 = 0xF00'0000'0000;
  const auto va = [](std::uint64_t pages) { return kAsid5 | (0x400 + pages); };
  // 1: by VA. 2: R{0,0}. 3: R{0,0} + VALE1IS at V+2P (0x402).
  EXPECT_EQ(loop_steps(kB, kV, 1, kRangeTtl), (std::vector<Step>{st(Instr::vale1is, va(0))}));
  EXPECT_EQ(loop_steps(kB, kV, 2, kRangeTtl), (std::vector<Step>{st(Instr::rvale1is, r0 | 0x400)}));
  EXPECT_EQ(loop_steps(kB, kV, 3, kRangeTtl),
            (std::vector<Step>{st(Instr::rvale1is, r0 | 0x400), st(Instr::vale1is, va(2))}));
  // 63: fls 6, scale 0, units 31 (NUM 30, 62 pages) + VALE1IS at 0x43E. 64: fls 7, scale 1,
  // units 1: R{1,0}. 65: R{1,0} + VALE1IS at 0x440.
  EXPECT_EQ(loop_steps(kB, kV, 63, kRangeTtl),
            (std::vector<Step>{st(Instr::rvale1is, r0 | num30 | 0x400), st(Instr::vale1is, va(62))}));
  EXPECT_EQ(loop_steps(kB, kV, 64, kRangeTtl), (std::vector<Step>{st(Instr::rvale1is, r1 | 0x400)}));
  EXPECT_EQ(loop_steps(kB, kV, 65, kRangeTtl),
            (std::vector<Step>{st(Instr::rvale1is, r1 | 0x400), st(Instr::vale1is, va(64))}));
  // 2047: fls 11, scale 1, units 31: R{1,30} (1984 pages, to 0x400 + 0x7C0 = 0xBC0), then 63:
  // R{0,30} at 0xBC0 (62 pages), then VALE1IS at 0xBFE. 2048: fls 12, scale 2, units 1: R{2,0}.
  // 2049: R{2,0} + VALE1IS at 0x400 + 0x800 = 0xC00.
  EXPECT_EQ(loop_steps(kB, kV, 2047, kRangeTtl),
            (std::vector<Step>{st(Instr::rvale1is, r1 | num30 | 0x400), st(Instr::rvale1is, r0 | num30 | 0xBC0),
                               st(Instr::vale1is, va(2046))}));
  EXPECT_EQ(loop_steps(kB, kV, 2048, kRangeTtl), (std::vector<Step>{st(Instr::rvale1is, r2 | 0x400)}));
  EXPECT_EQ(loop_steps(kB, kV, 2049, kRangeTtl),
            (std::vector<Step>{st(Instr::rvale1is, r2 | 0x400), st(Instr::vale1is, va(2048))}));
  // 65535: fls 16, scale 2, units 31 (63488 pages, 0x400 + 0xF800 = 0xFC00), 2047 left as above
  // from 0xFC00: R{1,30}, R{0,30} at 0xFC00 + 0x7C0 = 0x103C0, VALE1IS at 0x103FE.
  // 65536: fls 17, scale 3, units 1: R{3,0}. 65537: R{3,0} + VALE1IS at 0x10400.
  EXPECT_EQ(loop_steps(kB, kV, 65535, kRangeTtl),
            (std::vector<Step>{st(Instr::rvale1is, r2 | num30 | 0x400), st(Instr::rvale1is, r1 | num30 | 0xFC00),
                               st(Instr::rvale1is, r0 | num30 | 0x103C0), st(Instr::vale1is, kAsid5 | 0x103FE)}));
  EXPECT_EQ(loop_steps(kB, kV, 65536, kRangeTtl), (std::vector<Step>{st(Instr::rvale1is, r3 | 0x400)}));
  EXPECT_EQ(loop_steps(kB, kV, 65537, kRangeTtl),
            (std::vector<Step>{st(Instr::rvale1is, r3 | 0x400), st(Instr::vale1is, kAsid5 | 0x10400)}));
  // Without FEAT_TLBIRANGE: a loop.
  EXPECT_EQ(loop_steps(kB, kV, 2048, kTtl), (std::vector<Step>{st(Instr::vale1is, va(0), 2048, 1)}));
}

// Through pmap_remove a run never passes 512 pages: N-1 / N / N+1 around 2
// and 64 inside one region, and 512 (the most a region holds: R{1,7}).
TEST(FreeBsdThresholds, RunsThroughPmapRemoveAtCurrent) {
  const auto one = [](std::uint64_t pages, std::vector<Step> tlbis) {
    std::vector<Step> want{kS};
    want.insert(want.end(), tlbis.begin(), tlbis.end());
    want.push_back(kDsb);
    want.push_back(kIsb);
    EXPECT_EQ(steps_of(plan_for(kB, unmap({leaf3(kV, pages)}, user(), kRangeTtl))), want) << pages;
  };
  const std::uint64_t r0 = kAsid5 | kTg4K;
  const std::uint64_t r1 = kAsid5 | kTg4K | 0x1000'0000'0000;
  one(1, {st(Instr::vale1is, kAsid5 | 0x400)});
  one(2, {st(Instr::rvale1is, r0 | 0x400)});
  one(3, {st(Instr::rvale1is, r0 | 0x400), st(Instr::vale1is, kAsid5 | 0x402)});
  one(63, {st(Instr::rvale1is, r0 | 0xF00'0000'0000 | 0x400), st(Instr::vale1is, kAsid5 | 0x43E)});
  one(64, {st(Instr::rvale1is, r1 | 0x400)});
  one(65, {st(Instr::rvale1is, r1 | 0x400), st(Instr::vale1is, kAsid5 | 0x440)});
  one(512, {st(Instr::rvale1is, r1 | 0x380'0000'0000 | 0x400)});
}

// ---- what the plan holds ------------------------------------------------------------------------

// A munmap of 1 GiB of pages is 512 calls, one per L2 region, each
// S; VALE1IS x512; E: held as one group of 4 steps run 512 times, operands
// 0x200 (2 MiB >> 12) further each time. The ops are exactly FreeBSD's.
TEST(FreeBsdPlan, EqualRegionsFoldIntoOneGroup) {
  const Plan plan = plan_for(kA, unmap({leaf3(0x4000'0000, 512 * 512)}));
  EXPECT_EQ(steps_of(plan), (std::vector<Step>{kS, st(Instr::vale1is, kAsid5 | 0x40000, 512, 1), kDsb, kIsb}));
  ASSERT_EQ(plan.groups().size(), 1u);
  EXPECT_EQ(plan.groups()[0], (StepGroup{0, 4, 512, 0x200}));
  EXPECT_EQ(plan.size(), 512u * (512 + 3));
}

// More separate runs than 64 steps hold: every run's TLBIs under one
// barrier pair (the first fallback), exact per-page ops kept.
TEST(FreeBsdPlan, TooManyCallsShareOneBarrierPair) {
  Case c = unmap({});
  for (std::uint64_t i = 0; i < 20; ++i) c.ranges.push_back(leaf3(kV + i * 2 * kPage, 1));
  const std::vector<Step> got = steps_of(plan_for(kA, c));
  ASSERT_EQ(got.size(), 23u);
  EXPECT_EQ(got.front(), kS);
  EXPECT_EQ(got[1], st(Instr::vale1is, kAsid5 | 0x400));
  EXPECT_EQ(got[20], st(Instr::vale1is, kAsid5 | (0x400 + 38)));
  EXPECT_EQ(got[21], kDsb);
  EXPECT_EQ(got[22], kIsb);
}

// Many ranges in many regions, stage 1 and 2, user and kernel, with and
// without range ops: every plan fits and passes the coverage oracle.
TEST(FreeBsdPlan, ManyRangesFallBackInsteadOfOverflowing) {
  std::vector<PendingRange> ranges;
  std::vector<PendingRange> ipas;
  for (std::uint64_t i = 0; i < 32; ++i) {
    ranges.push_back(leaf3(0x1000'0000 + i * 0x100'0000, 5));
    ipas.push_back(leaf3(kIpa + i * 0x100'0000, 5));
  }
  for (const FreeBsdPolicy* p : {&kA, &kB}) {
    for (const arch::CpuFeatures& f : {kTtl, kRangeTtl}) {
      plan_for(*p, unmap(ranges, user(), f));
      plan_for(*p, unmap(ranges, kernel(), f));
      plan_for(*p, unmap(ipas, guest(), f));
    }
  }
}

// Exec gained: tlbkit's common tail (FreeBSD syncs by VA before the store,
// which a plan cannot do): IC IALLUIS; DSB ISH; ISB after the TLBIs.
TEST(FreeBsdPlan, ExecGainedEndsWithTheCommonICacheTail) {
  Case c = unmap({leaf3(kV, 1)});
  c.exec = ExecGain::yes;
  EXPECT_STEPS(kA, c, kS, st(Instr::vale1is, kAsid5 | 0x400), kDsb, kIsb, st(Instr::ic_ialluis), kDsb, kIsb);
}

}  // namespace
}  // namespace tlbkit::baselines
