// realisa_trap: every exception start.S does not handle itself. A fault at
// one of the probe instructions is recorded in the probe's result and
// resumed; anything else is fatal (reported, exit status 70).
#include "trap.hpp"

#include "console.hpp"

extern "C" {
extern char realisa_probe_read_insn[];
extern char realisa_probe_write_insn[];
extern char realisa_probe_exec_return[];
}

namespace realisa {
namespace {

// A probe of an execute access branched to the target: its return address
// (x30) is realisa_probe_exec_return.
bool is_exec_probe(const TrapFrame& f) {
  return f.x[30] == reinterpret_cast<std::uint64_t>(realisa_probe_exec_return);
}

bool is_fault(unsigned ec) {
  return ec == kEcDataAbortSame || ec == kEcInstrAbortSame;
}

}  // namespace
}  // namespace realisa

extern "C" void realisa_trap(realisa::TrapFrame* frame, unsigned vector) {
  using namespace realisa;
  const unsigned ec = exception_class(frame->esr);
  if (is_fault(ec)) {
    if (frame->elr == reinterpret_cast<std::uint64_t>(realisa_probe_read_insn) ||
        frame->elr == reinterpret_cast<std::uint64_t>(realisa_probe_write_insn)) {
      frame->x[0] = frame->esr;
      frame->x[1] = 1;
      frame->elr += 4;
      return;
    }
    if (ec == kEcInstrAbortSame && is_exec_probe(*frame)) {
      frame->x[0] = frame->esr;
      frame->x[1] = 1;
      frame->elr = frame->x[30];
      return;
    }
  }
  console::print("FATAL: exception vector ");
  console::print_dec(vector);
  console::print(" esr ");
  console::print_hex(frame->esr);
  console::print(" elr ");
  console::print_hex(frame->elr);
  console::print("\n");
  console::exit(70);
}
