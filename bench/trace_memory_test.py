#!/usr/bin/env python3
"""The trace reader streams: reading a trace 20 times longer does not raise
the peak resident memory (beyond 1 MiB of noise).
trace_memory_test.py <trace_memory_probe>"""
import os
import subprocess
import sys
import tempfile

probe = sys.argv[1]


def peak(path, events):
    out = subprocess.run([probe, "read", path], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == events + 2, f"read {out[0]} events of {events + 2}"
    return int(out[1])


with tempfile.TemporaryDirectory() as d:
    sizes = {}
    for n in (100_000, 2_000_000):
        for ext in (".tlbt", ".tlbt.gz", ".tlbt.zst"):
            path = os.path.join(d, f"t{n}{ext}")
            subprocess.run([probe, "write", str(n), path], check=True)
            sizes[(n, ext)] = (os.path.getsize(path), peak(path, n))
            os.remove(path)
    failed = False
    for ext in (".tlbt", ".tlbt.gz", ".tlbt.zst"):
        (small_bytes, small_kib), (large_bytes, large_kib) = sizes[(100_000, ext)], sizes[(2_000_000, ext)]
        print(f"{ext:10} 100k events: {small_bytes:>11} bytes, peak {small_kib} KiB; "
              f"2M events: {large_bytes:>11} bytes, peak {large_kib} KiB")
        if large_kib - small_kib > 1024:
            print(f"FAIL: {ext}: the peak grew by {large_kib - small_kib} KiB")
            failed = True
    sys.exit(1 if failed else 0)
