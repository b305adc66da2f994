// Two-stage translation (EL1&0 stage 1 under stage 2) on the simulated
// machine: nested walks and what they cache (vectors computed by hand), the
// TLBIs that remove stage-2, combined and stage-1 walk entries, the KVM
// rule (IPAS2E1IS spares combined entries: VMALLE1IS must follow), the
// checkers on stage-2 descriptors and pages, bad contexts, and two
// properties: the planner keeps random stage-2 workloads under running
// guests clean, and dropping any one TLBI or DSB of its plans is caught
// whenever it leaves a wrong entry that the plan targeted cached.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tlbkit/sim/machine.hpp"
#include "support/forgetful_policy.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::sim {
namespace {

using arch::Instr;
using arch::Regime;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kBlock = 0x20'0000;
constexpr std::uint16_t kVmid = 7;
constexpr std::uint16_t kAsid = 3;

arch::Op op(Instr i) { return *arch::make_op(i); }
arch::Op ipa_op(Instr i, VirtAddr ipa, arch::Ttl ttl = arch::kNoTtl) { return *arch::encode_ipa(i, ipa, ttl); }
arch::Op va_op(Instr i, VirtAddr va, arch::Ttl ttl = arch::kNoTtl) {
  return *arch::encode_va(i, arch::Asid{kAsid}, va, ttl);
}

arch::Geometry s1_geometry(unsigned bits) { return *arch::Geometry::stage1(arch::Granule::k4K, bits); }
arch::Geometry s2_geometry(unsigned bits, unsigned start) {
  return *arch::Geometry::stage2(arch::Granule::k4K, bits, start);
}

arch::s1::Attributes s1_attrs(bool writable = true) {
  arch::s1::Attributes a;
  a.scope = arch::s1::Scope::non_global;
  a.access = writable ? arch::s1::Access::el1_rw : arch::s1::Access::el1_ro;
  return a;
}

arch::s2::Attributes s2_attrs(bool writable = true) {
  arch::s2::Attributes a;
  a.access = writable ? arch::s2::Access::rw : arch::s2::Access::ro;
  return a;
}

constexpr std::uint8_t kEl1Read = static_cast<std::uint8_t>(arch::Permission::el1_read);
constexpr std::uint8_t kEl1Write = static_cast<std::uint8_t>(arch::Permission::el1_write);

// Entries of one PE by (stage, kind).
struct Census {
  unsigned stage1 = 0;  // any stage-1-only entry (there should be none)
  unsigned s2_walk = 0;
  unsigned s2_leaf = 0;
  unsigned combined_walk = 0;
  unsigned combined_leaf = 0;
};

Census census(const Machine& m, unsigned pe) {
  Census c;
  for (const TlbEntry& e : m.entries(pe)) {
    const bool walk = e.kind == CachedKind::walk;
    switch (e.stage) {
      case EntryStage::stage1: ++c.stage1; break;
      case EntryStage::stage2: ++(walk ? c.s2_walk : c.s2_leaf); break;
      case EntryStage::combined: ++(walk ? c.combined_walk : c.combined_leaf); break;
    }
  }
  return c;
}

std::optional<TlbEntry> find_entry(const Machine& m, unsigned pe, EntryStage stage, CachedKind kind,
                                   VirtAddr input, unsigned level) {
  for (const TlbEntry& e : m.entries(pe)) {
    if (e.stage == stage && e.kind == kind && e.covers(input) && e.level == level) return e;
  }
  return std::nullopt;
}

bool has_violation(const Machine& m, ViolationKind kind, EntryStage stage, CachedKind entry_kind) {
  for (const Violation& v : m.violations()) {
    if (v.kind == kind && v.stale && v.stale->stage == stage && v.stale->kind == entry_kind) return true;
  }
  return false;
}

std::string first_message(const Machine& m) {
  return m.violations().empty() ? std::string("none") : m.violations().front().message;
}

// The PA of the descriptor for `input` at `level` of the tree rooted at
// `root`, followed by hand over live memory (tables at PAs only).
PhysAddr slot_pa(const PhysicalMemory& memory, const arch::Geometry& g, PhysAddr root, VirtAddr input,
                 unsigned level) {
  PhysAddr table = root;
  for (unsigned l = g.start_level(); l < level; ++l) {
    const PhysAddr at = table + g.index(input, l) * 8;
    table = arch::output_address(memory.peek(at & ~(kPage - 1))[(at & (kPage - 1)) / 8]);
  }
  return table + g.index(input, level) * 8;
}

void poke(PhysicalMemory& memory, PhysAddr at, Descriptor value) {
  memory.descriptors(at & ~(kPage - 1))[(at & (kPage - 1)) / 8] = value;
}

// Policies that get stage 2 wrong on purpose.
using test::ForgetfulPolicy;  // plans nothing: every invalidation is forgotten

// Leaf-only IPA ops (they spare stage-2 walk entries) even when tables go.
class LeafOnlyStage2Policy final : public maint::Policy {
 public:
  Status plan(const maint::Pending& pending, const maint::AddressSpace&, const arch::CpuFeatures&,
              Plan& plan) const override {
    Status s = plan.append(op(Instr::dsb_ishst));
    for (const maint::PendingRange& r : pending.ranges) {
      if (r.entry != pt::EntryKind::leaf) continue;  // the bug: tables get no op of their own
      for (VirtAddr ipa = r.va; ipa < r.va + r.size && s.ok(); ipa += kPage) {
        s = plan.append(ipa_op(Instr::ipas2le1is, ipa));
      }
    }
    for (const Instr i : {Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish}) {
      if (s.ok()) s = plan.append(op(i));
    }
    return s;
  }
};

// ---- A cold nested walk, by hand ------------------------------------------

// Stage 1 with 48-bit VAs (4 levels) under stage 2 with 48-bit IPAs
// (4 levels). The guest's four stage-1 tables sit at IPAs in four
// different 512 GiB regions and its data in a fifth, so no stage-2 walk can
// start from another's walk-cache entry: 4 x (4 + 1) + 4 = 24 reads.
// Each IPA has index n at every level (n = 1..4 for the tables, 6 for the
// data): n << 39 | n << 30 | n << 21 | n << 12, so that its four stage-2
// entries land in L2 set n at every size and nothing is evicted (the
// combined entries of the VA go to sets 3, 5, 7 and 9).
struct ColdNestedWalk : ::testing::Test {
  static constexpr VirtAddr kIpaT[4] = {0x0080'4020'1000, 0x0100'8040'2000, 0x0180'c060'3000,
                                        0x0201'0080'4000};
  static constexpr VirtAddr kIpaData = 0x0301'80c0'6000;
  static constexpr PhysAddr kPaData = 0x40'0000'0000;
  static constexpr PhysAddr kPaData2 = 0x40'0000'5000;  // the IPA's next page, elsewhere
  // VA indices 3, 5, 7, 9 at levels 0..3: 3 << 39 | 5 << 30 | 7 << 21 | 9 << 12.
  static constexpr VirtAddr kVa = 0x0181'40e0'9000;

  PhysicalMemory memory;
  Machine machine{memory, *find_profile("mobile-8"), MachineOptions{1}};
  pt::Table s2 = std::move(pt::Table::create(Regime::stage2, s2_geometry(48, 0), memory)).value();
  PhysAddr t[4] = {};
  Descriptor page = 0;

