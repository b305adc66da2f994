#include "tlbkit/gen/suite.hpp"

namespace tlbkit::gen {
namespace {

// Each at its generator's default size (as of this writing), 4 PEs, seed 1.
constexpr SuiteEntry kSuite[] = {
    {"relro-storm", {128, 4, 1}},     {"small-munmap", {1024, 4, 1}},  {"guard-pages", {512, 4, 1}},
    {"fork-cow", {4096, 4, 1}},       {"process-teardown", {6, 4, 1}}, {"vm-teardown", {8192, 4, 1}},
    {"s2-unmap", {512, 4, 1}},        {"dirty-log", {16, 4, 1}},       {"reclaim", {32, 4, 1}},
    {"jit-wx", {2048, 4, 1}},         {"kernel-purge", {1024, 4, 1}},  {"mt-mprotect", {2048, 4, 1}},
    {"asid-rollover", {300, 4, 1}},
};

}  // namespace

std::span<const SuiteEntry> builtin_workloads() { return kSuite; }

}  // namespace tlbkit::gen
