#!/usr/bin/env python3
"""End-to-end tests of `tlbkit tlbi`.

Usage: tlbi_cli_test.py PATH/TO/tlbkit GROUP
GROUP: roundtrip_every_op | vectors | bad_input | list

Expected operands are hand-derived from docs/ARCHITECTURE-FACTS.md section 1 (the
derivation is in the comment next to each) or come from the GNU assembler
(instruction words); none comes from tlbkit itself.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import cli_check  # noqa: E402  (tests/support, put on sys.path above)
from cli_check import check  # noqa: E402

TLBKIT = sys.argv[1]


def run(args, stdin=None):
    p = subprocess.run([TLBKIT, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def ok(args, stdin=None):
    """Runs a command that must succeed quietly; returns its stdout."""
    code, out, err = run(args, stdin)
    check(code == 0 and err == "", f"{args}: exit {code}, stderr {err!r}")
    return out


def ok_json(args, stdin=None):
    out = ok(args, stdin)
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        cli_check.failures.append(f"{args}: stdout is not JSON: {out!r}")
        return None


# ---- roundtrip_every_op ------------------------------------------------------

# Sample field flags per operand kind; each op of the kind is encoded with
# each sample. `upper` samples use a TTBR1 address, valid only for EL1 stage 1.
SAMPLES = {
    "none": [[]],
    "va": [["--asid", "5", "--va", "0x10000000", "--ttl-level", "3"],
           ["--asid", "0xffff", "--va", "0x7ffffffff000"],
           ("upper", ["--asid", "1", "--va", "0xffff800012345000", "--ttl-level", "2"])],
    "va_all_asid": [["--va", "0x40000", "--ttl-level", "3", "--granule", "64k"],
                    ["--va", "0x2000"]],
    "asid": [["--asid", "42"], ["--asid", "0"]],
    "range": [["--asid", "5", "--va", "0x10000000", "--scale", "1", "--num", "3"],
              ["--asid", "7", "--va", "0x20000", "--granule", "64k", "--pages", "64", "--ttl-level", "2"],
              ("upper", ["--asid", "3", "--va", "0xffff000000000000", "--pages", "2097152"])],
    "range_all_asid": [["--va", "0x4000", "--granule", "16k", "--scale", "0", "--num", "1"],
                       ["--va", "0x0", "--scale", "3", "--num", "31", "--ttl-level", "1"]],
    "ipa": [["--ipa", "0x80000000", "--ttl-level", "2"], ["--ipa", "0xfffffffff000"]],
    "ipa_range": [["--ipa", "0x40000000", "--scale", "2", "--num", "3", "--ttl-level", "2"],
                  ["--ipa", "0x10000", "--granule", "64k", "--pages", "2"]],
    "address": [["--va", "0x10000040"], ("upper", ["--va", "0xffff800000000043"])],
}

# Decoded JSON keys that must equal what the flags said.
FLAG_TO_KEY = {"--asid": "asid", "--scale": "scale", "--num": "num"}


def group_roundtrip_every_op():
    catalogue = ok_json(["tlbi", "list", "--json"])
    if not check(isinstance(catalogue, list) and len(catalogue) > 0, "list --json gave no ops"):
        return
    decoded_all = []
    ran = {}
    for entry in catalogue:
        op, kind = entry["op"], entry["kind"]
        check(kind in SAMPLES, f"{op}: unknown kind {kind}")
        samples = SAMPLES.get(kind, [])
        if os.environ.get("TLBKIT_CLI_FIRST_SAMPLE_ONLY") == "1":
            # The sanitizer pass (tests/cli/CMakeLists.txt): one sample per op.
            usable = [s for s in samples if not isinstance(s, tuple) or entry["regime"] == "el1_stage1"]
            samples = usable[:1]
        for sample in samples:
            if isinstance(sample, tuple):
                if entry["regime"] != "el1_stage1":
                    continue
                sample = sample[1]
            args = ["tlbi", "encode", op, *sample]
            ran[op] = ran.get(op, 0) + 1
            encoded = ok_json([*args, "--json"])
            if encoded is None:
                continue
            check(encoded.get("op") == op, f"{args}: op {encoded.get('op')!r}")
            check("error" not in encoded, f"{args}: {encoded.get('error')}")
            for flag, key in FLAG_TO_KEY.items():
                if flag in sample:
                    want = int(sample[sample.index(flag) + 1], 0)
                    check(encoded.get(key) == want, f"{args}: {key} {encoded.get(key)} != {want}")
            text = ok(args)
            if kind == "none":
                check(text == op + "\n", f"{args}: text {text!r}")
                check("operand" not in encoded, f"{args}: operand for an op without one")
                decode_args = ["tlbi", "decode", op]
            else:
                operand = encoded.get("operand", "")
                check(len(operand) == 18 and operand.startswith("0x"), f"{args}: operand {operand!r}")
                decode_args = ["tlbi", "decode", op, operand]
            # decode gives back the same fields and the same text
            decoded = ok_json([*decode_args, "--json"])
            check(decoded == encoded, f"{decode_args}: decode JSON {decoded} != encode JSON {encoded}")
            check(ok(decode_args) == text, f"{decode_args}: decode text differs from encode text")
            # and re-encoding decode's JSON gives the same operand
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(decoded, f)
                path = f.name
            try:
                again = ok_json(["tlbi", "encode", "--from-json", path, "--json"])
            finally:
                os.unlink(path)
            check(again == decoded, f"{op} {sample}: --from-json gave {again}, expected {decoded}")
            decoded_all.append(decoded)
    # all of them at once, as an array on stdin
    again = ok_json(["tlbi", "encode", "--from-json", "-", "--json"], stdin=json.dumps(decoded_all))
    check(again == decoded_all, "--from-json - with an array did not give back the array")
    lines = ok(["tlbi", "encode", "--from-json", "-"], stdin=json.dumps(decoded_all)).splitlines()
    check(len(lines) == len(decoded_all), "--from-json text: one line per op expected")
    idle = [e["op"] for e in catalogue if ran.get(e["op"], 0) == 0]
    check(not idle, f"no sample ran for {idle}")
    check(len(decoded_all) == sum(ran.values()), "some samples produced no JSON")


# ---- vectors -----------------------------------------------------------------

def expect_stdout(args, expected):
    out = ok(args)
    check(out == expected, f"{args}:\n  got      {out!r}\n  expected {expected!r}")


def group_vectors():
    # ASID 5 << 48 = 0x0005000000000000; 0x10000000 >> 12 = 0x10000.
    line = "tlbi vae1is, x0  // x0=0x0005000000010000 asid=5 va=0x10000000 ttl=none\n"
    expect_stdout(["tlbi", "encode", "vae1is", "--asid", "5", "--va", "0x10000000"], line)
    expect_stdout(["tlbi", "decode", "vae1is", "0x0005000000010000"], line)
    expect_stdout(["tlbi", "decode", "TLBI VAE1IS", "0x5000000010000"], line)

    # ASID 1 << 48 + TTL 0b0110 << 44 (0x600000000000) + VA[55:12] 0xff800012345.
    expect_stdout(["tlbi", "encode", "vale1is", "--asid", "1", "--va", "0xffff800012345000", "--ttl-level", "2"],
                  "tlbi vale1is, x0  // x0=0x00016ff800012345 asid=1 va=0xffff800012345000 ttl=4K:L2\n")

    # ASID 5 << 48 + TG 01 << 46 (0x400000000000) + NUM 31 << 39 (0xf8000000000) + 0x10000.
    expect_stdout(["tlbi", "encode", "rvae1is", "--asid", "5", "--va", "0x10000000", "--scale", "0", "--num", "31"],
                  "tlbi rvae1is, x0  // x0=0x00054f8000010000 asid=5 base=0x10000000 pages=64 tg=4K "
                  "scale=0 num=31 ttl=none covers [0x10000000, 0x10040000)\n")
    # --pages 64 is pages/2 = 32 = "10" in base 32: SCALE 1 NUM 0 -> SCALE 1 << 44 = 0x100000000000.
    expect_stdout(["tlbi", "encode", "rvae1is", "--asid", "5", "--va", "0x10000000", "--pages", "64"],
                  "tlbi rvae1is, x0  // x0=0x0005500000010000 asid=5 base=0x10000000 pages=64 tg=4K "
                  "scale=1 num=0 ttl=none covers [0x10000000, 0x10040000)\n")
    # Known bug 1 (docs/KNOWN-BUGS.md): 2^21 pages is one op, NUM 31 SCALE 3, 8 GiB.
    # ASID 1 << 48 + TG 0x400000000000 + SCALE 3 << 44 (0x300000000000) + NUM 0xf8000000000.
    expect_stdout(["tlbi", "encode", "rvae1is", "--asid", "1", "--va", "0", "--pages", "2097152"],
                  "tlbi rvae1is, x0  // x0=0x00017f8000000000 asid=1 base=0x0 pages=2097152 tg=4K "
                  "scale=3 num=31 ttl=none covers [0x0, 0x200000000)\n")
    # TG 01 + SCALE 2 << 44 (0x200000000000) + NUM 3 << 39 (0x18000000000) + TTL 2 << 37
    # (0x4000000000) + 0x40000000 >> 12 (0x40000); 8192 pages = 32 MiB.
    expect_stdout(["tlbi", "encode", "ripas2e1is", "--ipa", "0x40000000", "--scale", "2", "--num", "3",
                   "--ttl-level", "2"],
                  "tlbi ripas2e1is, x0  // x0=0x000061c000040000 base=0x40000000 pages=8192 tg=4K "
                  "scale=2 num=3 ttl=L2 covers [0x40000000, 0x42000000)\n")
    # TTL 4K level 3 = 0b0111 << 44; 0xfffffffff000 >> 12 = 0xfffffffff.
    expect_stdout(["tlbi", "encode", "ipas2le1is", "--ipa", "0xfffffffff000", "--ttl-level", "3"],
                  "tlbi ipas2le1is, x0  // x0=0x0000700fffffffff ipa=0xfffffffff000 ttl=4K:L3\n")
    expect_stdout(["tlbi", "encode", "aside1", "--asid", "42"],
                  "tlbi aside1, x0  // x0=0x002a000000000000 asid=42\n")
    expect_stdout(["tlbi", "encode", "ic", "ivau", "--va", "0x10000040"],
                  "ic ivau, x0  // x0=0x0000000010000040 va=0x10000040\n")
    expect_stdout(["tlbi", "encode", "dsb ish"], "dsb ish\n")
    expect_stdout(["tlbi", "encode", "dsb", "ish"], "dsb ish\n")
    expect_stdout(["tlbi", "decode", "dsb", "ish"], "dsb ish\n")
    expect_stdout(["tlbi", "encode", "vmalle1is"], "tlbi vmalle1is\n")
    # Every number is decimal or 0x-hex, with optional '_' separators.
    expect_stdout(["tlbi", "encode", "aside1", "--asid", "0x2a"], "tlbi aside1, x0  // x0=0x002a000000000000 asid=42\n")
    expect_stdout(["tlbi", "encode", "vae1is", "--asid", "5", "--va", "268_435_456"], line)
    expect_stdout(["tlbi", "decode", "vae1is", "1407374883618816"], line)
    expect_stdout(["tlbi", "encode", "rvae1is", "--asid", "5", "--va", "0x1000_0000", "--pages", "0x40"],
                  "tlbi rvae1is, x0  // x0=0x0005500000010000 asid=5 base=0x10000000 pages=64 tg=4K "
                  "scale=1 num=0 ttl=none covers [0x10000000, 0x10040000)\n")

    # Known bug 12: 64K by-VA operand is VA >> 12: 0x40000 >> 12 = 0x40; TTL 0b1111.
    got = ok_json(["tlbi", "encode", "vaae1is", "--va", "0x40000", "--ttl-level", "3", "--granule", "64k", "--json"])
    check(got == {"op": "tlbi vaae1is", "kind": "va_all_asid", "operand": "0x0000f00000000040",
                  "va": "0x40000", "ttl": {"granule": "64K", "level": 3}, "ttl_field": 15,
                  "covers": {"start": "0x40000", "end": "0x50000"}}, f"vaae1is 64K JSON: {got}")

    # Range JSON: TG 11 (0xc00000000000) + SCALE 1 (0x100000000000) + TTL 2 << 37 + 0x20000 >> 16 = 2.
    got = ok_json(["tlbi", "decode", "rvaae1is", "0x0000d04000000002", "--json"])
    check(got == {"op": "tlbi rvaae1is", "kind": "range_all_asid", "operand": "0x0000d04000000002",
                  "base": "0x20000", "granule": "64K", "scale": 1, "num": 0, "ttl_level": 2, "tg": 3,
                  "base_addr": "0x2", "pages": 64, "covers": {"start": "0x20000", "end": "0x420000"}},
          f"rvaae1is JSON: {got}")

    # A reserved operand is shown on request, marked invalid (TG 00: 0x00054f.. minus 0x4000..).
    out = ok(["tlbi", "decode", "--allow-reserved", "rvae1is", "0x00050f8000010000"])
    check("tg=00(reserved)" in out and "INVALID invalid_argument" in out and "covers" not in out,
          f"reserved decode: {out!r}")
    got = ok_json(["tlbi", "decode", "--allow-reserved", "--json", "rvae1is", "0x00050f8000010000"])
    check(got is not None and "error" in got and got.get("granule") is None, f"reserved JSON: {got}")


# ---- bad_input -----------------------------------------------------------------

def expect_bad(args, needle, stdin=None):
    code, out, err = run(args, stdin)
    check(code == 2, f"{args}: exit {code}, expected 2")
    check(out == "", f"{args}: stdout should be empty, got {out!r}")
    check(needle in err, f"{args}: stderr should mention {needle!r}, got {err!r}")


def group_bad_input():
    enc = ["tlbi", "encode"]
    expect_bad([*enc, "rvae1is", "--asid", "5", "--va", "0x10000000", "--scale", "0", "--num", "33"],
               "NUM must be 0..31")
    expect_bad([*enc, "rvae1is", "--asid", "5", "--va", "0x10000000", "--scale", "4", "--num", "0"],
               "SCALE must be 0..3")
    # 68 pages: 34 = "12" in base 32 -> two ops.
    code, out, err = run([*enc, "rvae1is", "--asid", "5", "--va", "0x10000000", "--pages", "68"])
    check(code == 2 and out == "", f"--pages 68: exit {code}, stdout {out!r}")
    check("--scale 1 --num 0 (64 pages)" in err and "--scale 0 --num 1 (4 pages)" in err,
          f"--pages 68 should suggest the decomposition: {err!r}")
    expect_bad([*enc, "rvae1is", "--asid", "5", "--va", "0x10000000", "--pages", "65"], "single-page")
    expect_bad([*enc, "rvae1is", "--asid", "5", "--va", "0", "--pages", "2097153"], "2^21")
    expect_bad([*enc, "rvae1is", "--asid", "5", "--va", "0", "--pages", "64", "--num", "1"], "not both")
    expect_bad([*enc, "rvae1is", "--asid", "5", "--va", "0x1000", "--granule", "16k", "--pages", "2"], "misaligned")
    expect_bad([*enc, "rvae1is", "--asid", "5", "--va", "0x0"], "needs --scale and --num")
    expect_bad([*enc, "vae1is", "--asid", "0x10000", "--va", "0x1000"], "ASID must fit in 16 bits")
    expect_bad([*enc, "vae9is"], "unknown op")
    expect_bad([*enc, "vae1is", "--asid", "1"], "needs --va")
    expect_bad([*enc, "vae1is", "--va", "0x1000"], "needs --asid")
    expect_bad([*enc, "vaae1is", "--asid", "1", "--va", "0x1000"], "takes no --asid")
    expect_bad([*enc, "vae2is", "--asid", "1", "--va", "0x1000"], "EL2 ops carry no ASID")
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1001"], "misaligned")
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000000000000"], "out_of_range")
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000", "--ttl-level", "0"], "FEAT_LPA2")
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000", "--ttl-level", "4"], "TTL level")
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000", "--granule", "16k"], "--granule only")
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000", "--ttl-level", "3", "--granule", "8k"],
               "not 4k, 16k or 64k")
    expect_bad([*enc, "ipas2e1is", "--va", "0x1000"], "use --ipa")
    expect_bad([*enc, "ipas2e1is", "--ipa", "0x1000000000000"], "52-bit")
    expect_bad([*enc, "dsb", "ish", "--va", "0x1000"], "takes no --va")
    # Numbers: decimal or 0x-hex, any 64-bit value (the encoder refuses
    # those out of a field's range); garbage, negatives and values past 64
    # bits are refused before it, naming the option.
    expect_bad([*enc, "vae1is", "--asid", "five", "--va", "0x1000"], '--asid: "five" is not a number')
    expect_bad([*enc, "vae1is", "--asid", "-1", "--va", "0x1000"],
               '--asid: "-1" is out of range (0..18446744073709551615)')
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000zz"], '--va: "0x1000zz" is not a number')
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "-0x1000"],
               '--va: "-0x1000" is out of range (0x0..0xffffffffffffffff)')
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1_0000_0000_0000_0000"],
               '--va: "0x1_0000_0000_0000_0000" is out of range (0x0..0xffffffffffffffff)')
    expect_bad([*enc, "ipas2e1is", "--ipa", "4096.0"], '--ipa: "4096.0" is not a number')
    expect_bad([*enc, "ipas2e1is", "--ipa", "18446744073709551616"], '--ipa: "18446744073709551616" is out of range')
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000", "--ttl-level", "three"],
               '--ttl-level: "three" is not a number')
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000", "--ttl-level", "-3"],
               '--ttl-level: "-3" is out of range')
    rng = [*enc, "rvae1is", "--asid", "5", "--va", "0x10000000"]
    expect_bad([*rng, "--scale", "1", "--num", "3 "], '--num: "3 " is not a number')
    expect_bad([*rng, "--scale", "-1", "--num", "3"], '--scale: "-1" is out of range')
    expect_bad([*rng, "--scale", "99999999999999999999", "--num", "3"],
               '--scale: "99999999999999999999" is out of range')
    expect_bad([*rng, "--pages", "64k"], '--pages: "64k" is not a number')
    expect_bad([*rng, "--pages", "-64"], '--pages: "-64" is out of range')
    # Past 32 bits a small field is still read, then refused by the encoder.
    expect_bad([*rng, "--scale", "0x100000000", "--num", "3"], "SCALE must be 0..3")
    expect_bad([*enc, "vae1is", "--asid", "1", "--va", "0x1000", "--bogus"], "bogus")
    expect_bad([*enc], "needs an op")
    expect_bad([], "")
    expect_bad(["tlbi"], "")

    dec = ["tlbi", "decode"]
    expect_bad([*dec, "rvae1is", "0x00050f8000010000"], "TG = 0b00 is reserved")
    expect_bad([*dec, "vae1is", "0x0000200000000001"], "TTL granule 0b00")
    expect_bad([*dec, "vaae1is", "0x0001000000000010"], "RES0")
    expect_bad([*dec, "vmalle1is", "1"], "takes no operand")
    expect_bad([*dec, "vae1is"], "needs the operand")
    expect_bad([*dec, "vae1is", "0xzz"], 'operand: "0xzz" is not a number')
    expect_bad([*dec, "vae1is", "0x10000000000000000"],
               'operand: "0x10000000000000000" is out of range (0x0..0xffffffffffffffff)')
    expect_bad([*dec, "vae1is", "-1"], 'operand: "-1" is out of range')
    expect_bad([*dec, "vae1is", "12 34"], 'operand: "12 34" is not a number')
    expect_bad([*dec], "needs an op")

    fj = [*enc, "--from-json"]
    expect_bad([*fj, "/nonexistent/tlbkit.json"], "cannot read")
    expect_bad([*fj, "-"], "not valid JSON", stdin="{")
    expect_bad([*fj, "-"], "takes no \"asid\"", stdin='{"op": "tlbi vaae1is", "va": "0x1000", "asid": 1}')
    expect_bad([*fj, "-"], "missing \"va\"", stdin='{"op": "tlbi vaae1is"}')
    expect_bad([*fj, "-"], "unknown op", stdin='{"op": "tlbi nope"}')
    expect_bad([*fj, "-"], "NUM must be 0..31",
               stdin='{"op": "tlbi rvaae1is", "base": "0x0", "granule": "4K", "scale": 0, "num": 33}')
    expect_bad([*fj, "-"], "element 1",
               stdin='[{"op": "dsb ish"}, {"op": "tlbi vae1is", "asid": 1, "va": "0x1001"}]')
    expect_bad([*fj, "-", "vae1is"], "takes no op", stdin='{"op": "dsb ish"}')
    expect_bad([*fj, "-", "--asid", "1"], "takes no field flags", stdin='{"op": "dsb ish"}')


# ---- list --------------------------------------------------------------------------

def group_list():
    catalogue = ok_json(["tlbi", "list", "--json"])
    if catalogue is None:
        return
    check(len(catalogue) == 51, f"catalogue has {len(catalogue)} entries, expected 51")
    by_op = {e["op"]: e for e in catalogue}
    # Words from the GNU assembler (aarch64-linux-gnu-as 2.40, `tlbi vae1is, x0` etc.).
    for op, word in [("tlbi vae1is", "0xd5088320"), ("tlbi rvae1is", "0xd5088220"),
                     ("tlbi vmalls12e1is", "0xd50c83df"), ("tlbi ripas2le1", "0xd50c84c0"),
                     ("dsb ish", "0xd5033b9f"), ("isb", "0xd5033fdf"), ("dc civac", "0xd50b7e20")]:
        check(by_op.get(op, {}).get("word") == word, f"list: {op} word {by_op.get(op, {}).get('word')}")
    check(by_op.get("tlbi vale1is", {}).get("leaf_only") is True, "vale1is is leaf-only")
    check(by_op.get("tlbi vae1", {}).get("scope") == "local", "vae1 is local")
    text = ok(["tlbi", "list"])
    for op in by_op:
        check(op in text, f"list text lacks {op}")


GROUPS = {
    "roundtrip_every_op": group_roundtrip_every_op,
    "vectors": group_vectors,
    "bad_input": group_bad_input,
    "list": group_list,
}

if __name__ == "__main__":
    cli_check.main(GROUPS)
