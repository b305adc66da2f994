// A small multi-CPU TLB model for protocol tests (test-only; the simulator
// proper lives in src/sim). What it models, and nothing more:
// - one translation table per ASID: page -> physical page;
// - per-CPU TLBs of page entries tagged with an ASID, filled by accesses;
// - TLBIs that stay in flight on the issuing CPU until that CPU executes a
//   DSB: DSB ISH / SY completes all of them (broadcast ones remove entries
//   from every CPU's TLB), DSB NSH only the local ones
//   (docs/ARCHITECTURE-FACTS.md section 3). Taking effect at the DSB is the latest moment the architecture
//   allows, the one that exposes missing or misplaced barriers;
// - page reuse: free_page() bumps the page's epoch; an entry filled before
//   then is a use of a freed page.
// Thread safety: every member takes one mutex, so protocol code under test
// may call it from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "tlbkit/arch/ops.hpp"
#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/plan/executor.hpp"
#include "tlbkit/plan/plan.hpp"

namespace tlbkit::test {

using arch::PhysAddr;
using arch::VirtAddr;

// What one access found.
enum class Use {
  fresh,  // the translation the table holds now (from the TLB or a walk)
  stale,  // a TLB entry the table no longer holds; its page not yet freed
  freed,  // a TLB entry to a page freed since the entry was filled
  fault,  // no entry, and the walk finds nothing
};

inline const char* use_name(Use u) {
  switch (u) {
    case Use::fresh: return "fresh";
    case Use::stale: return "stale";
    case Use::freed: return "freed";
    case Use::fault: return "fault";
  }
  return "?";
}

class TlbModel {
 public:
  static constexpr std::uint64_t kPage = 0x1000;

  explicit TlbModel(unsigned cpus) : tlbs_(cpus), in_flight_(cpus) {}

  void map(std::uint16_t asid, VirtAddr va, PhysAddr pa) {
    std::lock_guard lock(mutex_);
    table_[{asid, page(va)}] = page(pa);
  }
  void unmap(std::uint16_t asid, VirtAddr va) {
    std::lock_guard lock(mutex_);
    table_.erase({asid, page(va)});
  }
  // The page goes back to the allocator (and may be reused at once).
  void free_page(PhysAddr pa) {
    std::lock_guard lock(mutex_);
    ++epoch_[page(pa)];
  }

  // CPU `cpu` running with `asid` touches `va`.
  Use access(unsigned cpu, std::uint16_t asid, VirtAddr va) {
    std::lock_guard lock(mutex_);
    const auto mapped = table_.find({asid, page(va)});
    for (const Entry& e : tlbs_[cpu]) {
      if (e.asid != asid || e.va != page(va)) continue;
      if (mapped != table_.end() && mapped->second == e.pa) return Use::fresh;
      return epoch_[e.pa] == e.epoch ? Use::stale : Use::freed;
    }
    if (mapped == table_.end()) return Use::fault;
    tlbs_[cpu].push_back(Entry{asid, page(va), mapped->second, epoch_[mapped->second]});
    return Use::fresh;
  }

  bool holds(unsigned cpu, std::uint16_t asid, VirtAddr va) const {
    std::lock_guard lock(mutex_);
    for (const Entry& e : tlbs_[cpu]) {
      if (e.asid == asid && e.va == page(va)) return true;
    }
    return false;
  }

  // TLBIs issued by `cpu` and not yet completed by its DSB.
  std::size_t in_flight(unsigned cpu) const {
    std::lock_guard lock(mutex_);
    return in_flight_[cpu].size();
  }

  // CPU `cpu` executes `ops` (any range of arch::Op) in order.
  template <class Ops>
  void run(unsigned cpu, const Ops& ops) {
    std::lock_guard lock(mutex_);
    for (const arch::Op& op : ops) {
      const arch::InstrInfo& info = arch::info(op.instr);
      if (info.category == arch::Category::tlbi) {
        in_flight_[cpu].push_back(op);
      } else if (op.instr == arch::Instr::dsb_ish || op.instr == arch::Instr::dsb_sy) {
        complete(cpu, Completes::all);
      } else if (op.instr == arch::Instr::dsb_nsh) {
        complete(cpu, Completes::local_only);
      }
      // DSB ISHST waits for stores only; ISB and cache ops leave TLBs alone.
    }
  }

 private:
  struct Entry {
    std::uint16_t asid;
    VirtAddr va;
    PhysAddr pa;
    std::uint64_t epoch;
  };
  enum class Completes { all, local_only };

  static std::uint64_t page(std::uint64_t address) { return address & ~(kPage - 1); }

  void complete(unsigned cpu, Completes which) {
    std::vector<arch::Op> still;
    for (const arch::Op& op : in_flight_[cpu]) {
      const bool local = arch::info(op.instr).scope == arch::Scope::local;
      if (which == Completes::local_only && !local) {
        still.push_back(op);
        continue;
      }
      if (local) {
        invalidate(tlbs_[cpu], op);
      } else {
        for (auto& tlb : tlbs_) invalidate(tlb, op);
      }
    }
    in_flight_[cpu] = std::move(still);
  }

  static bool covers(const arch::Op& op, const Entry& e) {
    const arch::DecodedOp d = arch::decode(op);
    const bool in_range = e.va >= d.start && e.va - d.start < d.size;
    switch (arch::info(op.instr).operand) {
      case arch::OperandKind::va:
      case arch::OperandKind::range: return e.asid == d.asid_field && in_range;
      case arch::OperandKind::va_all_asid:
      case arch::OperandKind::range_all_asid: return in_range;
      case arch::OperandKind::asid: return e.asid == d.asid_field;
      case arch::OperandKind::none: return true;  // VMALLE1, ALLE1, VMALLS12E1, ALLE2
      default: return false;
    }
  }

  static void invalidate(std::vector<Entry>& tlb, const arch::Op& op) {
    std::erase_if(tlb, [&](const Entry& e) { return covers(op, e); });
  }

  mutable std::mutex mutex_;
  std::map<std::pair<std::uint16_t, VirtAddr>, PhysAddr> table_;
  std::map<PhysAddr, std::uint64_t> epoch_;
  std::vector<std::vector<Entry>> tlbs_;
  std::vector<std::vector<arch::Op>> in_flight_;
};

// Runs plans as CPU `cpu` of a TlbModel; records them; optional hooks run
// just before and just after each plan (the racy points tests drive).
class ModelExecutor final : public Executor {
 public:
  ModelExecutor(TlbModel& model, unsigned cpu) : model_(model), cpu_(cpu) {}

  void execute(const Plan& plan) override {
    if (before) before();
    model_.run(cpu_, plan.ops());
    for (const arch::Op& op : plan.ops()) ops.push_back(op);
    ++plans;
    if (after) after();
  }

  std::function<void()> before;
  std::function<void()> after;
  std::vector<arch::Op> ops;
  std::size_t plans = 0;

 private:
  TlbModel& model_;
  unsigned cpu_;
};

}  // namespace tlbkit::test
