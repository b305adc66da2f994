// A plan: the ordered maintenance operations (TLBIs with exact operands,
// barriers, cache operations) that make a batch of table changes safe.
//
// Plans are stored the way kernels issue them: steps, each an op repeated
// `count` times with its operand advancing by a fixed stride (a per-page
// TLBI loop, DC CIVAC over a page); and step groups, a run of steps repeated
// as a loop body (KVM's per-entry DSB ISHST; TLBI IPAS2E1IS; DSB ISH;
// TLBI VMALLE1IS; DSB ISH; ISB). The expanded op sequence is exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "tlbkit/arch/ops.hpp"
#include "tlbkit/core/fixed_list.hpp"

namespace tlbkit {

// `count` ops: first.operand, first.operand + stride, ...
struct Step {
  arch::Op first;
  std::uint32_t count;
  std::uint64_t stride;

  constexpr arch::Op at(std::uint32_t i) const { return arch::Op{first.instr, first.operand + i * stride}; }
  friend constexpr bool operator==(const Step&, const Step&) = default;
};

// Steps [first_step, first_step + steps) run `times` times in a row; in
// repetition r, every op that takes a register operand has r * advance
// added to its operand (barriers and operand-less TLBIs are unchanged).
struct StepGroup {
  std::uint32_t first_step;
  std::uint32_t steps;
  std::uint32_t times;
  std::uint64_t advance;
  friend constexpr bool operator==(const StepGroup&, const StepGroup&) = default;
};

// The expanded ops of steps and their groups, in order (a forward range).
class OpSequence {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = arch::Op;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = arch::Op;

    iterator() = default;
    iterator(std::span<const Step> steps, std::span<const StepGroup> groups, std::size_t step)
        : steps_(steps), groups_(groups), step_(step) {}
    arch::Op operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.step_ == b.step_ && a.index_ == b.index_ && a.repetition_ == b.repetition_;
    }

   private:
    // The group the current step belongs to, or nullptr.
    const StepGroup* group() const;

    std::span<const Step> steps_;
    std::span<const StepGroup> groups_;
    std::size_t step_ = 0;
    std::uint32_t index_ = 0;       // op within the step
    std::uint32_t repetition_ = 0;  // repetition of the step's group
    std::size_t next_group_ = 0;    // first group not yet finished
  };

  OpSequence(std::span<const Step> steps, std::span<const StepGroup> groups) : steps_(steps), groups_(groups) {}
  iterator begin() const { return iterator(steps_, groups_, 0); }
  iterator end() const { return iterator(steps_, groups_, steps_.size()); }
  // The i-th op. Precondition: i < the number of ops. O(i).
  arch::Op operator[](std::size_t i) const;

 private:
  std::span<const Step> steps_;
  std::span<const StepGroup> groups_;
};

// A fixed-capacity plan (the core has no heap). A policy that would need
// more steps than fit must choose a wider operation instead.
class Plan {
 public:
  static constexpr std::size_t kMaxSteps = 64;
  static constexpr std::size_t kMaxGroups = 16;

  // The append family is inline: a planner writes a few ops per batch, and
  // the calls cost more than the appends.

  // Appends `op`, extending the last step when it is a loop (count > 1)
  // that `op` continues (same instruction, operand one stride on) and is
  // not the end of a group.
  // # Errors
  // out_of_range: a new step is needed and the plan is full; the plan is
  // left unchanged.
  Status append(const arch::Op& op) {
    if (!steps_.empty()) {
      Step& last = steps_.back();
      // Extend a loop only along its own stride; a stride is never guessed
      // from two unrelated ops (loops come from append_repeated()).
      if (last.count > 1 && last.first.instr == op.instr && last.count < UINT32_MAX &&
          op.operand == last.first.operand + last.count * last.stride && steps_.size() > ungrouped_from()) {
        ++last.count;
        ++op_count_;
        return ok_status();
      }
    }
    return append_repeated(op, 1, 0);
  }

  // Appends an op built by an encoder, passing its error through.
  Status append(const Result<arch::Op>& op) {
    if (!op.ok()) return op.error();
    return append(*op);
  }

  // Appends `count` ops from `first`, the operand advancing by `stride`.
  // # Errors
  // invalid_argument: count 0. out_of_range: the plan is full.
  Status append_repeated(const arch::Op& first, std::uint32_t count, std::uint64_t stride) {
    if (count == 0) return Error{Errc::invalid_argument, "a step needs at least one op"};
    if (steps_.full()) return Error{Errc::out_of_range, "plan is full"};
    steps_.push_back(Step{first, count, stride});
    op_count_ += count;
    return ok_status();
  }

  // Makes the last `steps` steps a loop body run `times` times in all
  // (times 1 changes nothing), operands advancing by `advance` per
  // repetition (see StepGroup).
  // # Errors
  // invalid_argument: steps or times 0, or the last `steps` steps include
  // one already in a group; out_of_range: the group list is full, or the
  // plan would expand to 2^32 or more ops. The plan is left unchanged.
  Status repeat_last(std::size_t steps, std::uint32_t times, std::uint64_t advance);

  std::span<const Step> steps() const { return steps_.items(); }
  std::span<const StepGroup> groups() const { return groups_.items(); }
  OpSequence ops() const { return OpSequence(steps(), groups()); }
  // How many times step `i` runs in all: its count times its group's times.
  std::uint64_t runs_of(std::size_t i) const;
  // Number of ops (steps and groups expanded).
  std::size_t size() const { return op_count_; }
  bool empty() const { return op_count_ == 0; }
  void clear() {
    steps_.clear();
    groups_.clear();
    op_count_ = 0;
  }

  friend bool operator==(const Plan& a, const Plan& b);

 private:
  // Steps from this index on are in no group (groups come in step order).
  std::size_t ungrouped_from() const {
    if (groups_.empty()) return 0;
    const StepGroup& last = groups_.back();
    return last.first_step + last.steps;
  }

  FixedList<Step, kMaxSteps> steps_;
  FixedList<StepGroup, kMaxGroups> groups_;
  std::size_t op_count_ = 0;
};

}  // namespace tlbkit
