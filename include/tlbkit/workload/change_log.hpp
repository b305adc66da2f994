// A ChangeSink between the table engine and the Gather: it keeps every
// change record, counts retired tables, and tags the plans the Gather runs
// from inside a call (break-before-make, early finish) in the PlanContext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tlbkit/pt/change.hpp"
#include "tlbkit/workload/plan_log.hpp"

namespace tlbkit::workload {

// How the engine reported a change.
enum class Delivery : std::uint8_t {
  deferred,   // record(): maintenance may wait for the batch end
  immediate,  // invalidate_now(): break-before-make, maintenance completed before the call returned
};

const char* delivery_name(Delivery delivery);

struct ChangeRecord {
  std::size_t step = 0;  // index in the batch
  Delivery delivery = Delivery::deferred;
  pt::Change change;
  friend bool operator==(const ChangeRecord&, const ChangeRecord&) = default;
};

class ChangeLog final : public pt::ChangeSink {
 public:
  // Forwards everything to `downstream`; sets context.trigger while a
  // forwarded call may run a plan, and back to batch_end after.
  ChangeLog(pt::ChangeSink& downstream, PlanContext& context)
      : downstream_(downstream), context_(context) {}

  // The step whose calls follow (also written to the context).
  void begin_step(std::size_t step);
  // Steps are over: what runs now belongs to the batch end.
  void end_steps();

  void record(const pt::Change& change) override;
  void invalidate_now(const pt::Change& change) override;
  void retire_table(arch::PhysAddr table, unsigned pages) override;

  const std::vector<ChangeRecord>& changes() const { return changes_; }
  std::size_t tables_retired() const { return tables_retired_; }

 private:
  pt::ChangeSink& downstream_;
  PlanContext& context_;
  std::size_t step_ = 0;
  std::vector<ChangeRecord> changes_;
  std::size_t tables_retired_ = 0;
};

}  // namespace tlbkit::workload
