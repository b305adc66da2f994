// Table engine speed: map / unmap / protect of 1 GiB in 4 KiB pages and in
// 2 MiB blocks, each beside a baseline in the same binary that writes the
// same number of descriptors in a tight loop.
//
// Run: build/bench/tlbkit_bench_pt   (ratios are printed after the table)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "ratio_reporter.hpp"
#include "tlbkit/pt/table.hpp"

namespace {

using namespace tlbkit;
using arch::Descriptor;
using arch::PhysAddr;

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kBlock = std::uint64_t{2} << 20;
constexpr std::uint64_t kVa = 0x4000'0000;        // 1 GiB aligned
constexpr PhysAddr kPa = 0x1'0020'0000;           // 2 MiB aligned, not 1 GiB: no 1 GiB block
constexpr PhysAddr kPoolBase = 0x8000'0000;

// Table pages from one preallocated pool: O(1) allocate, free and lookup.
class PoolMemory final : public pt::TableMemory {
 public:
  explicit PoolMemory(std::size_t pages)
      : storage_(static_cast<Descriptor*>(std::aligned_alloc(kPage, pages * kPage))) {
    for (std::size_t i = pages; i-- > 0;) free_.push_back(i);
  }
  ~PoolMemory() { std::free(storage_); }

  Result<PhysAddr> allocate(unsigned pages) override {
    if (pages != 1 || free_.empty()) return Error{Errc::no_memory, "pool exhausted"};
    const std::size_t index = free_.back();
    free_.pop_back();
    return kPoolBase + index * kPage;
  }
  void free(PhysAddr table, unsigned) override { free_.push_back((table - kPoolBase) / kPage); }
  Descriptor* descriptors(PhysAddr table) override { return storage_ + (table - kPoolBase) / 8; }

 private:
  Descriptor* storage_;
  std::vector<std::size_t> free_;
};

// Counts records; frees retired tables when the (empty) maintenance is done.
class CountingSink final : public pt::ChangeSink {
 public:
  explicit CountingSink(pt::TableMemory& memory) : memory_(memory) { retired_.reserve(1024); }
  void record(const pt::Change&) override { ++records_; }
  void invalidate_now(const pt::Change&) override { ++records_; }
  void retire_table(PhysAddr table, unsigned pages) override { retired_.push_back({table, pages}); }
  void finish() {
    for (const auto& [table, pages] : retired_) memory_.free(table, pages);
    retired_.clear();
  }
  std::size_t records() const { return records_; }

