// The simulator's hottest call, a TLB hit, and its throughput on whole
// traces.
//
// Hit path. Tlb::lookup on the hit path of a 48-entry fully associative L1
// (Cortex-A76 L1 D geometry) beside a baseline in the same binary: a
// 64-entry direct-mapped array of {tag, pa}, the cheapest TLB there is.
// Workload: 32 resident 4 KiB EL1&0 stage-1 pages of ASID 5, looked up in
// turn (every lookup hits), each turned into a PA.
// - BM_Baseline_DirectMappedLookup: the array lookup behind a call, as
//   Tlb::lookup is (it lives in another translation unit);
// - BM_Baseline_DirectMappedLookupInlined: the same, inlined into the loop
//   (reported only: it shows what the call itself costs);
// - BM_TlbLookupHit_FullyAssociative48: Tlb::lookup.
// - BM_MachineAccessHit_{Unchecked,Checked}: the whole Machine::access of
//   the same 32 pages, mapped by the table engine, all L1 hits: argument
//   checks, pending-maintenance sync, permission check, and (Checked) the
//   visibility checker's comparison with the tables (reported only).
//
// Trace replay. replay::simulate of built-in scenarios' traces (8 PEs,
// 64 reads per PE after each batch) under the planner on mobile-8: items
// are trace events (batches and accesses) per second, table edits,
// planning and maintenance included.
//
// Run (ratios are printed after the table; interleave, see docs/BENCHMARKS.md):
//   build/bench/tlbkit_bench_sim --benchmark_repetitions=15 --benchmark_min_time=0.05
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "ratio_reporter.hpp"
#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/physical_memory.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/sim/tlb.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/workload/scenario.hpp"
#include "tlbkit/replay/simulate.hpp"
#include "tlbkit/replay/trace.hpp"

namespace {

using namespace tlbkit;

constexpr std::size_t kPages = 32;
constexpr std::uint64_t kPageShift = 12;
constexpr std::uint64_t kPageMask = (std::uint64_t{1} << kPageShift) - 1;
constexpr std::uint64_t kVaBase = 0x10'0000'0000;
constexpr std::uint64_t kPaBase = 0x8000'0000;
constexpr std::uint16_t kAsid = 5;

// The VAs looked up: one per page, at varying offsets, in a fixed
// scattered order.
std::array<std::uint64_t, kPages> working_set() {
  std::array<std::uint64_t, kPages> vas{};
  for (std::size_t i = 0; i < kPages; ++i) {
    const std::uint64_t page = (i * 7) % kPages;  // 7 is coprime with 32: a permutation
    vas[i] = kVaBase + (page << kPageShift) + ((i * 0x148) & kPageMask);
  }
  return vas;
}

constexpr std::uint64_t pa_of_page(std::uint64_t va) {
  return kPaBase + (((va - kVaBase) >> kPageShift) * 3 << kPageShift);
}

// The baseline: 64 direct-mapped entries, tag = VA >> 12.
class DirectMapped {
 public:
  void insert(std::uint64_t va, std::uint64_t pa) {
    const std::uint64_t vpn = va >> kPageShift;
    entries_[vpn & (kEntries - 1)] = Entry{vpn, pa & ~kPageMask, true};
  }

  // The PA of `va`, or 0 on a miss.
  std::uint64_t lookup(std::uint64_t va) const {
    const std::uint64_t vpn = va >> kPageShift;
    const Entry& e = entries_[vpn & (kEntries - 1)];
    return e.valid && e.tag == vpn ? e.pa | (va & kPageMask) : 0;
  }

  [[gnu::noinline]] std::uint64_t lookup_call(std::uint64_t va) const { return lookup(va); }

