// The native executor: runs a plan on the executing CPU with the real
// instructions (TLBI, DSB, ISB, IC, DC).
//
// Declared on every target so code can name it; defined only when the
// compiler targets AArch64 (src/exec/native_aarch64.cpp is built only
// then). Elsewhere available() is false and a NativeExecutor cannot be
// created or called: the build fails at link time, not at run time.
#pragma once

#include "tlbkit/plan/executor.hpp"

namespace tlbkit::exec {

class NativeExecutor final : public Executor {
 public:
  // Whether this build has the native executor: true exactly when compiled
  // for AArch64.
  static constexpr bool available() {
#if defined(__aarch64__)
    return true;
#else
    return false;
#endif
  }

  // Runs every op of `plan` in order, each as its own instruction with its
  // operand in a general-purpose register. Returns when the last op has
  // been issued; completion is what the plan's own barriers give (a plan
  // from a policy ends in DSB ISH, so its TLBIs have completed). Every op is
  // a compiler barrier too: no memory access is moved across it.
  // Preconditions: the caller runs at the exception level each op needs
  // (EL1 for EL1&0 stage-1 TLBIs, EL2 for stage-2 and EL2 ones; at EL0 a
  // TLBI is UNDEFINED); the VMID, ASID and translation regime the ops act
  // on are the ones loaded. An op whose `instr` is not a catalogue value
  // traps (BRK) rather than be skipped.
  // # Errors
  // None reported: the plan's ops were validated when they were encoded.
  void execute(const Plan& plan) override;
};

}  // namespace tlbkit::exec
