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

std::uint64_t Plan::runs_of(std::size_t i) const {
  const Step& step = steps_[i];
  for (const StepGroup& g : groups_.items()) {
    if (i >= g.first_step && i < g.first_step + g.steps) return std::uint64_t{step.count} * g.times;
  }
  return step.count;
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
