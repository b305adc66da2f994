#!/usr/bin/env python3
"""End-to-end tests of `tlbkit sim`: sim_cli_test.py <tlbkit> <group>."""
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


def sim_json(args):
    p = run(["sim", "--json", *args])
    check(p.returncode == 0, f"sim --json {args} exited {p.returncode}: {p.stderr}")
    return p, json.loads(p.stdout) if p.stdout else {}


def group_json():
    names = scenario_names()
    p, doc = sim_json([])
    check([t["name"] for t in doc["traces"]] == names, "sim --json replays every scenario in order")
    check(doc["ok"] is True and doc["totals"]["violations"] == 0, "the planner's runs are clean")
    check(doc["policy"] == "tlbkit", f"policy {doc['policy']}")
    check(doc["profile"]["name"] == "mobile-8" and doc["profile"]["pes"] == 8, f"profile {doc['profile']}")
    check(doc["features"] == ["ttl", "tlbirange"], f"features {doc['features']}")
    check(doc["pattern"] == {"accesses_per_pe": 64, "hot_pages": 64, "pes": 8, "seed": 1}, f"{doc['pattern']}")
    total = 0
    for t in doc["traces"]:
        c = t["counters"]
        check(t["pes"] == 8, f"{t['name']}: pes")
        # 64 reads by each of 8 PEs before the first batch and after each one.
        check(t["accesses"] == 8 * 64 * (t["batches"]), f"{t['name']}: {t['accesses']} accesses")
        check(c["accesses"] == t["accesses"], f"{t['name']}: every access was made")
        check(c["l1_hits"] + c["l2_hits"] + c["walks"] >= c["accesses"], f"{t['name']}: each access hit or walked")
        check(t["cycles"]["total"] == t["cycles"]["maintenance"] + t["cycles"]["translation"],
              f"{t['name']}: cycles add up")
        check(c["refills_needed"] + c["refills_collateral"] <= c["walks"], f"{t['name']}: refills are walks")
        check(t["violations"] == [] and t["problems"] == [] and t["ok"] is True, f"{t['name']}: clean")
        check("oracle" not in t, f"{t['name']}: no oracle unless asked")
        total += t["cycles"]["total"]
    check(doc["totals"]["cycles"] == total, "the total is the sum of the traces")
    again = run(["sim", "--json"])
    check(again.stdout == p.stdout, "two runs give byte-identical JSON")
    _, other = sim_json(["--seed", "2", "--scenario", names[0]])
    _, first = sim_json(["--scenario", names[0]])
    check(other["traces"][0]["counters"] != first["traces"][0]["counters"], "another seed, other reads")


def group_policies():
    # Every policy's plans are correct on the machine (the baselines model
    # the systems after their fixes), in every profile.
    for policy in ["linux", "linux-norange", "kvm", "kvm-deferred", "freebsd", "zircon", "hafnium",
                   "hvf-runner-v1", "hvf-runner-v2", "simple"]:
        _, doc = sim_json(["--policy", policy, "--accesses", "16"])
        check(doc.get("ok") is True, f"--policy {policy}: not clean")
    for profile in ["server-64", "hvf-shim", "erratum-repeat-tlbi"]:
        _, doc = sim_json(["--profile", profile, "--accesses", "8"])
        check(doc.get("ok") is True, f"--profile {profile}: not clean")
        check(doc["profile"]["name"] == profile, f"--profile {profile}: header")
    _, three = sim_json(["--pes", "3", "--scenario", "relro-mprotect"])
    check(three["traces"][0]["pes"] == 3, "--pes overrides the profile's PE count")


def group_oracle():
    _, doc = sim_json(["--oracle", "--accesses", "32"])
    for t in doc["traces"]:
        o = t.get("oracle")
        check(o is not None, f"{t['name']}: --oracle gave no oracle")
        if o is None:
            continue
        check(o["planner_cycles"] == t["cycles"]["total"], f"{t['name']}: the planner's own cost")
        check(o["total_cycles"] <= o["planner_cycles"], f"{t['name']}: the oracle is never dearer")
        check(o["total_cycles"] == o["maintenance_cycles"] + o["translation_cycles"], f"{t['name']}: oracle sums")
        check(o["simulations"] >= 1 + len(o["choices"]), f"{t['name']}: simulations")
        for c in o["choices"]:
            check(c["point"] < o["points"], f"{t['name']}: choice point in range")
    # The oracle is computed from the planner's shapes whatever --policy is.
    _, linux = sim_json(["--oracle", "--accesses", "32", "--policy", "linux"])
    for mine, theirs in zip(doc["traces"], linux["traces"]):
        check(mine["oracle"]["total_cycles"] == theirs["oracle"]["total_cycles"], f"{mine['name']}: same oracle")


