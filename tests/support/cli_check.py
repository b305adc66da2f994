"""What the end-to-end tests of the `tlbkit` command share: running it,
collecting failed checks, the bad-input convention (exit 2, nothing on
stdout, the reason on stderr) and the group runner. A test script imports
it after putting this folder on sys.path:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
"""
import json
import subprocess
import sys

failures = []


def check(cond, what):
    """Records `what` as failed unless `cond`; returns `cond`."""
    if not cond:
        failures.append(what)
    return cond


def run(tlbkit, args):
    return subprocess.run([tlbkit, *args], capture_output=True, text=True, timeout=600)


def scenario_names(tlbkit):
    p = run(tlbkit, ["suite", "--list", "--json"])
    check(p.returncode == 0, f"suite --list --json exited {p.returncode}: {p.stderr}")
    return [s["name"] for s in json.loads(p.stdout)]


def expect_bad(tlbkit, args, needle):
    p = run(tlbkit, args)
    check(p.returncode == 2, f"{args}: exit {p.returncode}, expected 2")
    check(p.stdout == "", f"{args}: printed to stdout")
    check(needle in p.stderr, f"{args}: stderr lacks {needle!r}: {p.stderr!r}")


def main(groups):
    """Runs the group named by argv[2]; exit 1 listing every failed check."""
    groups[sys.argv[2]]()
    if failures:
        print(f"{len(failures)} check(s) failed:")
        for f in failures:
            print("  -", f)
        sys.exit(1)
    print(f"OK: {sys.argv[2]}")