  void SetUp() override {
    for (PhysAddr& p : t) p = *memory.allocate(1);
    page = arch::make_leaf_descriptor(kIpaData, *arch::s1::encode(s1_attrs()), 3);
    memory.descriptors(t[0])[3] = arch::make_table_descriptor(kIpaT[1]);
    memory.descriptors(t[1])[5] = arch::make_table_descriptor(kIpaT[2]);
    memory.descriptors(t[2])[7] = arch::make_table_descriptor(kIpaT[3]);
    memory.descriptors(t[3])[9] = page;
    memory.descriptors(t[3])[10] = arch::make_leaf_descriptor(kIpaData + kPage, *arch::s1::encode(s1_attrs()), 3);
    maint::AddressSpace space;
    space.regime = Regime::stage2;
    space.vmid = kVmid;
    const maint::Planner planner;
    {
      maint::Gather gather(space, {}, planner, machine.executor(0), memory, &machine);
      for (unsigned i = 0; i < 4; ++i) ASSERT_TRUE(s2.map(kIpaT[i], t[i], kPage, s2_attrs(), gather).ok());
      ASSERT_TRUE(s2.map(kIpaData, kPaData, kPage, s2_attrs(), gather).ok());
      ASSERT_TRUE(s2.map(kIpaData + kPage, kPaData2, kPage, s2_attrs(), gather).ok());
    }
    PeContext ctx;
    ctx.asid = kAsid;
    ctx.vmid = kVmid;
    ctx.stage1 = s1_geometry(48);
    ctx.stage1_root = kIpaT[0];
    ctx.stage2 = s2_geometry(48, 0);
    ctx.stage2_root = s2.root();
    ASSERT_TRUE(machine.set_context(0, ctx).ok());
  }
};

TEST_F(ColdNestedWalk, ReadsTwentyFourDescriptorsAndCachesEveryKind) {
  const Result<Access> a = machine.access(0, kVa + 0x10, AccessKind::read);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->outcome, AccessOutcome::ok);
  EXPECT_EQ(a->served_by, ServedBy::walk);
  EXPECT_EQ(a->pa, kPaData + 0x10);
  // One stage-1 walk and five stage-2 walks (four table IPAs, the data IPA).
  EXPECT_EQ(machine.counters().walks, 6u);
  EXPECT_EQ(machine.counters().descriptor_reads, 24u);
  EXPECT_EQ(machine.counters().walk_cache_hits, 0u);
  EXPECT_EQ(machine.counters().translation_cycles, 24u * 40u);  // mobile-8: 40 per descriptor
  const Census c = census(machine, 0);
  EXPECT_EQ(c.stage1, 0u);
  EXPECT_EQ(c.s2_walk, 5u * 3u);      // levels 0, 1, 2 of each stage-2 walk
  EXPECT_EQ(c.s2_leaf, 5u);           // one page per IPA translated
  EXPECT_EQ(c.combined_walk, 3u);     // stage-1 levels 0, 1, 2
  EXPECT_EQ(c.combined_leaf, 2u);     // in the L1 D and in the L2
  EXPECT_TRUE(machine.violations().empty()) << first_message(machine);
}

TEST_F(ColdNestedWalk, TheCombinedEntryRemembersBothLeavesAndWalkEntriesHoldIpas) {
  ASSERT_TRUE(machine.access(0, kVa, AccessKind::read).ok());
  const std::optional<TlbEntry> leaf = find_entry(machine, 0, EntryStage::combined, CachedKind::leaf, kVa, 3);
  ASSERT_TRUE(leaf.has_value());
  EXPECT_EQ(leaf->input, kVa);
  EXPECT_EQ(leaf->size, kPage);
  EXPECT_EQ(leaf->output, kPaData);
  EXPECT_EQ(leaf->vmid, kVmid);
  EXPECT_EQ(leaf->asid, kAsid);
  EXPECT_FALSE(leaf->global);
  EXPECT_EQ(leaf->descriptor, page);
  EXPECT_EQ(leaf->descriptor_pa, t[3] + 9 * 8);
  EXPECT_EQ(leaf->s2_level, 3u);
  EXPECT_EQ(leaf->s2_descriptor, arch::make_leaf_descriptor(kPaData, *arch::s2::encode(s2_attrs()), 3));
  EXPECT_EQ(leaf->permissions, kEl1Read | kEl1Write);
  // Level 0 -> table at IPA kIpaT[1] (PA t[1]), and so on.
  for (unsigned level = 0; level < 3; ++level) {
    const std::optional<TlbEntry> w = find_entry(machine, 0, EntryStage::combined, CachedKind::walk, kVa, level);
    ASSERT_TRUE(w.has_value()) << level;
    EXPECT_EQ(w->output, kIpaT[level + 1]);
    EXPECT_EQ(w->table_pa, t[level + 1]);
    EXPECT_EQ(w->descriptor_pa, t[level] + (3 + 2 * level) * 8);
  }
}

TEST_F(ColdNestedWalk, TheNextPageWalksFromBothWalkCaches) {
  ASSERT_TRUE(machine.access(0, kVa, AccessKind::read).ok());
  const SimCounters before = machine.counters();
  const Result<Access> a = machine.access(0, kVa + kPage + 0x20, AccessKind::read);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->pa, kPaData2 + 0x20);
  // Stage 1 starts at level 3 from the level-2 walk entry (IPA kIpaT[3],
  // whose stage-2 page is cached): 1 read. The data IPA's next page: a
  // stage-2 walk from the level-2 stage-2 walk entry: 1 read.
  EXPECT_EQ(machine.counters().descriptor_reads - before.descriptor_reads, 2u);
  EXPECT_EQ(machine.counters().walks - before.walks, 2u);
  EXPECT_EQ(machine.counters().walk_cache_hits - before.walk_cache_hits, 2u);
  const Result<Access> again = machine.access(0, kVa + 0x30, AccessKind::read);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->served_by, ServedBy::l1);
  EXPECT_EQ(again->pa, kPaData + 0x30);
}

TEST_F(ColdNestedWalk, AStage2FaultOnATableIsATranslationFaultAndIsNotCached) {
  // Unmap (by hand, the machine sees it at once: no operation open) the
  // stage-2 page of the level-3 table.
  poke(memory, slot_pa(memory, s2_geometry(48, 0), s2.root(), kIpaT[3], 3), 0);
  const Result<Access> a = machine.access(0, kVa, AccessKind::read);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->outcome, AccessOutcome::translation_fault);
  EXPECT_EQ(machine.counters().translation_faults, 1u);
  // 3 tables read (5 each), the 4th table's stage-2 walk faults at level 3.
  EXPECT_EQ(machine.counters().descriptor_reads, 3u * 5u + 4u);
  const Census c = census(machine, 0);
  EXPECT_EQ(c.combined_leaf, 0u);
  EXPECT_EQ(c.combined_walk, 2u) << "the level-2 entry names a table stage 2 does not map: not cached";
  EXPECT_EQ(c.s2_leaf, 3u);
  EXPECT_TRUE(machine.violations().empty()) << first_message(machine);
}

// ---- A guest under a hypervisor -------------------------------------------

// Guest stage-1 tables live in simulated memory at PA P and are seen by the
// guest at IPA P - kMemBase + kWindowIpa (stage 2 maps that window with
// 2 MiB blocks).
constexpr PhysAddr kMemBase = PhysicalMemory::kDefaultBase;
constexpr VirtAddr kWindowIpa = 0x1000'0000;
constexpr std::uint64_t kWindow = PhysicalMemory::kDefaultPages * kPage;  // 16 MiB
// Guest RAM: IPA kRamIpa.. -> PA kRamPa..; the guest maps VA = IPA + kVaShift.
constexpr VirtAddr kRamIpa = 0x4000'0000;
constexpr PhysAddr kRamPa = 0x40'0000'0000;
constexpr VirtAddr kVaShift = 0x10'0000'0000 - kRamIpa;
constexpr VirtAddr kGuestVa = kRamIpa + kVaShift;

