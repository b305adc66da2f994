// The Linux user ABI values both importers decode (the same on x86-64 and
// AArch64: include/uapi/asm-generic/mman-common.h, mman.h, sched.h), and
// their meaning for a trace.
#pragma once

#include <cstdint>

#include "tlbkit/trace/event.hpp"

namespace tlbkit::importers::linux_abi {

inline constexpr std::uint64_t kProtRead = 0x1;
inline constexpr std::uint64_t kProtWrite = 0x2;
inline constexpr std::uint64_t kProtExec = 0x4;

inline constexpr std::uint64_t kMapTypeMask = 0x0f;
inline constexpr std::uint64_t kMapShared = 0x01;
inline constexpr std::uint64_t kMapSharedValidate = 0x03;
inline constexpr std::uint64_t kMapFixed = 0x10;
inline constexpr std::uint64_t kMapAnonymous = 0x20;
inline constexpr std::uint64_t kMapHugetlb = 0x40000;
inline constexpr std::uint64_t kMapFixedNoreplace = 0x100000;

// madvise advice that drops the pages (MADV_FREE's may go at any time:
// taken as dropped now).
inline constexpr std::uint64_t kMadvDontneed = 4;
inline constexpr std::uint64_t kMadvFree = 8;
inline constexpr std::uint64_t kMadvRemove = 9;
inline constexpr std::uint64_t kMadvDontneedLocked = 24;

inline constexpr std::uint64_t kCloneVm = 0x100;
inline constexpr std::uint64_t kCloneVfork = 0x4000;
inline constexpr std::uint64_t kCloneThread = 0x10000;

// PROT_* bits as a VMA's rights (PROT_NONE and the other bits add nothing).
constexpr trace::Prot prot_of(std::uint64_t bits) {
  trace::Prot p = trace::Prot::none;
  if ((bits & kProtRead) != 0) p = p | trace::Prot::read;
  if ((bits & kProtWrite) != 0) p = p | trace::Prot::write;
  if ((bits & kProtExec) != 0) p = p | trace::Prot::exec;
  return p;
}

// MAP_* bits as a VMA's flags: MAP_ANONYMOUS -> anonymous (else file),
// MAP_SHARED / MAP_SHARED_VALIDATE -> shared, MAP_FIXED /
// MAP_FIXED_NOREPLACE -> fixed, MAP_HUGETLB -> huge; the rest nothing.
constexpr trace::MapFlags map_flags_of(std::uint64_t bits) {
  using trace::MapFlags;
  MapFlags f = MapFlags::none;
  if ((bits & kMapAnonymous) != 0) f = f | MapFlags::anonymous;
  const std::uint64_t type = bits & kMapTypeMask;
  if (type == kMapShared || type == kMapSharedValidate) f = f | MapFlags::shared;
  if ((bits & (kMapFixed | kMapFixedNoreplace)) != 0) f = f | MapFlags::fixed;
  if ((bits & kMapHugetlb) != 0) f = f | MapFlags::huge;
  return f;
}

// Whether `advice` drops the pages (becomes a dontneed event).
constexpr bool drops_pages(std::uint64_t advice) {
  return advice == kMadvDontneed || advice == kMadvFree || advice == kMadvRemove || advice == kMadvDontneedLocked;
}

}  // namespace tlbkit::importers::linux_abi
