// Every rule of the machine model has teeth: for each named weakening
// (tlbkit/sim/weakening.hpp) a broken maintenance sequence that the real
// machine flags, and that the machine with just that weakening lets through
// without a violation. Were a rule weakened in the model itself, its test
// here would fail.
//
// The setting: two PEs in one EL1&0 stage-1 address space (39-bit VA, 4 KiB
// granule: three levels, the root at level 1; ASID 5), tables written by
// pt::Table into the machine's memory. PE 1 caches the translation of kVa;
// PE 0 changes the tables and runs the maintenance under test; then PE 1
// reads kVa again. kVa = 1 GiB: level-1 index 1, level-2 index 0, level-3
// index 0, so the walk entries for it (level 1 and 2) and its page all
// start at kVa.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "support/forgetful_policy.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/weakening.hpp"

namespace tlbkit::sim {
namespace {

using arch::Instr;

constexpr std::uint64_t kPage = 0x1000;
constexpr VirtAddr kVa = 0x4000'0000;
constexpr PhysAddr kData = 0x40'0000'0000;
constexpr std::uint16_t kAsid = 5;

// The real machine: no rule weakened.
const Weakenings kReal{};

arch::Op op(Instr i) { return *arch::make_op(i); }

arch::Op vae1is(std::uint16_t asid, arch::Ttl ttl = arch::kNoTtl) {
  return *arch::encode_va(Instr::vae1is, arch::Asid{asid}, kVa, ttl);
}

arch::Geometry geometry39() { return *arch::Geometry::stage1(arch::Granule::k4K, 39); }

arch::s1::Attributes attributes(arch::s1::Scope scope) {
  arch::s1::Attributes a;
  a.scope = scope;  // EL1 read/write
  return a;
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

// A two-PE machine with `weakenings`; both PEs in the address space, PE 0
// with VMID `pe0_vmid`, PE 1 with VMID `pe1_vmid`.
struct Rig {
  explicit Rig(Weakenings weakenings, std::uint16_t pe0_vmid = 0, std::uint16_t pe1_vmid = 0)
      : machine(memory, *find_profile("mobile-8"), options(weakenings)) {
    enter(0, pe0_vmid);
    enter(1, pe1_vmid);
  }

  static MachineOptions options(Weakenings weakenings) {
    MachineOptions o;
    o.pes = 2;
    o.weakenings = weakenings;
    return o;
  }

  void enter(unsigned pe, std::uint16_t vmid) {
    PeContext ctx;
    ctx.asid = kAsid;
    ctx.vmid = vmid;
    ctx.stage1 = geometry39();
    ctx.stage1_root = table.root();
    EXPECT_TRUE(machine.set_context(pe, ctx).ok());
  }

  // Maps `pages` pages at kVa -> kData on PE 0 (a map needs no TLBI).
  void map(std::uint64_t pages, arch::s1::Scope scope = arch::s1::Scope::non_global) {
    machine.begin_operation(0, "map");
    {
      maint::Gather gather(space, features, planner, machine.executor(0), memory, &machine);
      EXPECT_TRUE(table.map(kVa, kData, pages * kPage, attributes(scope), gather).ok());
    }
    machine.end_operation();
  }

  Access read(unsigned pe) {
    const Result<Access> a = machine.access(pe, kVa, AccessKind::read);
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : Access{};
  }

  void issue(unsigned pe, const arch::Op& o) { EXPECT_TRUE(machine.issue(pe, o).ok()); }

  PhysicalMemory memory;
  Machine machine;
  pt::Table table = std::move(pt::Table::create(arch::Regime::el1_stage1, geometry39(), memory)).value();
  maint::AddressSpace space = [] {
    maint::AddressSpace s;
    s.asid = kAsid;
    return s;
  }();
  arch::CpuFeatures features = [] {
    arch::CpuFeatures f;
    f.processing_elements = 2;
    return f;
  }();
  maint::Planner planner;
  test::ForgetfulPolicy forgetful;
};

// ---- What the machine found ----------------------------------------------------------

std::string list(const Machine& machine) {
  std::string out;
  for (const Violation& v : machine.violations()) {
    out += std::string("\n  ") + violation_kind_name(v.kind) + " (PE " + std::to_string(v.pe) + "): " + v.message;
  }
  return out.empty() ? " none" : out;
}

// The first violation is a stale translation on `pe` of kVa by a cached
// translation to kData, which the tables no longer map.
::testing::AssertionResult first_is_stale_kva(const Machine& machine, unsigned pe) {
  if (machine.violations().empty()) return ::testing::AssertionFailure() << "no violation found";
  const Violation& v = machine.violations().front();
  if (v.kind != ViolationKind::stale_translation || v.pe != pe || v.va != kVa || !v.stale ||
      v.stale->output != kData || v.current) {
    return ::testing::AssertionFailure() << "expected a stale translation of 0x" << std::hex << kVa
                                         << " -> 0x" << kData << " on PE " << std::dec << pe
                                         << "; found:" << list(machine);
  }
  return ::testing::AssertionSuccess();
}

// The first violation is a use-after-free on PE 1 of the table page
// `table`, through a walk-cache entry for kVa that points at it.
::testing::AssertionResult first_is_freed_table_in_walk_cache(const Machine& machine, PhysAddr table) {
  if (machine.violations().empty()) return ::testing::AssertionFailure() << "no violation found";
  const Violation& v = machine.violations().front();
  if (v.kind != ViolationKind::use_after_free || v.pe != 1 || v.va != kVa || !v.stale ||
      v.stale->kind != CachedKind::walk || v.stale->output != table) {
    return ::testing::AssertionFailure() << "expected a use-after-free of table page 0x" << std::hex << table
                                         << " by a walk entry of PE 1 for 0x" << kVa << "; found:"
                                         << list(machine);
  }
  return ::testing::AssertionSuccess();
}

// PE 1 still holds entries, and all of them are walk-cache entries.
bool only_walk_entries_left(const Machine& machine) {
  const std::vector<TlbEntry> left = machine.entries(1);
  for (const TlbEntry& e : left) {
    if (e.kind != CachedKind::walk) return false;
  }
  return !left.empty();
}

::testing::AssertionResult no_violation(const Machine& machine) {
  if (machine.violations().empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "violations:" << list(machine);
}

// ---- Sequences -----------------------------------------------------------------------

struct Step {
  unsigned pe;
  arch::Op op;
};

// Maps two pages at kVa (the second keeps the level-3 table alive), PE 1
// caches kVa, PE 0 unmaps the first page with no maintenance of its own and
// then `steps` run, in order, inside the operation; after it PE 1 reads kVa.
void unmap_then(Rig& r, std::initializer_list<Step> steps, arch::s1::Scope scope = arch::s1::Scope::non_global) {
  r.map(2, scope);
  ASSERT_EQ(r.read(1).served_by, ServedBy::walk);
  r.machine.begin_operation(0, "unmap, maintenance by hand");
  {
    maint::Gather gather(r.space, r.features, r.forgetful, r.machine.executor(0), r.memory, &r.machine);
    ASSERT_TRUE(r.table.unmap(kVa, kPage, gather).ok());
  }
  for (const Step& s : steps) r.issue(s.pe, s.op);
  r.machine.end_operation();
  (void)r.read(1);
}

// Maps the one page at kVa, PE 1 caches it (and the walk entries of its
// level-1 and level-2 table descriptors), PE 0 unmaps it with the
// leaf-only `instr`: the emptied level-3 table goes back to the memory
// after the plan ran. `level3` is that table's page (from the level-2
// descriptor of kVa).
void unmap_last_page_leaf_only(Rig& r, Instr instr, PhysAddr& level3) {
  r.map(1);
  ASSERT_EQ(r.read(1).served_by, ServedBy::walk);
  const arch::Geometry g = geometry39();
  const PhysAddr level2 = arch::output_address(r.memory.peek(r.table.root())[g.index(kVa, 1)]);
  level3 = arch::output_address(r.memory.peek(level2)[g.index(kVa, 2)]);
  const std::uint64_t frees = r.memory.counters().frees;
  const LeafOnlyPolicy leaf_only(instr);
  r.machine.begin_operation(0, "unmap, leaf-only TLBI");
  {
    maint::Gather gather(r.space, r.features, leaf_only, r.machine.executor(0), r.memory, &r.machine);
    ASSERT_TRUE(r.table.unmap(kVa, kPage, gather).ok());
  }
  r.machine.end_operation();
  ASSERT_GT(r.memory.counters().frees, frees) << "the unmap freed no table";
}

// ---- 1-4: completion of TLBIs --------------------------------------------------------

TEST(MachineRules, DsbIshstDoesNotCompleteATlbi) {
  const std::initializer_list<Step> steps{{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}, {0, op(Instr::dsb_ishst)}};
  Rig real(kReal);
  unmap_then(real, steps);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));

  Rig weak({Weakening::dsb_ishst_completes_tlbis});
  unmap_then(weak, steps);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

TEST(MachineRules, DsbNshDoesNotCompleteABroadcastTlbi) {
  const std::initializer_list<Step> steps{{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}, {0, op(Instr::dsb_nsh)}};
  Rig real(kReal);
  unmap_then(real, steps);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));

