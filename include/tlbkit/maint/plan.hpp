// A plan: the ordered maintenance operations (TLBIs with exact operands,
// barriers, cache operations) that make a batch of table changes safe.
//
// Plans are stored as steps, each an op repeated `count` times with its
// operand advancing by a fixed stride (a per-page TLBI loop, DC CIVAC over a
// page), the way kernels issue them. The expanded op sequence is exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "tlbkit/arch/ops.hpp"
#include "tlbkit/maint/fixed_list.hpp"

namespace tlbkit::maint {

using arch::Op;

// `count` ops: first.operand, first.operand + stride, ...
struct Step {
  Op first;
  std::uint32_t count;
  std::uint64_t stride;

  constexpr Op at(std::uint32_t i) const { return Op{first.instr, first.operand + i * stride}; }
  friend constexpr bool operator==(const Step&, const Step&) = default;
};

// The expanded ops of a span of steps, in order (a forward range).
class OpSequence {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Op;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Op;

    iterator() = default;
    iterator(std::span<const Step> steps, std::size_t step) : steps_(steps), step_(step) {}
    Op operator*() const { return steps_[step_].at(index_); }
    iterator& operator++() {
      if (++index_ == steps_[step_].count) {
        index_ = 0;
        ++step_;
      }
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.step_ == b.step_ && a.index_ == b.index_;
    }

   private:
    std::span<const Step> steps_;
    std::size_t step_ = 0;
    std::uint32_t index_ = 0;
  };

  explicit OpSequence(std::span<const Step> steps) : steps_(steps) {}
  iterator begin() const { return iterator(steps_, 0); }
  iterator end() const { return iterator(steps_, steps_.size()); }
  // The i-th op. Precondition: i < the number of ops. O(steps).
  Op operator[](std::size_t i) const;

 private:
  std::span<const Step> steps_;
};

// A fixed-capacity plan (the core has no heap). A policy that would need
// more steps than fit must choose a wider operation instead.
class Plan {
 public:
  static constexpr std::size_t kMaxSteps = 64;

  // Appends `op`, extending the last step when it is a loop (count > 1)
  // that `op` continues (same instruction, operand one stride on).
  // # Errors
  // out_of_range: a new step is needed and the plan is full; the plan is
  // left unchanged.
  Status append(const Op& op);

  // Appends an op built by an encoder, passing its error through.
  Status append(const Result<Op>& op);

  // Appends `count` ops from `first`, the operand advancing by `stride`.
  // # Errors
  // invalid_argument: count 0. out_of_range: the plan is full.
  Status append_repeated(const Op& first, std::uint32_t count, std::uint64_t stride);

  std::span<const Step> steps() const { return steps_.items(); }
  OpSequence ops() const { return OpSequence(steps()); }
  // Number of ops (steps expanded).
  std::size_t size() const { return op_count_; }
  bool empty() const { return op_count_ == 0; }
  void clear() {
    steps_.clear();
    op_count_ = 0;
  }

 private:
  FixedList<Step, kMaxSteps> steps_;
  std::size_t op_count_ = 0;
};

}  // namespace tlbkit::maint
