// System register access for the harness (the library itself reads none).
#pragma once

#include <cstdint>

namespace realisa::sysreg {

#define REALISA_SYSREG(name)                                          \
  inline std::uint64_t read_##name() {                                \
    std::uint64_t v;                                                  \
    __asm__ volatile("mrs %0, " #name : "=r"(v));                     \
    return v;                                                         \
  }                                                                   \
  inline void write_##name(std::uint64_t v) {                         \
    __asm__ volatile("msr " #name ", %0" : : "r"(v) : "memory");      \
  }
// A macro only because the register name is part of the instruction.
REALISA_SYSREG(sctlr_el1)
REALISA_SYSREG(tcr_el1)
REALISA_SYSREG(mair_el1)
REALISA_SYSREG(ttbr0_el1)
REALISA_SYSREG(sctlr_el2)
REALISA_SYSREG(tcr_el2)
REALISA_SYSREG(mair_el2)
REALISA_SYSREG(ttbr0_el2)
REALISA_SYSREG(hcr_el2)
REALISA_SYSREG(vtcr_el2)
REALISA_SYSREG(vttbr_el2)
REALISA_SYSREG(far_el2)
REALISA_SYSREG(hpfar_el2)
REALISA_SYSREG(mpidr_el1)
REALISA_SYSREG(ctr_el0)
REALISA_SYSREG(id_aa64isar0_el1)
REALISA_SYSREG(id_aa64mmfr0_el1)
REALISA_SYSREG(id_aa64mmfr1_el1)
REALISA_SYSREG(id_aa64mmfr2_el1)
#undef REALISA_SYSREG

inline unsigned current_el() {
  std::uint64_t v;
  __asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
  return static_cast<unsigned>(v >> 2) & 3;
}

inline void isb() { __asm__ volatile("isb" : : : "memory"); }
inline void dsb_ish() { __asm__ volatile("dsb ish" : : : "memory"); }
inline void dsb_sy() { __asm__ volatile("dsb sy" : : : "memory"); }

}  // namespace realisa::sysreg