  Rig weak({Weakening::dsb_nsh_completes_broadcast_tlbis});
  unmap_then(weak, steps);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

TEST(MachineRules, ATlbiWithoutADsbOfItsIssuerRemovesNothing) {
  const std::initializer_list<Step> steps{{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}};
  Rig real(kReal);
  unmap_then(real, steps);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));

  Rig weak({Weakening::tlbi_takes_effect_at_issue});
  unmap_then(weak, steps);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

// Both PEs cache kVa; PE 0's local VAE1 removes only its own entry.
void unmap_with_a_local_tlbi(Rig& r) {
  r.map(2);
  ASSERT_EQ(r.read(0).served_by, ServedBy::walk);
  ASSERT_EQ(r.read(1).served_by, ServedBy::walk);
  r.machine.begin_operation(0, "unmap, local TLBI");
  {
    maint::Gather gather(r.space, r.features, r.forgetful, r.machine.executor(0), r.memory, &r.machine);
    ASSERT_TRUE(r.table.unmap(kVa, kPage, gather).ok());
  }
  r.issue(0, op(Instr::dsb_ishst));
  r.issue(0, *arch::encode_va(Instr::vae1, arch::Asid{kAsid}, kVa, arch::kNoTtl));
  r.issue(0, op(Instr::dsb_ish));
  r.machine.end_operation();
  EXPECT_EQ(r.read(0).outcome, AccessOutcome::translation_fault);
  (void)r.read(1);
}

TEST(MachineRules, ALocalTlbiActsOnlyOnTheIssuingPe) {
  Rig real(kReal);
  unmap_with_a_local_tlbi(real);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));
  EXPECT_EQ(real.machine.violations().size(), 1u) << "PE 0, the issuer, is clean:" << list(real.machine);

  Rig weak({Weakening::local_tlbi_acts_on_every_pe});
  unmap_with_a_local_tlbi(weak);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

