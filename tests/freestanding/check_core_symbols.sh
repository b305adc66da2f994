#!/usr/bin/env bash
# Usage: check_core_symbols.sh LIBRARY.a [PROVIDER.a ...]
#
# Fails unless every symbol LIBRARY needs from outside itself is on the
# allow-list below: the few routines a freestanding C++ build may call
# (compiler-emitted memcpy & co., stack protector, pure-virtual trap, 128-bit
# arithmetic helpers) and sanitizer/coverage instrumentation. Anything else,
# notably operator new/delete, malloc/free, __cxa_throw,
# __cxa_allocate_exception, std::__throw_*, typeinfo, iostreams or printf,
# means the core is no longer freestanding. Symbols defined by the optional
# PROVIDER archives (freestanding libraries LIBRARY is linked with, e.g. the
# core for the baselines) count as LIBRARY's own.
set -euo pipefail

lib=${1:?usage: check_core_symbols.sh LIBRARY.a [PROVIDER.a ...]}
shift
for archive in "$lib" "$@"; do
  [[ -f "$archive" ]] || { echo "no such library: $archive" >&2; exit 1; }
done

allowed='^(memcpy|memset|memmove|memcmp|strlen'
allowed+='|__stack_chk_fail|__stack_chk_guard'
allowed+='|__cxa_pure_virtual|__cxa_deleted_virtual'
allowed+='|__udivti3|__umodti3|__divti3|__modti3|__popcountdi2|__clzdi2|__ctzdi2'
allowed+='|_GLOBAL_OFFSET_TABLE_'
allowed+='|__(asan|ubsan|sanitizer|tsan|msan)_[A-Za-z0-9_]*|__gcov_[A-Za-z0-9_]*|__llvm_[A-Za-z0-9_]*)$'

# POSIX output: "name type [value size]"; archive member headers end in ':'.
symbols() { nm -P "$1" "${@:2}" | awk 'NF >= 2 && $1 !~ /:$/ { print $1 }' | sort -u; }

defined=$(for archive in "$lib" "$@"; do symbols --defined-only "$archive"; done | sort -u)
undefined=$(symbols --undefined-only "$lib")
# Symbols one member needs and another defines are the library's own.
external=$(comm -23 <(printf '%s\n' "$undefined") <(printf '%s\n' "$defined") | sed '/^$/d')

bad=$(printf '%s\n' "$external" | grep -Ev "$allowed" || true)
if [[ -n "$bad" ]]; then
  echo "FAIL: $lib needs symbols a freestanding core may not use:"
  printf '%s\n' "$bad" | c++filt | sed 's/^/  /'
  exit 1
fi
echo "OK: $lib is freestanding; it needs only: $(printf '%s ' $external)"
