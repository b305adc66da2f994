#!/usr/bin/env bash
# Usage: check_no_baselines.sh LIBRARY.a
#
# Fails when LIBRARY defines a symbol of tlbkit's baseline policies (models
# of Linux, KVM, FreeBSD, ...: namespace tlbkit::baselines). They live in
# their own library, tlbkit_baselines; the core archive a kernel embeds
# carries none of them.
set -euo pipefail

lib=${1:?usage: check_no_baselines.sh LIBRARY.a}
[[ -f "$lib" ]] || { echo "no such library: $lib" >&2; exit 1; }

found=$(nm -C --defined-only "$lib" | grep -E 'tlbkit::baselines::' || true)
if [[ -n "$found" ]]; then
  echo "FAIL: $lib defines baseline policy symbols:"
  printf '%s\n' "$found" | head -20 | sed 's/^/  /'
  exit 1
fi
echo "OK: $lib defines no baseline policy symbol"