// ---- 5-9: TLBI matching --------------------------------------------------------------

TEST(MachineRules, ALeafOnlyTlbiSparesTheWalkCache) {
  PhysAddr level3 = 0;
  Rig real(kReal);
  unmap_last_page_leaf_only(real, Instr::vale1is, level3);
  EXPECT_TRUE(first_is_freed_table_in_walk_cache(real.machine, level3));
  EXPECT_TRUE(only_walk_entries_left(real.machine)) << "VALE1IS removed the leaf";

  Rig weak({Weakening::leaf_only_tlbi_drops_walk_entries});
  unmap_last_page_leaf_only(weak, Instr::vale1is, level3);
  EXPECT_TRUE(no_violation(weak.machine));
}

TEST(MachineRules, ATtlHintOfAnotherLevelSparesTheEntry) {
  // The page's leaf is at level 3; the hint says level 2.
  const std::initializer_list<Step> steps{
      {0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid, arch::TtlHint{arch::Granule::k4K, 2})}, {0, op(Instr::dsb_ish)}};
  Rig real(kReal);
  unmap_then(real, steps);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));

  Rig weak({Weakening::ttl_hint_ignored});
  unmap_then(weak, steps);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

TEST(MachineRules, ATlbiOfAnotherAsidSparesTheEntry) {
  const std::initializer_list<Step> steps{{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid + 1)}, {0, op(Instr::dsb_ish)}};
  Rig real(kReal);
  unmap_then(real, steps);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));

  Rig weak({Weakening::asid_ignored});
  unmap_then(weak, steps);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

