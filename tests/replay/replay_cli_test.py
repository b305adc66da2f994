#!/usr/bin/env python3
"""End-to-end tests of `tlbkit replay`, `tlbkit gen`, `tlbkit import` and
`tlbkit record`: replay_cli_test.py <tlbkit> <group>."""
import gzip
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import cli_check  # noqa: E402  (tests/support, put on sys.path above)
from cli_check import check  # noqa: E402

tlbkit = sys.argv[1]
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")

# Two threads of one process on two PEs: 3 pages written, one read from the
# other PE, the range unmapped, the other PE's read then a segfault.
TRACE = """tlbkit-trace 1
# hand-written
space 1 process
thread 10 1 pe=0
thread 11 1 pe=1
mmap 10 0x7f0000000000 0x10000 rw- anon,private
w 10 0x7f0000000000
w 10 0x7f0000001000
w 10 0x7f0000002000
r 11 0x7f0000001000
munmap 10 0x7f0000000000 0x10000
r 11 0x7f0000001000
exit 11
exit 10
"""


def run(args, **kw):
    return cli_check.run(tlbkit, args)


def write(path, text, opener=open):
    with opener(path, "wt") as f:
        f.write(text)


def group_replay():
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "t.tlbt")
        write(plain, TRACE)
        p = run(["replay", plain, "--pes", "2", "--json"])
        check(p.returncode == 0, f"replay exited {p.returncode}: {p.stderr}")
        doc = json.loads(p.stdout) if p.returncode == 0 else {}
        k = doc.get("kernel", {})
        check(k.get("pages_faulted_in") == 3, f"3 pages faulted in: {k}")
        check(k.get("faults") == 3, f"3 faults: {k}")
        check(k.get("segfaults") == 1, f"1 segfault: {k}")
        check(k.get("threads") == 2 and k.get("spaces") == 1, f"threads and spaces: {k}")
        check(doc.get("pes") == 2 and doc.get("ok") is True, f"pes, ok: {doc.get('pes')} {doc.get('ok')}")
        check(doc.get("counters", {}).get("tlbi_broadcast", 0) >= 1, "the unmap broadcast a TLBI")
        # The same trace gzip-compressed replays byte-identically.
        gz = os.path.join(d, "t.tlbt.gz")
        write(gz, TRACE, gzip.open)
        q = run(["replay", gz, "--pes", "2", "--json"])
        check(q.returncode == 0, f"gz replay exited {q.returncode}: {q.stderr}")
        check(json.loads(q.stdout)["counters"] == doc.get("counters") if q.returncode == 0 else False,
              "a gzip trace replays as the plain one")
        t = run(["replay", plain, "--pes", "2"])
        check(t.returncode == 0 and "kernel model:" in t.stdout and "pages_faulted_in" in t.stdout,
              f"text output: {t.stdout[:200]}")
        again = run(["replay", plain, "--pes", "2"])
        check(again.stdout == t.stdout, "equal input gives byte-identical output")


def group_bad_input():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.tlbt")
        write(bad, TRACE.replace("w 10 0x7f0000001000", "w 10 0x7f00zz001000"))
        cli_check.expect_bad(tlbkit, ["replay", bad], f"{bad}:8:6:")
        unknown = os.path.join(d, "unknown.tlbt")
        write(unknown, TRACE.replace("exit 11", "exit 12"))
        cli_check.expect_bad(tlbkit, ["replay", unknown, "--pes", "2"], f"{unknown}:13:1: no thread 12")
        beyond = os.path.join(d, "beyond.tlbt")
        write(beyond, TRACE)
        cli_check.expect_bad(tlbkit, ["replay", beyond, "--pes", "1"], f"{beyond}:5:1: PE 1 is beyond")
        empty = os.path.join(d, "empty.tlbt")
        write(empty, "")
        cli_check.expect_bad(tlbkit, ["replay", empty], "empty trace")
        cli_check.expect_bad(tlbkit, ["replay", os.path.join(d, "missing.tlbt")], "cannot open")
        cli_check.expect_bad(tlbkit, ["replay", bad, "--policy", "nope"], "nope")
        cli_check.expect_bad(tlbkit, ["replay", bad, "--asid-bits", "12"], "--asid-bits")


