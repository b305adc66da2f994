#include "tlbkit/workload/batch.hpp"

#include <fmt/format.h>

#include "tlbkit/text/error.hpp"

namespace tlbkit::workload {
namespace {

void finish(maint::Gather& gather, const std::string& where, std::vector<std::string>& problems) {
  const Status finished = gather.finish();
  if (!finished.ok()) {
    problems.push_back(fmt::format("{}: the gather could not finish: {}", where, text::describe(finished.error())));
  }
}

}  // namespace

std::vector<StepOutcome> play_batch(pt::Table& table, const Batch& batch, const BatchSinks& sinks,
                                    const std::string& where, std::vector<std::string>& problems) {
  std::vector<StepOutcome> outcomes;
  outcomes.reserve(batch.steps.size());
  for (std::size_t i = 0; i < batch.steps.size(); ++i) {
    if (sinks.before_step) sinks.before_step(i);
    const Status s = apply_step(table, batch.steps[i], sinks.sink);
    StepOutcome outcome;
    if (!s.ok()) {
      outcome.error = s.error();
      problems.push_back(fmt::format("{} step {} ({}): {}", where, i + 1, step_kind_name(batch.steps[i].kind),
                                     text::describe(s.error())));
    }
    outcomes.push_back(outcome);
  }
  if (sinks.after_steps) sinks.after_steps();
  finish(sinks.gather, where, problems);
  return outcomes;
}

void play_teardown(pt::Table& table, const BatchSinks& sinks, std::vector<std::string>& problems) {
  sinks.gather.cover_whole_space();
  table.release(sinks.sink);
  if (sinks.after_steps) sinks.after_steps();
  finish(sinks.gather, "teardown", problems);
}

}  // namespace tlbkit::workload
