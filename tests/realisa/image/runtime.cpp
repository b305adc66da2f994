// What a freestanding C++ program needs from its runtime: the routines the
// compiler may call (memcpy & co., the pure-virtual trap) and the static
// constructors (the policy registry's objects).
#include <cstddef>
#include <cstdint>

#include "console.hpp"

extern "C" {

void* memcpy(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  while (n-- != 0) *d++ = *s++;
  return dst;
}

void* memmove(void* dst, const void* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    while (n-- != 0) *d++ = *s++;
  } else {
    while (n-- != 0) d[n] = s[n];
  }
  return dst;
}

void* memset(void* dst, int c, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  while (n-- != 0) *d++ = static_cast<unsigned char>(c);
  return dst;
}

int memcmp(const void* a, const void* b, std::size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (; n != 0; --n, ++x, ++y) {
    if (*x != *y) return *x < *y ? -1 : 1;
  }
  return 0;
}

std::size_t strlen(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

void __cxa_pure_virtual() {
  realisa::console::print("FATAL: pure virtual call\n");
  realisa::console::exit(70);
}

// Static objects' destructors are never run: the image ends by exiting.
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
void* __dso_handle = nullptr;

using Constructor = void (*)();
extern Constructor __init_array_start[];
extern Constructor __init_array_end[];

void realisa_run_constructors() {
  for (Constructor* c = __init_array_start; c != __init_array_end; ++c) (*c)();
}

}  // extern "C"
