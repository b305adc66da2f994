#!/usr/bin/env bash
# Usage: expect_refusal.sh CHECK_SCRIPT HOSTED_LIBRARY.a
# Passes only if CHECK_SCRIPT refuses the hosted probe library and names
# the hosted symbols it uses (operator new, __cxa_throw, printf).
set -uo pipefail
out=$(bash "$1" "$2" 2>&1)
status=$?
echo "$out"
if [[ $status -ne 1 ]]; then
  echo "expected the check to refuse the hosted probe (exit 1), got exit $status"
  exit 1
fi
for needle in 'operator new' '__cxa_throw' 'printf'; do
  if ! grep -qF "$needle" <<<"$out"; then
    echo "expected the refusal to name $needle"
    exit 1
  fi
done
echo "OK: the check refuses hosted code"
