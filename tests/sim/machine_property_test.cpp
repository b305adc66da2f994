// Properties of the planner on the simulated machine:
// - random workloads on 1..8 PEs, with other PEs refilling the changed
//   addresses between every two maintenance ops, give no violation;
// - dropping any single TLBI or DSB of one operation's plans gives a
//   violation whenever it leaves cached an entry that is now wrong (another
//   output, more access than the tables grant, or a walk into a freed
//   table) and that one of the operation's TLBIs was meant to remove.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tlbkit/sim/machine.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::sim {
namespace {

using arch::Instr;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kBlock = 0x20'0000;
// Pages live in [kSmall, kSmall + 32 pages); blocks in [kLarge, kLarge + 2 blocks).
constexpr VirtAddr kSmall = 0x4000'0000;
constexpr VirtAddr kLarge = 0x4060'0000;
constexpr PhysAddr kData = 0x40'0000'0000;

arch::Geometry geometry39() { return *arch::Geometry::stage1(arch::Granule::k4K, 39); }

arch::s1::Attributes attributes(bool writable) {
  arch::s1::Attributes a;
  a.scope = arch::s1::Scope::non_global;
  a.access = writable ? arch::s1::Access::el1_rw : arch::s1::Access::el1_ro;
  return a;
}

enum class OpKind { map, unmap, protect, split };

struct Operation {
  OpKind kind = OpKind::map;
  unsigned pe = 0;
  VirtAddr va = 0;
  std::uint64_t size = 0;
  bool writable = true;
};

struct Workload {
  unsigned pes = 1;
  std::vector<Operation> operations;
};

const char* kind_name(OpKind k) {
  switch (k) {
    case OpKind::map: return "map";
    case OpKind::unmap: return "unmap";
    case OpKind::protect: return "protect";
    case OpKind::split: return "split";
  }
  return "?";
}

// For rapidcheck's counterexamples.
std::ostream& operator<<(std::ostream& os, const Workload& w) {
  os << w.pes << " PEs:";
  for (const Operation& o : w.operations) {
    os << "\n  PE " << o.pe << " " << kind_name(o.kind) << " 0x" << std::hex << o.va << "+0x" << o.size << std::dec
       << (o.writable ? " rw" : " ro");
  }
  return os;
}

rc::Gen<Operation> operation(unsigned pes) {
  return rc::gen::exec([pes] {
    Operation o;
    o.kind = *rc::gen::element(OpKind::map, OpKind::map, OpKind::unmap, OpKind::protect, OpKind::split);
    o.pe = *rc::gen::inRange(0u, pes);
    o.writable = *rc::gen::arbitrary<bool>();
    if (*rc::gen::inRange(0, 3) == 0) {
      o.va = kLarge + *rc::gen::inRange<std::uint64_t>(0, 2) * kBlock;
      o.size = kBlock;
      if (o.kind != OpKind::map && *rc::gen::arbitrary<bool>()) {
        // A part of a block: the engine splits it first (break-before-make).
        o.va += *rc::gen::inRange<std::uint64_t>(0, 512) * kPage;
        o.size = kPage * *rc::gen::inRange<std::uint64_t>(1, 4);
        if (o.va + o.size > kLarge + 2 * kBlock) o.size = kLarge + 2 * kBlock - o.va;
      }
    } else {
      const std::uint64_t first = *rc::gen::inRange<std::uint64_t>(0, 32);
      o.va = kSmall + first * kPage;
      o.size = kPage * *rc::gen::inRange<std::uint64_t>(1, 33 - first > 8 ? 9 : 33 - first);
    }
    return o;
  });
}

rc::Gen<Workload> workloads() {
  return rc::gen::exec([] {
    Workload w;
    w.pes = *rc::gen::inRange(1u, 9u);
    // Start from something mapped: 16 pages and one block.
    w.operations.push_back(Operation{OpKind::map, 0, kSmall, 16 * kPage, true});
    w.operations.push_back(Operation{OpKind::map, 0, kLarge, kBlock, true});
    const auto more = *rc::gen::container<std::vector<Operation>>(*rc::gen::inRange<std::size_t>(2, 22),
                                                                   operation(w.pes));
    w.operations.insert(w.operations.end(), more.begin(), more.end());
    return w;
  });
}

// Runs plans op by op on one PE; after every TLBI, every other PE touches
// each page of the operation's range (refilling whatever its walk finds);
// optionally drops the n-th TLBI or DSB of the whole operation.
class AdversarialExecutor final : public Executor {
 public:
  AdversarialExecutor(Machine& machine, unsigned pe, VirtAddr va, std::uint64_t size, std::optional<unsigned> drop)
      : machine_(machine), pe_(pe), va_(va), size_(size), drop_(drop) {}

