// The suite: the built-in workloads as generated traces, one per generator
// (in the order of generators()) at fixed parameters, so that results of
// different versions and policies compare (docs/GENERATORS.md). The
// parameters are written out, not taken from the generators' defaults: a
// change of a default does not change the suite.
#pragma once

#include <span>
#include <string_view>

#include "tlbkit/gen/generator.hpp"

namespace tlbkit::gen {

struct SuiteEntry {
  std::string_view name;  // a generator's name
  Parameters parameters;
};

std::span<const SuiteEntry> builtin_workloads();

}  // namespace tlbkit::gen
