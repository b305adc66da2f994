#!/usr/bin/env python3
"""Cross-compiled checks of the freestanding core for AArch64.

  cross_check.py core   --flags FLAGS --cxx CXX --ar AR --include DIR --src DIR --work DIR
                        --check-symbols SCRIPT SOURCE...
      Compiles every core source for aarch64 with the core's flags (FLAGS)
      plus -ffreestanding and the project's warnings as errors, archives the objects and runs
      check_core_symbols.sh on the archive: the core builds freestanding for
      the real target and needs nothing from a hosted runtime there either.

  cross_check.py native --flags FLAGS --cxx CXX --objdump OBJDUMP --include DIR --src DIR
                        --work DIR --catalogue DUMP_TOOL
      Compiles src/exec/native_aarch64.cpp for aarch64 (-O2 and -O0),
      disassembles it, and checks, for every entry of arch::catalogue()
      (printed by DUMP_TOOL):
        - issue<I> exists and holds exactly one maintenance instruction
          (TLBI, DSB, ISB, IC, DC, SYS), whose word is instruction_word(I, rt)
          for the register rt it uses (exactly the catalogue word for ops
          without a register);
        - objdump, an independent decoder, prints that word as the
          catalogue's mnemonic;
        - slot I of the dispatch table kIssue points at issue<I>.
      Nothing is run: TLBIs need EL1.

A missing cross tool fails the test; it does not skip (scripts/install-deps.sh
installs g++-aarch64-linux-gnu).
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

# On top of the core's own flags (--flags, from CMake): freestanding, and the
# project's warnings as errors.
EXTRA_FLAGS = [
    "-std=c++20", "-ffreestanding",
    "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wconversion", "-Wno-sign-conversion",
]
MAINTENANCE = {"tlbi", "dsb", "isb", "ic", "dc", "sys", "sysl", "dmb", "msr", "mrs"}


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def require_tool(path, what):
    if not path or path.endswith("-NOTFOUND") or not (os.path.isfile(path) or shutil.which(path)):
        fail(f"{what} not found (configure saw {path!r}): install it "
             "(scripts/install-deps.sh) and re-run cmake")


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        fail("command failed: " + " ".join(cmd) + "\n" + result.stdout + result.stderr)
    return result.stdout


def compile_one(args, source, obj, extra):
    path = source if os.path.isabs(source) else os.path.join(args.src, source)
    os.makedirs(os.path.dirname(obj), exist_ok=True)
    run([args.cxx, *EXTRA_FLAGS, *args.flags.split(), *extra, "-I", args.include, "-c", path, "-o", obj])
    return obj


def core(args):
    require_tool(args.cxx, "aarch64-linux-gnu-g++")
    require_tool(args.ar, "aarch64-linux-gnu-ar")
    sources = sorted({s for s in args.sources if s.endswith(".cpp")})
    native = os.path.join(args.src, "exec", "native_aarch64.cpp")
    if not any(os.path.abspath(os.path.join(args.src, s)) == os.path.abspath(native) for s in sources):
        sources.append(native)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)

    def obj_for(s):
        rel = os.path.relpath(os.path.join(args.src, s), args.src)
        return os.path.join(args.work, rel.replace(os.sep, "_") + ".o")

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        objs = list(pool.map(lambda s: compile_one(args, s, obj_for(s), ["-O2"]),
                             sources))
    archive = os.path.join(args.work, "libtlbkit_core_aarch64.a")
    run([args.ar, "rcs", archive, *objs])
    print(run(["bash", args.check_symbols, archive]).strip())
    print(f"OK: {len(sources)} core sources compile for aarch64 with -ffreestanding:")
    for s in sources:
        print("  " + os.path.relpath(os.path.join(args.src, s), args.src))


def read_catalogue(tool):
    entries = []
    for line in run([tool]).splitlines():
        value, reg, word, mnemonic = line.split(" ", 3)
        entries.append((int(value), reg == "1", int(word, 16), mnemonic))
    if [e[0] for e in entries] != list(range(len(entries))):
        fail("catalogue dump is not in enum order")
    return entries


FUNC_RE = re.compile(r"^([0-9a-f]+) <(.*)>:$")
INSN_RE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(\S+)\s*(.*)$")
ISSUE_RE = re.compile(r"issue<\(tlbkit::arch::Instr\)(\d+)>")


def functions(disassembly):
    """{name: (address, [(word, mnemonic, operands)])} from objdump -dC."""
    funcs, current = {}, None
    for line in disassembly.splitlines():
        m = FUNC_RE.match(line)
        if m:
            current = m.group(2)
            funcs[current] = (int(m.group(1), 16), [])
            continue
        m = INSN_RE.match(line)
        if m and current is not None:
            funcs[current][1].append((int(m.group(2), 16), m.group(3), m.group(4).split("//")[0].strip()))
    return funcs


def check_issue_functions(funcs, catalogue, opt):
    issue = {}
    for name, (addr, insns) in funcs.items():
        m = ISSUE_RE.search(name)
        if m:
            issue[int(m.group(1))] = (addr, insns)
    problems = []
    for value, takes_register, word0, mnemonic in catalogue:
        if value not in issue:
            problems.append(f"{mnemonic}: no issue<{value}> in the object")
            continue
        found = [i for i in issue[value][1] if i[1] in MAINTENANCE]
        if len(found) != 1:
            problems.append(f"{mnemonic}: issue<{value}> holds {len(found)} maintenance instructions: {found}")
            continue
        word, op, operands = found[0]
        rt = word & 31
        expected = (word0 | rt) if takes_register else word0
        text = " ".join([op] + ([operands.split(",")[0]] if op in ("tlbi", "ic", "dc") else
                                ([operands] if op == "dsb" else [])))
        if word != expected:
            problems.append(f"{mnemonic}: issue<{value}> holds {word:08x}, expected {expected:08x}")
        elif text != mnemonic:
            problems.append(f"{mnemonic}: objdump reads {word:08x} as {op} {operands!r}")
        elif takes_register and operands.split(",")[-1].strip() != f"x{rt}":
            problems.append(f"{mnemonic}: register operand {operands!r} is not x{rt}")
        else:
            print(f"  [{opt}] issue<{value:2}> {word:08x}  {op} {operands}")
    return issue, problems


def check_table(objdump, obj, issue, count):
    """Slot i of kIssue must point at issue<i>: resolve its relocations."""
    symbols = run([objdump, "-tC", obj])
    m = re.search(r"^([0-9a-f]+) l\s+O (\S+)\s+([0-9a-f]+) .*::kIssue$", symbols, re.M)
    if not m:
        return ["no kIssue table symbol in the object"]
    table_off, section, size = int(m.group(1), 16), m.group(2), int(m.group(3), 16)
    if size != 8 * count:
        return [f"kIssue is {size} bytes, expected {8 * count}"]
    by_addr = {addr: value for value, (addr, _) in issue.items()}
    relocs = run([objdump, "-rC", "-j", section, obj])
    slots = {}
    for line in relocs.splitlines():
        r = re.match(r"^([0-9a-f]+) R_AARCH64_ABS64\s+(.*)$", line)
        if not r:
            continue
        off = int(r.group(1), 16) - table_off
        if not 0 <= off < size:
            continue
        target = r.group(2).strip()
        t = re.match(r"^\.text(?:\+0x([0-9a-f]+))?$", target)
        if t:
            slots[off // 8] = by_addr.get(int(t.group(1) or "0", 16))
        else:
            n = ISSUE_RE.search(target)
            slots[off // 8] = int(n.group(1)) if n else None
    wrong = [i for i in range(count) if slots.get(i) != i]
    return [f"kIssue slot {i} points at issue<{slots.get(i)}>" for i in wrong]


def native(args):
    require_tool(args.cxx, "aarch64-linux-gnu-g++")
    require_tool(args.objdump, "aarch64-linux-gnu-objdump")
    catalogue = read_catalogue(args.catalogue)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    problems = []
    for opt in ("-O2", "-O0"):
        obj = compile_one(args, os.path.join("exec", "native_aarch64.cpp"),
                          os.path.join(args.work, f"native_aarch64{opt}.o"), [opt])
        funcs = functions(run([args.objdump, "-dC", obj]))
        issue, p = check_issue_functions(funcs, catalogue, opt)
        problems += [f"[{opt}] {x}" for x in p]
        problems += [f"[{opt}] {x}" for x in check_table(args.objdump, obj, issue, len(catalogue))]
    if problems:
        fail("native executor does not issue the catalogue:\n  " + "\n  ".join(problems))
    print(f"OK: every one of the {len(catalogue)} catalogue instructions is issued by its own "
          "issue<I>, and kIssue[I] dispatches to it (-O2 and -O0)")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("core", "native"):
        p = sub.add_parser(name)
        p.add_argument("--flags", required=True, help="the core's compile flags, blank-separated")
        p.add_argument("--cxx", required=True)
        p.add_argument("--include", required=True)
        p.add_argument("--src", required=True)
        p.add_argument("--work", required=True)
    c = sub.choices["core"]
    c.add_argument("--ar", required=True)
    c.add_argument("--check-symbols", required=True)
    c.add_argument("sources", nargs="+")
    n = sub.choices["native"]
    n.add_argument("--objdump", required=True)
    n.add_argument("--catalogue", required=True)
    args = parser.parse_args()
    core(args) if args.mode == "core" else native(args)


if __name__ == "__main__":
    main()
