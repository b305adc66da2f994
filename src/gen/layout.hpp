// Where generated traces put things: the address windows of processes, VMs
// and the kernel, and shorthands for rights and mapping flags. Process VAs
// stay below 2^47 and kernel VAs at or above 0xff00'0000'0000 (the replayer
// keeps one stage-1 table per PE: the two must not overlap).
#pragma once

#include <cstdint>

#include "tlbkit/trace/event.hpp"

namespace tlbkit::gen {

inline constexpr std::uint64_t kPage = 0x1000;
inline constexpr std::uint64_t kBlock = 0x20'0000;  // 2 MiB: a level-2 block of the 4 KiB granule

constexpr std::uint64_t pages(std::uint64_t n) { return n * kPage; }

// ---- a process (stage 1, EL0) ----------------------------------------------
// The program break starts here (a PIE's heap, as Linux places it).
inline constexpr std::uint64_t kHeapStart = 0x5555'5600'0000;
// mmap hands out addresses top down from kMmapTop (just below the stack).
inline constexpr std::uint64_t kMmapBottom = 0x7000'0000'0000;
inline constexpr std::uint64_t kMmapTop = 0x7fff'f000'0000;
inline constexpr std::uint64_t kUserTop = 0x8000'0000'0000;  // 2^47

// ---- a VM (stage 2: IPAs) -------------------------------------------------------
// The Arm virt board's layout: flash at 0, RAM from 1 GiB.
inline constexpr std::uint64_t kGuestFlash = 0;
inline constexpr std::uint64_t kGuestRam = 0x4000'0000;

// ---- the kernel (stage 1, EL1, global) ------------------------------------------
inline constexpr std::uint64_t kKernelBottom = 0xff00'0000'0000;
inline constexpr std::uint64_t kVmallocStart = 0xff80'0000'0000;
inline constexpr std::uint64_t kVmallocEnd = 0xffc0'0000'0000;

// ---- rights and flags ----------------------------------------------------------
inline constexpr trace::Prot kNone = trace::Prot::none;
inline constexpr trace::Prot kR = trace::Prot::read;
inline constexpr trace::Prot kRW = trace::Prot::read | trace::Prot::write;
inline constexpr trace::Prot kRX = trace::Prot::read | trace::Prot::exec;
inline constexpr trace::Prot kRWX = trace::Prot::read | trace::Prot::write | trace::Prot::exec;

// Private unless `shared` is given.
inline constexpr trace::MapFlags kAnon = trace::MapFlags::anonymous;
inline constexpr trace::MapFlags kFile = trace::MapFlags::none;
inline constexpr trace::MapFlags kFixed = trace::MapFlags::fixed;
inline constexpr trace::MapFlags kShared = trace::MapFlags::shared;
inline constexpr trace::MapFlags kHuge = trace::MapFlags::huge;

}  // namespace tlbkit::gen