def group_gen():
    p = run(["gen", "--list", "--json"])
    check(p.returncode == 0, f"gen --list exited {p.returncode}: {p.stderr}")
    names = [g["name"] for g in json.loads(p.stdout)] if p.returncode == 0 else []
    expected = ["relro-storm", "small-munmap", "guard-pages", "fork-cow", "process-teardown", "vm-teardown",
                "s2-unmap", "dirty-log", "reclaim", "jit-wx", "kernel-purge", "mt-mprotect", "asid-rollover"]
    check(names == expected, f"generators: {names}")
    with tempfile.TemporaryDirectory() as d:
        for name in names:
            out = os.path.join(d, name + ".tlbt.zst")
            g = run(["gen", name, "--pes", "4", "-o", out])
            check(g.returncode == 0, f"gen {name} exited {g.returncode}: {g.stderr}")
            args = ["replay", out, "--pes", "4", "--json"]
            if name == "asid-rollover":
                args += ["--asid-bits", "8"]
            r = run(args)
            check(r.returncode == 0, f"replay of gen {name} exited {r.returncode}: {r.stderr} {r.stdout[-600:]}")
        cli_check.expect_bad(tlbkit, ["gen", "no-such", "-o", os.path.join(d, "x")], "no generator")
        leftovers = [f for f in os.listdir(d) if ".tmp" in f]
        check(leftovers == [], f"temporaries left behind: {leftovers}")


def group_import():
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "bad.log")
        write(log, "1234 mmap(NULL, 4096, PROT_READ\n")
        out = os.path.join(d, "out.tlbt")
        cli_check.expect_bad(tlbkit, ["import", "strace", log, "-o", out], f"{log}:1:")
        check(os.listdir(d) == ["bad.log"], f"a refused import leaves no file behind: {os.listdir(d)}")
        for name in sorted(n for n in os.listdir(os.path.join(DATA, "strace")) if ".log" in n):
            src = os.path.join(DATA, "strace", name)
            trace = os.path.join(d, name + ".tlbt.zst")
            p = run(["import", "strace", src, "-o", trace])
            check(p.returncode == 0, f"import strace {name} exited {p.returncode}: {p.stderr}")
            r = run(["replay", trace, "--pes", "2"])
            check(r.returncode == 0, f"replay of {name} exited {r.returncode}: {r.stderr} {r.stdout[-600:]}")
        vdir = os.path.join(DATA, "valgrind")
        for name in sorted(n for n in os.listdir(vdir) if ".log" in n):
            src = os.path.join(vdir, name)
            trace = os.path.join(d, name + ".tlbt.zst")
            p = run(["import", "valgrind", src, "-o", trace])
            check(p.returncode == 0, f"import valgrind {name} exited {p.returncode}: {p.stderr}")
            r = run(["replay", trace, "--pes", "2"])
            check(r.returncode == 0, f"replay of {name} exited {r.returncode}: {r.stderr} {r.stdout[-600:]}")


def group_record():
    if shutil.which("strace") is None:
        check(False, "strace is not installed (scripts/install-deps.sh installs it)")
        return
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "true.tlbt.gz")
        p = run(["record", "-o", out, "--", "/bin/true"])
        check(p.returncode == 0, f"record exited {p.returncode}: {p.stderr}")
        r = run(["replay", out, "--pes", "2", "--json"])
        check(r.returncode == 0, f"replay of the recording exited {r.returncode}: {r.stderr}")
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        check(doc.get("kernel", {}).get("memory_calls", 0) > 0, "the recording holds memory calls")
        check(doc.get("kernel", {}).get("touched", 0) > 0, "the touch model touched pages of the strace trace")
        cli_check.expect_bad(tlbkit, ["record", "-o", os.path.join(d, "x.tlbt"), "--", "/no/such/program"], "empty log")
        if shutil.which("valgrind") is None:
            check(False, "valgrind is not installed (scripts/install-deps.sh installs it)")
            return
        acc = os.path.join(d, "true-accesses.tlbt.zst")
        p = run(["record", "--accesses", "-o", acc, "--", "/bin/true"])
        check(p.returncode == 0, f"record --accesses exited {p.returncode}: {p.stderr}")
        r = run(["replay", acc, "--pes", "2", "--json"])
        check(r.returncode == 0, f"replay of the lackey recording exited {r.returncode}: {r.stderr}")
        k = json.loads(r.stdout).get("kernel", {}) if r.returncode == 0 else {}
        check(k.get("accesses", 0) > 1000 and k.get("touched", 1) == 0,
              f"a lackey recording carries the program's own accesses, no touch model: {k}")
        check(k.get("segfaults", 1) == 0, f"every recorded access is inside a VMA it may use: {k}")


