// A Google Benchmark reporter that also prints, for each benchmark, the
// ratio of its time to a baseline measured in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace tlbkit::bench {

// One ratio to report: `subject` / `baseline` (benchmark names as Google
// Benchmark prints them), with the target it should stay within.
struct RatioSpec {
  std::string subject;
  std::string baseline;
  double target;  // 0: no target, report only
};

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  explicit RatioReporter(std::vector<RatioSpec> specs) : specs_(std::move(specs)) {}

  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  std::vector<RatioSpec> specs_;
  std::map<std::string, double> cpu_ns_;
};

// Runs every registered benchmark with a RatioReporter for `specs`.
int run_with_ratios(int argc, char** argv, std::vector<RatioSpec> specs);

}  // namespace tlbkit::bench
