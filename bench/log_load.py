#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The log-cost load of `make bench`: after a line on stdin, writes RATE lines
a second for SECONDS seconds to stdout (or to FILE, opened as fd 3: writes
that are not log output), one write() per line as line-buffered loggers do,
paced in 10 ms slots. Each line is a JSON logger's (~100 bytes).

usage: log_load.py RATE SECONDS [FILE]"""
import os
import sys
import time

rate, seconds = int(sys.argv[1]), float(sys.argv[2])
out = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if len(sys.argv) > 3 else 1
sys.stdin.readline()
per_slot = max(1, rate // 100)
start = time.perf_counter()
n = 0
total = int(rate * seconds)
while n < total:
    for _ in range(min(per_slot, total - n)):
        os.write(out, b'{"level":"info","msg":"served","route":"/api/items/{id}","customer":%d,'
                 b'"duration_ms":3}\n' % n)
        n += 1
    wait = start + n / rate - time.perf_counter()
    if wait > 0:
        time.sleep(wait)
print(f"wrote {n} lines in {time.perf_counter() - start:.2f} s", file=sys.stderr)
