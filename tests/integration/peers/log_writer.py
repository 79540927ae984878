# SPDX-License-Identifier: MIT
"""Writes awkward output to stdout with raw write()s, one case after another:
a line in three writes, five lines in one write, a 100 KB line, a traceback,
invalid UTF-8, 10 MB of binary, then "done". With --storm N: N lines as fast
as it can (about 100,000 a second here), in 4 KiB writes like a buffered
logger, then "done"."""
import os
import random
import sys
import time

out = 1


def w(data):
    while data:
        n = os.write(out, data)
        data = data[n:]


if len(sys.argv) > 2 and sys.argv[1] == "--storm":
    n = int(sys.argv[2])
    buf = bytearray()
    for i in range(n):
        buf += b"storm line %d\n" % i
        if len(buf) >= 4096:
            w(bytes(buf))
            buf.clear()
    w(bytes(buf))
    time.sleep(0.3)
    w(b"done\n")
    sys.exit(0)

time.sleep(0.3)
w(b"partial ")
time.sleep(0.01)
w(b"line in ")
time.sleep(0.01)
w(b"three writes\n")
time.sleep(0.2)
w(b"one\ntwo\nthree\nfour\nfive\n")
time.sleep(0.2)
w(b"L" * 100 * 1024 + b"\n")
time.sleep(0.2)
w(b"ERROR:root:it broke\nTraceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
  b"ZeroDivisionError: division by zero\n")
time.sleep(0.2)
w(b"bad \xff\xfe bytes\n")
time.sleep(0.2)
rnd = random.Random(1)
blob = bytes(rnd.getrandbits(8) for _ in range(1 << 16))
for _ in range(160):  # 10 MiB
    w(blob)
time.sleep(0.3)
w(b"done\n")
