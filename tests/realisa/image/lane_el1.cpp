// The stage-1 scenarios: the EL1&0 regime, two address spaces under two
// ASIDs, every scenario run through one policy's plans on the real MMU.
// The EL1 lane runs them on one PE; the SMP lane with the changes made on
// PE 0 and every access made by the others (lane_smp.cpp).
#include "stage1_scenarios.hpp"

#include "sysreg.hpp"
#include "trap.hpp"

namespace realisa {
namespace {

namespace s1 = tlbkit::arch::s1;
using tlbkit::arch::Execute;
using tlbkit::arch::Regime;
using tlbkit::maint::Gather;
using tlbkit::pt::Table;

// Where the kernel scenarios map: global entries, far from the identity map
// and the user window.
constexpr VirtAddr kKernelWindow = 0x2000000000;  // 128 GiB
constexpr std::uint16_t kAsidA = 1;
constexpr std::uint16_t kAsidB = 2;

s1::Attributes user(s1::Access access, Execute execute = Execute::never) { return user_attributes(access, execute); }
s1::Attributes kernel_rw() { return {.mair_index = kMairNormal, .access = s1::Access::el1_rw}; }

// The two address spaces a scenario edits; A is loaded when it starts.
struct Spaces {
  Space a;
  Space b;
};

// Writes "movz x0, #(frame_word(pa) & 0xffff); ret" at pa through the
// identity map, cleaned to the point of unification (the kernel's part of
// making code; the I-cache is the plan's).
void write_code(PhysAddr pa) {
  const auto imm = static_cast<std::uint32_t>(frame_word(pa) & 0xffff);
  auto* code = reinterpret_cast<volatile std::uint32_t*>(pa);
  code[0] = 0xd2800000u | (imm << 5);
  code[1] = 0xd65f03c0u;
  __asm__ volatile("dc cvau, %0\n dsb ish" : : "r"(pa) : "memory");
}

// ---- scenarios -----------------------------------------------------------

constexpr Teeth kCatches{true, {}};
constexpr Teeth kMapOnly{false, "a map replaces no valid entry: there is nothing stale to keep (QEMU caches no faults)"};
constexpr Teeth kSameTranslation{false, "the translation before and after is the same: a stale entry reads the same data"};
constexpr Teeth kAsidChange{false, "QEMU flushes its whole TLB when TTBR0's ASID changes, so no entry of the other space survives"};

s1::Attributes user_rw() { return user(s1::Access::el1_rw); }

Tally map_pages(Env& env, Spaces& s) {
  Window w(kUserWindow, 8);
  Tally t;
  map_fresh(env, s.a, w, user_rw(), t);
  return t;
}

// A window of `pages` pages mapped in A (checked), then pages [first,
// first + count) unmapped.
Tally unmap_range(Env& env, Spaces& s, unsigned pages, unsigned first, unsigned count, std::uint64_t align = kPage) {
  Window w(kUserWindow, pages);
  Tally t;
  map_fresh(env, s.a, w, user_rw(), t, align);
  t += unmap_pages(env, s.a, w, first, count);
  return t;
}

Tally unmap_page(Env& env, Spaces& s) { return unmap_range(env, s, 8, 3, 1); }
Tally unmap_40_pages(Env& env, Spaces& s) { return unmap_range(env, s, 64, 8, 40); }
Tally unmap_600_pages(Env& env, Spaces& s) { return unmap_range(env, s, 640, 20, 600); }
Tally unmap_block(Env& env, Spaces& s) { return unmap_range(env, s, 512, 0, 512, kBlock); }
// The block is split (break-before-make) to unmap one page of it.
Tally unmap_page_in_block(Env& env, Spaces& s) { return unmap_range(env, s, 512, 100, 1, kBlock); }

Tally split_then_unmap(Env& env, Spaces& s) {
  Window w(kUserWindow, 512);
  Tally t;
  map_fresh(env, s.a, w, user_rw(), t, kBlock);
  t += split_block(env, s.a, w);
  t += unmap_pages(env, s.a, w, 7, 1);
  return t;
}

Tally promote(Env& env, Spaces& s) {
  Window w(kUserWindow, 512);
  Tally t;
  const PhysAddr f = allocate_frames(kBlock, kBlock);
  t += step(
      env, s.a, w, Accesses::reads,
      [&](Table& table, Gather& g) {
        return table.map(w.base(), f, kBlock, user_rw(), g,
                         {.blocks = tlbkit::pt::BlockMappings::forbidden});
      },
      [&] { w.expect_mapped(0, 512, f, true); });
  t += step(
      env, s.a, w, Accesses::reads, [&](Table& table, Gather& g) { return table.promote(w.base(), 2, g); }, [] {});
  return t;
}

Tally protect_read_only(Env& env, Spaces& s) {
  Window w(kUserWindow, 8);
  Tally t;
  map_fresh(env, s.a, w, user_rw(), t);
  t += make_read_only(env, s.a, w, 2, 4, user(s1::Access::el1_ro));
  return t;
}

Tally remap(Env& env, Spaces& s) {
  Window w(kUserWindow, 8);
  Tally t;
  map_fresh(env, s.a, w, user_rw(), t);
  t += remap_fresh(env, s.a, w, user_rw());
  return t;
}

// A maps the window to one set of frames, B to another; the check runs in
// each space after loading it.
Tally asid_switch(Env& env, Spaces& s) {
  Window wa(kUserWindow, 8);
  Window wb(kUserWindow, 8);
  Tally t;
  map_fresh(env, s.a, wa, user_rw(), t);
  const PhysAddr fb = allocate_frames(8 * kPage, kPage);
  change(env, s.b, [&](Table& table, Gather& g) { return table.map(wb.base(), fb, 8 * kPage, user_rw(), g); });
  wb.expect_mapped(0, 8, fb, true);
  wa.snapshot();
  wb.snapshot();
  env.observers->warm(wa, Accesses::reads);
  switch_el1_space(s.b.table.root(), kAsidB);
  t += env.observers->check(wb, Accesses::reads);
  switch_el1_space(s.a.table.root(), kAsidA);
  t += env.observers->check(wa, Accesses::reads);
  return t;
}

// A's pages are unmapped while B is loaded (the plan names ASID A); A is
// loaded again and checked.
Tally unmap_other_asid(Env& env, Spaces& s) {
  Window w(kUserWindow, 8);
  Tally t;
  map_fresh(env, s.a, w, user_rw(), t);
  w.snapshot();
  w.expect_unmapped(2, 3);
  env.observers->warm(w, Accesses::reads);
  switch_el1_space(s.b.table.root(), kAsidB);
  change(env, s.a, [&](Table& table, Gather& g) { return table.unmap(w.va(2), 3 * kPage, g); });
  switch_el1_space(s.a.table.root(), kAsidA);
  t += env.observers->check(w, Accesses::reads);
  return t;
}

Tally global_unmap(Env& env, Spaces& s) {
  Window w(kKernelWindow, 8);
  Tally t;
  const PhysAddr f = allocate_frames(8 * kPage, kPage);
  s.a.address_space.global = tlbkit::maint::GlobalEntries::present;
  t += step(
      env, s.a, w, Accesses::reads_and_writes,
      [&](Table& table, Gather& g) { return table.map(w.base(), f, 8 * kPage, kernel_rw(), g); },
      [&] { w.expect_mapped(0, 8, f, true); });
  t += step(
      env, s.a, w, Accesses::reads, [&](Table& table, Gather& g) { return table.unmap(w.va(4), 2 * kPage, g); },
      [&] { w.expect_unmapped(4, 2); });
  return t;
}

// JIT W^X: write code into a writable, non-executable page; make it
// executable (fetches must run it); make it writable and non-executable
// again (fetches must fault); write new code; executable again (fetches
// must run the new code).
Tally jit_wx(Env& env, Spaces& s) {
  Window w(kUserWindow, 1);
  Tally t;
  const PhysAddr f = allocate_frames(kPage, kPage);
  change(env, s.a, [&](Table& table, Gather& g) { return table.map(w.base(), f, kPage, user(s1::Access::el1_rw), g); });
  w.expect_mapped(0, 1, f, true);
  write_code(f);
  const auto to_rx = tlbkit::pt::AttributeChange::to(user(s1::Access::el1_ro, Execute::allowed));
  const auto to_rw = tlbkit::pt::AttributeChange::to(user(s1::Access::el1_rw));
  t += step(
      env, s.a, w, Accesses::fetches, [&](Table& table, Gather& g) { return table.protect(w.base(), kPage, to_rx, g); },
      [&] { w.expect_executable(0, 1, true); });
  t += step(
      env, s.a, w, Accesses::fetches, [&](Table& table, Gather& g) { return table.protect(w.base(), kPage, to_rw, g); },
      [&] { w.expect_executable(0, 1, false); });
  write_code(f);
  t += step(
      env, s.a, w, Accesses::fetches, [&](Table& table, Gather& g) { return table.protect(w.base(), kPage, to_rx, g); },
      [&] { w.expect_executable(0, 1, true); });
  return t;
}

// Where a scenario can run: anywhere, or only where the PE that loads the
// spaces is the PE that accesses them (it switches ASIDs itself).
enum class Observed : std::uint8_t { anywhere, by_the_switching_pe };

struct Scenario {
  std::string_view name;
  Tally (*run)(Env&, Spaces&);
  tlbkit::baselines::Manages needs;
  Teeth drop_tlbi;
  Observed observed = Observed::anywhere;
};

using tlbkit::baselines::Manages;
constexpr Scenario kScenarios[] = {
    {"map-pages", map_pages, Manages::process_stage1, kMapOnly},
    {"unmap-page", unmap_page, Manages::process_stage1, kCatches},
    {"unmap-40-pages", unmap_40_pages, Manages::process_stage1, kCatches},
    {"unmap-600-pages", unmap_600_pages, Manages::process_stage1, kCatches},
    {"unmap-block", unmap_block, Manages::process_stage1, kCatches},
    {"unmap-page-in-block", unmap_page_in_block, Manages::process_stage1, kCatches},
    {"split-then-unmap", split_then_unmap, Manages::process_stage1, kCatches},
    {"promote", promote, Manages::process_stage1, kSameTranslation},
    {"protect-read-only", protect_read_only, Manages::process_stage1, kCatches},
    {"remap", remap, Manages::process_stage1, kCatches},
    {"asid-switch", asid_switch, Manages::process_stage1, kAsidChange, Observed::by_the_switching_pe},
    {"unmap-other-asid", unmap_other_asid, Manages::process_stage1, kAsidChange, Observed::by_the_switching_pe},
    {"global-unmap", global_unmap, Manages::kernel_stage1, kCatches},
    {"jit-wx", jit_wx, Manages::process_stage1, kCatches},
};

}  // namespace

s1::Attributes user_attributes(s1::Access access, Execute execute) {
  return {.mair_index = kMairNormal, .access = access, .el1_execute = execute, .scope = s1::Scope::non_global};
}

tlbkit::maint::AddressSpace user_space(std::uint16_t asid) {
  tlbkit::maint::AddressSpace space;
  space.regime = Regime::el1_stage1;
  space.asid = asid;
  return space;
}

PhysAddr stage1_harness_root() {
  static Table harness = new_table(Regime::el1_stage1, va48_geometry());
  return harness.root();
}

void return_to_harness(const Stage1Lane& lane) {
  lane.load_space(stage1_harness_root(), kAsidHarness);
  __asm__ volatile("dsb ishst\n tlbi vmalle1is\n dsb ish\n ic ialluis\n dsb ish\n isb" : : : "memory");
  free_all_frames();
}

unsigned run_stage1_scenarios(Env& env, const ScenarioFilter& filter, const Stage1Lane& lane) {
  env.observers = lane.observers;
  unsigned failures = 0;
  for (const Scenario& scenario : kScenarios) {
    if (!filter.selects(scenario.name) || !tlbkit::baselines::covers(env.policy->manages, scenario.needs)) continue;
    if (lane.multi_pe && scenario.observed == Observed::by_the_switching_pe) continue;
    // The engine uses the CPU's FEAT_BBM level: with level 2 a split or a
    // promotion replaces the entry without the invalid step.
    const tlbkit::pt::TableOptions options{.bbm = env.features.bbm};
    Spaces s{{new_table(Regime::el1_stage1, va48_geometry(), options), user_space(kAsidA)},
             {new_table(Regime::el1_stage1, va48_geometry(), options), user_space(kAsidB)}};
    lane.load_space(s.a.table.root(), kAsidA);
    (void)env.executor->take_counts();
    const Tally t = scenario.run(env, s);
    return_to_harness(lane);
    release_now(s.a.table);
    release_now(s.b.table);
    failures += report(lane.name, env, scenario.name, t, teeth_of(env, scenario.drop_tlbi));
  }
  return failures;
}

unsigned run_el1_lane(Env& env, const ScenarioFilter& filter) {
  static const LocalProber local;
  static const ProberObservers observers(local);
  static bool mmu_on = false;
  if (!mmu_on) {
    enable_el1_mmu(stage1_harness_root(), kAsidHarness, env.features);
    mmu_on = true;
  }
  return run_stage1_scenarios(env, filter, {"el1", &observers, &switch_el1_space, false});
}

}  // namespace realisa
