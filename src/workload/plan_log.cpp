#include "workload/plan_log.hpp"

namespace tlbkit::workload {

const char* trigger_name(Trigger trigger) {
  switch (trigger) {
    case Trigger::batch_end: return "batch end";
    case Trigger::break_before_make: return "break-before-make";
    case Trigger::retired_overflow: return "retired-table list full";
  }
  return "?";
}

void PlanLog::execute(const maint::Plan& plan) {
  const auto ops = plan.ops();
  plans_.push_back(ExecutedPlan{context_.trigger, context_.step, {ops.begin(), ops.end()}});
}

}  // namespace tlbkit::workload