  void execute(const Plan& plan) override {
    for (const arch::Op& op : plan.ops()) {
      const bool droppable = arch::info(op.instr).category == arch::Category::tlbi ||
                             op.instr == Instr::dsb_ish || op.instr == Instr::dsb_ishst;
      if (droppable && drop_ && seen_++ == *drop_) {
        dropped_ = op;
        continue;
      }
      if (arch::info(op.instr).category == arch::Category::tlbi) tlbis_.push_back(arch::decode(op));
      RC_ASSERT(machine_.issue(pe_, op).ok());
      if (arch::info(op.instr).category == arch::Category::tlbi) refill_elsewhere();
    }
  }

  std::optional<arch::Op> dropped() const { return dropped_; }
  // Every TLBI the plans held (the dropped one too).
  std::vector<arch::DecodedOp> tlbis() const {
    std::vector<arch::DecodedOp> all = tlbis_;
    if (dropped_ && arch::info(dropped_->instr).category == arch::Category::tlbi) all.push_back(arch::decode(*dropped_));
    return all;
  }

 private:
  void refill_elsewhere() {
    for (unsigned other = 0; other < machine_.pes(); ++other) {
      if (other == pe_) continue;
      for (VirtAddr a = va_; a < va_ + size_ && a < va_ + 8 * kPage; a += kPage) {
        (void)machine_.access(other, a, AccessKind::read);
      }
    }
  }

  Machine& machine_;
  unsigned pe_;
  VirtAddr va_;
  std::uint64_t size_;
  std::optional<unsigned> drop_;
  unsigned seen_ = 0;
  std::optional<arch::Op> dropped_;
  std::vector<arch::DecodedOp> tlbis_;
};

struct Run {
  std::vector<Violation> violations;
  bool affected = false;  // the mutation left a stale, targeted entry cached
};

class LiveReader final : public TableReader {
 public:
  explicit LiveReader(const PhysicalMemory& memory) : memory_(memory) {}
  std::optional<Descriptor> read(PhysAddr table, unsigned index) override {
    const PhysAddr at = table + std::uint64_t{index} * sizeof(Descriptor);
    const Descriptor* words = memory_.peek(at & ~(kPage - 1));
    if (words == nullptr) return std::nullopt;
    return words[(at & (kPage - 1)) / sizeof(Descriptor)];
  }