def group_drop():
    """Fault injection: a clean replay exits 0; the same trace with its
    TLBIs or DSBs left out shows violations and exits 1."""
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "t.tlbt")
        write(plain, TRACE)
        clean = run(["replay", plain, "--pes", "2", "--json"])
        check(clean.returncode == 0, f"clean replay exited {clean.returncode}: {clean.stderr}")
        base = json.loads(clean.stdout) if clean.returncode == 0 else {}
        check(base.get("injected", 0) is None and base.get("counters", {}).get("dropped_ops") == 0,
              f"no injection: {base.get('injected')!r}, {base.get('counters', {}).get('dropped_ops')}")
        tlbis = base.get("counters", {}).get("tlbi_broadcast", 0)
        for drop, text in (("tlbi", "drop every TLBI"), ("dsb", "drop every DSB")):
            p = run(["replay", plain, "--pes", "2", "--json", "--drop", drop])
            check(p.returncode == 1, f"--drop {drop}: exit {p.returncode} (1: violations), {p.stderr}")
            check("violation" in p.stderr, f"--drop {drop}: stderr says why: {p.stderr!r}")
            doc = json.loads(p.stdout) if p.stdout else {}
            check(doc.get("ok") is False and len(doc.get("violations", [])) >= 1,
                  f"--drop {drop}: violations reported: {doc.get('ok')}")
            check(doc.get("injected") == text, f"--drop {drop}: injected {doc.get('injected')!r}")
            if drop == "tlbi":
                # Every TLBI the clean run issued is dropped; the other PE's
                # read after the unmap is then served stale.
                c = doc.get("counters", {})
                check(c.get("tlbi_broadcast") == 0 and c.get("dropped_ops") == tlbis,
                      f"--drop tlbi: {c.get('tlbi_broadcast')} issued, {c.get('dropped_ops')} dropped of {tlbis}")
                kinds = {v.get("kind") for v in doc.get("violations", [])}
                check("stale-translation" in kinds, f"--drop tlbi: violation kinds {kinds}")
        t = run(["replay", plain, "--pes", "2", "--drop", "tlbi"])
        check(t.returncode == 1 and "fault injected: drop every TLBI" in t.stdout
              and "dropped (injected)" in t.stdout, f"text output: {t.stdout[:300]}")
        # Dropping every 1000th TLBI of a run that issues fewer drops nothing.
        few = run(["replay", plain, "--pes", "2", "--json", "--drop", "tlbi:1000"])
        check(few.returncode == 0, f"--drop tlbi:1000: exit {few.returncode}")
        cli_check.expect_bad(tlbkit, ["replay", plain, "--drop", "tlb"], '--drop: "tlb" is not tlbi or dsb')
        cli_check.expect_bad(tlbkit, ["replay", plain, "--drop", "tlbi:0"], "--drop")
        cli_check.expect_bad(tlbkit, ["replay", plain, "--drop", "dsb:x"], '--drop: "x" is not a number')
        # The built-in suite too: violations in some workload, exit 1.
        s = run(["replay", "--suite", "--drop", "tlbi"])
        check(s.returncode == 1 and "fault injected" in s.stdout, f"--suite --drop tlbi: exit {s.returncode}")


