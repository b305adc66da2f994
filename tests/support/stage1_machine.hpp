// A two-PE simulated machine with one EL1&0 stage-1 address space, for the
// tests of the machine and its checkers (tests/sim/machine_test.cpp,
// machine_rules_test.cpp, known_bugs_test.cpp): simulated physical memory,
// a sim::Machine of two PEs (with the given options, weakenings included),
// a pt::Table at 39-bit VA with the 4 KiB granule (three levels, the root at
// level 1) written into that memory, ASID 5, and the planner; both PEs have
// entered the space. kVa = 1 GiB: level-1 index 1, level-2 index 0, level-3
// index 0, so the walk entries for it (level 1 and 2) and its page all
// start at kVa.
//
// Header-only: it needs tlbkit_sim, which tlbkit_testsupport does not link.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "support/forgetful_policy.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/sim/machine.hpp"

namespace tlbkit::test {

inline constexpr std::uint64_t kPage = 0x1000;
inline constexpr sim::VirtAddr kVa = 0x4000'0000;
inline constexpr sim::PhysAddr kData = 0x40'0000'0000;
inline constexpr std::uint16_t kAsid = 5;

inline arch::Op op(arch::Instr i) { return *arch::make_op(i); }

inline arch::Geometry geometry39() { return *arch::Geometry::stage1(arch::Granule::k4K, 39); }

// An EL1&0 stage-1 table at geometry39() in `memory`.
inline pt::Table make_stage1_table(pt::TableMemory& memory) {
  return std::move(pt::Table::create(arch::Regime::el1_stage1, geometry39(), memory)).value();
}

// Kernel memory: EL1 read/write, of `scope`.
inline arch::s1::Attributes el1_rw(arch::s1::Scope scope = arch::s1::Scope::non_global) {
  arch::s1::Attributes a;
  a.scope = scope;  // access: EL1 read/write
  return a;
}

// User memory: EL0 read/write (EL1 is kept out by PAN in the model),
// non-global (ASID-tagged).
inline arch::s1::Attributes user_rw() {
  arch::s1::Attributes a;
  a.scope = arch::s1::Scope::non_global;
  a.access = arch::s1::Access::all_rw;
  return a;
}

// Puts `pe` in the space whose stage-1 root is `root` (ASID kAsid), with
// VMID `vmid`.
inline void enter_stage1(sim::Machine& machine, unsigned pe, sim::PhysAddr root, std::uint16_t vmid = 0) {
  sim::PeContext ctx;
  ctx.asid = kAsid;
  ctx.vmid = vmid;
  ctx.stage1 = geometry39();
  ctx.stage1_root = root;
  EXPECT_TRUE(machine.set_context(pe, ctx).ok());
}

// What map() maps and at which privilege read() reads it.
enum class Pages : std::uint8_t {
  kernel,  // el1_rw(), read at EL1
  user,    // user_rw(), read at EL0
};

struct Stage1Setup {
  sim::MachineOptions options{};          // on the mobile-8 profile; options.pes is always 2
  std::array<std::uint16_t, 2> vmids{};  // PE 0's VMID, PE 1's
  Pages pages = Pages::kernel;
};

class Stage1Machine {
 public:
  explicit Stage1Machine(Stage1Setup setup = {})
      : machine(memory, *sim::find_profile("mobile-8"), two_pes(setup.options)), pages_(setup.pages) {
    enter_stage1(machine, 0, table.root(), setup.vmids[0]);
    enter_stage1(machine, 1, table.root(), setup.vmids[1]);
  }
  Stage1Machine(const Stage1Machine&) = delete;
  Stage1Machine& operator=(const Stage1Machine&) = delete;

  // Maps [va, va + size) -> pa on PE 0 with the planner (a map needs no
  // TLBI), with `attributes` (by default the setup's pages).
  void map(sim::VirtAddr va, sim::PhysAddr pa, std::uint64_t size,
           std::optional<arch::s1::Attributes> attributes = std::nullopt) {
    machine.begin_operation(0, "map");
    {
      maint::Gather gather(space, features, planner, machine.executor(0), memory, &machine);
      EXPECT_TRUE(table.map(va, pa, size, attributes ? *attributes : pages_attributes(), gather).ok());
    }
    machine.end_operation();
  }

  // Maps `pages` pages at kVa -> kData, of `scope` (the setup's pages,
  // with that scope).
  void map(std::uint64_t pages, arch::s1::Scope scope = arch::s1::Scope::non_global) {
    arch::s1::Attributes a = pages_attributes();
    a.scope = scope;
    map(kVa, kData, pages * kPage, a);
  }

