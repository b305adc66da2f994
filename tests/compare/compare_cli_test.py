#!/usr/bin/env python3
"""End-to-end tests of `tlbkit compare`: compare_cli_test.py <tlbkit> <group>."""
import csv
import io
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import cli_check  # noqa: E402  (tests/support, put on sys.path above)
from cli_check import check  # noqa: E402

tlbkit = sys.argv[1]
GRID = ["--workload", "gen:small-munmap,size=32", "--workload", "gen:vm-teardown,size=64",
        "--policy", "tlbkit,linux,kvm", "--pes", "2,4"]


def run(args):
    return cli_check.run(tlbkit, args)


def group_output():
    one = run(["compare", *GRID, "--json", "--jobs", "1"])
    two = run(["compare", *GRID, "--json", "--jobs", "2"])
    check(one.returncode == 0 and two.returncode == 0, f"exit {one.returncode}/{two.returncode}: {one.stderr}")
    check(one.stdout == two.stdout, "the JSON is byte-identical whatever --jobs is")
    doc = json.loads(one.stdout) if one.returncode == 0 else {"cells": []}
    cells = doc["cells"]
    check(len(cells) == 2 * 2 * 3, f"2 workloads x 2 PE counts x 3 policies: {len(cells)} cells")
    states = {(c["workload"].split(",")[0], c["policy"]): c["state"] for c in cells}
    check(states.get(("gen:small-munmap", "kvm")) == "n/a", "kvm does not run processes' stage 1")
    check(states.get(("gen:vm-teardown", "linux")) == "n/a", "linux does not run a VM's stage 2")
    check(states.get(("gen:vm-teardown", "kvm")) == "ran", "kvm runs stage 2")
    # One cheapest per group (workload x PE count), and it is the least total.
    for workload in ("gen:small-munmap,size=32", "gen:vm-teardown,size=64"):
        for pes in (2, 4):
            group = [c for c in cells if c["workload"] == workload and c["pes"] == pes]
            ran = [c for c in group if c["state"] == "ran"]
            marked = [c for c in group if c["cheapest"]]
            check(len(marked) == 1 and marked[0]["cycles"]["total"] == min(c["cycles"]["total"] for c in ran),
                  f"{workload} on {pes} PEs: one cheapest, the least total")
    check(doc.get("ok") is True, "no violation anywhere")
    # One lower bound per group, clean, and below every correct policy.
    bounds = doc.get("bounds", [])
    check(len(bounds) == 4 and all(b["state"] == "ran" and b["violations"] == 0 for b in bounds),
          f"4 clean bounds: {[(b['workload'], b['pes'], b['state']) for b in bounds]}")
    for c in cells:
        if c["state"] == "ran":
            check(0 < c["bound"] <= c["cycles"]["total"] and c["overhead"] == c["cycles"]["total"] - c["bound"],
                  f"{c['workload']} {c['policy']}: bound {c['bound']} <= total {c['cycles']['total']}")

    c = run(["compare", *GRID, "--csv", "--jobs", "2"])
    check(c.returncode == 0, f"--csv exit {c.returncode}")
    rows = list(csv.DictReader(io.StringIO(c.stdout)))
    check(len(rows) == len(cells), f"one CSV line per cell: {len(rows)}")
    for row, cell in zip(rows, cells):
        if cell["state"] == "ran":
            check(int(row["total_cycles"]) == cell["cycles"]["total"] and row["cheapest"] == str(int(cell["cheapest"])),
                  f"CSV and JSON agree on {row['workload']} {row['policy']}")
        else:
            check(row["total_cycles"] == "" and row["state"] == "n/a", "an n/a cell has no numbers")

    t = run(["compare", *GRID, "--jobs", "2"])
    check(t.returncode == 0 and "n/a: kvm manages VM stage 2" in t.stdout, f"text: {t.stdout[:300]}")
    check(sum(1 for line in t.stdout.splitlines() if line.startswith("* ")) == 4, "four groups, four marks")
    check(sum(1 for line in t.stdout.splitlines() if "(lower bound)" in line) == 4, "a bound row per group")

    # A trace file is a workload too.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "w.tlbt")
        g = run(["gen", "jit-wx", "--size", "16", "-o", path])
        check(g.returncode == 0, f"gen: {g.stderr}")
        f = run(["compare", "--workload", path, "--policy", "tlbkit,hvf-runner-v2", "--json"])
        check(f.returncode == 0, f"a trace file: exit {f.returncode} {f.stderr}")
        fc = json.loads(f.stdout)["cells"] if f.returncode == 0 else []
        check(len(fc) == 2 and all(c["state"] == "ran" and c["workload"] == path for c in fc), f"file cells: {fc}")


