// A plan: the ordered maintenance operations (TLBIs with exact operands,
// barriers, cache operations) that make a batch of table changes safe.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "tlbkit/arch/ops.hpp"

namespace tlbkit::maint {

using arch::Op;

// A fixed-capacity sequence of operations (the core has no heap). A policy
// that would need more ops than fit must choose a wider operation instead.
class Plan {
 public:
  static constexpr std::size_t kCapacity = 256;

  // Appends `op`.
  // # Errors
  // out_of_range: the plan is full; it is left unchanged.
  Status append(const Op& op);

  // Appends an op built by an encoder, passing its error through.
  Status append(const Result<Op>& op);

  std::span<const Op> ops() const { return {ops_.data(), size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t room() const { return kCapacity - size_; }
  void clear() { size_ = 0; }

 private:
  std::array<Op, kCapacity> ops_{};
  std::size_t size_ = 0;
};

}  // namespace tlbkit::maint
