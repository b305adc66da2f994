// Throughput of traces in and through the replay (docs/BENCHMARKS.md):
// - BM_Baseline_SplitLines: the lines of a formatted trace, only split
//   (the floor any reader pays);
// - BM_ParseTrace: the same lines parsed into events (read_trace);
// - BM_ImportStrace / BM_ImportValgrind: the real logs of tests/data;
// - BM_Replay/NAME: a generator's trace at its default size replayed by
//   the kernel model on the simulated machine, every checker on;
// - BM_ReplayAccessHeavyText: 1M accesses as trace text, parsed and
//   replayed (items: accesses).
// Items are events (lines for the baseline); bytes are input bytes.
//
// Run (ratios are printed after the table):
//   build/bench/tlbkit_bench_trace --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ratio_reporter.hpp"
#include "tlbkit/gen/generator.hpp"
#include "tlbkit/importers/strace.hpp"
#include "tlbkit/importers/valgrind.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/input.hpp"
#include "tlbkit/trace/reader.hpp"

namespace {

using namespace tlbkit;

class CountingSink final : public trace::Sink {
 public:
  std::string put(const trace::Event&) override {
    ++events;
    return {};
  }
  std::uint64_t events = 0;
};

class CollectingSink final : public trace::Sink {
 public:
  std::string put(const trace::Event& e) override {
    events.push_back(e);
    return {};
  }
  std::vector<trace::Event> events;
};

std::vector<trace::Event> generated(const char* name) {
  CollectingSink sink;
  const gen::Generator* g = gen::find_generator(name);
  if (g == nullptr || !g->emit(gen::Parameters{}, sink).empty()) return {};
  return std::move(sink.events);
}

// The formatted text of a generated trace (header included).
const std::string& formatted() {
  static const std::string text = [] {
    std::string t = trace::header_line() + "\n";
    for (const trace::Event& e : generated("small-munmap")) t += trace::format_event(e) + "\n";
    return t;
  }();
  return text;
}

void BM_Baseline_SplitLines(benchmark::State& state) {
  std::uint64_t lines = 0;
  for (auto _ : state) {
    std::unique_ptr<trace::LineSource> in = trace::lines_of(formatted());
    std::string line;
    std::uint64_t n = 0;
    while (in->next(line)) ++n;
    benchmark::DoNotOptimize(n);
    lines = n;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * formatted().size()));
}

void BM_ParseTrace(benchmark::State& state) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    std::unique_ptr<trace::LineSource> in = trace::lines_of(formatted());
    CountingSink sink;
    if (trace::read_trace(*in, sink)) state.SkipWithError("the formatted trace did not parse");
    events = sink.events;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * formatted().size()));
}

using Importer = std::optional<trace::ReadError> (*)(trace::LineSource&, trace::Sink&, importers::ImportStats*);

// The first log of tests/data/KIND (by name; the programs beside them are not logs).
std::string first_log(const char* kind) {
  const std::filesystem::path dir = std::filesystem::path(TLBKIT_TEST_DATA) / kind;
  std::vector<std::string> names;
  if (std::filesystem::is_directory(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().string().find(".log") != std::string::npos) names.push_back(entry.path().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? std::string() : names.front();
}

void BM_Import(benchmark::State& state, const char* kind, Importer import) {
  const std::string path = first_log(kind);
  std::uint64_t events = 0;
  std::uint64_t lines = 0;
  for (auto _ : state) {
    std::string error;
    std::unique_ptr<trace::LineSource> in = trace::open_lines(path, error);
    if (!in) {
      state.SkipWithError("no log in tests/data");
      return;
    }
    CountingSink sink;
    importers::ImportStats stats;
    if (import(*in, sink, &stats)) state.SkipWithError("the log did not import");
    events = sink.events;
    lines = stats.lines;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events));
  state.counters["lines"] = static_cast<double>(lines);
  state.counters["events"] = static_cast<double>(events);
}

void BM_Replay(benchmark::State& state, const char* name) {
  const std::vector<trace::Event> events = generated(name);
  const maint::Planner planner;
  const sim::Profile& profile = *sim::find_profile("mobile-8");
  replay::ReplayOptions options;
  options.pes = 4;
  options.asid_bits = 8;
  options.features.ttl = arch::Presence::present;
  options.features.tlbi_range = arch::Presence::present;
  std::uint64_t accesses = 0;
  for (auto _ : state) {
    replay::TraceReplayer replayer(planner, profile, options);
    for (const trace::Event& e : events) {
      if (!replayer.put(e).empty()) state.SkipWithError("an event was refused");
    }
    const replay::ReplayRun run = replayer.finish();
    if (!run.ok()) state.SkipWithError("the replay was not clean");
    accesses = run.counters.accesses;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
  state.counters["events"] = static_cast<double>(events.size());
  state.counters["accesses_per_s"] =
      benchmark::Counter(static_cast<double>(accesses), benchmark::Counter::kIsIterationInvariantRate);
}

// An access-heavy trace as text: one process, two threads on two PEs, a
// 4 MiB anonymous mapping, then 1M reads and writes spread over its first
// 32 pages (a fixed sequence), so nearly every access is an L1 hit: the
// path the "10 M accesses per second per core" is about. Parsed
// and replayed whole per iteration (read_trace into the kernel model, the
// visibility checker on).
const std::string& access_heavy() {
  static const std::string text = [] {
    std::string t = trace::header_line() + "\n";
    t += "space 1 process\nthread 10 1 pe=0\nthread 11 1 pe=1\n";
    t += "mmap 10 0x7f0000000000 0x400000 rw- anon,private\n";
    std::uint64_t x = 1;
    for (int i = 0; i < 1'000'000; ++i) {
      x = x * 6364136223846793005u + 1442695040888963407u;  // a fixed LCG
      const std::uint64_t page = (x >> 33) % 32;
      t += fmt::format("{} {} {:#x}\n", i % 3 == 0 ? 'w' : 'r', 10 + (i & 1), 0x7f0000000000u + page * 4096);
    }
    return t + "exit 11\nexit 10\n";
  }();
  return text;
}

void BM_ReplayAccessHeavyText(benchmark::State& state) {
  const maint::Planner planner;
  const sim::Profile& profile = *sim::find_profile("mobile-8");
  replay::ReplayOptions options;
  options.pes = 2;
  std::uint64_t accesses = 0;
  for (auto _ : state) {
    // The text's copy into the line source (20 MB, fresh pages every
    // iteration) is the benchmark's own set-up, not the replay's: untimed.
    state.PauseTiming();
    std::unique_ptr<trace::LineSource> in = trace::lines_of(access_heavy());
    state.ResumeTiming();
    replay::TraceReplayer replayer(planner, profile, options);
    if (trace::read_trace(*in, replayer)) state.SkipWithError("the trace was refused");
    const replay::ReplayRun run = replayer.finish();
    if (!run.ok()) state.SkipWithError("the replay was not clean");
    accesses = run.counters.accesses;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * accesses));
  state.counters["accesses"] = static_cast<double>(accesses);
}

BENCHMARK(BM_Baseline_SplitLines)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReplayAccessHeavyText)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseTrace)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Import, strace, "strace", importers::import_strace)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Import, valgrind, "valgrind", importers::import_valgrind)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, small_munmap, "small-munmap")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, fork_cow, "fork-cow")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, mt_mprotect, "mt-mprotect")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, asid_rollover, "asid-rollover")->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  using tlbkit::bench::RatioSpec;
  return tlbkit::bench::run_with_ratios(argc, argv, {RatioSpec{"BM_ParseTrace", "BM_Baseline_SplitLines", 0.0}});
}
