#!/usr/bin/env python3
"""End-to-end tests of `tlbkit suite`: suite_cli_test.py <tlbkit> <group>."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import cli_check  # noqa: E402  (tests/support, put on sys.path above)
from cli_check import check  # noqa: E402

tlbkit = sys.argv[1]


def run(args):
    return cli_check.run(tlbkit, args)


def scenario_names():
    return cli_check.scenario_names(tlbkit)


def expect_bad(args, needle):
    cli_check.expect_bad(tlbkit, args, needle)


def group_json():
    names = scenario_names()
    check(8 <= len(names) <= 12, f"{len(names)} scenarios")
    p = run(["suite", "--json"])
    check(p.returncode == 0, f"suite --json exited {p.returncode}: {p.stderr}")
    doc = json.loads(p.stdout)
    check([s["name"] for s in doc["scenarios"]] == names, "suite --json lists every scenario in order")
    check(doc["ok"] is True, "suite --json: ok")
    for s in doc["scenarios"]:
        check(s["ok"] is True and s["problems"] == [], f"{s['name']}: problems {s['problems']}")
        for b in s["batches"]:
            for step in b["steps"]:
                check(step["status"] == "ok", f"{s['name']}: step {step}")
    check(doc["policy"] == {"name": "tlbkit"}, f"policy {doc['policy']}")
    simple = json.loads(run(["suite", "--json", "--policy", "simple"]).stdout)
    check(simple["policy"] == {"name": "simple", "threshold": 32}, f"policy {simple['policy']}")
    for name in ["linux", "kvm", "freebsd", "zircon", "hafnium", "hvf-runner-v1", "hvf-runner-v2"]:
        other = run(["suite", "--json", "--policy", name])
        check(other.returncode == 0 and json.loads(other.stdout)["ok"] is True, f"suite --policy {name}")
    again = run(["suite", "--json"])
    check(again.stdout == p.stdout, "two runs give byte-identical JSON")
    one = json.loads(run(["suite", "--json", "--scenario", "madvise-dontneed-page",
                          "--features", "ttl"]).stdout)
    check(len(one["scenarios"]) == 1, "--scenario selects one")
    check(one["features"] == ["ttl"], f"features {one['features']}")
    op = one["scenarios"][0]["batches"][1]["plans"][0]["runs"][1]
    check(op["operand"] == "0x0005700000010000", f"TTL operand {op}")


def group_list():
    p = run(["suite", "--list"])
    check(p.returncode == 0, "suite --list")
    for name in scenario_names():
        check(name in p.stdout, f"--list lacks {name}")


def group_text():
    p = run(["suite"])
    check(p.returncode == 0, f"suite exited {p.returncode}: {p.stderr}")
    for name in scenario_names():
        check(f"== {name} ==" in p.stdout, f"text lacks {name}")
    check("tlbi vale1is, x0  // x0=0x0005000000010000" in p.stdout, "one-page unmap plan")
    check("\ntotal (" in p.stdout, "summary total row")
    check("FAILED" not in p.stdout, "a scenario failed")


def group_bad_input():
    expect_bad(["suite", "--scenario", "nope"], 'unknown scenario "nope"')
    expect_bad(["suite", "--scenario", "relro-mprotect", "--scenario", "nope"], "unknown scenario")
    expect_bad(["suite", "--features", "ttl,warp"], 'unknown feature "warp"')
    expect_bad(["suite", "--features", "ttl,ttl"], "given twice")
    expect_bad(["suite", "--features", "bbm1,bbm2"], "one of bbm1, bbm2")
    expect_bad(["suite", "--policy", "nope"], "unknown policy")
    expect_bad(["suite", "--threshold", "40"], "--policy simple only")
    # --threshold: decimal or 0x-hex, 0..200 (at most 200 per-VA TLBIs fit a plan).
    simple = ["suite", "--policy", "simple", "--threshold"]
    expect_bad([*simple, "201"], '--threshold: "201" is out of range (0..200)')
    expect_bad([*simple, "0xc9"], '--threshold: "0xc9" is out of range (0x0..0xc8)')
    expect_bad([*simple, "-1"], '--threshold: "-1" is out of range (0..200)')
    expect_bad([*simple, "99999999999999999999"], '--threshold: "99999999999999999999" is out of range (0..200)')
    expect_bad([*simple, "x"], '--threshold: "x" is not a number')
    expect_bad([*simple, "12abc"], '--threshold: "12abc" is not a number')
    expect_bad([*simple, "_12"], '--threshold: "_12" is not a number')
    expect_bad([*simple, ""], '--threshold: "" is not a number')
    hexed = run([*simple, "0x10", "--json", "--scenario", "relro-mprotect"])
    check(hexed.returncode == 0 and json.loads(hexed.stdout)["policy"] == {"name": "simple", "threshold": 16},
          f"--threshold 0x10: {hexed.returncode} {hexed.stderr}")
    expect_bad(["suite", "--list", "--scenario", "nope"], "unknown scenario")


GROUPS = {"json": group_json, "list": group_list, "text": group_text, "bad_input": group_bad_input}

if __name__ == "__main__":
    cli_check.main(GROUPS)
