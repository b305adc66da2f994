#include "tlbkit/maint/plan.hpp"

namespace tlbkit::maint {

Status Plan::append(const Op& op) {
  if (size_ == kCapacity) return Error{Errc::out_of_range, "plan is full"};
  ops_[size_++] = op;
  return ok_status();
}

Status Plan::append(const Result<Op>& op) {
  if (!op.ok()) return op.error();
  return append(*op);
}

}  // namespace tlbkit::maint
