#!/usr/bin/env bash
# Usage: build_for_target.sh CXX GTEST_SOURCE_DIR PROJECT_DIR BUILD_DIR SUITES_FILE GENERATOR
#
# Configures and builds the cross CMake project
# PROJECT_DIR (tests/qemu_user/target) for AArch64 Linux with the cross
# compiler CXX, into BUILD_DIR. SUITES_FILE, written by the host build, says
# what to compile. Jobs: CMAKE_BUILD_PARALLEL_LEVEL if set, else one per
# core. A missing tool fails; it does not skip.
set -euo pipefail

cxx=$1 gtest=$2 project=$3 build=$4 suites=$5 generator=$6

fail() { echo "FAIL: $*"; exit 1; }
[[ -x "$cxx" ]] || fail "aarch64-linux-gnu-g++ not found (configure saw '$cxx'):" \
  "install g++-aarch64-linux-gnu (scripts/install-deps.sh) and re-run cmake"
[[ -f "$gtest/src/gtest-all.cc" ]] || fail "GoogleTest sources not found (configure saw '$gtest'):" \
  "install libgtest-dev (scripts/install-deps.sh) and re-run cmake"

cmake -S "$project" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_CXX_COMPILER="$cxx" \
  -DTLBKIT_SUITES_FILE="$suites"
cmake --build "$build" --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
