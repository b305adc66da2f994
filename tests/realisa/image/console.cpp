#include "console.hpp"

namespace realisa::console {
namespace {

// PL011 on QEMU virt: data register at +0, flag register at +0x18 (TXFF is
// bit 5). QEMU needs no set-up.
constexpr std::uintptr_t kUart = 0x09000000;
volatile std::uint32_t* const kUartData = reinterpret_cast<volatile std::uint32_t*>(kUart);
volatile std::uint32_t* const kUartFlags = reinterpret_cast<volatile std::uint32_t*>(kUart + 0x18);

void put(char c) {
  while ((*kUartFlags & (1u << 5)) != 0) {
  }
  *kUartData = static_cast<unsigned char>(c);
}

// Arm semihosting call (HLT #0xF000 in AArch64 state).
std::uint64_t semihost(std::uint64_t op, const void* block) {
  register std::uint64_t x0 __asm__("x0") = op;
  register const void* x1 __asm__("x1") = block;
  __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
  return x0;
}

constexpr std::uint64_t kSysGetCmdline = 0x15;
constexpr std::uint64_t kSysExit = 0x18;
constexpr std::uint64_t kApplicationExit = 0x20026;

char g_command_line[256];

}  // namespace

void print(std::string_view text) {
  for (char c : text) put(c);
}

void print_dec(std::uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) put(digits[--n]);
}

void print_hex(std::uint64_t value) {
  print("0x");
  bool started = false;
  for (int shift = 60; shift >= 0; shift -= 4) {
    const unsigned nibble = (value >> shift) & 0xf;
    if (nibble == 0 && !started && shift != 0) continue;
    started = true;
    put("0123456789abcdef"[nibble]);
  }
}

void print_field(std::string_view key, std::uint64_t value) {
  put(' ');
  print(key);
  put('=');
  print_dec(value);
}

std::string_view command_line() {
  struct {
    char* buffer;
    std::uint64_t size;
  } block{g_command_line, sizeof g_command_line - 1};
  if (semihost(kSysGetCmdline, &block) != 0) return {};
  return std::string_view(g_command_line, block.size);
}

void exit(int status) {
  const std::uint64_t block[2] = {kApplicationExit, static_cast<std::uint64_t>(status)};
  semihost(kSysExit, block);
  for (;;) __asm__ volatile("wfe");
}

}  // namespace realisa::console
