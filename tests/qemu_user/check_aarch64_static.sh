#!/usr/bin/env bash
# Usage: check_aarch64_static.sh BINARY...
#
# Fails unless every BINARY is a statically linked AArch64 ELF executable:
# the qemu-user lane must not run host code (where binfmt_misc hands AArch64
# programs to qemu, a host binary would run just as well) nor need a sysroot.
set -euo pipefail

status=0
for binary in "$@"; do
  if [[ ! -f "$binary" ]]; then
    echo "FAIL: $binary: missing"; status=1; continue
  fi
  header=$(readelf --file-header "$binary")
  machine=$(awk -F: '/^ *Machine:/ { gsub(/^ +/, "", $2); print $2 }' <<<"$header")
  class=$(awk -F: '/^ *Class:/ { gsub(/^ +/, "", $2); print $2 }' <<<"$header")
  if [[ "$machine" != "AArch64" || "$class" != "ELF64" ]]; then
    echo "FAIL: $binary: $class $machine, expected ELF64 AArch64"; status=1; continue
  fi
  if readelf --program-headers "$binary" | grep -q INTERP; then
    echo "FAIL: $binary: dynamically linked (has a program interpreter)"; status=1; continue
  fi
  echo "OK: $binary: static $class $machine"
done
exit $status
