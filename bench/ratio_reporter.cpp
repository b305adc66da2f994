#include "ratio_reporter.hpp"

#include <cstdio>

namespace tlbkit::bench {

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const Run& run : runs) {
    if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
    const double per_iteration = run.GetAdjustedCPUTime();
    // Prefer the median when repetitions are used.
    cpu_ns_[run.run_name.function_name + (run.run_name.args.empty() ? "" : "/" + run.run_name.args)] =
        per_iteration * (run.time_unit == benchmark::kMillisecond   ? 1e6
                         : run.time_unit == benchmark::kMicrosecond ? 1e3
                                                                    : 1.0);
  }
}

void RatioReporter::Finalize() {
  ConsoleReporter::Finalize();
  std::printf("\n%-34s %-30s %10s %8s\n", "subject", "baseline (same run)", "ratio", "target");
  for (const RatioSpec& spec : specs_) {
    const auto subject = cpu_ns_.find(spec.subject);
    const auto baseline = cpu_ns_.find(spec.baseline);
    if (subject == cpu_ns_.end() || baseline == cpu_ns_.end() || baseline->second <= 0) continue;
    const double ratio = subject->second / baseline->second;
    char target[32] = "-";
    if (spec.target > 0) {
      std::snprintf(target, sizeof target, "<= %.1fx %s", spec.target, ratio <= spec.target ? "ok" : "MISSED");
    }
    std::printf("%-34s %-30s %9.2fx %s\n", spec.subject.c_str(), spec.baseline.c_str(), ratio, target);
  }
  std::fflush(stdout);
}

int run_with_ratios(int argc, char** argv, std::vector<RatioSpec> specs) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(std::move(specs));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace tlbkit::bench
