#!/usr/bin/env bash
# Installs the Debian packages tlbkit needs, and only those that are missing.
# Runs apt-get update once, only when something must be installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  binutils-aarch64-linux-gnu g++-aarch64-linux-gnu python3 qemu-system-arm qemu-user
  zlib1g-dev libzstd-dev pkg-config strace valgrind parallel gnuplot-nox
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
