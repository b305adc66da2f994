// Errors of the freestanding core: returned values, never exceptions.
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace tlbkit {

// What went wrong, in a form callers can branch on.
enum class Errc : std::uint8_t {
  misaligned,        // an address or size is not aligned to what the call needs
  out_of_range,      // an address or size lies outside the space the call covers
  overlap,           // a map request meets an existing valid mapping
  not_mapped,        // the call needs a mapping where there is none
  unsupported,       // a feature, granule or configuration not implemented or not present
  invalid_argument,  // a field value the architecture does not allow
  no_memory,         // the caller's TableMemory could not provide a table page
};

// Short, stable name of an error code ("misaligned", ...).
constexpr const char* errc_name(Errc code) {
  switch (code) {
    case Errc::misaligned: return "misaligned";
    case Errc::out_of_range: return "out_of_range";
    case Errc::overlap: return "overlap";
    case Errc::not_mapped: return "not_mapped";
    case Errc::unsupported: return "unsupported";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::no_memory: return "no_memory";
  }
  return "unknown";
}

// An error: a code and a human sentence with static storage duration.
struct Error {
  Errc code;
  const char* message;
  friend constexpr bool operator==(const Error& a, const Error& b) { return a.code == b.code; }
};

// Either a value or an Error. The core's only error channel.
template <class T>
class [[nodiscard]] Result {
 public:
  constexpr Result(const T& value) : has_value_(true), value_(value) {}  // NOLINT: implicit by design
  constexpr Result(T&& value) : has_value_(true), value_(std::move(value)) {}  // NOLINT
  constexpr Result(Error error) : has_value_(false), error_(error) {}  // NOLINT

  constexpr Result(const Result& other) { construct_from(other); }
  constexpr Result(Result&& other) noexcept { construct_from(std::move(other)); }
  constexpr Result& operator=(const Result& other) {
    if (this != &other) {
      reset();
      construct_from(other);
    }
    return *this;
  }
  constexpr Result& operator=(Result&& other) noexcept {
    if (this != &other) {
      reset();
      construct_from(std::move(other));
    }
    return *this;
  }
  constexpr ~Result() { reset(); }

  constexpr bool ok() const { return has_value_; }
  constexpr explicit operator bool() const { return has_value_; }
  // Precondition: ok().
  constexpr T& value() & { return value_; }
  constexpr const T& value() const& { return value_; }
  constexpr T&& value() && { return std::move(value_); }
  constexpr T* operator->() { return &value_; }
  constexpr const T* operator->() const { return &value_; }
  constexpr T& operator*() & { return value_; }
  constexpr const T& operator*() const& { return value_; }
  // Precondition: !ok().
  constexpr Error error() const { return error_; }

 private:
  constexpr void reset() {
    if (has_value_) value_.~T();
    has_value_ = false;
  }
  constexpr void construct_from(const Result& other) {
    has_value_ = other.has_value_;
    if (has_value_) {
      ::new (static_cast<void*>(&value_)) T(other.value_);
    } else {
      error_ = other.error_;
    }
  }
  constexpr void construct_from(Result&& other) {
    has_value_ = other.has_value_;
    if (has_value_) {
      ::new (static_cast<void*>(&value_)) T(std::move(other.value_));
    } else {
      error_ = other.error_;
    }
  }

  bool has_value_ = false;
  union {
    T value_;
    Error error_;
  };
};

// Success or an Error, for calls that return nothing else.
template <>
class [[nodiscard]] Result<void> {
 public:
  constexpr Result() = default;
  constexpr Result(Error error) : has_error_(true), error_(error) {}  // NOLINT
  constexpr bool ok() const { return !has_error_; }
  constexpr explicit operator bool() const { return !has_error_; }
  constexpr Error error() const { return error_; }

 private:
  bool has_error_ = false;
  Error error_{Errc::invalid_argument, ""};
};

using Status = Result<void>;

constexpr Status ok_status() { return Status{}; }

}  // namespace tlbkit
