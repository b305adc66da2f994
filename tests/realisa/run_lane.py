#!/usr/bin/env python3
"""Runs one lane of the bare-metal image under qemu-system-aarch64 and checks it.

  run_lane.py --qemu QEMU --image realisa.elf --lane el1|el2|smp --cpu max|cortex-a57
              [--modes normal,drop-tlbi,...] [--pes N] [--timeout S] [--table FILE]
      Runs the image once per mode and checks every result line:
        - normal: the image exits 0 and no access was stale or wrong;
        - every other mode: each scenario whose result line says
          expect=catch saw at least one stale or wrong access under every
          policy, and each that says expect=none (with its reason) saw none:
          a declaration QEMU contradicts fails the run, so the teeth table
          stays true;
        - the lane has teeth: dropping the TLBIs is caught by at least one
          scenario;
        - the CPU's features: with -cpu max the planner issued range TLBIs
          somewhere; with a CPU without FEAT_TLBIRANGE no policy issued one.
      --table appends the lane's teeth rows (markdown, one per mode) to FILE.

  run_lane.py --qemu QEMU --image realisa.elf --refusals
      Bad command lines and a lane run where it cannot run: each must end
      the image with its refusal (exit status 2 or 70) and say why, before
      any scenario runs.

  run_lane.py --verify-log LOG --mode MODE [--lane L --cpu C]
      Checks a saved console log as above (exit status taken as 0), for the
      runner's own tests.

Exit status 0 when every check passed, 1 otherwise.
"""
import argparse
import collections
import re
import shutil
import subprocess
import sys

RESULT = re.compile(r'(\w+)=("[^"]*"|\S+)')
MODES = ("normal", "drop-tlbi", "drop-dsb", "local-only")
# The CPU models named in docs/REAL-ISA.md and what they must show.
RANGE_CPUS = {"max": True, "cortex-a57": False}


def parse(text):
    """Result lines as dicts, the features line's fields, and the done line."""
    results, features, done = [], {}, None
    for line in text.splitlines():
        if line.startswith("result "):
            row = {k: v.strip('"') for k, v in RESULT.findall(line)}
            results.append(row)
        elif line.startswith("lane ") and " features " in line:
            features = dict(RESULT.findall(line.split(" features ", 1)[1]))
        elif line.startswith("done "):
            done = line
    return results, features, done


def caught(row):
    return int(row["stale"]) + int(row["wrong"]) > 0


def check_mode(mode, status, text, cpu):
    """Problems found in one run's console output (a list of strings), and
    its results grouped by scenario."""
    problems = []
    results, features, done = parse(text)
    if done is None:
        problems.append(f"{mode}: the image did not finish (no 'done' line); last output:\n"
                        + "\n".join(text.splitlines()[-5:]))
    if not results:
        problems.append(f"{mode}: no result line")
    by_scenario = collections.OrderedDict()
    for row in results:
        if row.get("mode") != mode:
            problems.append(f"{mode}: a result of mode {row.get('mode')}")
        by_scenario.setdefault(row["scenario"], []).append(row)
    if mode == "normal":
        if status != 0:
            problems.append(f"normal: exit status {status}")
        for row in results:
            if caught(row):
                problems.append(f"normal: {row['policy']} {row['scenario']}: stale={row['stale']} "
                                f"wrong={row['wrong']} in {row['checks']} checks")
    else:
        if status != 0:
            problems.append(f"{mode}: exit status {status}")
        for scenario, rows in by_scenario.items():
            for row in rows:
                if row["expect"] == "catch" and not caught(row):
                    problems.append(f"{mode}: {row['policy']} {scenario} was expected to catch the "
                                    "change and saw nothing stale")
                if row["expect"] == "none" and caught(row):
                    problems.append(f"{mode}: {row['policy']} {scenario} is declared without teeth "
                                    f"({row.get('why')}) but saw stale={row['stale']} wrong={row['wrong']}")
        if mode == "drop-tlbi" and by_scenario and not any(r["expect"] == "catch" for rows in by_scenario.values() for r in rows):
            problems.append("drop-tlbi: no scenario of the lane catches dropped TLBIs: the lane proves nothing")
    if cpu in RANGE_CPUS and features:
        has_range = features.get("tlbi_range") == "1"
        if has_range != RANGE_CPUS[cpu]:
            problems.append(f"{mode}: -cpu {cpu} reported tlbi_range={features.get('tlbi_range')}")
        ranges = sum(int(r["range_tlbi"]) for r in results)
        if RANGE_CPUS[cpu] and mode == "normal" and ranges == 0:
            problems.append("normal: FEAT_TLBIRANGE present but no plan used a range TLBI")
        if not RANGE_CPUS[cpu] and ranges != 0:
            problems.append(f"{mode}: {ranges} range TLBIs issued on a CPU without FEAT_TLBIRANGE")
    return problems, by_scenario


