// Planning throughput: changes gathered and planned per second, beside a
// baseline in the same binary that only appends the same changes to a
// vector.
//
// Workloads: batches of 64 change records (one mmu_gather batch) in one
// address space, each batch planned by the tlbkit planner and executed by
// an executor that drops the plan:
// - scattered: one-page unmaps of every third page (nothing merges; the
//   gather overflows and goes space-wide);
// - contiguous: one-page unmaps of adjacent pages (they merge into one
//   range; every shape is costed and a range op chosen).
//
// Run: build/bench/tlbkit_bench_planner   (ratios are printed after the table)
#include <benchmark/benchmark.h>

#include <vector>

#include "ratio_reporter.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"

namespace {

using namespace tlbkit;

constexpr std::size_t kBatch = 64;
constexpr std::size_t kBatches = 64;

class DroppingExecutor final : public Executor {
 public:
  void execute(const Plan& plan) override { benchmark::DoNotOptimize(plan.size()); }
};

class NoMemory final : public pt::TableMemory {
 public:
  Result<arch::PhysAddr> allocate(unsigned) override { return Error{Errc::no_memory, "none"}; }
  void free(arch::PhysAddr, unsigned) override {}
  arch::Descriptor* descriptors(arch::PhysAddr) override { return nullptr; }
};

enum class Layout { scattered, contiguous };

// One-page unmaps: every third page (nothing merges) or adjacent pages.
std::vector<pt::Change> workload(Layout layout = Layout::scattered) {
  const std::uint64_t gap = layout == Layout::scattered ? 3 : 1;
  std::vector<pt::Change> changes;
  for (std::size_t i = 0; i < kBatch * kBatches; ++i) {
    pt::Change c;
    c.va = 0x1000'0000 + i * gap * 0x1000;
    c.size = 0x1000;
    c.level = 3;
    c.kind = arch::ChangeKind::unmap;
    c.output = 0x9000'0000 + i * 0x1000;
    changes.push_back(c);
  }
  return changes;
}

void BM_Baseline_AppendChangesToVector(benchmark::State& state) {
  const std::vector<pt::Change> changes = workload();
  std::vector<pt::Change> sink;
  sink.reserve(kBatch);
  for (auto _ : state) {
    for (std::size_t b = 0; b < kBatches; ++b) {
      sink.clear();
      for (std::size_t i = 0; i < kBatch; ++i) sink.push_back(changes[b * kBatch + i]);
      benchmark::DoNotOptimize(sink.data());
      benchmark::ClobberMemory();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch * kBatches));
}

void gather_and_plan(benchmark::State& state, Layout layout) {
  const std::vector<pt::Change> changes = workload(layout);
  const maint::Planner planner;
  DroppingExecutor executor;
  NoMemory memory;
  maint::AddressSpace space;
  space.asid = 5;
  arch::CpuFeatures features;
  features.tlbi_range = arch::Presence::present;
  features.ttl = arch::Presence::present;
  features.processing_elements = 8;
  for (auto _ : state) {
    for (std::size_t b = 0; b < kBatches; ++b) {
      maint::Gather gather(space, features, planner, executor, memory);
      for (std::size_t i = 0; i < kBatch; ++i) gather.record(changes[b * kBatch + i]);
      benchmark::DoNotOptimize(gather.finish().ok());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch * kBatches));
}

void BM_GatherAndPlan(benchmark::State& state) { gather_and_plan(state, Layout::scattered); }
void BM_GatherAndPlan_Contiguous(benchmark::State& state) { gather_and_plan(state, Layout::contiguous); }

BENCHMARK(BM_Baseline_AppendChangesToVector)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GatherAndPlan)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GatherAndPlan_Contiguous)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  using tlbkit::bench::RatioSpec;
  return tlbkit::bench::run_with_ratios(
      argc, argv,
      {RatioSpec{"BM_GatherAndPlan", "BM_Baseline_AppendChangesToVector", 3.0},
       RatioSpec{"BM_GatherAndPlan_Contiguous", "BM_Baseline_AppendChangesToVector", 3.0}});
}