 private:
  pt::TableMemory& memory_;
  std::vector<std::pair<PhysAddr, unsigned>> retired_;
  std::size_t records_ = 0;
};

arch::s1::Attributes read_write() {
  arch::s1::Attributes a;
  a.access = arch::s1::Access::all_rw;
  a.scope = arch::s1::Scope::non_global;
  return a;
}

pt::Table new_table(PoolMemory& memory) {
  auto geometry = arch::Geometry::stage1(arch::Granule::k4K, 48);
  auto table = pt::Table::create(arch::Regime::el1_stage1, *geometry, memory);
  if (!table.ok()) std::abort();
  return std::move(*table);
}

pt::MapOptions options_for(std::uint64_t leaf) {
  return pt::MapOptions{leaf == kPage ? pt::BlockMappings::forbidden : pt::BlockMappings::allowed};
}

void must(const Status& s) {
  if (!s.ok()) std::abort();
}

// The baseline: write `count` descriptors into `count / 512` table pages.
void write_descriptors(benchmark::State& state, std::uint64_t leaf) {
  const std::uint64_t count = kGiB / leaf;
  PoolMemory memory(1024);
  std::vector<Descriptor*> tables;
  for (std::uint64_t t = 0; t < (count + 511) / 512; ++t) tables.push_back(memory.descriptors(*memory.allocate(1)));
  const Descriptor attributes = *arch::s1::encode(read_write());
  const unsigned level = leaf == kPage ? 3 : 2;
  for (auto _ : state) {
    PhysAddr pa = kPa;
    for (Descriptor* table : tables) {
      for (unsigned i = 0; i < 512 && pa < kPa + kGiB; ++i, pa += leaf) {
        table[i] = arch::make_leaf_descriptor(pa, attributes, level);
      }
    }
    benchmark::ClobberMemory();
  }
  state.counters["descriptors"] = static_cast<double>(count);
}

void map_range(benchmark::State& state, std::uint64_t leaf) {
  PoolMemory memory(1024);
  CountingSink sink(memory);
  for (auto _ : state) {
    state.PauseTiming();
    pt::Table table = new_table(memory);
    state.ResumeTiming();
    must(table.map(kVa, kPa, kGiB, read_write(), sink, options_for(leaf)));
    state.PauseTiming();
    table.release(sink);
    sink.finish();
    state.ResumeTiming();
  }
  state.counters["records"] = static_cast<double>(sink.records()) / static_cast<double>(state.iterations());
}

void unmap_range(benchmark::State& state, std::uint64_t leaf) {
  PoolMemory memory(1024);
  CountingSink sink(memory);
  pt::Table table = new_table(memory);
  for (auto _ : state) {
    state.PauseTiming();
    must(table.map(kVa, kPa, kGiB, read_write(), sink, options_for(leaf)));
    state.ResumeTiming();
    must(table.unmap(kVa, kGiB, sink));
    sink.finish();
  }
}

void protect_range(benchmark::State& state, std::uint64_t leaf) {
  PoolMemory memory(1024);
  CountingSink sink(memory);
  pt::Table table = new_table(memory);
  must(table.map(kVa, kPa, kGiB, read_write(), sink, options_for(leaf)));
  arch::s1::Attributes read_only = read_write();
  read_only.access = arch::s1::Access::all_ro;
  const pt::AttributeChange to_ro = pt::AttributeChange::to(read_only);
  const pt::AttributeChange to_rw = pt::AttributeChange::to(read_write());
  bool readonly_now = false;
  for (auto _ : state) {
    must(table.protect(kVa, kGiB, readonly_now ? to_rw : to_ro, sink));
    readonly_now = !readonly_now;
  }
}

void BM_Baseline_Write4KDescriptors(benchmark::State& s) { write_descriptors(s, kPage); }
void BM_Map_1GiB_4K(benchmark::State& s) { map_range(s, kPage); }
void BM_Unmap_1GiB_4K(benchmark::State& s) { unmap_range(s, kPage); }
void BM_Protect_1GiB_4K(benchmark::State& s) { protect_range(s, kPage); }
void BM_Baseline_Write2MDescriptors(benchmark::State& s) { write_descriptors(s, kBlock); }
void BM_Map_1GiB_2M(benchmark::State& s) { map_range(s, kBlock); }
void BM_Unmap_1GiB_2M(benchmark::State& s) { unmap_range(s, kBlock); }
void BM_Protect_1GiB_2M(benchmark::State& s) { protect_range(s, kBlock); }

BENCHMARK(BM_Baseline_Write4KDescriptors)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Map_1GiB_4K)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Unmap_1GiB_4K)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Protect_1GiB_4K)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Baseline_Write2MDescriptors)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Map_1GiB_2M)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Unmap_1GiB_2M)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Protect_1GiB_2M)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  using tlbkit::bench::RatioSpec;
  return tlbkit::bench::run_with_ratios(
      argc, argv,
      {
          RatioSpec{"BM_Map_1GiB_4K", "BM_Baseline_Write4KDescriptors", 2.0},
          RatioSpec{"BM_Unmap_1GiB_4K", "BM_Baseline_Write4KDescriptors", 0},
          RatioSpec{"BM_Protect_1GiB_4K", "BM_Baseline_Write4KDescriptors", 0},
          RatioSpec{"BM_Map_1GiB_2M", "BM_Baseline_Write2MDescriptors", 0},
          RatioSpec{"BM_Unmap_1GiB_2M", "BM_Baseline_Write2MDescriptors", 0},
          RatioSpec{"BM_Protect_1GiB_2M", "BM_Baseline_Write2MDescriptors", 0},
      });
}
