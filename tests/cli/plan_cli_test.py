#!/usr/bin/env python3
"""End-to-end tests of `tlbkit plan`: plan_cli_test.py <tlbkit> <group>.

GROUP: explain | bad_input

Expected costs are hand-derived from the default cost model
(include/tlbkit/maint/cost_model.hpp): a broadcast by-VA TLBI issues in 529
cycles, a range or wide one in 1045; DSB ISHST costs 100 and DSB ISH
6055 + 500 per PE.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import cli_check  # noqa: E402  (tests/support, put on sys.path above)
from cli_check import check  # noqa: E402

tlbkit = sys.argv[1]


def run(args):
    return cli_check.run(tlbkit, args)


def expect_bad(args, needle):
    cli_check.expect_bad(tlbkit, args, needle)


def plan_json(args):
    p = run(["plan", "--json", *args])
    check(p.returncode == 0 and p.stderr == "", f"plan --json {args}: exit {p.returncode}, {p.stderr!r}")
    return json.loads(p.stdout) if p.returncode == 0 else {}


def cheapest(candidates):
    """The first legal candidate with the least total (ties: the earlier)."""
    best = None
    for c in candidates:
        if c["legal"] and (best is None or c["total"] < best["total"]):
            best = c
    return best


def group_explain():
    # 3 + 600 pages, TTL and ranges, 8 PEs: per-VA is 603 by-VA ops,
    # 603 * 529 = 318987 cycles; the barriers 100 + 6055 + 8 * 500 = 10155.
    args = ["--pages", "0x1000+3", "--pages", "0x10000+600", "--features", "ttl,tlbirange", "--pes", "8",
            "--explain"]
    doc = plan_json(args)
    e = doc.get("explain", {})
    by_shape = {c["shape"]: c for c in e.get("candidates", [])}
    check(list(by_shape) == ["per-va", "range-exact", "range-rounded", "range-merged", "space-wide", "full"],
          f"candidates in shape order: {list(by_shape)}")
    per_va = by_shape.get("per-va", {})
    check(per_va.get("tlbi_ops") == 603 and per_va.get("issue") == 318987 and per_va.get("barriers") == 10155,
          f"per-va: {per_va}")
    check(e.get("pages") == 603, f"pages {e.get('pages')}")
    best = cheapest(e.get("candidates", []))
    check(best is not None and e.get("chosen") == best["shape"] == "range-exact", f"chosen {e.get('chosen')}")
    check(any(op["op"] == "tlbi rvale1is" for op in doc.get("ops", [])), "the plan is the range-exact one")

    text = run(["plan", *args])
    check(text.returncode == 0, f"plan --explain: exit {text.returncode}")
    chosen_lines = [line for line in text.stdout.splitlines() if line.endswith("<- chosen")]
    check(len(chosen_lines) == 1 and chosen_lines[0].startswith("range-exact "), f"text marks {chosen_lines}")

    # Whatever the input, the plan is the explained choice's and the choice
    # is the cheapest legal candidate, earlier shapes winning ties.
    for extra in (["--pages", "0x1000+1"],
                  ["--pages", "0x1000+2000", "--features", "ttl,tlbirange", "--pes", "64"],
                  ["--pages", "0x1000+100000", "--pes", "1", "--features", "tlbirange"],
                  ["--pages", "0x1000+20", "--global", "--features", "tlbirange", "--pes", "4"],
                  ["--pages", "0x200000+40", "--regime", "el2"],
                  ["--pages", "0x200000+512", "--features", "tlbirange", "--regime", "stage2", "--vmid", "3"],
                  ["--tables", "0x40000000+512", "--features", "ttl,tlbirange"],
                  ["--emptied-tables", "0x40000000+3", "--pages", "0x40000000+2", "--features", "ttl,tlbirange"],
                  ["--pages", "0x1000+5", "--pages", "0x9000+5", "--pages", "0x100000+7", "--features",
                   "tlbirange"]):
        d = plan_json([*extra, "--explain"])
        best = cheapest(d.get("explain", {}).get("candidates", []))
        check(best is not None and d["explain"]["chosen"] == best["shape"], f"{extra}: chosen {d.get('explain')}")
        plain = plan_json(extra)
        check(plain.get("ops") == d.get("ops"), f"{extra}: --explain changed the plan")

    # Tables emptied entry by entry owe their walk entries only: one non-leaf
    # VAE1IS per 2 MiB slot (ASID 0, VA >> 12 in the operand), no TTL.
    emptied = plan_json(["--emptied-tables", "0x40000000+3", "--features", "ttl"])
    ops = [op["op"] for op in emptied.get("ops", [])]
    check(ops == ["dsb ishst", "tlbi vae1is", "tlbi vae1is", "tlbi vae1is", "dsb ish"], f"emptied tables: {ops}")
    # The same 6 MiB as tables unhooked whole: 1536 pages owed, ASID-wide.
    whole = plan_json(["--tables", "0x40000000+1536", "--features", "ttl"])
    ops = [op["op"] for op in whole.get("ops", [])]
    check(ops == ["dsb ishst", "tlbi aside1is", "dsb ish"], f"tables unhooked whole: {ops}")

    # --held-by issuer: only the running PE may hold the space's entries, so
    # the planner's TLBIs are local and a DSB NSH completes them; a baseline
    # (linux) broadcasts whatever the reach. Two PEs holding: broadcast, and
    # the space-wide collateral is 16 reused entries * 2 PEs * 46 cycles.
    local = plan_json(["--pages", "0x1000+2", "--pes", "8", "--held-by", "issuer"])
    ops = [op["op"] for op in local.get("ops", [])]
    check(ops == ["dsb ishst", "tlbi vale1", "tlbi vale1", "dsb nsh"], f"--held-by issuer: {ops}")
    linux = plan_json(["--pages", "0x1000+2", "--pes", "8", "--held-by", "issuer", "--policy", "linux"])
    check(all(op["op"] != "tlbi vale1" for op in linux.get("ops", [])), "linux ignores the reach")
    two = plan_json(["--pages", "0x1000+2", "--pes", "8", "--held-by", "2", "--explain"])
    ops = [op["op"] for op in two.get("ops", [])]
    check(ops == ["dsb ishst", "tlbi vale1is", "tlbi vale1is", "dsb ish"], f"--held-by 2: {ops}")
    wide = {c["shape"]: c for c in two.get("explain", {}).get("candidates", [])}.get("space-wide", {})
    check(wide.get("collateral") == 16 * 2 * 46, f"space-wide collateral on 2 holders: {wide}")

    nothing = run(["plan", "--exec", "--explain", "--policy", "linux"])
    check(nothing.returncode == 2 and "considers no alternatives" in nothing.stderr, "--explain of a baseline")


def group_bad_input():
    expect_bad(["plan"], "nothing to plan")
    # Numbers: decimal or 0x-hex, with the option and its range in every refusal.
    one = ["plan", "--pages", "0x1000+1"]
    expect_bad([*one, "--asid", "x"], '--asid: "x" is not a number')
    expect_bad([*one, "--asid", "0x10000"], '--asid: "0x10000" is out of range (0x0..0xffff)')
    expect_bad([*one, "--asid", "65536"], '--asid: "65536" is out of range (0..65535)')
    expect_bad([*one, "--asid", "-1"], '--asid: "-1" is out of range (0..65535)')
    expect_bad([*one, "--asid", "5z"], '--asid: "5z" is not a number')
    expect_bad([*one, "--vmid", "65536"], '--vmid: "65536" is out of range (0..65535)')
    expect_bad([*one, "--vmid", "-2"], '--vmid: "-2" is out of range (0..65535)')
    expect_bad([*one, "--vmid", "99999999999999999999"], '--vmid: "99999999999999999999" is out of range (0..65535)')
    expect_bad([*one, "--vmid", "0x"], '--vmid: "0x" is not a number')
    expect_bad([*one, "--pes", "0"], '--pes: "0" is out of range (1..4096)')
    expect_bad([*one, "--pes", "4097"], '--pes: "4097" is out of range (1..4096)')
    expect_bad([*one, "--pes", "0x1001"], '--pes: "0x1001" is out of range (0x1..0x1000)')
    expect_bad([*one, "--pes", "-8"], '--pes: "-8" is out of range (1..4096)')
    expect_bad([*one, "--pes", "eight"], '--pes: "eight" is not a number')
    # Past 64 bits and then not a digit: no number at all; a doubled sign too.
    expect_bad([*one, "--pes", "99999999999999999999z"], '--pes: "99999999999999999999z" is not a number')
    expect_bad([*one, "--pes", "--8"], '--pes: "--8" is not a number')
    for option in ("--pages", "--blocks", "--tables", "--emptied-tables", "--clean"):
        expect_bad(["plan", option, "zz+1"], f'{option}: "zz" is not a number')
        expect_bad(["plan", option, "0x200000+1z"], f'{option}: "1z" is not a number')
        expect_bad(["plan", option, "-0x200000+1"], f'{option}: "-0x200000" is out of range')
        expect_bad(["plan", option, "0x200000+99999999999999999999"],
                   f'{option}: "99999999999999999999" is out of range')
        expect_bad(["plan", option, "0x200000"], f'{option}: "0x200000" is not START+COUNT')
        expect_bad(["plan", option, "0x200000+0"], f'{option}: "0x200000+0" has a zero count')
    expect_bad(["plan", "--pages", "0x1001+3"], "--pages: 0x1001 is not aligned to 0x1000")
    expect_bad(["plan", "--pages", "0xfffffffff000+2"], '--pages: "0xfffffffff000+2" runs past the 48-bit input space')
    expect_bad([*one, "--regime", "el3"], '--regime: "el3" is not one of el1, el2, stage2')
    expect_bad([*one, "--pes", "4", "--held-by", "5"], '--held-by: "5" is out of range (1..4)')
    expect_bad([*one, "--held-by", "0"], '--held-by: "0" is out of range (1..1)')
    expect_bad([*one, "--held-by", "me"], '--held-by: "me" is not a number')
    expect_bad([*one, "--policy", "nope"], '--policy: unknown policy "nope" (known: ')
    expect_bad([*one, "--features", "warp"], 'unknown feature "warp"')
    # Hex and '_' separators are read wherever a number is.
    hexed = plan_json(["--pages", "0x1000+0x3", "--asid", "0x2a", "--pes", "0x8"])
    decimal = plan_json(["--pages", "4096+3", "--asid", "42", "--pes", "8"])
    check(hexed.get("ops") and hexed.get("ops") == decimal.get("ops"), "hex and decimal give one plan")


GROUPS = {"explain": group_explain, "bad_input": group_bad_input}

if __name__ == "__main__":
    cli_check.main(GROUPS)