class GuestTableMemory final : public pt::TableMemory {
 public:
  explicit GuestTableMemory(PhysicalMemory& memory) : memory_(memory) {}
  Result<PhysAddr> allocate(unsigned pages) override {
    const Result<PhysAddr> pa = memory_.allocate(pages);
    if (!pa.ok()) return pa;
    return *pa - kMemBase + kWindowIpa;
  }
  void free(PhysAddr ipa, unsigned pages) override { memory_.free(to_pa(ipa), pages); }
  Descriptor* descriptors(PhysAddr ipa) override { return memory_.descriptors(to_pa(ipa)); }
  static PhysAddr to_pa(VirtAddr ipa) { return ipa - kWindowIpa + kMemBase; }

 private:
  PhysicalMemory& memory_;
};

maint::AddressSpace host_space() {
  maint::AddressSpace s;
  s.regime = Regime::stage2;
  s.vmid = kVmid;
  return s;
}

maint::AddressSpace guest_space() {
  maint::AddressSpace s;
  s.regime = Regime::el1_stage1;
  s.asid = kAsid;
  s.vmid = kVmid;
  return s;
}

// A guest (39-bit VAs, ASID 3) under stage 2 (40-bit IPAs, VMID 7) on
// every PE. The hypervisor's operations run on a PE in the guest's VMID,
// as KVM switches to the guest's VTTBR before its TLBIs.
struct Guest {
  // With ram_pages = 0 only the window is mapped. With FWB, unmapping
  // needs no data-cache maintenance (KVM then defers nothing either
  // without TLBIRANGE).
  explicit Guest(unsigned pe_count, unsigned ram_pages = 16, arch::s2::Fwb fwb_mode = arch::s2::Fwb::disabled)
      : pes(pe_count), fwb(fwb_mode) {
    features.processing_elements = pe_count;
    if (fwb == arch::s2::Fwb::enabled) features.fwb = arch::Presence::present;
    host(0, planner, [&](maint::Gather& g) {
      EXPECT_TRUE(s2.map(kWindowIpa, kMemBase, kWindow, attrs(), g).ok());
      if (ram_pages > 0) {
        EXPECT_TRUE(s2.map(kRamIpa, kRamPa, ram_pages * kPage, attrs(), g).ok());
      }
    });
    if (ram_pages > 0) {
      guest(0, planner, [&](maint::Gather& g) {
        EXPECT_TRUE(s1.map(kGuestVa, kRamIpa, ram_pages * kPage, s1_attrs(), g).ok());
      });
    }
    for (unsigned pe = 0; pe < pe_count; ++pe) EXPECT_TRUE(machine.set_context(pe, context()).ok());
  }

  // Normal write-back memory, in the table's FWB mode.
  arch::s2::Attributes attrs(bool writable = true) const {
    arch::s2::Attributes a = s2_attrs(writable);
    a.memattr = *arch::s2::encode_memory_type(arch::s2::MemoryType::normal_write_back, fwb);
    return a;
  }

  PeContext context() const {
    PeContext ctx;
    ctx.asid = kAsid;
    ctx.vmid = kVmid;
    ctx.stage1 = s1_geometry(39);
    ctx.stage1_root = s1.root();
    ctx.stage2 = s2_geometry(40, 1);
    ctx.stage2_root = s2.root();
    return ctx;
  }

  // A hypervisor operation on stage 2, by `pe`.
  template <class F>
  void host(unsigned pe, const maint::Policy& policy, F&& f) {
    machine.begin_operation(pe, "host");
    {
      maint::Gather gather(host_space(), features, policy, machine.executor(pe), memory, &machine);
      f(gather);
    }
    machine.end_operation();
  }

  // A guest operation on its stage-1 tables, by `pe`.
  template <class F>
  void guest(unsigned pe, const maint::Policy& policy, F&& f) {
    machine.begin_operation(pe, "guest");
    {
      maint::Gather gather(guest_space(), features, policy, machine.executor(pe), guest_memory, &machine);
      f(gather);
    }
    machine.end_operation();
  }

  Access read(unsigned pe, VirtAddr va) {
    const Result<Access> a = machine.access(pe, va, AccessKind::read);
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : Access{};
  }

  void issue(unsigned pe, const arch::Op& o) { ASSERT_TRUE(machine.issue(pe, o).ok()); }

  unsigned pes;
  arch::s2::Fwb fwb;
  PhysicalMemory memory;
  Machine machine{memory, *find_profile("mobile-8"), MachineOptions{pes}};
  GuestTableMemory guest_memory{memory};
  pt::Table s2 = std::move(pt::Table::create(Regime::stage2, s2_geometry(40, 1), memory, pt::TableOptions{
                                                 arch::BbmLevel::level0, fwb}))
                     .value();
  pt::Table s1 = std::move(pt::Table::create(Regime::el1_stage1, s1_geometry(39), guest_memory)).value();
  arch::CpuFeatures features;
  maint::Planner planner;
  ForgetfulPolicy forgetful;
};

struct GuestFixture : ::testing::Test {
  Guest g{2};
};

TEST_F(GuestFixture, AColdAccessReadsEightDescriptors) {
  const Access a = g.read(1, kGuestVa + 0x10);
  EXPECT_EQ(a.outcome, AccessOutcome::ok);
  EXPECT_EQ(a.pa, kRamPa + 0x10);
  // Stage-2 walk of the root's IPA: level 1, level-2 block (2 reads); then
  // 3 stage-1 tables, all in the first 2 MiB of the window (stage-2 hit
  // after the first): 3 reads; the data IPA, in another GiB: 3 reads.
  EXPECT_EQ(g.machine.counters().descriptor_reads, 8u);
  EXPECT_EQ(g.machine.counters().walks, 3u);
  EXPECT_EQ(g.machine.counters().walk_cache_hits, 0u);
  const Census c = census(g.machine, 1);
  EXPECT_EQ(c.s2_walk, 1u + 2u);
  EXPECT_EQ(c.s2_leaf, 2u);
  EXPECT_EQ(c.combined_walk, 2u);
  EXPECT_EQ(c.combined_leaf, 2u);
  EXPECT_EQ(c.stage1, 0u);
  EXPECT_EQ(census(g.machine, 0).s2_leaf, 0u) << "PE 0 made no access";
}

TEST_F(GuestFixture, PermissionsAreTheIntersectionOfBothStages) {
  // Stage 2 read-only (a relaxation-free restriction, planned): writes
  // fault although stage 1 grants them.
  g.host(0, g.planner, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s2.protect(kRamIpa, kPage, pt::AttributeChange::to(s2_attrs(false)), gather).ok());
  });
  EXPECT_EQ(g.machine.access(1, kGuestVa, AccessKind::write)->outcome, AccessOutcome::permission_fault);
  EXPECT_EQ(g.machine.access(1, kGuestVa, AccessKind::read)->outcome, AccessOutcome::ok);
  // Stage 1 read-only over stage 2 read-write: writes fault too.
  g.guest(0, g.planner, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s1.protect(kGuestVa + kPage, kPage, pt::AttributeChange::to(s1_attrs(false)), gather).ok());
  });
  EXPECT_EQ(g.machine.access(1, kGuestVa + kPage, AccessKind::write)->outcome, AccessOutcome::permission_fault);
  // Both writable: fine.
  EXPECT_EQ(g.machine.access(1, kGuestVa + 2 * kPage, AccessKind::write)->outcome, AccessOutcome::ok);
  const std::optional<TlbEntry> e =
      find_entry(g.machine, 1, EntryStage::combined, CachedKind::leaf, kGuestVa, 3);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->permissions, kEl1Read);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

