// Assembler-syntax rendering of maintenance operations, for people.
#pragma once

#include <string>

#include "tlbkit/arch/ops.hpp"

namespace tlbkit::text {

// One line of assembler for `op`, with its operand register X`rt` and, as a
// comment, the register value and every decoded field:
//   tlbi vae1is, x0  // x0=0x0005000000010000 asid=5 va=0x10000000 ttl=none
//   tlbi rvae1is, x0  // x0=0x00054f8000010000 asid=5 base=0x10000000 pages=64 tg=4K
//       scale=0 num=31 ttl=none covers [0x10000000, 0x10040000)        (one line)
//   dsb ish
// An operand the architecture reserves (or tlbkit refuses) is still
// rendered, followed by "INVALID <errc>: <reason>".
std::string to_asm(const arch::Op& op, unsigned rt = 0);

// The catalogue as a table: mnemonic, category, operand kind, scope,
// regime, leaf-only, instruction word (with X0 for register operands).
std::string catalogue_table();

}  // namespace tlbkit::text
