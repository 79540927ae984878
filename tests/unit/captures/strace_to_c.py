#!/usr/bin/env python3
"""strace -xx output of one socket fd -> C exchange entries (W/R with hex)."""
import re, sys
fd = sys.argv[2] if len(sys.argv) > 2 else "3"
pat = re.compile(r'^\d+\s+(read|write|sendto|recvfrom)\(' + fd + r', "((?:\\x[0-9a-f]{2})*)"(\.\.\.)?.*\) = (\d+)')
out = []
started = False
for line in open(sys.argv[1]):
    m = pat.match(line)
    if not m:
        continue
    call, hexs, cut, ret = m.groups()
    data = bytes(int(h, 16) for h in re.findall(r'\\x([0-9a-f]{2})', hexs))
    ret = int(ret)
    if cut or len(data) != ret:
        print(f"/* truncated {call} */", file=sys.stderr)
    ing = call in ("read", "recvfrom")
    # the socket's conversation starts with the server's greeting
    if not started:
        if not (ing and len(data) > 5 and data[3] == 0 and data[4] == 10):
            continue
        started = True
    out.append((ing, data[:ret]))
for ing, data in out:
    s = ''.join('\\x%02x' % b for b in data)
    chunks = [s[i:i+64] for i in range(0, len(s), 64)]
    body = '\n\t  '.join('"%s"' % c for c in chunks)
    print('\t{ %s, %s, %d },' % ("true" if ing else "false", body, len(data)))
