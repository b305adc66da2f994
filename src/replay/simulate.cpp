#include "tlbkit/replay/simulate.hpp"

#include <variant>

#include <fmt/format.h>

#include "tlbkit/maint/gather.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/text/error.hpp"
#include "tlbkit/workload/batch.hpp"

namespace tlbkit::replay {

using workload::make_geometry;
using workload::table_options;

namespace {

// Every PE runs in the trace's address space, translating through `table`.
sim::PeContext context_of(const Trace& trace, const pt::Table& table) {
  sim::PeContext ctx;
  ctx.vmid = trace.space.vmid;
  switch (trace.space.regime) {
    case arch::Regime::el1_stage1:
      ctx.stage1 = table.geometry();
      ctx.stage1_root = table.root();
      ctx.asid = trace.space.asid;
      break;
    case arch::Regime::el2_stage1:
      ctx.regime = arch::Regime::el2_stage1;
      ctx.stage1 = table.geometry();
      ctx.stage1_root = table.root();
      break;
    case arch::Regime::stage2:
      ctx.stage2 = table.geometry();
      ctx.stage2_root = table.root();
      break;
  }
  return ctx;
}

using text::describe;

class Replay {
 public:
  Replay(const Trace& trace, const maint::Policy& policy, const SimOptions& options, sim::PhysicalMemory& memory,
         sim::Machine& machine, pt::Table& table, SimRun& run)
      : trace_(trace), policy_(policy), options_(options), memory_(memory), machine_(machine), table_(table),
        run_(run) {}

  void operator()(const TraceBatch& b) {
    const std::string label = fmt::format("batch {} ({})", ++batches_, b.batch.label);
    if (b.pe >= machine_.pes()) {
      run_.problems.push_back(fmt::format("{}: PE {} does not exist", label, b.pe));
      return;
    }
    machine_.begin_operation(b.pe, label);
    {
      maint::Gather gather(trace_.space, options_.features, policy_, machine_.executor(b.pe), memory_, &machine_);
      workload::play_batch(table_, b.batch, workload::BatchSinks{gather, gather}, label, run_.problems);
    }
    machine_.end_operation();
  }

  void operator()(const TraceAccess& a) {
    const Result<sim::Access> r = machine_.access(a.pe, a.va, a.kind, a.privilege);
    if (!r.ok() && run_.problems.size() < kMaxAccessProblems) {
      run_.problems.push_back(fmt::format("access by PE {} at {:#x}: {}", a.pe, a.va, describe(r.error())));
    }
  }

  void teardown() {
    machine_.begin_operation(0, "teardown");
    {
      maint::Gather gather(trace_.space, options_.features, policy_, machine_.executor(0), memory_, &machine_);
      workload::play_teardown(table_, workload::BatchSinks{gather, gather}, run_.problems);
    }
    machine_.end_operation();
  }

 private:
  // A trace with a wrong address would otherwise report every access.
  static constexpr std::size_t kMaxAccessProblems = 16;

  const Trace& trace_;
  const maint::Policy& policy_;
  const SimOptions& options_;
  sim::PhysicalMemory& memory_;
  sim::Machine& machine_;
  pt::Table& table_;
  SimRun& run_;
  std::size_t batches_ = 0;
};

}  // namespace

SimRun simulate(const Trace& trace, const maint::Policy& policy, const sim::Profile& profile,
                const SimOptions& given) {
  SimRun run;
  SimOptions options = given;
  options.features.processing_elements = trace.pes;
  const Result<arch::Geometry> geometry = make_geometry(trace.geometry);
  if (!geometry.ok()) {
    run.problems.push_back("geometry: " + describe(geometry.error()));
    return run;
  }
  if (trace.pes == 0 || trace.pes > 64) {
    run.problems.push_back(fmt::format("a trace needs 1 to 64 PEs, not {}", trace.pes));
    return run;
  }
  sim::PhysicalMemory memory(sim::PhysicalMemory::kDefaultBase, options.memory_pages);
  sim::MachineOptions machine_options;
  machine_options.pes = trace.pes;
  machine_options.bbm = options.features.bbm;
  machine_options.visibility = options.visibility;
  sim::Machine machine(memory, profile, machine_options);

  Result<pt::Table> table = pt::Table::create(trace.space.regime, *geometry, memory, table_options(options.features));
  if (!table.ok()) {
    run.problems.push_back("table: " + describe(table.error()));
    return run;
  }
  const sim::PeContext ctx = context_of(trace, *table);
  for (unsigned pe = 0; pe < machine.pes(); ++pe) {
    const Status s = machine.set_context(pe, ctx);
    if (!s.ok()) {
      run.problems.push_back(fmt::format("context of PE {}: {}", pe, describe(s.error())));
      return run;
    }
  }

  Replay replay(trace, policy, options, memory, machine, *table, run);
  for (const TraceEvent& event : trace.events) std::visit(replay, event);
  replay.teardown();

  for (const sim::Misuse& m : memory.misuses()) run.problems.push_back("memory: " + sim::describe(m));
  if (memory.counters().live_pages != 0) {
    run.problems.push_back(fmt::format("memory: {} table page(s) still allocated after release",
                                       memory.counters().live_pages));
  }
  run.counters = machine.counters();
  run.violations = machine.violations();
  run.events = machine.events();
  return run;
}

}  // namespace tlbkit::replay
