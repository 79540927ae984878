# SPDX-License-Identifier: MIT
"""`sonde probe --programs`: every BPF program loads, with its verifier cost."""

import json
import os
import re
import subprocess

from harness import ROOT, SONDE, check


# The function each TLS uprobe program hooks: uprobes are attached by the
# agent, so their section names say only uprobe or uretprobe.
UPROBE_FUNCS = {
    "ssl_read": "SSL_read", "ssl_read_ret": "SSL_read", "ssl_read_ex": "SSL_read_ex",
    "ssl_read_ex_ret": "SSL_read_ex", "ssl_write": "SSL_write", "ssl_write_ret": "SSL_write",
    "ssl_write_ex": "SSL_write_ex", "ssl_write_ex_ret": "SSL_write_ex",
    "ssl_set_fd": "SSL_set_fd", "go_tls_enter": "crypto/tls Read,Write",
    "go_tls_read_ret": "crypto/tls Read RETs", "go_tls_write_ret": "crypto/tls Write RETs",
}


def bpf_sections():
    """SEC("…") of every program in bpf/: what sonde can load."""
    secs = []
    for d, _, files in sorted(os.walk(os.path.join(ROOT, "bpf"))):
        for name in sorted(files):
            with open(os.path.join(d, name)) as f:
                secs += re.findall(r'^SEC\("([^"]+)"\)', f.read(), re.M)
    return [s for s in secs if s not in ("license", ".maps")]


def as_section(p):
    """A listed program as its section name reads."""
    if p["hook"] in ("uprobe", "uretprobe"):
        check(p["attach"] == UPROBE_FUNCS.get(p["name"]), f"uprobe attach point {p}")
        return p["hook"]
    return p["hook"] + "/" + p["attach"]


def test_probe_programs_json():
    """Each program is listed with its hook, attach point and verified_insns."""
    r = subprocess.run([SONDE, "probe", "--programs", "--output", "json"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"rc {r.returncode}: {r.stdout}{r.stderr}")
    obj = json.loads(r.stdout)
    progs = obj["programs"]
    got = sorted(as_section(p) for p in progs)
    check(got == sorted(bpf_sections()), f"programs {got} != sections {sorted(bpf_sections())}")
    for p in progs:
        # the host kernel is newer than 5.16: the count is always known
        check(isinstance(p["verified_insns"], int) and p["verified_insns"] > 0, f"{p}")
        check(p["xlated_insns"] > 0, f"{p}")
    read = [p for p in progs if p["name"] == "sys_exit_read"]
    check(read and read[0]["hook"] == "tracepoint"
          and read[0]["attach"] == "syscalls/sys_exit_read", f"{read}")
    check(obj["verified_insns_total"] == sum(p["verified_insns"] for p in progs), f"{obj}")
    check(obj["can_run"] is True, f"{obj}")
    # the system's libssl is hooked, for every process
    libssl = [h for h in obj["tls_hooks"] if h["library"] == "openssl" and h["system"]]
    check(libssl and libssl[0]["uprobes"] == 9 and libssl[0]["active"], f"{obj['tls_hooks']}")


def test_probe_programs_text():
    """The table has one row per program and a total."""
    r = subprocess.run([SONDE, "probe", "--programs"], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0, f"rc {r.returncode}: {r.stdout}{r.stderr}")
    lines = r.stdout.splitlines()
    head = [i for i, l in enumerate(lines) if l.split()[:2] == ["PROGRAM", "HOOK"]]
    check(len(head) == 1, f"no table header:\n{r.stdout}")
    rows = lines[head[0] + 1:]
    tls = [i for i, l in enumerate(rows) if l.startswith("tls: ")]
    check(len(tls) == 1, f"no tls hooks:\n{r.stdout}")
    check(any("libssl.so.3: openssl, 9 uprobes, for every process" in l
              for l in rows[tls[0]:]), f"libssl not listed:\n{r.stdout}")
    rows = rows[:tls[0]]
    check(rows[-1].split()[:3] == ["total", "verified", "instructions"], f"{rows[-1]!r}")
    check(len(rows) - 1 == len(bpf_sections()), f"{len(rows) - 1} rows:\n{r.stdout}")
    check(any(l.split()[:2] == ["sched_process_fork", "raw_tracepoint"] for l in rows),
          f"fork program missing:\n{r.stdout}")


def test_probe_programs_needs_root():
    """Without privileges nothing is loaded and the reason is given."""
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", SONDE, "probe", "--programs"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1, f"rc {r.returncode}: {r.stdout}{r.stderr}")
    check("not running as root" in r.stdout and "PROGRAM" not in r.stdout, r.stdout)