// A stage-1 block over stage-2 pages is cached page by page (the smaller
// leaf), and any address of the block retires each piece.
TEST(TwoStageSizes, ABlockOverPagesIsCachedAsPagesAndAnyAddressOfTheBlockRetiresThem) {
  Guest g(2);
  constexpr VirtAddr kIpa = kRamIpa + 2 * kBlock;  // stage 1 block -> stage 2 pages
  constexpr PhysAddr kPa = kRamPa + 0x100'0000;
  constexpr VirtAddr kIpa2 = kRamIpa + 4 * kBlock;  // stage 1 page -> stage 2 block
  constexpr PhysAddr kPa2 = kRamPa + 0x200'0000;
  g.host(0, g.planner, [&](maint::Gather& gather) {
    pt::MapOptions pages;
    pages.blocks = pt::BlockMappings::forbidden;
    ASSERT_TRUE(g.s2.map(kIpa, kPa, kBlock, s2_attrs(), gather, pages).ok());
    ASSERT_TRUE(g.s2.map(kIpa2, kPa2, kBlock, s2_attrs(), gather).ok());
  });
  g.guest(0, g.planner, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s1.map(kIpa + kVaShift, kIpa, kBlock, s1_attrs(), gather).ok());
    ASSERT_TRUE(g.s1.map(kIpa2 + kVaShift + 0x5000, kIpa2 + 0x5000, kPage, s1_attrs(), gather).ok());
  });
  EXPECT_EQ(g.read(1, kIpa + kVaShift + 0x3456).pa, kPa + 0x3456);
  const std::optional<TlbEntry> piece =
      find_entry(g.machine, 1, EntryStage::combined, CachedKind::leaf, kIpa + kVaShift + 0x3000, 2);
  ASSERT_TRUE(piece.has_value());
  EXPECT_EQ(piece->size, kPage);
  EXPECT_EQ(piece->input, kIpa + kVaShift + 0x3000);
  EXPECT_EQ(piece->output, kPa + 0x3000);
  EXPECT_EQ(piece->s2_level, 3u);

  EXPECT_EQ(g.read(1, kIpa2 + kVaShift + 0x5010).pa, kPa2 + 0x5010);
  const std::optional<TlbEntry> page =
      find_entry(g.machine, 1, EntryStage::combined, CachedKind::leaf, kIpa2 + kVaShift + 0x5000, 3);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->size, kPage);
  EXPECT_EQ(page->output, kPa2 + 0x5000);
  EXPECT_EQ(page->s2_level, 2u);

  // VAE1IS with TTL level 2 for the block's last page, on PE 0.
  g.issue(0, va_op(Instr::vae1is, kIpa + kVaShift + kBlock - kPage, arch::TtlHint{arch::Granule::k4K, 2}));
  g.issue(0, op(Instr::dsb_ish));
  EXPECT_FALSE(find_entry(g.machine, 1, EntryStage::combined, CachedKind::leaf, kIpa + kVaShift + 0x3000, 2));
  EXPECT_TRUE(find_entry(g.machine, 1, EntryStage::combined, CachedKind::leaf, kIpa2 + kVaShift + 0x5000, 3));
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

// ---- Which TLBI removes which two-stage entry ----------------------------

TEST(TwoStageTlbi, EachOpRemovesItsKindsOfEntriesOnly) {
  struct Case {
    arch::Op op;
    Census left;  // on PE 1 after a cold access to kGuestVa (3 s2 walk, 2 s2 leaf, 2 combined walk, 2 combined leaf)
  };
  const Case cases[] = {
      // Stage-2 only: the leaf of the data IPA; walk entries and combined entries stay.
      {ipa_op(Instr::ipas2le1is, kRamIpa), Census{0, 3, 1, 2, 2}},
      // Non-leaf form: also the stage-2 walk entries covering the IPA (levels 1 and 2).
      {ipa_op(Instr::ipas2e1is, kRamIpa), Census{0, 1, 1, 2, 2}},
      // Stage 1 of the VMID: combined leaves and stage-1 walk entries, no stage-2 entry.
      {op(Instr::vmalle1is), Census{0, 3, 2, 0, 0}},
      {va_op(Instr::vae1is, kGuestVa), Census{0, 3, 2, 0, 0}},
      // Leaf only: the combined walk entries stay.
      {va_op(Instr::vale1is, kGuestVa), Census{0, 3, 2, 2, 0}},
      {*arch::encode_asid(Instr::aside1is, arch::Asid{kAsid}), Census{0, 3, 2, 0, 0}},
      {*arch::encode_asid(Instr::aside1is, arch::Asid{kAsid + 1}), Census{0, 3, 2, 2, 2}},
      // Both stages of the VMID.
      {op(Instr::vmalls12e1is), Census{0, 0, 0, 0, 0}},
      {op(Instr::alle1is), Census{0, 0, 0, 0, 0}},
      {op(Instr::alle2is), Census{0, 3, 2, 2, 2}},
  };
  for (const Case& c : cases) {
    Guest g(2);
    (void)g.read(1, kGuestVa);
    g.issue(0, c.op);
    g.issue(0, op(Instr::dsb_ish));
    const Census left = census(g.machine, 1);
    const std::string name(arch::info(c.op.instr).mnemonic);
    EXPECT_EQ(left.s2_walk, c.left.s2_walk) << name;
    EXPECT_EQ(left.s2_leaf, c.left.s2_leaf) << name;
    EXPECT_EQ(left.combined_walk, c.left.combined_walk) << name;
    EXPECT_EQ(left.combined_leaf, c.left.combined_leaf) << name;
  }
}

TEST(TwoStageTlbi, OpsOfOneVmidSpareAnotherVmidsEntries) {
  Guest g(2);
  PeContext other = g.context();
  other.vmid = kVmid + 1;
  ASSERT_TRUE(g.machine.set_context(1, other).ok());
  (void)g.read(1, kGuestVa);
  for (const Instr i : {Instr::vmalls12e1is, Instr::vmalle1is}) g.issue(0, op(i));
  g.issue(0, ipa_op(Instr::ipas2e1is, kRamIpa));
  g.issue(0, va_op(Instr::vae1is, kGuestVa));
  g.issue(0, op(Instr::dsb_ish));
  const Census left = census(g.machine, 1);
  EXPECT_EQ(left.s2_walk + left.s2_leaf + left.combined_walk + left.combined_leaf, 3u + 2u + 2u + 2u);
  for (const TlbEntry& e : g.machine.entries(1)) EXPECT_EQ(e.vmid, kVmid + 1);
}

