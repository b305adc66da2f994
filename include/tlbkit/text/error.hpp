// An Error as people read it: "code: message".
#pragma once

#include <string>

#include "tlbkit/core/error.hpp"

namespace tlbkit::text {

inline std::string describe(const Error& error) {
  return std::string(errc_name(error.code)) + ": " + error.message;
}

}  // namespace tlbkit::text