 private:
  const PhysicalMemory& memory_;
};

// Whether using `e` now would be wrong: a translation the tables no longer
// give (unmapped, elsewhere, or with less access now), or a walk-cache
// entry whose table page was freed.
bool wrong(const PhysicalMemory& memory, PhysAddr root, const TlbEntry& e) {
  if (e.kind == CachedKind::walk) return memory.peek(e.output) == nullptr;
  LiveReader reader(memory);
  const arch::Geometry g = geometry39();
  const Walk now = walk(arch::Regime::el1_stage1, g, e.input, WalkStart{g.start_level(), root}, reader);
  if (now.outcome != WalkOutcome::translated) return true;
  const PhysAddr now_pa = now.output + (e.input - now.input);
  return now_pa != e.output || (e.permissions & ~now.permissions) != 0;
}

// Plays `w`; the operation `mutated` (if any) drops its `drop`-th TLBI/DSB.
Run play(const Workload& w, std::optional<std::size_t> mutated, unsigned drop) {
  PhysicalMemory memory;
  Machine machine(memory, *find_profile("mobile-8"), MachineOptions{w.pes});
  pt::Table table = std::move(pt::Table::create(arch::Regime::el1_stage1, geometry39(), memory)).value();
  PeContext ctx;
  ctx.asid = 5;
  ctx.stage1 = geometry39();
  ctx.stage1_root = table.root();
  for (unsigned pe = 0; pe < w.pes; ++pe) RC_ASSERT(machine.set_context(pe, ctx).ok());
  maint::AddressSpace space;
  space.asid = 5;
  arch::CpuFeatures features;
  features.processing_elements = w.pes;
  const maint::Planner planner;
  Run run;
  for (std::size_t i = 0; i < w.operations.size(); ++i) {
    const Operation& o = w.operations[i];
    const bool mutate = mutated && *mutated == i;
    AdversarialExecutor executor(machine, o.pe, o.va, o.size, mutate ? std::optional<unsigned>(drop) : std::nullopt);
    machine.begin_operation(o.pe, "op " + std::to_string(i));
    {
      maint::Gather gather(space, features, planner, executor, memory, &machine);
      switch (o.kind) {
        case OpKind::map:
          (void)table.map(o.va, kData + (o.va - kSmall), o.size, attributes(o.writable), gather);
          break;
        case OpKind::unmap: (void)table.unmap(o.va, o.size, gather); break;
        case OpKind::protect:
          (void)table.protect(o.va, o.size, pt::AttributeChange::to(attributes(o.writable)), gather);
          break;
        case OpKind::split: (void)table.split(o.va, o.size, 3, gather); break;
      }
    }
    machine.end_operation();
    if (mutate && executor.dropped()) {
      // Affected: a stale entry some TLBI of the operation targets is still cached.
      const std::vector<arch::DecodedOp> tlbis = executor.tlbis();
      for (unsigned pe = 0; pe < w.pes; ++pe) {
        for (const TlbEntry& e : machine.entries(pe)) {
          if (!wrong(memory, table.root(), e)) continue;
          for (const arch::DecodedOp& t : tlbis) {
            if (tlbi_removes(t, TlbiContext{0}, e)) run.affected = true;
          }
        }
      }
    }
    // Every PE uses what it holds and touches every page it may map.
    for (unsigned pe = 0; pe < w.pes; ++pe) {
      for (const TlbEntry& e : machine.entries(pe)) {
        if (e.kind == CachedKind::leaf) (void)machine.access(pe, e.input, AccessKind::read);
      }
      for (VirtAddr a = kSmall; a < kSmall + 32 * kPage; a += kPage) (void)machine.access(pe, a, AccessKind::read);
      for (VirtAddr a = kLarge; a < kLarge + 2 * kBlock; a += kBlock / 8) (void)machine.access(pe, a, AccessKind::read);
    }
    if (mutate) break;  // the mutated operation is the last one that matters
  }
  run.violations = machine.violations();
  return run;
}

RC_GTEST_PROP(PlannerOnTheMachine, RandomWorkloadsOnOneToEightPesGiveNoViolation, ()) {
  const Workload w = *workloads();
  const Run run = play(w, std::nullopt, 0);
  if (!run.violations.empty()) RC_FAIL(run.violations.front().message);
}

RC_GTEST_PROP(PlannerOnTheMachine, DroppingAnyTlbiOrDsbIsCaughtWheneverItLeavesAStaleEntryCached, ()) {
  const Workload w = *workloads();
  // Mutate an operation that needs maintenance (maps need none).
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < w.operations.size(); ++i) {
    if (w.operations[i].kind != OpKind::map) candidates.push_back(i);
  }
  RC_PRE(!candidates.empty());
  const std::size_t mutated = *rc::gen::elementOf(candidates);
  const unsigned drop = *rc::gen::inRange(0u, 4u);
  const Run run = play(w, mutated, drop);
  RC_CLASSIFY(run.affected, "a stale targeted entry was cached");
  if (run.affected) RC_ASSERT(!run.violations.empty());
}

}  // namespace
}  // namespace tlbkit::sim
