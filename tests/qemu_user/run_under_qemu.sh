#!/usr/bin/env bash
# Usage: run_under_qemu.sh QEMU_AARCH64 BINARY [ARG...]
#
# Runs a statically linked AArch64 test binary under qemu-user and exits
# with its status. A missing qemu-aarch64 fails; it does not skip.
set -euo pipefail

qemu=$1 binary=$2
shift 2
if [[ ! -x "$qemu" ]]; then
  echo "FAIL: qemu-aarch64 not found (configure saw '$qemu'): install qemu-user" \
       "(scripts/install-deps.sh) and re-run cmake"
  exit 1
fi
exec "$qemu" "$binary" "$@"
