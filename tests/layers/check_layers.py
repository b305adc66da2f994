#!/usr/bin/env python3
"""The layers of tlbkit depend one way: checked on the code itself.

Every file under include/tlbkit/<layer>/ and src/<layer>/ belongs to <layer>.
Its `#include "tlbkit/<other>/..."` lines are its dependencies. The check
fails when a layer includes one it may not (ALLOWED below, which is the
order of docs/ARCHITECTURE.md), when a public header includes anything
that is not a public header, or when a source file includes an internal
header of another folder.

Usage:
  check_layers.py ROOT             check; exit 1 with the offending lines
  check_layers.py ROOT --graph     print the layer graph as the code has it
  check_layers.py ROOT --doc FILE  also check that FILE's layer diagram is
                                   the one --graph prints
"""
import argparse
import os
import re
import sys

# Each layer and the layers it may include (besides itself). The core
# archive is core .. exec; baselines is built like it but apart.
ALLOWED = {
    "core": [],
    "arch": ["core"],
    "pt": ["core", "arch"],
    "plan": ["core", "arch"],
    "maint": ["core", "arch", "pt", "plan"],
    "percpu": ["core", "arch", "pt", "plan", "maint"],
    "exec": ["core", "arch", "plan"],
    "baselines": ["core", "arch", "pt", "plan", "maint"],
    "text": ["core", "arch"],
    "trace": ["core", "arch", "text"],
    "importers": ["core", "arch", "text", "trace"],
    "gen": ["core", "arch", "text", "trace"],
    "sim": ["core", "arch", "pt", "plan", "maint", "text"],
    "workload": ["core", "arch", "pt", "plan", "maint", "sim", "text"],
    "replay": ["core", "arch", "pt", "plan", "maint", "percpu", "sim", "workload", "text", "trace"],
    "compare": ["core", "arch", "pt", "plan", "maint", "percpu", "baselines", "sim", "workload", "replay", "text",
                "trace", "gen"],
    "report": ["core", "arch", "pt", "plan", "maint", "percpu", "baselines", "sim", "workload", "replay", "compare",
               "text", "trace", "gen"],
    "cli": ["core", "arch", "pt", "plan", "maint", "percpu", "exec", "baselines", "sim", "workload", "replay",
            "compare", "report", "text", "trace", "importers", "gen"],
}
ORDER = list(ALLOWED)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def files_of(root):
    """(layer, path, public) for every C++ file of a layer."""
    for base, public in ((os.path.join(root, "include", "tlbkit"), True), (os.path.join(root, "src"), False)):
        if not os.path.isdir(base):
            continue
        for layer in sorted(os.listdir(base)):
            folder = os.path.join(base, layer)
            if not os.path.isdir(folder):
                continue
            for dirpath, _, names in sorted(os.walk(folder)):
                for name in sorted(names):
                    if name.endswith((".hpp", ".cpp", ".h")):
                        yield layer, os.path.join(dirpath, name), public


def check(root):
    problems = []
    edges = {}
    for layer, path, public in files_of(root):
        rel = os.path.relpath(path, root)
        if layer not in ALLOWED:
            problems.append(f"{rel}: folder '{layer}' is no layer of docs/ARCHITECTURE.md")
            continue
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                where = f"{rel}:{number}"
                if target.startswith("tlbkit/"):
                    other = target.split("/")[1]
                    if other != layer:
                        edges.setdefault(layer, set()).add(other)
                        if other not in ALLOWED.get(layer, []):
                            problems.append(f"{where}: layer '{layer}' may not include '{target}'")
                    if not os.path.isfile(os.path.join(root, "include", target)):
                        problems.append(f"{where}: no public header {target}")
                elif public:
                    problems.append(f"{where}: a public header includes '{target}', which is not under include/")
                else:
                    resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
                    if os.path.dirname(resolved) != os.path.dirname(os.path.normpath(path)):
                        problems.append(f"{where}: '{target}' is internal to another folder")
                    elif not os.path.isfile(resolved):
                        problems.append(f"{where}: no such file {target}")
    return problems, edges


def graph(edges):
    lines = []
    for layer in ORDER:
        deps = [d for d in ORDER if d in edges.get(layer, set())]
        lines.append(f"{layer:<10} -> {', '.join(deps) if deps else '(nothing)'}")
    return "\n".join(lines)


def diagram_in(doc):
    """The first ```text block after the heading that names the layers."""
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Layers as the code has them\n.*?^```text\n(.*?)^```", text, re.S | re.M)
    return m.group(1).rstrip("\n") if m else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--graph", action="store_true")
    parser.add_argument("--doc")
    args = parser.parse_args()
    problems, edges = check(args.root)
    if args.graph:
        print(graph(edges))
        return 0
    if args.doc:
        shown = diagram_in(args.doc)
        if shown is None:
            problems.append(f"{args.doc}: no ```text block under '## Layers as the code has them'")
        elif shown != graph(edges):
            problems.append(f"{args.doc}: the layer diagram differs from the code's; it is now:\n{graph(edges)}")
    for p in problems:
        print(p)
    if problems:
        print(f"FAIL: {len(problems)} problem(s)")
        return 1
    print("OK: every layer includes only those it may")
    return 0


if __name__ == "__main__":
    sys.exit(main())
