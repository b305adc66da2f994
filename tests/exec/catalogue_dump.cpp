// Prints the instruction catalogue for native_objdump_check.py, one line per
// Instr in enum order:
//   <Instr value> <takes a register: 0|1> <instruction_word(instr, 0) in hex> <mnemonic>
#include <cstdio>
#include <string>

#include "tlbkit/arch/ops.hpp"

int main() {
  for (const tlbkit::arch::InstrInfo& i : tlbkit::arch::catalogue()) {
    const std::string mnemonic(i.mnemonic);
    std::printf("%u %d %08x %s\n", static_cast<unsigned>(i.instr), tlbkit::arch::takes_register(i.instr) ? 1 : 0,
                tlbkit::arch::instruction_word(i.instr, 0), mnemonic.c_str());
  }
  return 0;
}
