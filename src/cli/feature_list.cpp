#include "feature_list.hpp"

#include <fmt/format.h>

#include <vector>

#include "usage_error.hpp"

namespace tlbkit::cli {

arch::CpuFeatures parse_features(const std::string& list) {
  arch::CpuFeatures f;
  if (list.empty() || list == "none") return f;
  std::vector<std::string> seen;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    for (const std::string& s : seen) {
      if (s == name) throw UsageError(fmt::format("--features: \"{}\" given twice", name));
    }
    seen.push_back(name);
    if (name == "ttl") {
      f.ttl = arch::Presence::present;
    } else if (name == "tlbirange") {
      f.tlbi_range = arch::Presence::present;
    } else if (name == "bbm1" || name == "bbm2") {
      if (f.bbm != arch::BbmLevel::level0) throw UsageError("--features: give one of bbm1, bbm2");
      f.bbm = name == "bbm1" ? arch::BbmLevel::level1 : arch::BbmLevel::level2;
    } else if (name == "fwb") {
      f.fwb = arch::Presence::present;
    } else {
      throw UsageError(fmt::format("--features: unknown feature \"{}\" (known: {})", name, kFeatureNames));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return f;
}

}  // namespace tlbkit::cli
