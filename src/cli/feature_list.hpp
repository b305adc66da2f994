// Parsing of the --features option shared by the commands.
#pragma once

#include <string>

#include "tlbkit/arch/features.hpp"

namespace tlbkit::cli {

inline constexpr const char* kFeatureNames = "ttl, tlbirange, bbm1, bbm2, fwb";

// "ttl,tlbirange,bbm2": every name once at most; "none" or "" for none.
// Throws UsageError naming the bad item.
arch::CpuFeatures parse_features(const std::string& list);

}  // namespace tlbkit::cli
