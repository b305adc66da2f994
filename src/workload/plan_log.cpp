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

std::vector<arch::Op> ExecutedPlan::ops() const {
  std::vector<arch::Op> out;
  for (const maint::Step& run : runs) {
    for (std::uint32_t i = 0; i < run.count; ++i) out.push_back(run.at(i));
  }
  return out;
}

std::uint64_t ExecutedPlan::op_count() const {
  std::uint64_t n = 0;
  for (const maint::Step& run : runs) n += run.count;
  return n;
}

void PlanLog::execute(const maint::Plan& plan) {
  const std::span<const maint::Step> runs = plan.steps();
  plans_.push_back(ExecutedPlan{context_.trigger, context_.step, {runs.begin(), runs.end()}});
}

}  // namespace tlbkit::workload
