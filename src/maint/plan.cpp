#include "tlbkit/maint/plan.hpp"

namespace tlbkit::maint {

Op OpSequence::operator[](std::size_t i) const {
  for (const Step& step : steps_) {
    if (i < step.count) return step.at(static_cast<std::uint32_t>(i));
    i -= step.count;
  }
  return Op{};
}

Status Plan::append(const Op& op) {
  if (!steps_.empty()) {
    Step& last = steps_.back();
    // Extend a loop only along its own stride; a stride is never guessed
    // from two unrelated ops (loops come from append_repeated()).
    if (last.first.instr == op.instr && last.count > 1 && last.count < UINT32_MAX &&
        op.operand == last.first.operand + last.count * last.stride) {
      ++last.count;
      ++op_count_;
      return ok_status();
    }
  }
  return append_repeated(op, 1, 0);
}

Status Plan::append(const Result<Op>& op) {
  if (!op.ok()) return op.error();
  return append(*op);
}

Status Plan::append_repeated(const Op& first, std::uint32_t count, std::uint64_t stride) {
  if (count == 0) return Error{Errc::invalid_argument, "a step needs at least one op"};
  if (steps_.full()) return Error{Errc::out_of_range, "plan is full"};
  steps_.push_back(Step{first, count, stride});
  op_count_ += count;
  return ok_status();
}

}  // namespace tlbkit::maint
