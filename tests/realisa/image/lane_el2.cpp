// The EL2 lane: stage 2 under a VMID, edited by the host at EL2 while a
// guest at EL1 (its own stage 1 off, so its addresses are IPAs) reads and
// writes through it. Every access is one guest run: the host enters the
// guest at a probe stub and the guest leaves by HVC (done) or by a
// stage-2 fault.
#include "lanes.hpp"

#include "sysreg.hpp"
#include "trap.hpp"

namespace realisa {
namespace {

namespace s2 = tlbkit::arch::s2;
using tlbkit::arch::Presence;
using tlbkit::arch::Regime;
using tlbkit::maint::Gather;
using tlbkit::pt::Table;

constexpr VirtAddr kIpaWindow = 0x8000000000;  // 512 GiB: in the second concatenated level-1 table
constexpr std::uint16_t kVmid = 5;
constexpr std::uint64_t kGuestSpsr = 0x3c5;  // EL1h, DAIF masked

constexpr std::uint64_t kHcrVm = 1, kHcrRw = 1ull << 31, kHcrFwb = 1ull << 46;

// VTCR_EL2: 40-bit IPA (T0SZ 24), start at level 1 (SL0 1) with two
// concatenated tables, 4 KiB granule, inner-shareable write-back walks,
// PS 40 bits, 16-bit VMIDs when the CPU has them; bit 31 is RES1.
std::uint64_t vtcr(const tlbkit::arch::CpuFeatures& f) {
  return 24 | (1ull << 6) | (1ull << 8) | (1ull << 10) | (3ull << 12) | (2ull << 16) |
         (f.vmid_bits == 16 ? (1ull << 19) : 0) | (1ull << 31);
}

// Accesses made by the guest: each enters it at a stub with the IPA in x1.
class GuestProber final : public Prober {
 public:
  ProbeResult read(VirtAddr ipa) const override { return run(&realisa_guest_read, ipa, 0); }
  ProbeResult write(VirtAddr ipa, std::uint64_t value) const override {
    return run(&realisa_guest_write, ipa, value);
  }
  // The guest runs with its stage 1 off: no scenario of this lane fetches.
  ProbeResult fetch(VirtAddr) const override { return {0, 1}; }

