#include "tlbkit/workload/change_log.hpp"

namespace tlbkit::workload {

const char* delivery_name(Delivery delivery) {
  return delivery == Delivery::immediate ? "immediate" : "deferred";
}

void ChangeLog::begin_step(std::size_t step) {
  step_ = step;
  context_.step = step;
  context_.trigger = Trigger::batch_end;
}

void ChangeLog::end_steps() {
  context_.step.reset();
  context_.trigger = Trigger::batch_end;
}

void ChangeLog::record(const pt::Change& change) {
  changes_.push_back(ChangeRecord{step_, Delivery::deferred, change});
  downstream_.record(change);
}

void ChangeLog::invalidate_now(const pt::Change& change) {
  changes_.push_back(ChangeRecord{step_, Delivery::immediate, change});
  context_.trigger = Trigger::break_before_make;
  downstream_.invalidate_now(change);
  context_.trigger = Trigger::batch_end;
}

void ChangeLog::retire_table(arch::PhysAddr table, unsigned pages) {
  ++tables_retired_;
  context_.trigger = Trigger::retired_overflow;
  downstream_.retire_table(table, pages);
  context_.trigger = Trigger::batch_end;
}

}  // namespace tlbkit::workload
