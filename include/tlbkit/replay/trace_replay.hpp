// Replays a workload trace (docs/TRACE-FORMAT.md) on the simulated machine
// the way a kernel would run it (docs/REPLAY.md): address spaces get page
// tables and ASIDs / VMIDs from the library's allocator, memory calls edit
// VMAs and only the pages present in them, accesses fault pages in on
// demand (4 KiB pages, 2 MiB blocks for huge-page eligible anonymous
// memory when the profile has THP, the zero page for reads, copy-on-write
// after fork), and every table change's maintenance is planned by the
// policy and run on the PE of the thread that made it. The machine checks
// every access (stale translations, break-before-make, use-after-free of
// tables and of data pages) and counts cycles.
//
// A TraceReplayer is a trace::Sink: hand it events one at a time (from
// trace::read_trace, a generator, an importer), then call finish().
// Deterministic: equal events and options give equal results.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/profile.hpp"
#include "tlbkit/trace/event.hpp"

namespace tlbkit::replay {

struct ReplayOptions {
  // PEs of the machine (1..64); 0: the profile's.
  unsigned pes = 0;
  // Also gives the table engine its FEAT_BBM level and stage-2 FWB.
  arch::CpuFeatures features;
  // 0: the profile's ASID / VMID width; else 8 or 16.
  unsigned asid_bits = 0;
  unsigned vmid_bits = 0;
  // Touch model for traces without accesses ("option accesses=none"): each
  // page a call makes accessible is touched by the calling thread with
  // this probability (percent), at most touch_limit pages a call.
  std::uint64_t touch_seed = 1;
  unsigned touch_percent = 50;
  std::uint64_t touch_limit = 4096;
  // Table pages of the simulated memory (all spaces' tables).
  std::uint64_t table_pages = 1 << 16;
  // Fault injection (sim::DropInjection): TLBIs or DSBs left out of the
  // plans, to show the checkers catch them on this workload. None: a real
  // measurement.
  sim::DropInjection drop{};
  // The machine's events per PE (sim::TimelineSink); must outlive the
  // replayer. None: not recorded.
  sim::TimelineSink* timeline = nullptr;
  // as_planned, or the cache-aware lower bound (sim::Execution::bound): the
  // policy then only decides where the maintenance points are and what
  // cache maintenance they carry.
  sim::Execution execution = sim::Execution::as_planned;
};

// What the kernel model did, beside the machine's counters.
struct KernelCounters {
  std::uint64_t events = 0;
  std::uint64_t accesses = 0;          // access events (the touch model's included)
  std::uint64_t touched = 0;           // accesses made by the touch model
  std::uint64_t faults = 0;            // accesses that faulted and were handled
  std::uint64_t pages_faulted_in = 0;  // 4 KiB pages mapped by faults
  std::uint64_t blocks_faulted_in = 0; // 2 MiB blocks mapped by faults
  std::uint64_t zero_page_maps = 0;    // read faults served by the zero page
  std::uint64_t cow_copies = 0;        // copy-on-write breaks that copied
  std::uint64_t cow_reuses = 0;        // copy-on-write breaks that took the page over
  std::uint64_t spurious_faults = 0;   // faults on a page the tables already allow
  std::uint64_t segfaults = 0;         // accesses outside a VMA or against its rights
  std::uint64_t memory_calls = 0;
  std::uint64_t implied_vmas = 0;      // mremap of memory no VMA of the trace covered
  std::uint64_t operations = 0;        // table operations (each ends with a flush)
  std::uint64_t implicit_flushes = 0;  // open gathers flushed early (docs/REPLAY.md)
  std::uint64_t context_switches = 0;
  std::uint64_t rollover_flushes = 0;  // local flushes after an id rollover
  std::uint64_t asid_generations = 1;
  std::uint64_t vmid_generations = 1;
  std::uint64_t spaces = 0;            // spaces created
  std::uint64_t threads = 0;           // threads started
  std::uint64_t peak_present_pages = 0;
};

struct ReplayRun {
  sim::SimCounters counters;
  KernelCounters kernel;
  std::vector<sim::Violation> violations;
  // What kept the trace from running as the kernel would: a refused table
  // operation, a gather that could not finish, memory misuse, leaks.
  std::vector<std::string> problems;
  std::uint64_t machine_events = 0;
  unsigned pes = 0;

  std::uint64_t total_cycles() const { return counters.maintenance_cycles + counters.translation_cycles; }
  bool ok() const { return violations.empty() && problems.empty(); }
};

class TraceReplayer final : public trace::Sink {
 public:
  // A machine of `profile` (with options.pes PEs) under `policy`. The
  // policy and profile must outlive the replayer.
  TraceReplayer(const maint::Policy& policy, const sim::Profile& profile, const ReplayOptions& options);
  ~TraceReplayer();
  TraceReplayer(const TraceReplayer&) = delete;
  TraceReplayer& operator=(const TraceReplayer&) = delete;

  // Runs one event. Returns "" or why the event cannot be run (an unknown
  // thread or space, a reused id, a PE beyond the machine, a flush without
  // a gather, ...): bad input, and nothing of the event was done.
  std::string put(const trace::Event& event) override;

  // Flushes what is open, destroys every space left, checks for leaks and
  // returns the run. Call once, after the last put().
  ReplayRun finish();

 private:
  class Kernel;
  std::unique_ptr<Kernel> kernel_;
};

}  // namespace tlbkit::replay
