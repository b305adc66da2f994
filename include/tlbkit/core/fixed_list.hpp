// FixedList: a list of at most N trivially copyable values in place, whose
// unused slots are never initialised. The core has no heap, and a Gather or
// request slot is set up for every batch of changes: zeroing kilobytes of
// slots that are mostly never used would cost more than the batch.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>

namespace tlbkit {

template <class T, std::size_t N>
class FixedList {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "FixedList holds plain values");

 public:
  FixedList() {}  // NOLINT: leaves the slots uninitialised on purpose
  // Copies only the slots in use.
  FixedList(const FixedList& other) { *this = other; }
  FixedList& operator=(const FixedList& other) {
    if (this != &other) {
      for (std::size_t i = 0; i < other.size_; ++i) std::construct_at(&slots_[i], other.slots_[i]);
      size_ = other.size_;
    }
    return *this;
  }

  static constexpr std::size_t capacity() { return N; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == N; }

  // Precondition: !full().
  void push_back(const T& value) { std::construct_at(&slots_[size_++], value); }
  // Precondition: !empty().
  T& back() { return slots_[size_ - 1]; }
  const T& back() const { return slots_[size_ - 1]; }
  const T& operator[](std::size_t i) const { return slots_[i]; }

  std::span<const T> items() const { return {slots_, size_}; }
  void clear() { size_ = 0; }

 private:
  union {
    T slots_[N];
  };
  std::size_t size_ = 0;
};

}  // namespace tlbkit