  // In the operation running on PE 0: unmaps [va, va + size) through a
  // Gather that plans with `policy` and runs the plans on `executor` (PE
  // 0's own when null); data memory in `release` is handed back through the
  // Gather once its flush ran. The Gather finishes before this returns.
  void unmap_in_operation(sim::VirtAddr va, std::uint64_t size, const maint::Policy& policy,
                          Executor* executor = nullptr,
                          std::optional<maint::PhysRange> release = std::nullopt) {
    maint::Gather gather(space, features, policy, executor ? *executor : machine.executor(0), memory, &machine);
    EXPECT_TRUE(table.unmap(va, size, gather).ok());
    if (release) {
      EXPECT_TRUE(gather.free_after_flush(release->pa, release->size).ok());
    }
  }

  // As unmap_in_operation(), in an operation of its own on PE 0.
  void unmap(sim::VirtAddr va, std::uint64_t size, const maint::Policy& policy, Executor* executor = nullptr,
             std::optional<maint::PhysRange> release = std::nullopt) {
    machine.begin_operation(0, "unmap");
    unmap_in_operation(va, size, policy, executor, release);
    machine.end_operation();
  }

  // A read by `pe` of `va`, at the setup's privilege (EL1 for kernel
  // pages, EL0 for user pages) or at `privilege`.
  sim::Access read(unsigned pe, sim::VirtAddr va = kVa) { return read(pe, va, pages_privilege()); }
  sim::Access read(unsigned pe, sim::VirtAddr va, sim::Privilege privilege) {
    const Result<sim::Access> a = machine.access(pe, va, sim::AccessKind::read, privilege);
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : sim::Access{};
  }

  void issue(unsigned pe, const arch::Op& o) { EXPECT_TRUE(machine.issue(pe, o).ok()); }

  sim::PhysicalMemory memory;
  sim::Machine machine;
  pt::Table table = make_stage1_table(memory);
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
  ForgetfulPolicy forgetful;  // plans nothing: every invalidation is forgotten

 private:
  static sim::MachineOptions two_pes(sim::MachineOptions options) {
    options.pes = 2;
    return options;
  }
  arch::s1::Attributes pages_attributes() const { return pages_ == Pages::user ? user_rw() : el1_rw(); }
  sim::Privilege pages_privilege() const {
    return pages_ == Pages::user ? sim::Privilege::el0 : sim::Privilege::el1;
  }

  Pages pages_;
};

// ---- What the machine found ----------------------------------------------------------

// The machine's violations, one a line (" none" when there are none).
inline std::string list(const sim::Machine& machine) {
  std::string out;
  for (const sim::Violation& v : machine.violations()) {
    out += std::string("\n  ") + sim::violation_kind_name(v.kind) + " (PE " + std::to_string(v.pe) +
           "): " + v.message;
  }
  return out.empty() ? " none" : out;
}

inline ::testing::AssertionResult no_violation(const sim::Machine& machine) {
  if (machine.violations().empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "violations:" << list(machine);
}

// The machine's first violation is of `kind`, on `pe`, for input address `va`.
inline ::testing::AssertionResult first_violation_is(const sim::Machine& machine, sim::ViolationKind kind,
                                                     unsigned pe, sim::VirtAddr va) {
  if (machine.violations().empty()) return ::testing::AssertionFailure() << "no violation found";
  const sim::Violation& v = machine.violations().front();
  if (v.kind != kind || v.pe != pe || v.va != va) {
    return ::testing::AssertionFailure() << "expected " << sim::violation_kind_name(kind) << " on PE " << pe
                                         << " at 0x" << std::hex << va << "; found:" << list(machine);
  }
  return ::testing::AssertionSuccess();
}

// As first_violation_is(stale_translation), by a cached translation to
// `output`, where the tables now map nothing.
inline ::testing::AssertionResult first_violation_is_stale(const sim::Machine& machine, unsigned pe,
                                                           sim::VirtAddr va, sim::PhysAddr output) {
  const ::testing::AssertionResult r = first_violation_is(machine, sim::ViolationKind::stale_translation, pe, va);
  if (!r) return r;
  const sim::Violation& v = machine.violations().front();
  if (!v.stale || v.stale->output != output || v.current) {
    return ::testing::AssertionFailure() << "the stale translation is not one to 0x" << std::hex << output
                                         << " of an address the tables no longer map:" << list(machine);
  }
  return ::testing::AssertionSuccess();
}

// As first_violation_is(use_after_free), and the entry at fault still
// references `page` (a walk entry pointing at it, or a translation to it).
inline ::testing::AssertionResult first_violation_is_use_after_free(const sim::Machine& machine, unsigned pe,
                                                                    sim::VirtAddr va, sim::PhysAddr page,
                                                                    sim::CachedKind entry) {
  const ::testing::AssertionResult r = first_violation_is(machine, sim::ViolationKind::use_after_free, pe, va);
  if (!r) return r;
  const sim::Violation& v = machine.violations().front();
  if (!v.stale || v.stale->output != page || v.stale->kind != entry) {
    return ::testing::AssertionFailure() << "the use-after-free does not name page 0x" << std::hex << page
                                         << " through a " << (entry == sim::CachedKind::walk ? "walk" : "leaf")
                                         << " entry:" << list(machine);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace tlbkit::test
