// Output through the PL011 UART of QEMU's virt machine, and the run's end
// through Arm semihosting (QEMU exits with the status given).
#pragma once

#include <cstdint>
#include <string_view>

namespace realisa::console {

void print(std::string_view text);
void print_dec(std::uint64_t value);
void print_hex(std::uint64_t value);
// " key=value", the value in decimal.
void print_field(std::string_view key, std::uint64_t value);

// The command line given to QEMU (-semihosting-config arg=...), or "" when
// none. Valid for the whole run.
std::string_view command_line();

// Ends the run: QEMU exits with `status`.
[[noreturn]] void exit(int status);

}  // namespace realisa::console
