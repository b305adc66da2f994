#include "teeth_executor.hpp"

#include "tlbkit/arch/ops.hpp"

namespace realisa {
namespace {

using tlbkit::arch::Instr;

bool is_dsb(Instr i) {
  return i == Instr::dsb_ishst || i == Instr::dsb_ish || i == Instr::dsb_nsh || i == Instr::dsb_sy;
}

}  // namespace

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::normal: return "normal";
    case Mode::drop_tlbi: return "drop-tlbi";
    case Mode::drop_dsb: return "drop-dsb";
    case Mode::local_only: return "local-only";
  }
  return "?";
}

bool parse_mode(std::string_view name, Mode& mode) {
  for (Mode m : {Mode::normal, Mode::drop_tlbi, Mode::drop_dsb, Mode::local_only}) {
    if (mode_name(m) == name) {
      mode = m;
      return true;
    }
  }
  return false;
}

bool is_range(Instr i) {
  return tlbkit::arch::info(i).operand == tlbkit::arch::OperandKind::range ||
         tlbkit::arch::info(i).operand == tlbkit::arch::OperandKind::range_all_asid ||
         tlbkit::arch::info(i).operand == tlbkit::arch::OperandKind::ipa_range;
}

void TeethExecutor::execute(const tlbkit::Plan& plan) {
  for (tlbkit::arch::Op op : plan.ops()) {
    const tlbkit::arch::Category category = tlbkit::arch::info(op.instr).category;
    const bool tlbi = category == tlbkit::arch::Category::tlbi;
    if ((mode_ == Mode::drop_tlbi && tlbi) || (mode_ == Mode::drop_dsb && is_dsb(op.instr))) {
      ++counts_.dropped;
      continue;
    }
    if (mode_ == Mode::local_only && tlbkit::arch::local_form(op.instr) != op.instr) {
      op.instr = tlbkit::arch::local_form(op.instr);
      ++counts_.dropped;
    }
    counts_.tlbi += tlbi;
    counts_.range_tlbi += tlbi && is_range(op.instr);
    counts_.dsb += is_dsb(op.instr);
    counts_.cache += category == tlbkit::arch::Category::cache;
    tlbkit::Plan one;
    (void)one.append(op);
    native_.execute(one);
  }
}

OpCounts TeethExecutor::take_counts() {
  const OpCounts c = counts_;
  counts_ = {};
  return c;
}

}  // namespace realisa