def qemu_command(args, mode):
    machine = "virt,virtualization=on" if args.lane == "el2" else "virt"
    arg = f"lane={args.lane} mode={mode} pes={args.pes}"
    return [args.qemu, "-M", machine, "-cpu", args.cpu, "-smp", str(args.pes), "-m", "256M",
            "-nodefaults", "-nographic", "-serial", "stdio",
            "-semihosting-config", f"enable=on,target=native,arg={arg}", "-kernel", args.image]


def teeth_row(lane, cpu, mode, by_scenario):
    """One markdown row: how many scenarios caught the mode's change (under
    every policy), and which have no teeth there."""
    caught_all = [s for s, rs in by_scenario.items() if all(caught(r) for r in rs)]
    without = [s for s, rs in by_scenario.items() if not any(caught(r) for r in rs)]
    policies = len(next(iter(by_scenario.values()), []))
    return (f"| {lane} | {cpu} | {mode} | {len(caught_all)} of {len(by_scenario)} | {policies} | "
            f"{', '.join(without) or '-'} |")


# (machine, -smp, semihosting argument, expected exit status, expected words).
REFUSALS = [
    ("virt", 1, "lane=el3 mode=normal", 2, "lane must be el1, el2 or smp"),
    ("virt", 1, "mode=normal", 2, "lane must be el1, el2 or smp"),
    ("virt", 1, "lane=el1 mode=drop-everything", 2, "unknown mode"),
    ("virt", 1, "lane=el1 pes=9", 2, "pes must be 1 to 4"),
    ("virt", 1, "lane=el1 policy=no-such-policy", 2, "no policy selected"),
    ("virt", 1, "lane=smp pes=1", 2, "the smp lane needs pes=2 or more"),
    ("virt", 1, "lane=el2", 70, "the el2 lane needs EL2"),
]


def check_refusals(args):
    problems = []
    for machine, pes, arg, status, words in REFUSALS:
        cmd = [args.qemu, "-M", machine, "-cpu", args.cpu, "-smp", str(pes), "-m", "256M", "-nodefaults",
               "-nographic", "-serial", "stdio", "-semihosting-config", f"enable=on,target=native,arg={arg}",
               "-kernel", args.image]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        text = run.stdout + run.stderr
        if run.returncode != status or words not in text or "result " in text:
            problems.append(f"'{arg}': exit {run.returncode} (expected {status}), output: {text.strip()[:200]!r}")
        else:
            print(f"  refused '{arg}': {words}")
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qemu")
    p.add_argument("--image")
    p.add_argument("--lane", choices=("el1", "el2", "smp"))
    p.add_argument("--cpu", default="max")
    p.add_argument("--pes", type=int, default=1)
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--timeout", type=float, default=240)
    p.add_argument("--table")
    p.add_argument("--verify-log")
    p.add_argument("--mode")
    p.add_argument("--refusals", action="store_true")
    args = p.parse_args()

    if args.verify_log:
        with open(args.verify_log) as f:
            problems, _ = check_mode(args.mode, 0, f.read(), args.cpu)
        for problem in problems:
            print("FAIL: " + problem)
        return 1 if problems else 0

    if not args.qemu or not shutil.which(args.qemu):
        print(f"FAIL: qemu-system-aarch64 not found ({args.qemu!r}): install qemu-system-arm "
              "(scripts/install-deps.sh) and re-run cmake")
        return 1
    if args.refusals:
        problems = check_refusals(args)
        for problem in problems:
            print("FAIL: " + problem)
        return 1 if problems else 0
    version = subprocess.run([args.qemu, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"{version}; lane {args.lane}, -cpu {args.cpu}, -smp {args.pes}")
    problems, table = [], []
    for mode in args.modes.split(","):
        try:
            run = subprocess.run(qemu_command(args, mode), capture_output=True, text=True, timeout=args.timeout)
            status, text = run.returncode, run.stdout + run.stderr
        except subprocess.TimeoutExpired as e:
            status, text = "timeout", (e.stdout or b"").decode(errors="replace")
            problems.append(f"{mode}: no exit within {args.timeout} s")
        found, by_scenario = check_mode(mode, status, text, args.cpu)
        problems += found
        rows = sum(len(r) for r in by_scenario.values())
        catches = sum(any(caught(r) for r in rs) for rs in by_scenario.values())
        print(f"  {mode:10} {rows} results, {len(by_scenario)} scenarios, {catches} caught the change")
        if mode != "normal":
            table.append(teeth_row(args.lane, args.cpu, mode, by_scenario))
    if args.table:
        with open(args.table, "a") as f:
            f.write("\n".join(table) + "\n")
    for problem in problems:
        print("FAIL: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
