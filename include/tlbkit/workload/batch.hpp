// One loop for playing table edits through a Gather, shared by everything
// that runs scenarios (the suite runner, replay on the simulated machine):
// a batch of steps and then its maintenance, and the teardown of a whole
// table, with one rule for each.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tlbkit/maint/gather.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::workload {

struct StepOutcome {
  std::optional<Error> error;  // none: the step succeeded
  bool ok() const { return !error.has_value(); }
};

// Where a batch's table changes go and whose maintenance finishes them:
// `gather`, reached through `sink` (the gather itself, or a recorder in
// front of it). `before_step(i)` runs before step i, `after_steps()` after
// the last step, before the Gather finishes (either may be empty).
struct BatchSinks {
  maint::Gather& gather;
  pt::ChangeSink& sink;
  std::function<void(std::size_t)> before_step = {};
  std::function<void()> after_steps = {};
};

// Applies every step of `batch` to `table` through `sinks.sink`, then
// finishes the Gather (its plan runs, then held memory is freed). A step
// that fails is reported and the batch goes on, as a kernel's later
// syscalls do. Each problem is appended to `problems` as
// "<where> step N (kind): code: message" or "<where>: the gather could not
// finish: code: message". Returns one outcome per step.
std::vector<StepOutcome> play_batch(pt::Table& table, const Batch& batch, const BatchSinks& sinks,
                                    const std::string& where, std::vector<std::string>& problems);

// Tears `table` down the way every kernel does when an address space dies:
// the whole space is invalidated once (Gather::cover_whole_space), not
// entry by entry; then every table is released through `sinks.sink` (the
// release is the one step: after_steps() runs after it, before_step() not
// at all) and the Gather is finished (tables freed only after that plan
// ran). A Gather that cannot finish is reported in `problems` as
// "teardown: ...".
void play_teardown(pt::Table& table, const BatchSinks& sinks, std::vector<std::string>& problems);

}  // namespace tlbkit::workload