TEST(TwoStageTlbi, MatchingOfHandBuiltEntries) {
  // A combined leaf of 4 KiB from a stage-1 2 MiB block at 0x4000'0000.
  TlbEntry piece;
  piece.stage = EntryStage::combined;
  piece.level = 2;
  piece.vmid = kVmid;
  piece.asid = kAsid;
  piece.input = 0x4000'3000;
  piece.size = kPage;
  const TlbiContext ctx{kVmid};
  const auto removes = [&](const arch::Op& o, const TlbEntry& e) { return tlbi_removes(arch::decode(o), ctx, e); };
  EXPECT_TRUE(removes(va_op(Instr::vae1is, 0x4000'0000), piece));
  EXPECT_TRUE(removes(va_op(Instr::vale1is, 0x401f'f000), piece));
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 0x4020'0000), piece));
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 0x3fff'f000), piece));
  EXPECT_FALSE(removes(va_op(Instr::vae1is, 0x4000'3000, arch::TtlHint{arch::Granule::k4K, 3}), piece));
  EXPECT_FALSE(removes(ipa_op(Instr::ipas2e1is, 0x4000'3000), piece));
  EXPECT_FALSE(removes(ipa_op(Instr::ipas2le1is, 0x4000'3000), piece));
  EXPECT_TRUE(tlbi_removes(arch::decode(op(Instr::vmalle1is)), ctx, piece));
  EXPECT_FALSE(tlbi_removes(arch::decode(op(Instr::vmalle1is)), TlbiContext{kVmid + 1}, piece));
  // A stage-2 page of the VMID: IPA ops and VMALLS12E1 only.
  TlbEntry s2 = piece;
  s2.regime = Regime::stage2;
  s2.stage = EntryStage::stage2;
  s2.level = 3;
  s2.asid = 0;
  EXPECT_TRUE(removes(ipa_op(Instr::ipas2le1is, 0x4000'3000), s2));
  EXPECT_FALSE(removes(ipa_op(Instr::ipas2le1is, 0x4000'2000), s2));
  EXPECT_FALSE(removes(op(Instr::vmalle1is), s2));
  EXPECT_FALSE(removes(va_op(Instr::vaae1is, 0x4000'3000), s2));
  EXPECT_TRUE(removes(op(Instr::vmalls12e1is), s2));
}

// ---- The KVM rule ------------------------------------------------------------

// The hypervisor unmaps one guest page on PE 0 by hand: DSB ISHST;
// IPAS2E1IS; DSB ISH; [VMALLE1IS; DSB ISH].
void unmap_by_hand(Guest& g, bool vmalle1) {
  g.machine.begin_operation(0, "stage-2 unmap");
  {
    maint::Gather gather(host_space(), g.features, g.forgetful, g.machine.executor(0), g.memory, &g.machine);
    ASSERT_TRUE(g.s2.unmap(kRamIpa, kPage, gather).ok());
  }
  g.issue(0, op(Instr::dsb_ishst));
  g.issue(0, ipa_op(Instr::ipas2e1is, kRamIpa));
  g.issue(0, op(Instr::dsb_ish));
  if (vmalle1) {
    g.issue(0, op(Instr::vmalle1is));
    g.issue(0, op(Instr::dsb_ish));
  }
  g.machine.end_operation();
}

TEST_F(GuestFixture, KvmStage2UnmapWithVmalle1IsClean) {
  EXPECT_EQ(g.read(1, kGuestVa).outcome, AccessOutcome::ok);
  unmap_by_hand(g, true);
  EXPECT_EQ(g.read(1, kGuestVa).outcome, AccessOutcome::translation_fault);
  EXPECT_EQ(g.read(1, kGuestVa + kPage).pa, kRamPa + kPage);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

TEST_F(GuestFixture, WithoutVmalle1TheCombinedEntryStaysAndIsCaught) {
  EXPECT_EQ(g.read(1, kGuestVa).outcome, AccessOutcome::ok);
  unmap_by_hand(g, false);
  // IPAS2E1IS took the stage-2 entry and spared the combined one.
  EXPECT_FALSE(find_entry(g.machine, 1, EntryStage::stage2, CachedKind::leaf, kRamIpa, 3));
  EXPECT_TRUE(find_entry(g.machine, 1, EntryStage::combined, CachedKind::leaf, kGuestVa, 3));
  const Access a = g.read(1, kGuestVa + 0x40);
  EXPECT_EQ(a.outcome, AccessOutcome::ok) << "the stale combined entry still translates";
  EXPECT_EQ(a.pa, kRamPa + 0x40);
  ASSERT_EQ(g.machine.violations().size(), 1u);
  const Violation& v = g.machine.violations().front();
  EXPECT_EQ(v.kind, ViolationKind::stale_translation);
  EXPECT_EQ(v.pe, 1u);
  EXPECT_EQ(v.va, kGuestVa + 0x40);
  ASSERT_TRUE(v.stale.has_value());
  EXPECT_EQ(v.stale->stage, EntryStage::combined);
  EXPECT_EQ(v.stale->output, kRamPa);
  EXPECT_FALSE(v.current.has_value());
}

TEST_F(GuestFixture, TheKvmBaselineAndThePlannerUnmapCleanly) {
  const baselines::KvmPolicy kvm;
  (void)g.read(1, kGuestVa);
  (void)g.read(1, kGuestVa + kPage);
  g.host(0, kvm, [&](maint::Gather& gather) { ASSERT_TRUE(g.s2.unmap(kRamIpa, kPage, gather).ok()); });
  EXPECT_EQ(g.read(1, kGuestVa).outcome, AccessOutcome::translation_fault);
  const std::uint64_t after_kvm = g.machine.counters().tlbi_broadcast;
  EXPECT_GE(after_kvm, 2u) << "IPAS2E1IS and VMALLE1IS";
  g.host(0, g.planner, [&](maint::Gather& gather) { ASSERT_TRUE(g.s2.unmap(kRamIpa + kPage, kPage, gather).ok()); });
  EXPECT_EQ(g.read(1, kGuestVa + kPage).outcome, AccessOutcome::translation_fault);
  // One page of stage 2 on two PEs: VMALLS12E1IS under the default costs
  // (one DSB ISH, where IPAS2E1IS needs a second before VMALLE1IS).
  EXPECT_GE(g.machine.counters().tlbi_broadcast - after_kvm, 1u);
  EXPECT_EQ(g.read(1, kGuestVa + 2 * kPage).pa, kRamPa + 2 * kPage);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

TEST_F(GuestFixture, ACollateralFlushCountsTheStage2RefillsToo) {
  (void)g.read(1, kGuestVa);
  g.issue(0, op(Instr::vmalls12e1is));
  g.issue(0, op(Instr::dsb_ish));
  const SimCounters before = g.machine.counters();
  EXPECT_EQ(g.read(1, kGuestVa).pa, kRamPa);
  // The window block, the data page (stage 2) and the combined page.
  EXPECT_EQ(g.machine.counters().refills_collateral, 3u);
  EXPECT_EQ(g.machine.counters().refills_needed, 0u);
  EXPECT_EQ(g.machine.counters().descriptor_reads - before.descriptor_reads, 8u);
  // Stage-2 walk of the root (2 reads, cycles of the window refill), the
  // data IPA's walk (3), the rest (3 stage-1 reads): every read counted once.
  EXPECT_EQ(g.machine.counters().refill_cycles_collateral, 8u * 40u);
}

// ---- Break-before-make on stage 2 -------------------------------------------

TEST_F(GuestFixture, RewritingAStage2LeafWhileOnlyACombinedEntryHoldsItBreaksBbm) {
  (void)g.read(1, kGuestVa);
  // PE 1 drops its stage-2 entries itself: only the combined entry is left.
  g.issue(1, ipa_op(Instr::ipas2e1, kRamIpa));
  g.issue(1, op(Instr::dsb_nsh));
  ASSERT_FALSE(find_entry(g.machine, 1, EntryStage::stage2, CachedKind::leaf, kRamIpa, 3));
  ASSERT_TRUE(find_entry(g.machine, 1, EntryStage::combined, CachedKind::leaf, kGuestVa, 3));
  const PhysAddr slot = slot_pa(g.memory, s2_geometry(40, 1), g.s2.root(), kRamIpa, 3);
  g.machine.begin_operation(0, "remap in place");
  poke(g.memory, slot, arch::make_leaf_descriptor(kRamPa + 0x10'0000, *arch::s2::encode(s2_attrs()), 3));
  g.machine.end_operation();
  ASSERT_EQ(g.machine.violations().size(), 1u) << first_message(g.machine);
  const Violation& v = g.machine.violations().front();
  EXPECT_EQ(v.kind, ViolationKind::break_before_make);
  EXPECT_EQ(v.pe, 1u);
  ASSERT_TRUE(v.stale.has_value());
  EXPECT_EQ(v.stale->stage, EntryStage::combined);
  EXPECT_EQ(v.stale->s2_descriptor_pa, slot);
}

TEST_F(GuestFixture, RewritingAStage2LeafHeldByBothKindsReportsBoth) {
  (void)g.read(1, kGuestVa);
  const PhysAddr slot = slot_pa(g.memory, s2_geometry(40, 1), g.s2.root(), kRamIpa, 3);
  g.machine.begin_operation(0, "remap in place");
  poke(g.memory, slot, arch::make_leaf_descriptor(kRamPa + 0x10'0000, *arch::s2::encode(s2_attrs()), 3));
  g.machine.end_operation();
  EXPECT_TRUE(has_violation(g.machine, ViolationKind::break_before_make, EntryStage::stage2, CachedKind::leaf));
  EXPECT_TRUE(has_violation(g.machine, ViolationKind::break_before_make, EntryStage::combined, CachedKind::leaf));
}

TEST_F(GuestFixture, APermissionChangeInPlaceAndAPlannedRemapAreNoBbmViolation) {
  (void)g.read(1, kGuestVa);
  // Read-only in place, planned (restriction: TLBI, no break needed).
  g.host(0, g.planner, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s2.protect(kRamIpa, kPage, pt::AttributeChange::to(s2_attrs(false)), gather).ok());
  });
  // Another PA: unmap, then map (the break, then the make).
  (void)g.read(1, kGuestVa);
  g.host(0, g.planner, [&](maint::Gather& gather) { ASSERT_TRUE(g.s2.unmap(kRamIpa, kPage, gather).ok()); });
  g.host(0, g.planner, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s2.map(kRamIpa, kRamPa + 0x10'0000, kPage, s2_attrs(), gather).ok());
  });
  EXPECT_EQ(g.read(1, kGuestVa + 8).pa, kRamPa + 0x10'0000 + 8);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

// ---- Use-after-free --------------------------------------------------------------

TEST_F(GuestFixture, FreeingAStage2TableStillInAWalkCacheIsAUseAfterFree) {
  (void)g.read(1, kGuestVa);
  const LeafOnlyStage2Policy leaf_only;
  const std::uint64_t frees = g.memory.counters().frees;
  g.host(0, leaf_only, [&](maint::Gather& gather) { ASSERT_TRUE(g.s2.unmap(kRamIpa, 16 * kPage, gather).ok()); });
  EXPECT_GT(g.memory.counters().frees, frees) << "the emptied stage-2 tables were freed";
  EXPECT_TRUE(has_violation(g.machine, ViolationKind::use_after_free, EntryStage::stage2, CachedKind::walk))
      << first_message(g.machine);
}

TEST_F(GuestFixture, ThePlannerFreesStage2TablesOnlyAfterTheWalkCachesAreClean) {
  (void)g.read(1, kGuestVa);
  const std::uint64_t frees = g.memory.counters().frees;
  g.host(0, g.planner, [&](maint::Gather& gather) { ASSERT_TRUE(g.s2.unmap(kRamIpa, 16 * kPage, gather).ok()); });
  EXPECT_GT(g.memory.counters().frees, frees);
  EXPECT_EQ(g.read(1, kGuestVa).outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

TEST_F(GuestFixture, FreeingAGuestTableStillReachedByACombinedWalkEntryIsAUseAfterFree) {
  (void)g.read(1, kGuestVa);
  // The guest unmaps everything (its level-2 and level-3 tables empty and
  // are freed) and forgets its TLBIs.
  g.guest(0, g.forgetful, [&](maint::Gather& gather) { ASSERT_TRUE(g.s1.unmap(kGuestVa, 16 * kPage, gather).ok()); });
  bool found = false;
  for (const Violation& v : g.machine.violations()) {
    if (v.kind != ViolationKind::use_after_free || !v.stale || v.stale->stage != EntryStage::combined) continue;
    ASSERT_EQ(v.stale->kind, CachedKind::walk);
    // The entry holds the table's IPA; the page freed is its PA.
    EXPECT_GE(v.stale->output, kWindowIpa);
    EXPECT_LT(v.stale->output, kWindowIpa + kWindow);
    EXPECT_EQ(v.stale->table_pa, v.stale->output - kWindowIpa + kMemBase);
    found = true;
  }
  EXPECT_TRUE(found) << first_message(g.machine);
}

TEST_F(GuestFixture, TheGuestsPlannerFreesItsTablesCleanly) {
  (void)g.read(1, kGuestVa);
  const std::uint64_t frees = g.memory.counters().frees;
  g.guest(0, g.planner, [&](maint::Gather& gather) { ASSERT_TRUE(g.s1.unmap(kGuestVa, 16 * kPage, gather).ok()); });
  EXPECT_GT(g.memory.counters().frees, frees);
  EXPECT_EQ(g.read(1, kGuestVa).outcome, AccessOutcome::translation_fault);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

TEST_F(GuestFixture, ReleasingADataPageACombinedEntryTranslatesToIsAUseAfterFree) {
  (void)g.read(1, kGuestVa);
  g.host(0, g.forgetful, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s2.unmap(kRamIpa, kPage, gather).ok());
    ASSERT_TRUE(gather.free_after_flush(kRamPa, kPage).ok());
  });
  bool found = false;
  for (const Violation& v : g.machine.violations()) {
    if (v.kind == ViolationKind::use_after_free && v.stale && v.stale->stage == EntryStage::combined) {
      EXPECT_EQ(v.stale->output, kRamPa);
      EXPECT_EQ(v.pe, 1u);
      found = true;
    }
  }
  EXPECT_TRUE(found) << first_message(g.machine);
  EXPECT_TRUE(has_violation(g.machine, ViolationKind::use_after_free, EntryStage::stage2, CachedKind::leaf));
}

TEST_F(GuestFixture, ReleasingADataPageAfterThePlannersFlushIsClean) {
  (void)g.read(1, kGuestVa);
  g.host(0, g.planner, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s2.unmap(kRamIpa, kPage, gather).ok());
    ASSERT_TRUE(gather.free_after_flush(kRamPa, kPage).ok());
  });
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

// ---- Bad contexts ------------------------------------------------------------------

TEST_F(GuestFixture, BadTwoStageContextsAreRefusedAndChangeNothing) {
  EXPECT_EQ(g.read(1, kGuestVa + 0x8).pa, kRamPa + 0x8);
  const SimCounters counters = g.machine.counters();
  const std::vector<TlbEntry> entries = g.machine.entries(1);
  PeContext beyond = g.context();
  beyond.stage1_root = std::uint64_t{1} << 40;  // the IPA space is 40 bits
  EXPECT_EQ(g.machine.set_context(1, beyond).error().code, Errc::invalid_argument);
  PeContext nowhere = g.context();
  nowhere.stage2_root = 0x1000;  // not simulated memory
  EXPECT_EQ(g.machine.set_context(1, nowhere).error().code, Errc::unsupported);
  PeContext el2 = g.context();
  el2.regime = Regime::el2_stage1;
  EXPECT_EQ(g.machine.set_context(1, el2).error().code, Errc::invalid_argument);
  EXPECT_EQ(g.machine.counters(), counters);
  EXPECT_EQ(g.machine.entries(1), entries);
  // The old context is still in force.
  const Access a = g.read(1, kGuestVa + 0x8);
  EXPECT_EQ(a.served_by, ServedBy::l1);
  EXPECT_EQ(a.pa, kRamPa + 0x8);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}

TEST_F(GuestFixture, AStage1RootStage2DoesNotMapIsATranslationFaultThatCachesNothingOfStage1) {
  PeContext unmapped = g.context();
  unmapped.stage1_root = 0x2000'0000;  // neither the window nor the RAM
  ASSERT_TRUE(g.machine.set_context(1, unmapped).ok());
  EXPECT_EQ(g.read(1, kGuestVa).outcome, AccessOutcome::translation_fault);
  EXPECT_EQ(g.machine.counters().translation_faults, 1u);
  const Census c = census(g.machine, 1);
  EXPECT_EQ(c.combined_leaf + c.combined_walk + c.s2_leaf + c.stage1, 0u);
  EXPECT_EQ(c.s2_walk, 1u) << "the root's level-1 table descriptor is valid";
  // Stage 2 maps it (to the real root): now it translates.
  g.host(0, g.planner, [&](maint::Gather& gather) {
    ASSERT_TRUE(g.s2.map(0x2000'0000, GuestTableMemory::to_pa(g.s1.root()), kPage, s2_attrs(), gather).ok());
  });
  EXPECT_EQ(g.read(1, kGuestVa + 0x18).pa, kRamPa + 0x18);
  EXPECT_TRUE(g.machine.violations().empty()) << first_message(g.machine);
}


// ---- Property: the planner on stage 2 under running guests ---------------

// Stage-2 operations of a hypervisor on a guest's RAM while 1..4 PEs run
// the same fixed guest stage-1 table. The guest maps VA = IPA + kVaShift:
// 32 pages (stage-1 pages) at kRamIpa, a 2 MiB stage-1 block at kLargeIpa
// and 512 read-only stage-1 pages over the next 2 MiB. Stage 2 maps, unmaps
// (releasing the data), protects and splits there, and may split the block
// of the window that holds the guest's own tables.
constexpr VirtAddr kLargeIpa = kRamIpa + 0x60'0000;

enum class HostOpKind { map, unmap, protect, split, split_window };

struct HostOp {
  HostOpKind kind = HostOpKind::map;
  unsigned pe = 0;
  VirtAddr ipa = 0;
  std::uint64_t size = 0;
  bool writable = true;
};

struct HostWorkload {
  unsigned pes = 1;
  std::vector<HostOp> ops;
};

const char* host_op_name(HostOpKind k) {
  switch (k) {
    case HostOpKind::map: return "map";
    case HostOpKind::unmap: return "unmap";
    case HostOpKind::protect: return "protect";
    case HostOpKind::split: return "split";
    case HostOpKind::split_window: return "split-window";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, const HostWorkload& w) {
  os << w.pes << " PEs:";
  for (const HostOp& o : w.ops) {
    os << "\n  PE " << o.pe << " " << host_op_name(o.kind) << " 0x" << std::hex << o.ipa << "+0x" << o.size
       << std::dec << (o.writable ? " rw" : " ro");
  }
  return os;
}

rc::Gen<HostOp> host_op(unsigned pes) {
  return rc::gen::exec([pes] {
    HostOp o;
    o.kind = *rc::gen::element(HostOpKind::map, HostOpKind::map, HostOpKind::unmap, HostOpKind::unmap,
                               HostOpKind::protect, HostOpKind::split, HostOpKind::split_window);
    o.pe = *rc::gen::inRange(0u, pes);
    o.writable = *rc::gen::arbitrary<bool>();
    if (o.kind == HostOpKind::split_window) {
      // The window's first block holds every table page of the test.
      o.ipa = kWindowIpa;
      o.size = kBlock;
    } else if (*rc::gen::inRange(0, 3) == 0) {
      o.ipa = kLargeIpa + *rc::gen::inRange<std::uint64_t>(0, 2) * kBlock;
      o.size = kBlock;
      if (o.kind != HostOpKind::map && *rc::gen::arbitrary<bool>()) {
        o.ipa += *rc::gen::inRange<std::uint64_t>(0, 512) * kPage;
        o.size = kPage * *rc::gen::inRange<std::uint64_t>(1, 4);
        if (o.ipa + o.size > kLargeIpa + 2 * kBlock) o.size = kLargeIpa + 2 * kBlock - o.ipa;
      }
    } else {
      const std::uint64_t first = *rc::gen::inRange<std::uint64_t>(0, 32);
      o.ipa = kRamIpa + first * kPage;
      o.size = kPage * *rc::gen::inRange<std::uint64_t>(1, 33 - first > 8 ? 9 : 33 - first);
    }
    return o;
  });
}

rc::Gen<HostWorkload> host_workloads() {
  return rc::gen::exec([] {
    HostWorkload w;
    w.pes = *rc::gen::inRange(1u, 5u);
    w.ops.push_back(HostOp{HostOpKind::map, 0, kRamIpa, 16 * kPage, true});
    w.ops.push_back(HostOp{HostOpKind::map, 0, kLargeIpa, kBlock, true});
    const auto more =
        *rc::gen::container<std::vector<HostOp>>(*rc::gen::inRange<std::size_t>(2, 16), host_op(w.pes));
    w.ops.insert(w.ops.end(), more.begin(), more.end());
    return w;
  });
}

// Runs plans op by op on one PE; after every TLBI every other PE touches
// the guest VAs of the operation's IPAs (refilling whatever it finds);
// optionally drops the n-th TLBI or DSB of the whole operation.
class RefillingExecutor final : public Executor {
 public:
  RefillingExecutor(Machine& machine, unsigned pe, VirtAddr va, std::uint64_t size,
                    std::optional<unsigned> drop = std::nullopt)
      : machine_(machine), pe_(pe), va_(va), size_(size), drop_(drop) {}

  void execute(const Plan& plan) override {
    for (const arch::Op& o : plan.ops()) {
      const bool tlbi = arch::info(o.instr).category == arch::Category::tlbi;
      const bool droppable = tlbi || o.instr == Instr::dsb_ish || o.instr == Instr::dsb_ishst;
      if (droppable && drop_ && seen_++ == *drop_) {
        dropped_ = o;
        if (tlbi) tlbis_.push_back(arch::decode(o));
        continue;
      }
      if (tlbi) tlbis_.push_back(arch::decode(o));
      RC_ASSERT(machine_.issue(pe_, o).ok());
      if (!tlbi) continue;
      for (unsigned other = 0; other < machine_.pes(); ++other) {
        if (other == pe_) continue;
        for (VirtAddr a = va_; a < va_ + size_ && a < va_ + 8 * kPage; a += kPage) {
          (void)machine_.access(other, a, AccessKind::read);
        }
      }
    }
  }

  std::optional<arch::Op> dropped() const { return dropped_; }
  // Every TLBI of the operation's plans, the dropped one included.
  const std::vector<arch::DecodedOp>& tlbis() const { return tlbis_; }

 private:
  Machine& machine_;
  unsigned pe_;
  VirtAddr va_;
  std::uint64_t size_;
  std::optional<unsigned> drop_;
  unsigned seen_ = 0;
  std::optional<arch::Op> dropped_;
  std::vector<arch::DecodedOp> tlbis_;
};

// Whether using `e` now would be wrong where the guest can see it, by the
// table engine's own queries (not the machine's walker): a leaf whose
// input the tables no longer translate to the same place, or that grants a
// write the tables now refuse (stage 2 decides that here: the guest's own
// tables never change; a stale stage-2 write permission under a read-only
// guest page is invisible); a walk entry whose table page was freed.
bool wrong_now(Guest& g, const TlbEntry& e) {
  if (e.kind == CachedKind::walk) {
    const PhysAddr table = e.stage == EntryStage::combined ? e.table_pa : e.output;
    return g.memory.peek(table & ~(kPage - 1)) == nullptr;
  }
  VirtAddr ipa = e.input;
  bool guest_writes = true;
  if (e.stage == EntryStage::combined) {
    const Result<pt::Translation> s1 = g.s1.query(e.input);
    if (!s1.ok()) return true;
    ipa = s1->output;
  } else {
    // The guest VA that uses this stage-2 entry (none for the window).
    const Result<pt::Translation> s1 = g.s1.query(e.input + kVaShift);
    if (!s1.ok() || s1->output != e.input) return false;
    guest_writes = arch::s1::decode(s1->descriptor).access == arch::s1::Access::el1_rw;
  }
  const Result<pt::Translation> s2 = g.s2.query(ipa);
  if (!s2.ok() || s2->output != e.output) return true;
  const bool writable_now = arch::s2::decode(s2->descriptor).access == arch::s2::Access::rw;
  return guest_writes && (e.permissions & kEl1Write) != 0 && !writable_now;
}

struct HostRun {
  std::vector<Violation> violations;
  bool affected = false;  // the mutation left a wrong entry a TLBI of the operation targets cached
};

// Plays `w`; the operation `mutated` (if any) drops its `drop`-th TLBI or
// DSB and is the last one played.
HostRun play(const HostWorkload& w, std::optional<std::size_t> mutated = std::nullopt, unsigned drop = 0) {
  Guest g(w.pes, 0, arch::s2::Fwb::enabled);
  g.guest(0, g.planner, [&](maint::Gather& gather) {
    pt::MapOptions pages;
    pages.blocks = pt::BlockMappings::forbidden;
    RC_ASSERT(g.s1.map(kGuestVa, kRamIpa, 32 * kPage, s1_attrs(), gather).ok());
    RC_ASSERT(g.s1.map(kLargeIpa + kVaShift, kLargeIpa, kBlock, s1_attrs(), gather).ok());
    RC_ASSERT(g.s1.map(kLargeIpa + kBlock + kVaShift, kLargeIpa + kBlock, kBlock, s1_attrs(false), gather, pages)
                  .ok());
  });
  bool affected = false;
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    const HostOp& o = w.ops[i];
    const bool window = o.kind == HostOpKind::split_window;
    const bool mutate = mutated && *mutated == i;
    RefillingExecutor executor(g.machine, o.pe, window ? kGuestVa : o.ipa + kVaShift, window ? 8 * kPage : o.size,
                               mutate ? std::optional<unsigned>(drop) : std::nullopt);
    g.machine.begin_operation(o.pe, "host op " + std::to_string(i));
    {
      maint::Gather gather(host_space(), g.features, g.planner, executor, g.memory, &g.machine);
      const PhysAddr pa = kRamPa + (o.ipa - kRamIpa);
      switch (o.kind) {
        case HostOpKind::map: (void)g.s2.map(o.ipa, pa, o.size, g.attrs(o.writable), gather); break;
        case HostOpKind::unmap:
          if (g.s2.unmap(o.ipa, o.size, gather).ok()) RC_ASSERT(gather.free_after_flush(pa, o.size).ok());
          break;
        case HostOpKind::protect:
          (void)g.s2.protect(o.ipa, o.size, pt::AttributeChange::to(g.attrs(o.writable)), gather);
          break;
        case HostOpKind::split:
        case HostOpKind::split_window: (void)g.s2.split(o.ipa, o.size, 3, gather); break;
      }
    }
    g.machine.end_operation();
    if (mutate && executor.dropped()) {
      for (unsigned pe = 0; pe < w.pes; ++pe) {
        for (const TlbEntry& e : g.machine.entries(pe)) {
          if (!wrong_now(g, e)) continue;
          for (const arch::DecodedOp& t : executor.tlbis()) {
            if (tlbi_removes(t, TlbiContext{kVmid}, e)) affected = true;
          }
        }
      }
    }
    // Every PE uses what it holds and touches every page the guest maps
    // (the blocks at 16 points each).
    for (unsigned pe = 0; pe < w.pes; ++pe) {
      for (const TlbEntry& e : g.machine.entries(pe)) {
        if (e.kind != CachedKind::leaf) continue;
        if (e.stage == EntryStage::combined) (void)g.machine.access(pe, e.input, AccessKind::read);
        // A stage-2 leaf of guest RAM is used by a walk for its guest VA
        // (the window holds tables only: no guest VA maps it).
        if (e.stage == EntryStage::stage2 && e.input >= kRamIpa && e.input < kLargeIpa + 2 * kBlock) {
          (void)g.machine.access(pe, e.input + kVaShift, AccessKind::read);
        }
      }
      for (VirtAddr a = kGuestVa; a < kGuestVa + 32 * kPage; a += kPage) {
        (void)g.machine.access(pe, a, AccessKind::write);
      }
      for (VirtAddr a = kLargeIpa + kVaShift; a < kLargeIpa + kVaShift + 2 * kBlock; a += kBlock / 16) {
        (void)g.machine.access(pe, a, AccessKind::read);
      }
    }
    if (mutate) break;  // the mutated operation is the last one that matters
  }
  return HostRun{g.machine.violations(), affected};
}

RC_GTEST_PROP(PlannerOnTwoStages, RandomStage2WorkloadsUnderRunningGuestsGiveNoViolation, ()) {
  const HostWorkload w = *host_workloads();
  const HostRun run = play(w);
  if (!run.violations.empty()) RC_FAIL(run.violations.front().message);
}

RC_GTEST_PROP(PlannerOnTwoStages, DroppingAnyTlbiOrDsbIsCaughtWheneverItLeavesAWrongTargetedEntryCached, ()) {
  const HostWorkload w = *host_workloads();
  // Mutate an operation that needs maintenance (maps need none).
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    if (w.ops[i].kind != HostOpKind::map) candidates.push_back(i);
  }
  RC_PRE(!candidates.empty());
  const std::size_t mutated = *rc::gen::elementOf(candidates);
  const unsigned drop = *rc::gen::inRange(0u, 6u);
  const HostRun run = play(w, mutated, drop);
  RC_CLASSIFY(run.affected, "a wrong targeted entry was cached");
  if (run.affected) RC_ASSERT(!run.violations.empty());
}

}  // namespace
}  // namespace tlbkit::sim