def group_bad_input():
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:nope"], 'no generator "nope"')
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:jit-wx,size=0"], "size must be at least 1")
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "/nonexistent/t.tlbt"], "/nonexistent/t.tlbt")
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:jit-wx,size=4", "--policy", "nope"], "nope")
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:jit-wx,size=4", "--profile", "nope"], "nope")
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:jit-wx,size=4", "--pes", "0"], "--pes")
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:jit-wx,size=4", "--jobs", "0"], "--jobs")
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:jit-wx,size=4", "--features", "warp"], "warp")
    cli_check.expect_bad(tlbkit, ["compare", "--workload", "gen:jit-wx,size=4", "--json", "--csv"], "not both")
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.tlbt")
        with open(bad, "w") as f:
            f.write("tlbkit-trace 1\nspace 1 process\nthread 10 1\nw 10 0xzz\n")
        cli_check.expect_bad(tlbkit, ["compare", "--workload", bad], f"{bad}:4:")


def group_sweep():
    """A sweep cut into 4 shards, run through GNU parallel (as docs/SWEEPS.md
    shows), merges into exactly the output of one run."""
    import subprocess
    with tempfile.TemporaryDirectory() as d:
        whole = run(["compare", *GRID, "--json", "--jobs", "1"])
        check(whole.returncode == 0, f"one run: exit {whole.returncode}")
        cmd = [tlbkit, "compare", *GRID, "--jobs", "1", "--shard", "{}/4"]
        p = subprocess.run(["parallel", "--will-cite", "--halt", "now,fail=1", "-j", "2",
                            " ".join(cmd) + " > " + os.path.join(d, "part{}.json"), ":::", "0", "1", "2", "3"],
                           capture_output=True, text=True)
        check(p.returncode == 0, f"parallel: exit {p.returncode}: {p.stderr}")
        parts = [os.path.join(d, f"part{k}.json") for k in (3, 1, 0, 2)]  # any order
        merged = run(["merge", *parts, "--json"])
        check(merged.returncode == 0, f"merge: exit {merged.returncode}: {merged.stderr}")
        check(merged.stdout == whole.stdout, "the merged JSON is byte-identical to one run's")
        csv_whole = run(["compare", *GRID, "--csv", "--jobs", "2"])
        csv_merged = run(["merge", *parts, "--csv"])
        check(csv_merged.stdout == csv_whole.stdout and csv_merged.returncode == 0, "and so is the CSV")
        text_merged = run(["merge", *parts])
        text_whole = run(["compare", *GRID])
        check(text_merged.stdout == text_whole.stdout, "and the table")
        # Each part holds its own cells only: every 4th from K.
        with open(os.path.join(d, "part1.json")) as f:
            part = json.load(f)
        check([c["index"] for c in part["cells"]] == [1, 5, 9], f"shard 1/4 of 12 cells: {part['cells']}")

        # Parts that do not make one whole grid are refused.
        cli_check.expect_bad(tlbkit, ["merge", *parts[:3]], "is missing")
        cli_check.expect_bad(tlbkit, ["merge", *parts, parts[0]], "given twice")
        other = os.path.join(d, "other.json")
        o = run(["compare", "--workload", "gen:jit-wx,size=8", "--policy", "tlbkit", "--shard", "0/4"])
        with open(other, "w") as f:
            f.write(o.stdout)
        cli_check.expect_bad(tlbkit, ["merge", other, *parts[1:]], "different grids")
        junk = os.path.join(d, "junk.json")
        with open(junk, "w") as f:
            f.write("{not json")
        cli_check.expect_bad(tlbkit, ["merge", junk], "not JSON")
        with open(junk, "w") as f:
            f.write('{"cells": []}')
        cli_check.expect_bad(tlbkit, ["merge", junk], "not a tlbkit compare part")
        cli_check.expect_bad(tlbkit, ["merge", os.path.join(d, "none.json")], "cannot open")
    for bad in ("4/4", "1", "x/2", "1/0"):
        cli_check.expect_bad(tlbkit, ["compare", *GRID, "--shard", bad], "--shard")
    cli_check.expect_bad(tlbkit, ["compare", *GRID, "--shard", "0/2", "--csv"], "part")


cli_check.main({"output": group_output, "bad_input": group_bad_input, "sweep": group_sweep})
