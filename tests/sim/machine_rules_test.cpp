// Every rule of the machine model has teeth: for each named weakening
// (tlbkit/sim/weakening.hpp) a broken maintenance sequence that the real
// machine flags, and that the machine with just that weakening lets through
// without a violation (only_the_rule_catches below). Were a rule weakened
// in the model itself, its test here would fail.
//
// The setting (tests/support/stage1_machine.hpp): two PEs in one EL1&0
// stage-1 address space (39-bit VA, 4 KiB granule: three levels, the root
// at level 1; ASID 5), tables written by pt::Table into the machine's
// memory. PE 1 caches the translation of kVa; PE 0 changes the tables and
// runs the maintenance under test; then PE 1 reads kVa again. kVa = 1 GiB:
// level-1 index 1, level-2 index 0, level-3 index 0, so the walk entries
// for it (level 1 and 2) and its page all start at kVa.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "support/stage1_machine.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/weakening.hpp"

namespace tlbkit::sim {
namespace {

using arch::Instr;
using namespace test;  // the rig, kVa, kData, kAsid, op() and the violation checks

arch::Op vae1is(std::uint16_t asid, arch::Ttl ttl = arch::kNoTtl) {
  return *arch::encode_va(Instr::vae1is, arch::Asid{asid}, kVa, ttl);
}

// One leaf-only TLBI (`instr`: VALE1IS or VAALE1IS) at the start of each
// pending range, between DSB ISHST and DSB ISH: right for one page, wrong
// for a table entry that was removed and its table freed (known bug 7 in docs/KNOWN-BUGS.md).
class LeafOnlyPolicy final : public maint::Policy {
 public:
  explicit LeafOnlyPolicy(Instr instr) : instr_(instr) {}
  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures&,
              Plan& plan) const override {
    Status s = plan.append(op(Instr::dsb_ishst));
    for (const maint::PendingRange& r : pending.ranges) {
      if (!s.ok()) break;
      s = plan.append(instr_ == Instr::vaale1is ? arch::encode_va_all_asid(instr_, r.va, arch::kNoTtl)
                                                : arch::encode_va(instr_, arch::Asid{space.asid}, r.va, arch::kNoTtl));
    }
    if (s.ok()) s = plan.append(op(Instr::dsb_ish));
    return s;
  }

