// sim::Machine, maintenance: TLBIs pending until their issuer's DSB,
// barriers, cache maintenance, plans, what each costs, the bookkeeping of
// refills (note_removed / note_fill) and the Executor of one PE.
#include <tuple>
#include <vector>

#include "machine_internal.hpp"

namespace tlbkit::sim {

using arch::Instr;
using detail::holds_stage2_leaf;
using detail::kPage;
using detail::PendingTlbi;
using detail::RefillKey;

namespace {

RefillKey refill_key(const TlbEntry& e) {
  return {e.regime, e.stage, e.vmid, e.global ? std::uint16_t{0} : e.asid, e.global, e.input, e.size};
}

bool is_dsb(Instr i) { return i == Instr::dsb_ish || i == Instr::dsb_nsh || i == Instr::dsb_sy; }

}  // namespace

// Machine::execute fails only for a PE the machine lacks (out_of_range),
// and a PeExecutor is made only by the Machine's constructor, one for each
// PE it has (pes_ never shrinks): the Status is always ok.
void Machine::PeExecutor::execute(const Plan& plan) { (void)machine_.execute(pe_, plan); }

// ---- refills ----------------------------------------------------------------

void Machine::note_removed(unsigned pe, const TlbEntry& e, Removed removed) {
  ++counters_.entries_invalidated;
  if (e.kind != CachedKind::leaf) return;
  const auto changed = [&](PhysAddr at, Descriptor value) {
    const Descriptor* words = memory_.peek(at & ~(kPage - 1));
    return words == nullptr || words[(at & (kPage - 1)) / sizeof(Descriptor)] != value;
  };
  const bool stale = changed(e.descriptor_pa, e.descriptor) ||
                     (holds_stage2_leaf(e) && changed(e.s2_descriptor_pa, e.s2_descriptor));
  pes_[pe]->removed[refill_key(e)] = stale || removed == Removed::unjustified;
}

bool Machine::note_fill(unsigned pe, const TlbEntry& e, std::uint64_t walk_cycles) {
  auto& removed = pes_[pe]->removed;
  const auto it = removed.find(refill_key(e));
  if (it == removed.end()) return false;
  if (it->second) {
    ++counters_.refills_needed;
    counters_.refill_cycles_needed += walk_cycles;
  } else {
    ++counters_.refills_collateral;
    counters_.refill_cycles_collateral += walk_cycles;
  }
  removed.erase(it);
  return true;
}

// ---- maintenance ------------------------------------------------------------

Status Machine::issue(unsigned pe_index, const arch::Op& op) {
  if (pe_index >= pes()) return Error{Errc::out_of_range, "no such PE"};
  sync();
  return options_.timeline == nullptr ? issue_synced(pe_index, op) : issue_timed(pe_index, op);
}

void Machine::timeline_event(unsigned pe, TimelineKind kind, std::uint64_t cycles, std::string_view name,
                             std::uint64_t address) {
  Pe& p = *pes_[pe];
  options_.timeline->event(TimelineEvent{pe, kind, p.clock, cycles, name, address});
  p.clock += cycles;
}

Status Machine::issue_timed(unsigned pe, const arch::Op& op) {
  const std::uint64_t before = counters_.maintenance_cycles;
  const Status s = issue_synced(pe, op);
  const arch::InstrInfo& info = arch::info(op.instr);
  const TimelineKind kind = info.category == arch::Category::tlbi ? TimelineKind::tlbi
                            : info.category == arch::Category::cache ? TimelineKind::cache
                            : op.instr == Instr::isb                 ? TimelineKind::barrier
                                                                     : TimelineKind::dsb;
  timeline_event(pe, kind, counters_.maintenance_cycles - before, info.mnemonic, op.operand);
  return s;
}

Status Machine::issue_synced(unsigned pe_index, const arch::Op& op) {
  ++event_;
  Pe& pe = *pes_[pe_index];
  const arch::InstrInfo& info = arch::info(op.instr);
  const Weakenings& weakenings = options_.weakenings;
  // TLBI `t` of this PE takes effect: it removes, on its target PEs, what
  // it matches — except entries a walk refilled after the TLBI from a table
  // write that was not yet visible (no DSB ISHST before the TLBI: known
  // bug 13).
  const auto take_effect = [&](const PendingTlbi& t) {
    const TlbiContext context{pe.context ? pe.context->vmid : std::uint16_t{0}, weakenings};
    for (unsigned target = 0; target < pes(); ++target) {
      if (!t.broadcast && target != pe_index && !weakenings.has(Weakening::local_tlbi_acts_on_every_pe)) continue;
      Pe& victim = *pes_[target];
      for (Tlb* tlb : {&victim.l1i, &victim.l1d, &victim.l2}) {
        std::vector<TlbEntry> removed;
        tlb->invalidate(t.op, context, &removed);
        for (const TlbEntry& e : removed) {
          if (e.filled_at > t.issued_at && e.from_unpublished) {
            tlb->insert(e);
            continue;
          }
          note_removed(target, e);
        }
      }
    }
  };
  switch (info.category) {
    case arch::Category::tlbi: {
      const bool broadcast = info.scope == arch::Scope::inner_shareable;
      const PendingTlbi tlbi{arch::decode(op), broadcast, event_};
      if (weakenings.has(Weakening::tlbi_takes_effect_at_issue)) {
        take_effect(tlbi);
      } else {
        pe.pending.push_back(tlbi);
      }
      if (broadcast) {
        counters_.tlbi_broadcast += profile_.tlbi_repeat;
        counters_.maintenance_cycles += profile_.tlbi_broadcast * profile_.tlbi_repeat;
      } else {
        ++counters_.tlbi_local;
        counters_.maintenance_cycles += profile_.tlbi_local;
      }
      return ok_status();
    }
    case arch::Category::barrier: {
      if (op.instr == Instr::isb) {
        ++counters_.isb;
        counters_.maintenance_cycles += profile_.isb;
        return ok_status();
      }
      ++counters_.dsb;
      if (writer_ && *writer_ == pe_index) publish();
      // DSB ISHST orders stores; it completes no TLBI.
      if (!is_dsb(op.instr) && !weakenings.has(Weakening::dsb_ishst_completes_tlbis)) {
        counters_.maintenance_cycles += profile_.dsb_local;
        return ok_status();
      }
      // A DSB completes this PE's TLBIs (DSB NSH only its local ones).
      bool waited_broadcast = false;
      std::vector<PendingTlbi> still;
      for (const PendingTlbi& t : pe.pending) {
        if (t.broadcast && op.instr == Instr::dsb_nsh &&
            !weakenings.has(Weakening::dsb_nsh_completes_broadcast_tlbis)) {
          still.push_back(t);
          continue;
        }
        waited_broadcast = waited_broadcast || t.broadcast;
        take_effect(t);
      }
      pe.pending = std::move(still);
      if (waited_broadcast) {
        ++counters_.dsb_broadcast_waits;
        counters_.maintenance_cycles += profile_.dsb_broadcast(pes()) * profile_.tlbi_repeat;
      } else {
        counters_.maintenance_cycles += profile_.dsb_local;
      }
      return ok_status();
    }
    case arch::Category::cache:
      if (op.instr == Instr::dc_civac) {
        ++counters_.dc;
        counters_.maintenance_cycles += profile_.dc_line;
      } else {
        note_icache_invalidate(pe_index, op);
        ++counters_.ic;
        counters_.maintenance_cycles +=
            info.scope == arch::Scope::inner_shareable ? profile_.ic_broadcast : profile_.tlbi_local;
      }
      return ok_status();
  }
  return ok_status();
}

bool Machine::injected_drop(const arch::Op& op) {
  using Kind = DropInjection::Kind;
  const Kind kind = options_.drop.kind;
  if (kind == Kind::none) return false;
  const bool candidate = kind == Kind::tlbi ? arch::info(op.instr).category == arch::Category::tlbi
                                            : op.instr == Instr::dsb_ishst || op.instr == Instr::dsb_ish ||
                                                  op.instr == Instr::dsb_nsh || op.instr == Instr::dsb_sy;
  if (!candidate || ++drop_candidates_ % options_.drop.every != 0) return false;
  ++counters_.dropped_ops;
  return true;
}

Status Machine::execute(unsigned pe, const Plan& plan) {
  if (pe >= pes()) return Error{Errc::out_of_range, "no such PE"};
  ++counters_.plans;
  counters_.maintenance_cycles += profile_.request_round_trip;
  // No table is written while a plan runs: one sync before its first op
  // sees every write made before it (a sync per op would compare every
  // watched table page again for each of a plan's many DC ops).
  sync();
  if (options_.execution == Execution::bound) return execute_bound(pe, plan);
  if (options_.timeline != nullptr) {
    // The plan as a span around its ops: its start, then the ops, then the
    // span's length (the round trip included) once known.
    Pe& p = *pes_[pe];
    const std::uint64_t start = p.clock;
    p.clock += profile_.request_round_trip;
    for (const arch::Op& op : plan.ops()) {
      if (injected_drop(op)) continue;
      const Status s = issue_timed(pe, op);
      if (!s.ok()) return s;
    }
    options_.timeline->event(TimelineEvent{pe, TimelineKind::plan, start, p.clock - start, "plan", 0});
    return ok_status();
  }
  for (const arch::Op& op : plan.ops()) {
    if (injected_drop(op)) [[unlikely]] continue;
    const Status s = issue_synced(pe, op);
    if (!s.ok()) return s;
  }
  return ok_status();
}

}  // namespace tlbkit::sim
