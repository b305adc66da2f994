// An executor that records the ops it is given instead of running them.
#pragma once

#include <cstddef>
#include <span>

#include "tlbkit/plan/executor.hpp"

namespace tlbkit::exec {

// Records into caller-provided storage; counts what did not fit.
// Not thread-safe.
class Recorder final : public Executor {
 public:
  explicit Recorder(std::span<arch::Op> storage) : storage_(storage) {}

  void execute(const Plan& plan) override;

  // The ops recorded so far, oldest first (at most the storage's size).
  std::span<const arch::Op> ops() const { return storage_.first(recorded_); }
  // Ops given that did not fit the storage.
  std::size_t dropped() const { return dropped_; }
  // Number of execute() calls.
  std::size_t plans() const { return plans_; }
  void clear() {
    recorded_ = 0;
    dropped_ = 0;
    plans_ = 0;
  }

 private:
  std::span<arch::Op> storage_;
  std::size_t recorded_ = 0;
  std::size_t dropped_ = 0;
  std::size_t plans_ = 0;
};

}  // namespace tlbkit::exec