TEST(MachineRules, ATlbiActsOnlyOnTheVmidItsIssuerHasLoaded) {
  // PE 0 runs VMID 2, PE 1 caches kVa under VMID 1.
  const std::initializer_list<Step> steps{{0, op(Instr::dsb_ishst)}, {0, vae1is(kAsid)}, {0, op(Instr::dsb_ish)}};
  Rig real(kReal, 2, 1);
  unmap_then(real, steps);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));

  Rig weak({Weakening::vmid_ignored}, 2, 1);
  unmap_then(weak, steps);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

TEST(MachineRules, AnAsidTlbiSparesGlobalEntries) {
  const std::initializer_list<Step> steps{
      {0, op(Instr::dsb_ishst)}, {0, *arch::encode_asid(Instr::aside1is, arch::Asid{kAsid})}, {0, op(Instr::dsb_ish)}};
  Rig real(kReal);
  unmap_then(real, steps, arch::s1::Scope::global);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));
  ASSERT_FALSE(real.machine.violations().empty());
  ASSERT_TRUE(real.machine.violations().front().stale.has_value());
  EXPECT_TRUE(real.machine.violations().front().stale->global);

  Rig weak({Weakening::global_entries_match_asid_ops});
  unmap_then(weak, steps, arch::s1::Scope::global);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

// ---- 10-11: walks --------------------------------------------------------------------

// Known bug 13: PE 0 unmaps kVa and issues TLBI VAE1IS with no DSB ISHST
// before it; PE 1 loses its entry (its own local TLBI, as eviction would)
// and walks again before PE 0's DSB, reading the old descriptor.
void unmap_racing_a_refill(Rig& r) {
  r.map(2);
  ASSERT_EQ(r.read(1).served_by, ServedBy::walk);
  r.machine.begin_operation(0, "unmap, no DSB ISHST");
  {
    maint::Gather gather(r.space, r.features, r.forgetful, r.machine.executor(0), r.memory, &r.machine);
    ASSERT_TRUE(r.table.unmap(kVa, kPage, gather).ok());
  }
  r.issue(0, vae1is(kAsid));
  r.issue(1, *arch::encode_va(Instr::vae1, arch::Asid{kAsid}, kVa, arch::kNoTtl));
  r.issue(1, op(Instr::dsb_nsh));
  (void)r.read(1);
  r.issue(0, op(Instr::dsb_ish));
  r.machine.end_operation();
  (void)r.read(1);
}

TEST(MachineRules, TableWritesStayInvisibleToOtherPesUntilTheWritersDsb) {
  Rig real(kReal);
  unmap_racing_a_refill(real);
  EXPECT_TRUE(first_is_stale_kva(real.machine, 1));

  Rig weak({Weakening::table_writes_visible_before_dsb});
  unmap_racing_a_refill(weak);
  EXPECT_TRUE(no_violation(weak.machine));
  EXPECT_EQ(weak.read(1).outcome, AccessOutcome::translation_fault);
}

TEST(MachineRules, AWalkCachesTheTableDescriptorsItReads) {
  PhysAddr level3 = 0;
  Rig real(kReal);
  unmap_last_page_leaf_only(real, Instr::vaale1is, level3);
  EXPECT_TRUE(first_is_freed_table_in_walk_cache(real.machine, level3));
  EXPECT_TRUE(only_walk_entries_left(real.machine)) << "VAALE1IS removed the leaf";

  Rig weak({Weakening::walk_entries_never_cached});
  unmap_last_page_leaf_only(weak, Instr::vaale1is, level3);
  EXPECT_TRUE(no_violation(weak.machine));
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
