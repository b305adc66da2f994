// The one error type of the tlbkit command: bad input from the user. main()
// prints its message on stderr and exits with status 2.
#pragma once

#include <stdexcept>

namespace tlbkit::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit status for bad input (usage errors, malformed or refused values).
inline constexpr int kExitBadInput = 2;

}  // namespace tlbkit::cli