def group_timeline():
    """replay --timeline writes a Chrome / Perfetto trace-event file whose
    events agree with the replay's own counters."""
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "t.tlbt")
        write(plain, TRACE)
        out = os.path.join(d, "timeline.json")
        p = run(["replay", plain, "--pes", "2", "--json", "--timeline", out])
        check(p.returncode == 0, f"replay --timeline: exit {p.returncode}: {p.stderr}")
        counters = json.loads(p.stdout)["counters"] if p.returncode == 0 else {}
        with open(out) as f:
            doc = json.load(f)
        events = doc.get("traceEvents", [])
        names = {e["tid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
        check(names == {0: "PE 0", 1: "PE 1"}, f"one named track per PE: {names}")
        check(doc.get("displayTimeUnit") == "ns", "times shown in ns")
        spans = [e for e in events if e.get("ph") == "X"]
        instants = [e for e in events if e.get("ph") == "i"]
        check(all(e["ts"] >= 0 and e["dur"] >= 0 and e["tid"] in names and e["pid"] == 1 for e in spans),
              "every span on a PE track, with a start and a length")
        by_cat = {}
        for e in spans + instants:
            by_cat.setdefault(e["cat"], []).append(e)
        tlbis = len(by_cat.get("tlbi", []))
        check(tlbis == counters.get("tlbi_local", -1) + counters.get("tlbi_broadcast", -1),
              f"one tlbi span per TLBI counted: {tlbis} vs {counters.get('tlbi_broadcast')}")
        check(len(by_cat.get("dsb", [])) == counters.get("dsb"), "one dsb span per DSB")
        check(len(by_cat.get("plan", [])) == counters.get("plans"), "one plan span per plan")
        walks = len(by_cat.get("walk", []))
        check(walks == counters.get("accesses", 0) - counters.get("l1_hits", 0),
              f"one walk span per access past the L1: {walks}")
        faults = len(by_cat.get("fault", []))
        check(faults == counters.get("translation_faults", 0) + counters.get("permission_faults", 0),
              f"one fault instant per fault: {faults}")
        # On each PE the ops and walks follow one another without overlap,
        # and each op of a plan lies inside its plan's span.
        for tid in names:
            own = [e for e in spans if e["tid"] == tid and e["cat"] != "plan"]
            check(all(a["ts"] + a["dur"] <= b["ts"] + 1e-9 for a, b in zip(own, own[1:])),
                  f"PE {tid}: spans in order, not overlapping")
            for plan in (e for e in spans if e["tid"] == tid and e["cat"] == "plan"):
                inside = [e for e in own if e["cat"] in ("tlbi", "dsb") and plan["ts"] <= e["ts"] <= plan["ts"] + plan["dur"]]
                check(len(inside) >= 1, f"PE {tid}: the plan at {plan['ts']} holds its ops")
        check(doc.get("otherData", {}).get("dropped_past_limit") == 0, "nothing dropped")

        # A limit keeps the file small and says what it dropped.
        small = os.path.join(d, "small.json")
        q = run(["replay", plain, "--pes", "2", "--timeline", small, "--timeline-limit", "5"])
        check(q.returncode == 0, f"--timeline-limit: exit {q.returncode}")
        with open(small) as f:
            sd = json.load(f)
        kept = [e for e in sd["traceEvents"] if e.get("ph") != "M"]
        check(len(kept) == 5 and sd["otherData"]["dropped_past_limit"] > 0, f"5 kept, the rest counted: {sd['otherData']}")

        # Bad input leaves no timeline behind.
        bad = os.path.join(d, "bad.tlbt")
        write(bad, TRACE.replace("w 10 0x7f0000001000", "w 10 0x7f00zz001000"))
        none = os.path.join(d, "none.json")
        cli_check.expect_bad(tlbkit, ["replay", bad, "--timeline", none], f"{bad}:8:6:")
        check(not os.path.exists(none), "no timeline file after bad input")
        cli_check.expect_bad(tlbkit, ["replay", plain, "--timeline", os.path.join(d, "no", "dir", "t.json")],
                             "--timeline")
        cli_check.expect_bad(tlbkit, ["replay", "--suite", "--timeline", none], "not the suite")

        # compare --timelines: one file per cell that ran (n/a cells have none).
        tdir = os.path.join(d, "cells")
        os.mkdir(tdir)
        c = run(["compare", "--workload", plain, "--policy", "tlbkit,kvm", "--pes", "2", "--timelines", tdir])
        check(c.returncode == 0, f"compare --timelines: exit {c.returncode}: {c.stderr}")
        check(sorted(os.listdir(tdir)) == ["cell-0000.json"], f"the kvm cell is n/a: {os.listdir(tdir)}")


cli_check.main({"replay": group_replay, "bad_input": group_bad_input, "gen": group_gen, "import": group_import,
                "record": group_record, "drop": group_drop, "timeline": group_timeline})
