#!/usr/bin/env bash
# `make demo`: runs the built-in scenario suite end to end and decodes one of
# the TLBI operands it printed. Usage: scripts/demo.sh <build-dir>
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi
tlbkit="$1/src/tlbkit"
if [ ! -x "$tlbkit" ]; then
  echo "demo: $tlbkit not found; build first (make build)" >&2
  exit 1
fi

cat <<'BANNER'
==============================================================================
 tlbkit demo: realistic translation-table edits and the TLB maintenance each
 one needs (tlbkit planner, base ARMv8.0 features)
==============================================================================

BANNER

out="$(mktemp)"
trap 'rm -f "$out"' EXIT

# The suite exits non-zero if any scenario fails; set -e stops the demo then.
"$tlbkit" suite | tee "$out"

# One operand from the suite's own output, decoded field by field. Lines look
# like: "    tlbi vale1is, x0  // x0=0x0005000000010000 asid=5 ...".
line="$(grep -m1 -E '^ +tlbi [a-z0-9]+, x0  // x0=0x[0-9a-f]{16}' "$out" || true)"
if [ -z "$line" ]; then
  echo "demo: no TLBI with an operand in the suite output" >&2
  exit 1
fi
op="$(sed -E 's/^ +tlbi ([a-z0-9]+), x0.*/\1/' <<<"$line")"
operand="$(sed -E 's/.*x0=(0x[0-9a-f]{16}).*/\1/' <<<"$line")"

echo
echo "--- decoding the first TLBI of the suite: tlbkit tlbi decode $op $operand"
"$tlbkit" tlbi decode "$op" "$operand"

# The same scenarios on the simulated 8-PE machine: the planner against
# Linux's policy, each checked (exit 1 on a stale translation, a
# break-before-make or a use-after-free), with the hindsight oracle.
echo
echo "--- the suite on the simulated machine: tlbkit sim --oracle"
"$tlbkit" sim --oracle
echo
echo "--- the same under Linux 6.17's policy: tlbkit sim --policy linux-6.17"
"$tlbkit" sim --policy linux-6.17

# The generated workloads of docs/GENERATORS.md replayed by the kernel
# model (demand paging, copy-on-write, ASIDs from the allocator), every
# checker on.
echo
echo "--- generated workloads: tlbkit replay --suite"
"$tlbkit" replay --suite

# The main job: every suite workload and every shipped real trace (strace
# and valgrind logs of real programs, tests/data) under every policy on the
# simulated machine, each cell checked, against the cache-aware lower
# bound; the report (markdown, CSV, JSON, charts through gnuplot) goes to
# report/.
traces=report/traces  # kept beside the report: the traces it was made from
mkdir -p "$traces"
data="$(dirname "$0")/../tests/data"
real=()
for log in "$data"/strace/*.log.gz; do
  name="$(basename "$log" .log.gz)"
  "$tlbkit" import strace "$log" -o "$traces/$name.strace.tlbt" >/dev/null
  real+=(--workload "$traces/$name.strace.tlbt")
done
for log in "$data"/valgrind/*.log.zst; do
  name="$(basename "$log" .log.zst)"
  "$tlbkit" import valgrind "$log" -o "$traces/$name.tlbt" >/dev/null
  real+=(--workload "$traces/$name.tlbt")
done
echo
echo "--- the main job: tlbkit compare --workload suite, the real traces in report/traces --report report"
"$tlbkit" compare --workload suite "${real[@]}" --report report
echo
echo "demo: the report is report/report.md (charts in report/charts, SVG and PNG)"