 private:
  static ProbeResult run(void (*stub)(), VirtAddr ipa, std::uint64_t value) {
    TrapFrame guest{};
    guest.x[1] = ipa;
    guest.x[2] = value;
    guest.elr = reinterpret_cast<std::uint64_t>(stub);
    guest.spsr = kGuestSpsr;
    const std::uint64_t esr = realisa_enter_guest(&guest);
    switch (exception_class(esr)) {
      case kEcHvc64: return {guest.x[0], 0};
      case kEcDataAbortLower: return {esr, 1};
      default:
        console::print("FATAL: guest exit esr ");
        console::print_hex(esr);
        console::print(" at ");
        console::print_hex(guest.elr);
        console::print("\n");
        console::exit(70);
    }
  }
};

s2::Attributes guest_memory(s2::Access access, s2::Fwb fwb) {
  return {.memattr = s2::encode_memory_type(s2::MemoryType::normal_write_back, fwb).value(),
          .access = access,
          .execute = s2::Execute::none};
}

struct Vm {
  Space space;
  s2::Fwb fwb;
};

constexpr Teeth kCatches{true, {}};
constexpr Teeth kMapOnly{false, "a map replaces no valid entry: there is nothing stale to keep (QEMU caches no faults)"};

Tally map_pages(Env& env, Vm& vm) {
  Window w(kIpaWindow, 8);
  Tally t;
  map_fresh(env, vm.space, w, guest_memory(s2::Access::rw, vm.fwb), t);
  return t;
}

// A window of `pages` pages mapped at stage 2 (checked), then pages
// [first, first + count) unmapped.
Tally unmap_range(Env& env, Vm& vm, unsigned pages, unsigned first, unsigned count, std::uint64_t align = kPage) {
  Window w(kIpaWindow, pages);
  Tally t;
  map_fresh(env, vm.space, w, guest_memory(s2::Access::rw, vm.fwb), t, align);
  t += unmap_pages(env, vm.space, w, first, count);
  return t;
}

Tally unmap_page(Env& env, Vm& vm) { return unmap_range(env, vm, 8, 2, 1); }
Tally unmap_40_pages(Env& env, Vm& vm) { return unmap_range(env, vm, 64, 8, 40); }
Tally unmap_block(Env& env, Vm& vm) { return unmap_range(env, vm, 512, 0, 512, kBlock); }
// The block is split (break-before-make) to unmap one page of it.
Tally unmap_page_in_block(Env& env, Vm& vm) { return unmap_range(env, vm, 512, 300, 1, kBlock); }

Tally split_then_unmap(Env& env, Vm& vm) {
  Window w(kIpaWindow, 512);
  Tally t;
  map_fresh(env, vm.space, w, guest_memory(s2::Access::rw, vm.fwb), t, kBlock);
  t += split_block(env, vm.space, w);
  t += unmap_pages(env, vm.space, w, 9, 1);
  return t;
}

Tally protect_read_only(Env& env, Vm& vm) {
  Window w(kIpaWindow, 8);
  Tally t;
  map_fresh(env, vm.space, w, guest_memory(s2::Access::rw, vm.fwb), t);
  t += make_read_only(env, vm.space, w, 1, 3, guest_memory(s2::Access::ro, vm.fwb));
  return t;
}

Tally remap(Env& env, Vm& vm) {
  Window w(kIpaWindow, 8);
  Tally t;
  map_fresh(env, vm.space, w, guest_memory(s2::Access::rw, vm.fwb), t);
  t += remap_fresh(env, vm.space, w, guest_memory(s2::Access::rw, vm.fwb));
  return t;
}

struct Scenario {
  std::string_view name;
  Tally (*run)(Env&, Vm&);
  Teeth drop_tlbi;
};

constexpr Scenario kScenarios[] = {
    {"s2-map-pages", map_pages, kMapOnly},
    {"s2-unmap-page", unmap_page, kCatches},
    {"s2-unmap-40-pages", unmap_40_pages, kCatches},
    {"s2-unmap-block", unmap_block, kCatches},
    {"s2-unmap-page-in-block", unmap_page_in_block, kCatches},
    {"s2-split-then-unmap", split_then_unmap, kCatches},
    {"s2-protect-read-only", protect_read_only, kCatches},
    {"s2-remap", remap, kCatches},
};

// Whether HCR_EL2.FWB may be set (ID_AA64MMFR2_EL1.FWB).
bool cpu_has_fwb() { return ((sysreg::read_id_aa64mmfr2_el1() >> 40) & 0xf) != 0; }

void enable_el2(Env& env) {
  static bool done = false;
  if (done) return;
  static Table host = new_table(Regime::el2_stage1, va48_geometry());
  enable_el2_mmu(host.root());
  sysreg::write_vtcr_el2(vtcr(env.features));
  sysreg::write_sctlr_el1(0x30d00800);  // the guest's: RES1 bits, MMU and caches off
  done = true;
}

}  // namespace

unsigned run_el2_lane(Env& env, const ScenarioFilter& filter) {
  if (sysreg::current_el() != 2) {
    console::print("FATAL: the el2 lane needs EL2 (-M virt,virtualization=on)\n");
    console::exit(70);
  }
  static const GuestProber guest;
  static const ProberObservers observers(guest);
  env.observers = &observers;
  env.features.fwb = cpu_has_fwb() ? Presence::present : Presence::absent;
  enable_el2(env);
  sysreg::write_hcr_el2(kHcrVm | kHcrRw | (env.features.fwb == Presence::present ? kHcrFwb : 0));
  sysreg::isb();
  const auto geometry = tlbkit::arch::Geometry::from_vtcr(vtcr(env.features)).value();
  const s2::Fwb fwb = env.features.fwb == Presence::present ? s2::Fwb::enabled : s2::Fwb::disabled;
  unsigned failures = 0;
  for (const Scenario& scenario : kScenarios) {
    if (!filter.selects(scenario.name)) continue;
    auto created = Table::create(Regime::stage2, geometry, table_memory(), {.bbm = env.features.bbm, .fwb = fwb});
    must(created.ok() ? tlbkit::ok_status() : tlbkit::Status(created.error()), "stage-2 table");
    must(map_harness(created.value(), fwb), "map the harness at stage 2");
    tlbkit::maint::AddressSpace space;
    space.regime = Regime::stage2;
    space.vmid = kVmid;
    Vm vm{{static_cast<Table&&>(created.value()), space}, fwb};
    sysreg::write_vttbr_el2(vm.space.table.root() | (std::uint64_t{kVmid} << 48));
    sysreg::isb();
    (void)env.executor->take_counts();
    const Tally t = scenario.run(env, vm);
    // The harness's own clean-up: every entry of every VMID.
    __asm__ volatile("dsb ishst\n tlbi alle1is\n dsb ish\n isb" : : : "memory");
    release_now(vm.space.table);
    free_all_frames();
    failures += report("el2", env, scenario.name, t, teeth_of(env, scenario.drop_tlbi));
  }
  return failures;
}

}  // namespace realisa
