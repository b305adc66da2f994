#!/usr/bin/env python3
"""`tlbkit policies` end to end: every baseline names its system, version,
the repository read and its sources; old names select the versioned entry;
an unknown name is refused with status 2 and nothing on stdout.

Usage: policies_cli_test.py TLBKIT GROUP   (GROUP: listing | bad_input)
"""
import json
import subprocess
import sys

TLBKIT = sys.argv[1]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def run(args):
    return subprocess.run([TLBKIT, "policies", *args], capture_output=True, text=True)


def listing():
    r = run(["--json"])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    entries = json.loads(r.stdout)
    names = [e["name"] for e in entries]
    check(names[0] == "tlbkit", f"tlbkit first: {names}")
    # The systems and versions issue 13 asked for, by name.
    for name in ["linux-5.4", "linux-6.17", "kvm-6.5", "kvm-6.12", "freebsd-6631b58", "freebsd-7dc22c8",
                 "zircon-e04da11", "hafnium-07a69ab", "elfuse-059fb2b", "elfuse-e13ade1", "elfuse-9fc96f7",
                 "elfuse-00ed78b"]:
        check(name in names, f"{name} listed")
    for e in entries:
        if e["system"] == "tlbkit":
            continue
        check(e["version"] != "" and "unversioned" not in e["version"], f"{e['name']}: a version")
        check("@" in e["repository"], f"{e['name']}: repository@commit, got {e['repository']!r}")
        check(len(e["sources"]) > 0 and all(s["file"] and s["what"] for s in e["sources"]), f"{e['name']}: sources")
        check(e["contract"] in ("correct", "known_bug"), f"{e['name']}: contract")
        check((e["contract"] == "known_bug") == (e["known_bug"] != ""), f"{e['name']}: a known bug is described")
    # Old names select the versioned entries.
    for old, new in [("linux", "linux-6.17"), ("linux-norange", "linux-5.4"), ("kvm", "kvm-6.5"),
                     ("kvm-deferred", "kvm-6.12"), ("hvf-runner-v1", "elfuse-059fb2b"),
                     ("hvf-runner-v2", "elfuse-9fc96f7"), ("freebsd", "freebsd-7dc22c8")]:
        r = run([old, "--json"])
        got = json.loads(r.stdout)[0]["name"] if r.returncode == 0 else None
        check(got == new, f"{old} -> {new}, got {got}")
    # The text form names the elfuse known bug and the source read.
    t = run(["elfuse-00ed78b"])
    check("reproduces a known bug" in t.stdout and "sysprog21/elfuse@00ed78b" in t.stdout, f"text: {t.stdout}")


def bad_input():
    r = run(["no-such-policy"])
    check(r.returncode == 2 and r.stdout == "" and "no-such-policy" in r.stderr, f"refusal: {r.returncode} {r.stderr}")


{"listing": listing, "bad_input": bad_input}[sys.argv[2]]()
if failures:
    print(f"{len(failures)} check(s) failed:")
    for f in failures:
        print("  - " + f)
    sys.exit(1)
