#include "tlbkit/exec/recorder.hpp"

namespace tlbkit::exec {

void Recorder::execute(const Plan& plan) {
  ++plans_;
  for (const arch::Op& op : plan.ops()) {
    if (recorded_ < storage_.size()) {
      storage_[recorded_++] = op;
    } else {
      ++dropped_;
    }
  }
}

}  // namespace tlbkit::exec