 private:
  Instr instr_;
};

// ---- The real machine against the weakened one ---------------------------------------

// A broken sequence, run on a fresh rig.
using Scenario = std::function<void(Stage1Machine&)>;
// What the real machine must have flagged after it.
using RealCheck = std::function<void(const Machine&)>;

// The real machine's first violation is a stale translation on PE 1 of kVa
// by a cached translation to kData, which the tables no longer map.
void pe1_reads_kva_stale(const Machine& real) { EXPECT_TRUE(first_violation_is_stale(real, 1, kVa, kData)); }

// The rule that `weakening` switches off has teeth: `scenario`, run on the
// real machine, leaves what `on_real` checks; run on the machine with just
// `weakening`, it leaves no violation, and PE 1's next read of kVa takes a
// translation fault (that machine did remove PE 1's entry). On both, PE 0
// and PE 1 run VMIDs `vmids`.
void only_the_rule_catches(Weakening weakening, const Scenario& scenario,
                           const RealCheck& on_real = pe1_reads_kva_stale, std::array<std::uint16_t, 2> vmids = {}) {
  {
    SCOPED_TRACE("the real machine");
    Stage1Machine real({.vmids = vmids});
    scenario(real);
    on_real(real.machine);
  }
  SCOPED_TRACE("the machine with just the weakening");
  Stage1Machine weak({.options = {.weakenings = {weakening}}, .vmids = vmids});
  scenario(weak);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

// ---- Sequences -----------------------------------------------------------------------

// Maps two pages at kVa with `scope` (the second keeps the level-3 table
// alive), each of `caching` caches kVa, and PE 0 begins the operation
// `what` and unmaps the first page in it with no maintenance of its own:
// the caller issues the maintenance by hand and ends the operation.
void begin_unmap_by_hand(Stage1Machine& r, const char* what, std::initializer_list<unsigned> caching = {1},
                         arch::s1::Scope scope = arch::s1::Scope::non_global) {
  r.map(2, scope);
  for (const unsigned pe : caching) ASSERT_EQ(r.read(pe).served_by, ServedBy::walk);
  r.machine.begin_operation(0, what);
  r.unmap_in_operation(kVa, kPage, r.forgetful);
}

struct Step {
  unsigned pe;
  arch::Op op;
};

// PE 1 caches kVa, PE 0 unmaps it with no maintenance of its own and then
// `steps` run, in order, inside the operation; after it PE 1 reads kVa.
Scenario unmap_then(std::vector<Step> steps, arch::s1::Scope scope = arch::s1::Scope::non_global) {
  return [steps = std::move(steps), scope](Stage1Machine& r) {
    begin_unmap_by_hand(r, "unmap, maintenance by hand", {1}, scope);
    for (const Step& s : steps) r.issue(s.pe, s.op);
    r.machine.end_operation();
    (void)r.read(1);
  };
}

// Maps the one page at kVa, PE 1 caches it (and the walk entries of its
// level-1 and level-2 table descriptors), PE 0 unmaps it with the
// leaf-only `instr`: the emptied level-3 table goes back to the memory
// after the plan ran. `level3` is set to that table's page (from the
// level-2 descriptor of kVa).
Scenario unmap_last_page_leaf_only(Instr instr, PhysAddr& level3) {
  return [instr, &level3](Stage1Machine& r) {
    r.map(1);
    ASSERT_EQ(r.read(1).served_by, ServedBy::walk);
    const arch::Geometry g = geometry39();
    const PhysAddr level2 = arch::output_address(r.memory.peek(r.table.root())[g.index(kVa, 1)]);
    level3 = arch::output_address(r.memory.peek(level2)[g.index(kVa, 2)]);
    const std::uint64_t frees = r.memory.counters().frees;
    const LeafOnlyPolicy leaf_only(instr);
    r.machine.begin_operation(0, "unmap, leaf-only TLBI");
    r.unmap_in_operation(kVa, kPage, leaf_only);
    r.machine.end_operation();
    ASSERT_GT(r.memory.counters().frees, frees) << "the unmap freed no table";
  };
}

// After unmap_last_page_leaf_only(instr, level3) on the real machine: the
// first violation is a use-after-free on PE 1 of the table page `level3`,
// through a walk-cache entry for kVa that points at it; and PE 1 still
// holds entries, all of them walk-cache entries (`instr` removed the leaf).
RealCheck pe1_walks_into_the_freed_table(Instr instr, const PhysAddr& level3) {
  return [instr, &level3](const Machine& real) {
    EXPECT_TRUE(first_violation_is_use_after_free(real, 1, kVa, level3, CachedKind::walk));
    const std::vector<TlbEntry> left = real.entries(1);
    EXPECT_FALSE(left.empty()) << arch::mnemonic(instr) << " removed the walk entries too";
    for (const TlbEntry& e : left) {
      EXPECT_EQ(e.kind, CachedKind::walk) << arch::mnemonic(instr) << " did not remove the leaf";
    }
  };
}

// ---- 1-4: completion of TLBIs --------------------------------------------------------

TEST(MachineRules, DsbIshstDoesNotCompleteATlbi) {
  only_the_rule_catches(Weakening::dsb_ishst_completes_tlbis,
                        unmap_then({{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}, {0, op(Instr::dsb_ishst)}}));
}

TEST(MachineRules, DsbNshDoesNotCompleteABroadcastTlbi) {
  only_the_rule_catches(Weakening::dsb_nsh_completes_broadcast_tlbis,
                        unmap_then({{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}, {0, op(Instr::dsb_nsh)}}));
}

TEST(MachineRules, ATlbiWithoutADsbOfItsIssuerRemovesNothing) {
  only_the_rule_catches(Weakening::tlbi_takes_effect_at_issue,
                        unmap_then({{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}}));
}

// Both PEs cache kVa; PE 0's local VAE1 removes only its own entry.
void unmap_with_a_local_tlbi(Stage1Machine& r) {
  begin_unmap_by_hand(r, "unmap, local TLBI", {0, 1});
  r.issue(0, op(Instr::dsb_ishst));
  r.issue(0, *arch::encode_va(Instr::vae1, arch::Asid{kAsid}, kVa, arch::kNoTtl));
  r.issue(0, op(Instr::dsb_ish));
  r.machine.end_operation();
  EXPECT_EQ(r.read(0).outcome, AccessOutcome::translation_fault);
  (void)r.read(1);
}

TEST(MachineRules, ALocalTlbiActsOnlyOnTheIssuingPe) {
  only_the_rule_catches(Weakening::local_tlbi_acts_on_every_pe, unmap_with_a_local_tlbi, [](const Machine& real) {
    pe1_reads_kva_stale(real);
    EXPECT_EQ(real.violations().size(), 1u) << "PE 0, the issuer, is clean:" << list(real);
  });
}

// ---- 5-9: TLBI matching --------------------------------------------------------------

TEST(MachineRules, ALeafOnlyTlbiSparesTheWalkCache) {
  PhysAddr level3 = 0;
  only_the_rule_catches(Weakening::leaf_only_tlbi_drops_walk_entries,
                        unmap_last_page_leaf_only(Instr::vale1is, level3),
                        pe1_walks_into_the_freed_table(Instr::vale1is, level3));
}

TEST(MachineRules, ATtlHintOfAnotherLevelSparesTheEntry) {
  // The page's leaf is at level 3; the hint says level 2.
  only_the_rule_catches(Weakening::ttl_hint_ignored,
                        unmap_then({{0, op(Instr::dsb_ishst)},
                                    {0, vae1is(kAsid, arch::TtlHint{arch::Granule::k4K, 2})},
                                    {0, op(Instr::dsb_ish)}}));
}

TEST(MachineRules, ATlbiOfAnotherAsidSparesTheEntry) {
  only_the_rule_catches(Weakening::asid_ignored,
                        unmap_then({{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid + 1)}, {0, op(Instr::dsb_ish)}}));
}

TEST(MachineRules, ATlbiActsOnlyOnTheVmidItsIssuerHasLoaded) {
  // PE 0 runs VMID 2, PE 1 caches kVa under VMID 1.
  only_the_rule_catches(Weakening::vmid_ignored,
                        unmap_then({{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}, {0, op(Instr::dsb_ish)}}),
                        pe1_reads_kva_stale, {2, 1});
}

TEST(MachineRules, AnAsidTlbiSparesGlobalEntries) {
  only_the_rule_catches(
      Weakening::global_entries_match_asid_ops,
      unmap_then({{0, op(Instr::dsb_ishst)},
                  {0, *arch::encode_asid(Instr::aside1is, arch::Asid{kAsid})},
                  {0, op(Instr::dsb_ish)}},
                 arch::s1::Scope::global),
      [](const Machine& real) {
        pe1_reads_kva_stale(real);
        ASSERT_FALSE(real.violations().empty());
        ASSERT_TRUE(real.violations().front().stale.has_value());
        EXPECT_TRUE(real.violations().front().stale->global);
      });
}

// ---- 10-11: walks --------------------------------------------------------------------

// Known bug 13: PE 0 unmaps kVa and issues TLBI VAE1IS with no DSB ISHST
// before it; PE 1 loses its entry (its own local TLBI, as eviction would)
// and walks again before PE 0's DSB, reading the old descriptor.
void unmap_racing_a_refill(Stage1Machine& r) {
  begin_unmap_by_hand(r, "unmap, no DSB ISHST");
  r.issue(0, vae1is(kAsid));
  r.issue(1, *arch::encode_va(Instr::vae1, arch::Asid{kAsid}, kVa, arch::kNoTtl));
  r.issue(1, op(Instr::dsb_nsh));
  (void)r.read(1);
  r.issue(0, op(Instr::dsb_ish));
  r.machine.end_operation();
  (void)r.read(1);
}

TEST(MachineRules, TableWritesStayInvisibleToOtherPesUntilTheWritersDsb) {
  only_the_rule_catches(Weakening::table_writes_visible_before_dsb, unmap_racing_a_refill);
}

TEST(MachineRules, AWalkCachesTheTableDescriptorsItReads) {
  PhysAddr level3 = 0;
  only_the_rule_catches(Weakening::walk_entries_never_cached, unmap_last_page_leaf_only(Instr::vaale1is, level3),
                        pe1_walks_into_the_freed_table(Instr::vaale1is, level3));
}

// ---- The weakenings themselves -------------------------------------------------------

TEST(MachineRules, TheDefaultMachineWeakensNothing) {
  EXPECT_TRUE(MachineOptions{}.weakenings.none());
  const Weakenings one{Weakening::ttl_hint_ignored};
  EXPECT_TRUE(one.has(Weakening::ttl_hint_ignored));
  EXPECT_FALSE(one.has(Weakening::asid_ignored));
  EXPECT_FALSE(one.none());
}

}  // namespace
}  // namespace tlbkit::sim
