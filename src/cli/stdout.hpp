// The tlbkit command's one way to print results: whole, then flushed.
#pragma once

#include <cstdio>
#include <string_view>

namespace tlbkit::cli {

inline void write_stdout(std::string_view out) {
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace tlbkit::cli