def group_text():
    p = run(["sim", "--oracle", "--accesses", "8"])
    check(p.returncode == 0, f"sim exited {p.returncode}: {p.stderr}")
    check(p.stdout.startswith("tlbkit sim: policy tlbkit, profile mobile-8 (8 PEs), features ttl,tlbirange"),
          f"header: {p.stdout[:100]!r}")
    for name in scenario_names():
        check(f"\n{name} " in p.stdout, f"text lacks a row for {name}")
    check("\ntotal " in p.stdout, "total row")
    lst = run(["sim", "--list-profiles"])
    for profile in ["mobile-8", "server-64", "hvf-shim", "erratum-repeat-tlbi"]:
        check(profile in lst.stdout, f"--list-profiles lacks {profile}")


def group_bad_input():
    # Profiles are refused as policies are: the option, the name, every known one.
    expect_bad(["sim", "--profile", "nope"],
               '--profile: unknown profile "nope" (known: mobile-8, server-64, hvf-shim, erratum-repeat-tlbi)')
    expect_bad(["sim", "--profile", ""], '--profile: unknown profile "" (known: mobile-8, ')
    expect_bad(["sim", "--profile", "Mobile-8"], 'unknown profile "Mobile-8"')
    expect_bad(["sim", "--policy", "nope"], '--policy: unknown policy "nope" (known: ')
    expect_bad(["sim", "--scenario", "nope"], 'unknown scenario "nope"')
    expect_bad(["sim", "--features", "ttl,warp"], 'unknown feature "warp"')
    # Numbers: decimal or 0x-hex; every numeric option refuses garbage,
    # negatives and values past its range (or past 64 bits) alike.
    expect_bad(["sim", "--pes", "0"], '--pes: "0" is out of range (1..64)')
    expect_bad(["sim", "--pes", "65"], '--pes: "65" is out of range (1..64)')
    expect_bad(["sim", "--pes", "0x41"], '--pes: "0x41" is out of range (0x1..0x40)')
    expect_bad(["sim", "--pes", "-1"], '--pes: "-1" is out of range (1..64)')
    expect_bad(["sim", "--pes", "x"], '--pes: "x" is not a number')
    expect_bad(["sim", "--pes", "8x"], '--pes: "8x" is not a number')
    expect_bad(["sim", "--pes", ""], '--pes: "" is not a number')
    expect_bad(["sim", "--accesses", "-1"], '--accesses: "-1" is out of range (0..1048576)')
    expect_bad(["sim", "--accesses", "1048577"], '--accesses: "1048577" is out of range (0..1048576)')
    expect_bad(["sim", "--accesses", "99999999999999999999"], '--accesses: "99999999999999999999" is out of range')
    expect_bad(["sim", "--accesses", "64 "], '--accesses: "64 " is not a number')
    expect_bad(["sim", "--hot-pages", "-3"], '--hot-pages: "-3" is out of range (0..65536)')
    expect_bad(["sim", "--hot-pages", "0x10001"], '--hot-pages: "0x10001" is out of range (0x0..0x10000)')
    expect_bad(["sim", "--hot-pages", "0x"], '--hot-pages: "0x" is not a number')
    expect_bad(["sim", "--hot-pages", ""], '--hot-pages: "" is not a number')
    expect_bad(["sim", "--seed", "-1"], '--seed: "-1" is out of range (0..18446744073709551615)')
    expect_bad(["sim", "--seed", "18446744073709551616"], '--seed: "18446744073709551616" is out of range')
    expect_bad(["sim", "--seed", "0x1_0000_0000_0000_0000"],
               '--seed: "0x1_0000_0000_0000_0000" is out of range (0x0..0xffffffffffffffff)')
    expect_bad(["sim", "--seed", "1.5"], '--seed: "1.5" is not a number')
    expect_bad(["sim", "--seed", "0x1g"], '--seed: "0x1g" is not a number')
    # Hex and '_' separators are read wherever a number is.
    _, hexed = sim_json(["--pes", "0x3", "--seed", "0x1_0", "--hot-pages", "0x10", "--accesses", "0x8",
                         "--scenario", "relro-mprotect"])
    check(hexed.get("pattern") == {"accesses_per_pe": 8, "hot_pages": 16, "pes": 3, "seed": 16},
          f"hex options: {hexed.get('pattern')}")


GROUPS = {"json": group_json, "policies": group_policies, "oracle": group_oracle, "text": group_text,
          "bad_input": group_bad_input}

if __name__ == "__main__":
    cli_check.main(GROUPS)
