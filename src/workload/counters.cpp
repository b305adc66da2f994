#include "tlbkit/workload/counters.hpp"

namespace tlbkit::workload {

TlbiReach tlbi_reach(arch::Instr instr) {
  const arch::InstrInfo& i = arch::info(instr);
  switch (i.operand) {
    case arch::OperandKind::va:
    case arch::OperandKind::va_all_asid:
    case arch::OperandKind::ipa: return TlbiReach::per_va;
    case arch::OperandKind::range:
    case arch::OperandKind::range_all_asid:
    case arch::OperandKind::ipa_range: return TlbiReach::range;
    case arch::OperandKind::asid: return TlbiReach::context;
    case arch::OperandKind::none:
    case arch::OperandKind::address: break;
  }
  // No operand: VMALLE1 and VMALLS12E1 act on the current VMID; ALLE1 on
  // every VMID, ALLE2 on the whole EL2 regime.
  return i.regime == arch::TlbRegime::el1_all_vmids || i.regime == arch::TlbRegime::el2 ? TlbiReach::full
                                                                                       : TlbiReach::context;
}

Counters& Counters::operator+=(const Counters& o) {
  changes += o.changes;
  plans += o.plans;
  immediate_plans += o.immediate_plans;
  tlbi_per_va += o.tlbi_per_va;
  tlbi_range += o.tlbi_range;
  tlbi_context += o.tlbi_context;
  tlbi_full += o.tlbi_full;
  broadcast += o.broadcast;
  dsb += o.dsb;
  isb += o.isb;
  icache += o.icache;
  dcache += o.dcache;
  tables_freed += o.tables_freed;
  return *this;
}

namespace {

// Adds `times` executions of `op`.
void count_op(const arch::Op& op, std::uint64_t times, Counters& c) {
  using arch::Instr;
  const arch::InstrInfo& i = arch::info(op.instr);
  switch (i.category) {
    case arch::Category::tlbi:
      switch (tlbi_reach(op.instr)) {
        case TlbiReach::per_va: c.tlbi_per_va += times; break;
        case TlbiReach::range: c.tlbi_range += times; break;
        case TlbiReach::context: c.tlbi_context += times; break;
        case TlbiReach::full: c.tlbi_full += times; break;
      }
      break;
    case arch::Category::barrier:
      if (op.instr == Instr::isb) {
        c.isb += times;
      } else {
        c.dsb += times;
      }
      break;
    case arch::Category::cache:
      if (op.instr == Instr::dc_civac) {
        c.dcache += times;
      } else {
        c.icache += times;
      }
      break;
  }
  if (i.category == arch::Category::tlbi && i.scope == arch::Scope::inner_shareable) c.broadcast += times;
}

}  // namespace

void count_ops(std::span<const arch::Op> ops, Counters& c) {
  for (const arch::Op& op : ops) count_op(op, 1, c);
}

void count_plan(const Plan& plan, Counters& c) {
  const std::span<const Step> steps = plan.steps();
  for (std::size_t i = 0; i < steps.size(); ++i) count_op(steps[i].first, plan.runs_of(i), c);
}

}  // namespace tlbkit::workload
