// The exception frame start.S saves, and the fault probes built on it.
#pragma once

#include <cstdint>

namespace realisa {

// Layout fixed by start.S.
struct TrapFrame {
  std::uint64_t x[31];
  std::uint64_t elr;
  std::uint64_t spsr;
  std::uint64_t esr;
};
static_assert(sizeof(TrapFrame) == 272);

// What one access did: the word read (or the call's result), or a fault
// with its ESR.
struct ProbeResult {
  std::uint64_t value;    // the word, or ESR when faulted
  std::uint64_t faulted;  // 0 or 1
};

// ESR exception classes the harness handles.
inline constexpr unsigned kEcHvc64 = 0x16;
inline constexpr unsigned kEcInstrAbortLower = 0x20;
inline constexpr unsigned kEcInstrAbortSame = 0x21;
inline constexpr unsigned kEcDataAbortLower = 0x24;
inline constexpr unsigned kEcDataAbortSame = 0x25;

constexpr unsigned exception_class(std::uint64_t esr) { return static_cast<unsigned>(esr >> 26) & 0x3f; }
// DFSC/IFSC bits 5:2: 0b0001 translation fault, 0b0011 permission fault.
constexpr bool is_translation_fault(std::uint64_t esr) { return ((esr >> 2) & 0xf) == 0x1; }
constexpr bool is_permission_fault(std::uint64_t esr) { return ((esr >> 2) & 0xf) == 0x3; }

}  // namespace realisa

extern "C" {
// One load, store or call at `va` on this PE, at this EL: a translation or
// permission fault is recorded and resumed, not fatal (start.S, trap.cpp).
realisa::ProbeResult realisa_probe_read(std::uint64_t va);
realisa::ProbeResult realisa_probe_write(std::uint64_t va, std::uint64_t value);
realisa::ProbeResult realisa_probe_exec(std::uint64_t va);
// Runs the guest from guest->elr; returns ESR_EL2 of the exit (start.S).
std::uint64_t realisa_enter_guest(realisa::TrapFrame* guest);
void realisa_guest_read();
void realisa_guest_write();
void realisa_secondary_entry();
}
