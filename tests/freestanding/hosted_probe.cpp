// Deliberately hosted code: check_core_symbols.sh must refuse this archive.
// Built only for the test freestanding.check_refuses_hosted_code.
#include <cstdio>
#include <stdexcept>

int* hosted_probe_allocate() { return new int(42); }

void hosted_probe_throw() { throw std::runtime_error("hosted"); }

void hosted_probe_print(int value) { std::printf("%d\n", value); }
