// An executor that keeps every plan it is given, tagged with what made the
// Gather run it (the end of the batch, a break-before-make, ...) and which
// step was running. The runner's ChangeLog sets the tag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "tlbkit/plan/executor.hpp"
#include "tlbkit/plan/plan.hpp"

namespace tlbkit::workload {

// Why a plan ran.
enum class Trigger : std::uint8_t {
  batch_end,          // Gather::finish() at the end of the batch
  break_before_make,  // ChangeSink::invalidate_now(): inside a step, before the new entry is written
  retired_overflow,   // ChangeSink::retire_table() found the Gather's retired list full and finished early
};

const char* trigger_name(Trigger trigger);

// What is running when a plan is executed.
struct PlanContext {
  Trigger trigger = Trigger::batch_end;
  std::optional<std::size_t> step;  // index in the batch; none at the batch end
};

struct ExecutedPlan {
  Trigger trigger = Trigger::batch_end;
  std::optional<std::size_t> step;
  // The plan as it was built (steps and step groups).
  Plan plan;

  // The plan expanded, in execution order.
  std::vector<arch::Op> ops() const;
  // How many ops the plan expands to.
  std::uint64_t op_count() const { return plan.size(); }
  friend bool operator==(const ExecutedPlan&, const ExecutedPlan&) = default;
};

class PlanLog final : public Executor {
 public:
  // `context` is read at every execute(); it must outlive the log.
  explicit PlanLog(const PlanContext& context) : context_(context) {}

  // Records the plan with the current context. Runs nothing.
  void execute(const Plan& plan) override;

  const std::vector<ExecutedPlan>& plans() const { return plans_; }
  // Hands the plans recorded so far to the caller and forgets them.
  std::vector<ExecutedPlan> take() { return std::move(plans_); }

 private:
  const PlanContext& context_;
  std::vector<ExecutedPlan> plans_;
};

}  // namespace tlbkit::workload
