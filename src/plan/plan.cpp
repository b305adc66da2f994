#include "tlbkit/plan/plan.hpp"

#include <algorithm>

namespace tlbkit {

const StepGroup* OpSequence::iterator::group() const {
  if (next_group_ >= groups_.size()) return nullptr;
  const StepGroup& g = groups_[next_group_];
  return step_ >= g.first_step && step_ < g.first_step + g.steps ? &g : nullptr;
}

arch::Op OpSequence::iterator::operator*() const {
  arch::Op op = steps_[step_].at(index_);
  if (repetition_ > 0 && arch::takes_register(op.instr)) op.operand += repetition_ * group()->advance;
  return op;
}

OpSequence::iterator& OpSequence::iterator::operator++() {
  if (++index_ < steps_[step_].count) return *this;
  index_ = 0;
  const StepGroup* g = group();
  ++step_;
  if (g != nullptr && step_ == g->first_step + g->steps) {
    if (++repetition_ < g->times) {
      step_ = g->first_step;
    } else {
      repetition_ = 0;
      ++next_group_;
    }
  }
  return *this;
}

arch::Op OpSequence::operator[](std::size_t i) const {
  iterator it = begin();
  while (i-- > 0) ++it;
  return *it;
}

std::size_t Plan::ungrouped_from() const {
  if (groups_.empty()) return 0;
  const StepGroup& last = groups_.back();
  return last.first_step + last.steps;
}

std::uint64_t Plan::runs_of(std::size_t i) const {
  const Step& step = steps_[i];
  for (const StepGroup& g : groups_.items()) {
    if (i >= g.first_step && i < g.first_step + g.steps) return std::uint64_t{step.count} * g.times;
  }
  return step.count;
}

Status Plan::append(const arch::Op& op) {
  if (!steps_.empty() && steps_.size() > ungrouped_from()) {
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

Status Plan::append(const Result<arch::Op>& op) {
  if (!op.ok()) return op.error();
  return append(*op);
}

Status Plan::append_repeated(const arch::Op& first, std::uint32_t count, std::uint64_t stride) {
  if (count == 0) return Error{Errc::invalid_argument, "a step needs at least one op"};
  if (steps_.full()) return Error{Errc::out_of_range, "plan is full"};
  steps_.push_back(Step{first, count, stride});
  op_count_ += count;
  return ok_status();
}

Status Plan::repeat_last(std::size_t steps, std::uint32_t times, std::uint64_t advance) {
  if (steps == 0 || times == 0) return Error{Errc::invalid_argument, "a group needs steps and repetitions"};
  if (steps > steps_.size() - ungrouped_from()) {
    return Error{Errc::invalid_argument, "a group may only take steps that are in no group"};
  }
  if (times == 1) return ok_status();
  if (groups_.full()) return Error{Errc::out_of_range, "plan has no room for another group"};
  const std::size_t first = steps_.size() - steps;
  std::uint64_t body = 0;
  for (std::size_t i = first; i < steps_.size(); ++i) body += steps_[i].count;
  const std::uint64_t total = op_count_ + body * (times - 1);
  if (total > UINT32_MAX) return Error{Errc::out_of_range, "plan would expand to too many ops"};
  groups_.push_back(StepGroup{static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(steps), times, advance});
  op_count_ = total;
  return ok_status();
}

bool operator==(const Plan& a, const Plan& b) {
  return a.op_count_ == b.op_count_ && std::ranges::equal(a.steps(), b.steps()) &&
         std::ranges::equal(a.groups(), b.groups());
}

}  // namespace tlbkit
