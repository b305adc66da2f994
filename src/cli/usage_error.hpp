// The error types of the tlbkit command: bad input from the user (main()
// prints its message on stderr and exits with status 2) and a failed check.
#pragma once

#include <stdexcept>

namespace tlbkit::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A check the command ran found something wrong (a violation in a
// replay): main() prints the message and exits with status 1.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit status for a failed check.
inline constexpr int kExitCheckFailed = 1;

// Exit status for bad input (usage errors, malformed or refused values).
inline constexpr int kExitBadInput = 2;

}  // namespace tlbkit::cli
