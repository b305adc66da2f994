// Executors run plans: on the real CPU, through a shim, in the simulator, or
// into a recording.
#pragma once

#include "tlbkit/plan/plan.hpp"

namespace tlbkit {

class Executor {
 public:
  // Runs every op of `plan` in order. When it returns, the plan's last
  // barrier has completed on the executing PE.
  virtual void execute(const Plan& plan) = 0;

 protected:
  ~Executor() = default;
};

}  // namespace tlbkit
