#include "tlbkit/workload/plan_log.hpp"

namespace tlbkit::workload {

const char* trigger_name(Trigger trigger) {
  switch (trigger) {
    case Trigger::batch_end: return "batch end";
    case Trigger::break_before_make: return "break-before-make";
    case Trigger::retired_overflow: return "retired-table list full";
  }
  return "?";
}

std::vector<arch::Op> ExecutedPlan::ops() const {
  std::vector<arch::Op> out;
  out.reserve(plan.size());
  for (const arch::Op& op : plan.ops()) out.push_back(op);
  return out;
}

void PlanLog::execute(const Plan& plan) {
  plans_.push_back(ExecutedPlan{context_.trigger, context_.step, plan});
}

}  // namespace tlbkit::workload