 private:
  static constexpr std::size_t kEntries = 64;
  struct Entry {
    std::uint64_t tag = 0;
    std::uint64_t pa = 0;
    bool valid = false;
  };
  std::array<Entry, kEntries> entries_{};
};

DirectMapped filled_direct_mapped(const std::array<std::uint64_t, kPages>& vas) {
  DirectMapped dm;
  for (const std::uint64_t va : vas) dm.insert(va, pa_of_page(va));
  return dm;
}

enum class Call : std::uint8_t { out_of_line, inlined };

void direct_mapped(benchmark::State& state, Call call) {
  const std::array<std::uint64_t, kPages> vas = working_set();
  const DirectMapped dm = filled_direct_mapped(vas);
  for (auto _ : state) {
    for (const std::uint64_t va : vas) {
      std::uint64_t pa = call == Call::inlined ? dm.lookup(va) : dm.lookup_call(va);
      benchmark::DoNotOptimize(pa);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPages));
}

void BM_Baseline_DirectMappedLookup(benchmark::State& state) {
  direct_mapped(state, Call::out_of_line);
}

void BM_Baseline_DirectMappedLookupInlined(benchmark::State& state) {
  direct_mapped(state, Call::inlined);
}

void BM_TlbLookupHit_FullyAssociative48(benchmark::State& state) {
  const std::array<std::uint64_t, kPages> vas = working_set();
  sim::Tlb tlb(sim::TlbGeometry{1, 48});
  for (const std::uint64_t va : vas) {
    sim::TlbEntry e;
    e.regime = arch::Regime::el1_stage1;
    e.stage = sim::EntryStage::stage1;
    e.kind = sim::CachedKind::leaf;
    e.level = 3;
    e.asid = kAsid;
    e.input = va & ~kPageMask;
    e.size = std::uint64_t{1} << kPageShift;
    e.output = pa_of_page(va);
    tlb.insert(e);
  }
  sim::LookupKey key;
  key.regime = arch::Regime::el1_stage1;
  key.stage = sim::EntryStage::stage1;
  key.kind = sim::CachedKind::leaf;
  key.asid = kAsid;
  for (auto _ : state) {
    for (const std::uint64_t va : vas) {
      key.input = va;
      const sim::TlbEntry* e = tlb.lookup(key);
      std::uint64_t pa = e != nullptr ? e->output + (va - e->input) : 0;
      benchmark::DoNotOptimize(pa);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPages));
}

// The working set mapped by the engine on a 1-PE mobile-8 machine, every
// page translated once so that each later access hits the L1.
void machine_access_hit(benchmark::State& state, sim::MachineOptions::Visibility visibility) {
  const std::array<std::uint64_t, kPages> vas = working_set();
  sim::PhysicalMemory memory;
  sim::MachineOptions options;
  options.pes = 1;
  options.visibility = visibility;
  sim::Machine machine(memory, *sim::find_profile("mobile-8"), options);
  const arch::Geometry geometry = *arch::Geometry::stage1(arch::Granule::k4K, 48);
  pt::Table table = std::move(pt::Table::create(arch::Regime::el1_stage1, geometry, memory)).value();
  maint::AddressSpace space;
  space.asid = kAsid;
  const maint::Planner planner;
  arch::s1::Attributes rw;
  rw.scope = arch::s1::Scope::non_global;
  {
    maint::Gather gather(space, arch::CpuFeatures{}, planner, machine.executor(0), memory, &machine);
    for (const std::uint64_t va : vas) {
      if (!table.map(va & ~kPageMask, pa_of_page(va), std::uint64_t{1} << kPageShift, rw, gather).ok()) {
        state.SkipWithError("map failed");
        return;
      }
    }
  }
  sim::PeContext ctx;
  ctx.asid = kAsid;
  ctx.stage1 = geometry;
  ctx.stage1_root = table.root();
  if (!machine.set_context(0, ctx).ok()) {
    state.SkipWithError("no context");
    return;
  }
  // Warm the L1: every page once (the walk count checked below proves each
  // of these accesses translated).
  for (const std::uint64_t va : vas) {
    if (!machine.access(0, va, sim::AccessKind::read).ok()) {
      state.SkipWithError("a warm-up access failed");
      return;
    }
  }
  for (auto _ : state) {
    for (const std::uint64_t va : vas) {
      const Result<sim::Access> a = machine.access(0, va, sim::AccessKind::read);
      std::uint64_t pa = a.ok() ? a->pa : 0;
      benchmark::DoNotOptimize(pa);
    }
  }
  if (machine.counters().walks != kPages) state.SkipWithError("an access missed the L1");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPages));
}

void BM_MachineAccessHit_Unchecked(benchmark::State& state) {
  machine_access_hit(state, sim::MachineOptions::Visibility::unchecked);
}
void BM_MachineAccessHit_Checked(benchmark::State& state) {
  machine_access_hit(state, sim::MachineOptions::Visibility::checked);
}

// One built-in scenario's trace replayed whole per iteration.
void BM_TraceReplay(benchmark::State& state, const char* scenario) {
  replay::AccessPattern pattern;
  pattern.pes = 8;
  const std::optional<workload::Scenario> s = workload::find_builtin(scenario);
  if (!s) {
    state.SkipWithError("no such scenario");
    return;
  }
  const Result<replay::Trace> trace = replay::trace_from_scenario(*s, pattern);
  if (!trace.ok()) {
    state.SkipWithError("no trace");
    return;
  }
  replay::SimOptions options;
  options.features.ttl = arch::Presence::present;
  options.features.tlbi_range = arch::Presence::present;
  const maint::Planner planner;
  const sim::Profile& profile = *sim::find_profile("mobile-8");
  for (auto _ : state) {
    const replay::SimRun run = replay::simulate(*trace, planner, profile, options);
    if (!run.ok()) {
      state.SkipWithError("the replay was not clean");
      return;
    }
    benchmark::DoNotOptimize(run.counters.accesses);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * trace->events.size()));
}

BENCHMARK(BM_Baseline_DirectMappedLookup);
BENCHMARK(BM_Baseline_DirectMappedLookupInlined);
BENCHMARK(BM_TlbLookupHit_FullyAssociative48);
BENCHMARK(BM_MachineAccessHit_Unchecked);
BENCHMARK(BM_MachineAccessHit_Checked);
BENCHMARK_CAPTURE(BM_TraceReplay, madvise_dontneed_page, "madvise-dontneed-page")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TraceReplay, fork_cow_wrprotect, "fork-cow-wrprotect")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TraceReplay, kvm_dirty_log_eager_split, "kvm-dirty-log-eager-split")
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  using tlbkit::bench::RatioSpec;
  return tlbkit::bench::run_with_ratios(
      argc, argv,
      {RatioSpec{"BM_TlbLookupHit_FullyAssociative48", "BM_Baseline_DirectMappedLookup", 3.0},
       RatioSpec{"BM_TlbLookupHit_FullyAssociative48", "BM_Baseline_DirectMappedLookupInlined", 0.0},
       RatioSpec{"BM_MachineAccessHit_Unchecked", "BM_Baseline_DirectMappedLookup", 0.0},
       RatioSpec{"BM_MachineAccessHit_Checked", "BM_Baseline_DirectMappedLookup", 0.0}});
}
