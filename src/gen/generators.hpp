// The generators' emit functions, by family, and their default sizes
// (docs/GENERATORS.md). registry.cpp lists them; each file of a family
// defines its own.
#pragma once

#include <cstdint>
#include <string>

#include "tlbkit/gen/generator.hpp"
#include "tlbkit/trace/event.hpp"

namespace tlbkit::gen {

// ---- VMA changes in running processes (process.cpp) ------------------------------
inline constexpr std::uint64_t kRelroStormLibraries = 128;
inline constexpr std::uint64_t kSmallMunmapCalls = 1024;
inline constexpr std::uint64_t kGuardPagesCarves = 512;
std::string emit_relro_storm(const Parameters& parameters, trace::Sink& sink);
std::string emit_small_munmap(const Parameters& parameters, trace::Sink& sink);
std::string emit_guard_pages(const Parameters& parameters, trace::Sink& sink);

// ---- rights changed under running threads (protection.cpp) -----------------------
inline constexpr std::uint64_t kJitWxCycles = 2048;
inline constexpr std::uint64_t kMtMprotectCalls = 2048;
std::string emit_jit_wx(const Parameters& parameters, trace::Sink& sink);
std::string emit_mt_mprotect(const Parameters& parameters, trace::Sink& sink);

// ---- process lifetimes (lifecycle.cpp) ---------------------------------------------
inline constexpr std::uint64_t kForkCowHeapPages = 4096;
inline constexpr std::uint64_t kProcessTeardownProcesses = 6;
inline constexpr std::uint64_t kAsidRolloverProcesses = 300;
std::string emit_fork_cow(const Parameters& parameters, trace::Sink& sink);
std::string emit_process_teardown(const Parameters& parameters, trace::Sink& sink);
std::string emit_asid_rollover(const Parameters& parameters, trace::Sink& sink);

// ---- VMs: stage 2 (vm.cpp) -------------------------------------------------------------
inline constexpr std::uint64_t kVmTeardownGuestPages = 8192;
inline constexpr std::uint64_t kS2UnmapCalls = 512;
inline constexpr std::uint64_t kDirtyLogPasses = 16;
std::string emit_vm_teardown(const Parameters& parameters, trace::Sink& sink);
std::string emit_s2_unmap(const Parameters& parameters, trace::Sink& sink);
std::string emit_dirty_log(const Parameters& parameters, trace::Sink& sink);

// ---- the kernel's own batches (kernel.cpp) ----------------------------------------------
inline constexpr std::uint64_t kReclaimProcesses = 32;
inline constexpr std::uint64_t kKernelPurgeAreas = 1024;
std::string emit_reclaim(const Parameters& parameters, trace::Sink& sink);
std::string emit_kernel_purge(const Parameters& parameters, trace::Sink& sink);

}  // namespace tlbkit::gen
