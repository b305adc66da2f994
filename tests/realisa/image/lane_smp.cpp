// The SMP lane: every PE runs at EL1 with the MMU on over the same tables.
// PE 0 makes every change and runs every plan; the other PEs (readers)
// make every access: each checks the whole window when asked, and in the
// spin scenarios each reads one page in a loop while PE 0 changes it and
// must see the change once PE 0 says its plan is complete. What carries
// the change to the readers is the plan's broadcast TLBIs and their
// completion by DSB on the issuing PE.
#include <atomic>

#include "stage1_scenarios.hpp"
#include "sysreg.hpp"
#include "trap.hpp"

namespace realisa {
namespace {

namespace s1 = tlbkit::arch::s1;
using tlbkit::arch::Regime;
using tlbkit::maint::Gather;
using tlbkit::pt::Table;

constexpr unsigned kMaxPes = 4;
constexpr VirtAddr kSpinPage = kUserWindow;
constexpr std::uint16_t kSpinAsid = 1;

enum class Command : std::uint32_t { load_space, warm, check, spin };

// PE 0 writes a command's fields, then `posted` (release); the reader runs
// it, writes its results, then `finished` (release).
struct alignas(64) Mailbox {
  std::atomic<std::uint32_t> posted{0};
  std::atomic<std::uint32_t> finished{0};
  Command command = Command::load_space;
  PhysAddr root = 0;
  std::uint16_t asid = 0;
  const Window* window = nullptr;
  Accesses accesses = Accesses::reads;
  Tally tally;
  // Spin: reads of `va` made so far, and the first read made after the
  // reader saw g_plan_complete.
  VirtAddr va = 0;
  std::atomic<std::uint64_t> spins{0};
  ProbeResult after_plan{0, 0};
};

Mailbox g_mail[kMaxPes];
std::atomic<std::uint32_t> g_online{0};
std::atomic<std::uint32_t> g_plan_complete{0};
tlbkit::arch::CpuFeatures g_features;
unsigned g_pes = 1;

// ---- the reader's side (PEs 1..n-1) ----------------------------------------

void spin_on(Mailbox& m) {
  for (;;) {
    const bool complete = g_plan_complete.load(std::memory_order_acquire) != 0;
    const ProbeResult r = realisa_probe_read(m.va);
    if (complete) {
      m.after_plan = r;
      return;
    }
    m.spins.fetch_add(1, std::memory_order_release);
  }
}

void serve(Mailbox& m, std::uint32_t seq) {
  static const LocalProber local;
  switch (m.command) {
    case Command::load_space: switch_el1_space(m.root, m.asid); break;
    case Command::warm: m.window->warm(local, m.accesses); break;
    case Command::check: m.tally = m.window->check(local, m.accesses); break;
    case Command::spin: spin_on(m); break;
  }
  m.finished.store(seq, std::memory_order_release);
}

// ---- PE 0's side ------------------------------------------------------------

template <class Fill>
void post_all(Fill fill) {
  for (unsigned pe = 1; pe < g_pes; ++pe) {
    Mailbox& m = g_mail[pe];
    fill(m);
    m.posted.store(m.posted.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
}

void wait_all() {
  for (unsigned pe = 1; pe < g_pes; ++pe) {
    Mailbox& m = g_mail[pe];
    const std::uint32_t seq = m.posted.load(std::memory_order_relaxed);
    while (m.finished.load(std::memory_order_acquire) != seq) {
    }
  }
}

void load_space_everywhere(PhysAddr root, std::uint16_t asid) {
  switch_el1_space(root, asid);
  post_all([&](Mailbox& m) {
    m.command = Command::load_space;
    m.root = root;
    m.asid = asid;
  });
  wait_all();
}

// Every reader runs `command` (warm or check) on the whole window; returns
// the sum of what their checks found.
Tally on_every_reader(Command command, const Window& w, Accesses accesses) {
  post_all([&](Mailbox& m) {
    m.command = command;
    m.window = &w;
    m.accesses = accesses;
    m.tally = {};
  });
  wait_all();
  Tally sum;
  for (unsigned pe = 1; pe < g_pes; ++pe) sum += g_mail[pe].tally;
  return sum;
}

class ReaderObservers final : public Observers {
 public:
  void warm(const Window& w, Accesses accesses) const override { (void)on_every_reader(Command::warm, w, accesses); }
  Tally check(const Window& w, Accesses accesses) const override {
    return on_every_reader(Command::check, w, accesses);
  }
};

const Stage1Lane& smp_lane() {
  static const ReaderObservers readers;
  static const Stage1Lane lane{"smp", &readers, &load_space_everywhere, true};
  return lane;
}

// ---- the spin scenarios --------------------------------------------------------

enum class SpinChange : std::uint8_t { remap, unmap };

// Maps the page to frame F1; the readers spin reading it; PE 0 remaps it
// to F2 (or unmaps it), runs the plan, then raises g_plan_complete. Every
// reader's first read after it saw the flag must show F2 (or fault).
Tally spin(Env& env, SpinChange kind) {
  const s1::Attributes user_rw = user_attributes(s1::Access::el1_rw);
  Space space{new_table(Regime::el1_stage1, va48_geometry()), user_space(kSpinAsid)};
  load_space_everywhere(space.table.root(), kSpinAsid);
  const PhysAddr f1 = allocate_frames(kPage, kPage);
  const PhysAddr f2 = allocate_frames(kPage, kPage);
  change(env, space, [&](Table& t, Gather& g) { return t.map(kSpinPage, f1, kPage, user_rw, g); });
  g_plan_complete.store(0, std::memory_order_release);
  post_all([&](Mailbox& m) {
    m.command = Command::spin;
    m.va = kSpinPage;
    m.spins.store(0, std::memory_order_relaxed);
  });
  // Every reader has read the page (so its TLB holds it) before the change.
  for (unsigned pe = 1; pe < g_pes; ++pe) {
    while (g_mail[pe].spins.load(std::memory_order_acquire) < 16) {
    }
  }
  change(env, space, [&](Table& t, Gather& g) -> tlbkit::Status {
    if (auto r = t.unmap(kSpinPage, kPage, g); !r.ok()) return r;
    return kind == SpinChange::remap ? t.map(kSpinPage, f2, kPage, user_rw, g) : tlbkit::ok_status();
  });
  g_plan_complete.store(1, std::memory_order_release);
  wait_all();
  Tally t;
  for (unsigned pe = 1; pe < g_pes; ++pe) {
    const ProbeResult r = g_mail[pe].after_plan;
    ++t.checks;
    const bool now = kind == SpinChange::remap ? (r.faulted == 0 && r.value == frame_word(f2)) : r.faulted == 1;
    const bool before = r.faulted == 0 && r.value == frame_word(f1);
    if (!now) ++(before ? t.stale : t.wrong);
  }
  return_to_harness(smp_lane());
  release_now(space.table);
  return t;
}

constexpr Teeth kSpinCatches{true, {}};

struct SpinScenario {
  std::string_view name;
  SpinChange change;
};
constexpr SpinScenario kSpinScenarios[] = {{"spin-remap", SpinChange::remap}, {"spin-unmap", SpinChange::unmap}};

void start_readers(const Env& env) {
  static bool started = false;
  if (started) return;
  g_features = env.features;
  g_pes = env.features.processing_elements;
  enable_el1_mmu(stage1_harness_root(), kAsidHarness, env.features);
  for (unsigned pe = 1; pe < g_pes; ++pe) {
    const std::int64_t status = start_pe(pe);
    if (status != 0) {
      console::print("FATAL: PSCI CPU_ON of PE ");
      console::print_dec(pe);
      console::print(" returned ");
      console::print_dec(static_cast<std::uint64_t>(-status));
      console::print(" (negated)\n");
      console::exit(70);
    }
  }
  while (g_online.load(std::memory_order_acquire) != g_pes - 1) {
  }
  started = true;
}

}  // namespace

unsigned run_smp_lane(Env& env, const ScenarioFilter& filter) {
  if (env.features.processing_elements < 2) {
    console::print("FATAL: the smp lane needs pes=2 or more (and QEMU -smp to match)\n");
    console::exit(2);
  }
  start_readers(env);
  unsigned failures = run_stage1_scenarios(env, filter, smp_lane());
  if (!tlbkit::baselines::covers(env.policy->manages, tlbkit::baselines::Manages::process_stage1)) return failures;
  for (const SpinScenario& s : kSpinScenarios) {
    if (!filter.selects(s.name)) continue;
    (void)env.executor->take_counts();
    const Tally t = spin(env, s.change);
    failures += report("smp", env, s.name, t, teeth_of(env, kSpinCatches));
  }
  return failures;
}

}  // namespace realisa

// PE `pe` after PSCI CPU_ON (start.S): the MMU on over the harness's
// space, then serve PE 0's commands for ever.
extern "C" void realisa_secondary_main(unsigned pe) {
  using namespace realisa;
  enable_el1_mmu(stage1_harness_root(), kAsidHarness, g_features);
  g_online.fetch_add(1, std::memory_order_acq_rel);
  Mailbox& m = g_mail[pe];
  std::uint32_t seen = 0;
  for (;;) {
    std::uint32_t seq;
    while ((seq = m.posted.load(std::memory_order_acquire)) == seen) {
    }
    seen = seq;
    serve(m, seq);
  }
}
