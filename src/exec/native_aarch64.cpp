// NativeExecutor: every op of a plan as its real instruction. Built only
// when the compiler targets AArch64 (src/CMakeLists.txt); the #if keeps the
// file harmless if it is ever compiled elsewhere.
//
// One function per catalogue entry, issue<Instr>, each holding exactly one
// instruction fixed at compile time; execute() dispatches through a table of
// them indexed by Instr. TLBI, IC and DC are SYS instructions: their
// #op1, Cn, Cm, #op2 come from the catalogue (arch/ops.hpp, checked against
// the GNU assembler by tests/arch) as assembler immediates, so the assembler
// encodes range and EL2 TLBIs whatever -march says (no .arch directive), and
// the compiler picks the operand register. DSB and ISB are not SYS
// instructions: their catalogue word is emitted as is.
// tests/exec/native_objdump_check.py disassembles the cross-compiled object
// and checks every issue<I> against the catalogue.
#include "tlbkit/exec/native.hpp"

#if defined(__aarch64__)

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tlbkit/arch/ops.hpp"

namespace tlbkit::exec {
namespace {

using arch::Instr;

template <Instr I>
void issue([[maybe_unused]] std::uint64_t operand) {
  constexpr arch::InstrInfo kInfo = arch::info(I);
  constexpr arch::SysEncoding kSys = kInfo.sys;
  if constexpr (kInfo.category == arch::Category::barrier) {
    __asm__ volatile(".inst %c0" : : "i"(kInfo.base_word) : "memory");
  } else if constexpr (arch::takes_register(I)) {
    __asm__ volatile("sys #%c0, C%c1, C%c2, #%c3, %4"
                     :
                     : "i"(kSys.op1), "i"(kSys.crn), "i"(kSys.crm), "i"(kSys.op2), "r"(operand)
                     : "memory");
  } else {
    __asm__ volatile("sys #%c0, C%c1, C%c2, #%c3"
                     :
                     : "i"(kSys.op1), "i"(kSys.crn), "i"(kSys.crm), "i"(kSys.op2)
                     : "memory");
  }
}

using IssueFn = void (*)(std::uint64_t);

template <std::size_t... N>
constexpr std::array<IssueFn, sizeof...(N)> issue_table(std::index_sequence<N...>) {
  return {&issue<static_cast<Instr>(N)>...};
}

// kIssue[i] issues the instruction whose Instr value is i.
constexpr std::array<IssueFn, arch::kInstrCount> kIssue =
    issue_table(std::make_index_sequence<arch::kInstrCount>{});

}  // namespace

void NativeExecutor::execute(const Plan& plan) {
  for (const arch::Op& op : plan.ops()) {
    const auto index = static_cast<std::size_t>(op.instr);
    if (index >= kIssue.size()) __builtin_trap();
    kIssue[index](op.operand);
  }
}

}  // namespace tlbkit::exec

#endif  // __aarch64__
