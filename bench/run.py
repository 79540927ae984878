#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench` / `make bench-quick`: what sonde costs the applications it
traces, the kernel and the machine, measured in one run.

Every comparison alternates agent modes run by run (A B C D, then the next
round rotated: B C D A …) so that drift on a noisy machine lands on every mode
alike; ratios are taken within a round and the median over rounds is reported.
Drift is not all slow here: these VMs' hosts halve a CPU's speed for seconds
to minutes at a time. bench/micro's HTTP/1 parse is timed on each CPU before
and after every run; a round in which it changed by more than
STEADY_SPREAD is left out of the medians when other rounds were steady, and
every case says which rounds were.
nginx (one worker) is pinned to CPU 0 and the load generator to CPU 1; the
agent and the OTLP sink are not pinned, as on a real host.

Modes: none (no agent), hooks (the hooks-only floor: the same BPF programs on
the same hooks with one-lookup bodies, build-hooks/sonde), metrics (sonde run,
metrics only), full (sonde run, every span exported to bench/otlp_sink.py).
The plaintext saturation runs of `make bench` add control: the hooks-only
floor beside bench/cpu_burn, which burns the CPU the agent and the sink used
in that round's full run, in bursts of the same length and rate.
"""
import argparse
import datetime
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build", "bench")
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# Below the ephemeral port range, so that no client socket of the run holds one.
PORT_HTTP, PORT_TLS, PORT_H2, PORT_SINK, PORT_PROM = 28080, 28443, 28444, 24318, 29464
MODES = ["none", "hooks", "metrics", "full"]
MODE_TEXT = {
    "none": "no agent",
    "hooks": "hooks-only floor",
    "metrics": "agent, metrics only",
    "full": "agent, all spans exported",
    "control": "CPU-matched control",
}

NGINX_CONF = """\
# Written by bench/run.py: one worker, a small fixed response, keep-alive.
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 65536;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 30000; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    client_body_temp_path {work}/tmp;
    proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp;
    scgi_temp_path {work}/tmp;
    ssl_certificate {work}/cert.pem;
    ssl_certificate_key {work}/key.pem;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{http};
        listen 127.0.0.1:{tls} ssl;
        listen 127.0.0.1:{h2} ssl http2;
        location / {{ return 200 "hello, bench\\n"; }}
    }}
}}
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


# --- /proc readings ---------------------------------------------------------


def machine_busy_ticks():
    """Non-idle CPU time of the whole machine, in clock ticks (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]) - v[3] - v[4]  # all but idle and iowait; guest is in user


def proc_cpu_ticks(pid):
    """utime + stime of every thread of a process, dead ones included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except OSError:
                pass
    return out


def bpf_prog_stats(pid):
    """Sum of run_time_ns and run_cnt of the BPF programs a process holds
    (their fdinfo; counted only while kernel.bpf_stats_enabled is 1)."""
    ns = cnt = 0
    fddir = f"/proc/{pid}/fd"
    for fd in os.listdir(fddir):
        try:
            if os.readlink(f"{fddir}/{fd}") != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        ns += int(info.get("run_time_ns", 0))
        cnt += int(info.get("run_cnt", 0))
    return ns, cnt


def thread_runs(pid):
    """Per thread: (ns on CPU, voluntary context switches), from
    /proc/PID/task/*/schedstat and status. Empty for a process gone."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                vol = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", f.read(), re.M)[1])
        except (OSError, TypeError):
            continue
        out[tid] = (ns, vol)
    return out


def burst_patterns(before, after, seconds):
    """BURST_US:PERIOD_US of each thread that ran between two thread_runs():
    the mean CPU time between two sleeps, and how often it slept."""
    out = []
    for tid, (ns, vol) in after.items():
        ns0, vol0 = before.get(tid, (0, 0))
        wakes = vol - vol0
        if wakes > 0 and ns - ns0 > 1e6:  # threads that did more than idle
            out.append((ns - ns0, f"{(ns - ns0) / 1e3 / wakes:.1f}:{seconds * 1e6 / wakes:.1f}"))
    return [p for _, p in sorted(out, reverse=True)]


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


SINK_PID = [0]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def host_speed(args):
    """ns per HTTP/1 head parsed (bench/micro's http1_parse, ~5 ms of work) on
    CPU 0 and on CPU 1, now: the host's speed, which changes under these VMs.
    The agent's own code: its slow spells are the host's."""
    return [float(run(["taskset", "-c", str(cpu), args.micro, "--quick", "--only",
                       "http1_parse"]).split()[1]) for cpu in (0, 1)]


# Host speed may differ this much within a round (slowest / fastest probe of
# a CPU) for the round to count as steady. The probe repeats to ~2% on a
# steady host; the spells that wreck a comparison slow it by 1.6-2 x.
STEADY_SPREAD = 1.25


def steady_rounds(runs):
    """Per round: (steady?, worst spread) from the probes its runs took
    before and after their load."""
    out = []
    for i in range(len(runs["none"])):
        probes = [r["speed"] for rs in runs.values() for r in rs[i:i + 1] if "speed" in r]
        spread = max((max(p[c] for p in probes for c in (cpu, cpu + 2)) /
                      min(p[c] for p in probes for c in (cpu, cpu + 2)) for cpu in (0, 1)),
                     default=1.0)
        out.append((spread <= STEADY_SPREAD, spread))
    return out


def keep_steady(case):
    """case["runs"] becomes its rounds with a steady host, if any (the
    figures' medians are taken over them); case["all"] keeps every round."""
    runs = case["runs"]
    case["all"] = runs
    case["steady"] = steady_rounds(runs)
    keep = [i for i, (ok, _) in enumerate(case["steady"]) if ok]
    if keep and len(keep) < len(case["steady"]):
        case["runs"] = {m: [rs[i] for i in keep] for m, rs in runs.items()}
    return case


def host_note(case):
    """One line on the host's speed during a case's rounds."""
    st = case["steady"]
    each = ", ".join(f"{i + 1}: {'steady' if ok else 'changed'} ({spread:.2f} ×)"
                     for i, (ok, spread) in enumerate(st))
    kept = sum(ok for ok, _ in st)
    if kept == len(st):
        how = "every round steady"
    elif kept:
        how = (f"the figures above are medians over the {kept} steady round(s) only; "
               "over all rounds they are in raw.json")
    else:
        how = "no round was steady: the figures above are over all rounds and unreliable"
    return (f"Host speed (bench/micro's http1_parse on both CPUs before and after every run; "
            f"slowest / fastest per round, steady if ≤ {STEADY_SPREAD:.2f} ×): {each}; "
            f"{how}.\n")


# --- processes under test ---------------------------------------------------


class Nginx:
    def __init__(self):
        os.makedirs(f"{WORK}/tmp", exist_ok=True)
        if not os.path.exists(f"{WORK}/cert.pem"):
            run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                 "-subj", "/CN=127.0.0.1", "-keyout", f"{WORK}/key.pem", "-out",
                 f"{WORK}/cert.pem"])
        with open(f"{WORK}/nginx.conf", "w") as f:
            f.write(NGINX_CONF.format(work=WORK, http=PORT_HTTP, tls=PORT_TLS, h2=PORT_H2))
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", "nginx", "-p", WORK, "-c", f"{WORK}/nginx.conf"],
            stdout=subprocess.DEVNULL, stderr=open(f"{WORK}/nginx-stderr.log", "w"))
        deadline = time.time() + 10
        while time.time() < deadline:
            kids = children(self.proc.pid)
            if kids and port_open(PORT_HTTP):
                self.worker = kids[0]
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit(f"bench: nginx did not start; see {WORK}/nginx-stderr.log")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Sink:
    def __init__(self, port=PORT_SINK, count_spans=False):
        self.proc = subprocess.Popen([sys.executable, f"{ROOT}/bench/otlp_sink.py", str(port)] +
                                     (["--count-spans"] if count_spans else []),
                                     stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("bench: the OTLP sink did not start")
        if port == PORT_SINK:
            SINK_PID[0] = self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out = self.proc.communicate(timeout=10)[0]
        return json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


class Agent:
    """sonde run in one of the modes, following the nginx worker only (or
    the processes of a list)."""

    FINISH = re.compile(r"sonde: (\d+) spans \((\d+) not sampled, (\d+) exported, (\d+) "
                        r"dropped\); (\d+) events, (\d+) lost")

    def __init__(self, args, mode, worker, prom=False, sink_port=PORT_SINK):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith(("OTEL_", "SONDE_")):
                del env[k]
        binary = args.hooks_sonde if mode == "hooks" else args.sonde
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{sink_port}"
        if mode in ("hooks", "metrics"):
            env["OTEL_TRACES_EXPORTER"] = "none"
        if mode == "hooks":
            env["OTEL_METRICS_EXPORTER"] = "none"
        cmd = [binary, "run", "--prometheus-port", str(PORT_PROM if prom else 0),
               "--prometheus-address", "127.0.0.1"]
        for pid in worker if isinstance(worker, list) else [worker]:
            cmd += ["--pid", str(pid)]
        self.errpath = f"{WORK}/agent-{mode}.log"
        self.err = open(self.errpath, "w+")
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.time() + 20
        while time.time() < deadline:
            self.err.seek(0)
            if "sonde: running" in self.err.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        raise SystemExit(f"bench: sonde run ({mode}) did not start; see {self.errpath}")

    def stop(self):
        """Stops the agent; returns its closing account."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.seek(0)
        m = self.FINISH.search(self.err.read())
        if not m:
            return {}
        keys = ["spans", "unsampled", "exported", "dropped", "events", "lost"]
        return dict(zip(keys, map(int, m.groups())))


def prom_values(names):
    """Counters from the agent's /metrics (sustained run only)."""
    with socket.create_connection(("127.0.0.1", PORT_PROM), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    out = {}
    for line in data.decode().splitlines():
        for n in names:
            if line.startswith(n + "{") or line.startswith(n + " "):
                out[n] = out.get(n, 0) + float(line.rsplit(" ", 1)[1])
    return out


# --- load generators -------------------------------------------------------


def to_us(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def wrk(url, seconds):
    out = run(["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s", "--latency", url])
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": to_us(lat["50"]), "p99": to_us(lat["99"]), "requests": reqs}


def h2load(args):
    out = run(["taskset", "-c", "1", "h2load"] + args)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", out)
    return {"rps": float(re.search(r"finished in \S+, ([\d.]+) req/s", out).group(1)),
            "mean": to_us(mean.group(1)), "requests": int(done.group(2))}


# --- one measured run ---------------------------------------------------------


def measured(args, mode, nginx, load, burn=None):
    """Starts the agent in `mode`, runs `load()`, and returns the load's
    figures with the agent's CPU and the machine's over the load alone.
    burn: the control's cpu_burn patterns (mode control). A full run also
    returns its agent's and sink's patterns, for the control that follows."""
    agent = None if mode == "none" else Agent(args, "hooks" if mode == "control" else mode,
                                              nginx.worker)
    # cpu_burn takes 8 threads at most: the busiest come first.
    burner = subprocess.Popen([args.burn] + burn[:8], stdout=subprocess.PIPE,
                              text=True) if mode == "control" and burn else None
    time.sleep(0.3)  # let the agent's start-up work settle
    speed = host_speed(args)
    a0 = proc_cpu_ticks(agent.proc.pid) if agent else 0
    b0 = proc_cpu_ticks(burner.pid) if burner else 0
    n0, s0, c0 = proc_cpu_ticks(nginx.worker), proc_cpu_ticks(SINK_PID[0]), children_cpu_s()
    # Only a full run's bursts are replayed (by the control after it).
    t0 = ({"agent": thread_runs(agent.proc.pid), "sink": thread_runs(SINK_PID[0])}
          if mode == "full" else {})
    m0, w0 = machine_busy_ticks(), time.time()
    r = load()
    m1, w1 = machine_busy_ticks(), time.time()
    r["speed"] = speed + host_speed(args)
    if mode == "full":
        r["bursts"] = (burst_patterns(t0["agent"], thread_runs(agent.proc.pid), w1 - w0) +
                       burst_patterns(t0["sink"], thread_runs(SINK_PID[0]), w1 - w0))
    n1, s1, c1 = proc_cpu_ticks(nginx.worker), proc_cpu_ticks(SINK_PID[0]), children_cpu_s()
    a1 = proc_cpu_ticks(agent.proc.pid) if agent else 0
    if burner:
        r["burner_us"] = (proc_cpu_ticks(burner.pid) - b0) * 1e6 / HZ
        burner.terminate()
        burner.communicate()
    r["machine_us"] = (m1 - m0) * 1e6 / HZ
    r["agent_us"] = (a1 - a0) * 1e6 / HZ
    r["sink_us"] = (s1 - s0) * 1e6 / HZ
    # nginx, the load generator (the only child that exits meanwhile), agent, sink:
    # unlike /proc/stat, blind to other jobs on a shared machine.
    r["tested_us"] = ((n1 - n0 + s1 - s0 + a1 - a0) / HZ + c1 - c0) * 1e6
    if agent:
        r.update(agent.stop())
    return r


def rounds_of(args, nginx, n, load, control=False):
    """n rounds of every mode, the order rotated each round; with control,
    each round's full run is followed by the CPU-matched control."""
    out = {m: [] for m in MODES + (["control"] if control else [])}
    for i in range(n):
        order = MODES[i % len(MODES):] + MODES[:i % len(MODES)]
        if control:
            order.insert(order.index("full") + 1, "control")
        for mode in order:
            burn = out["full"][-1]["bursts"] if mode == "control" else None
            out[mode].append(measured(args, mode, nginx, load, burn))
            log(f"    round {i + 1} {mode:8} " + short(out[mode][-1]))
    return out


def short(r):
    s = f"{r['rps']:.0f} req/s"
    if "p99" in r:
        s += f", p50 {r['p50']:.0f} us, p99 {r['p99']:.0f} us"
    if "mean" in r:
        s += f", mean {r['mean']:.0f} us"
    if "spans" in r:
        s += f", {r['spans']} spans, {r['dropped']} dropped, {r['lost']} lost"
    return s


def med_ratio(runs, mode, base, key):
    return statistics.median(a[key] / b[key] for a, b in zip(runs[mode], runs[base]) if b[key])


def med(runs, mode, fn):
    return statistics.median(fn(r) for r in runs[mode])


# --- phases -----------------------------------------------------------------


def saturation(args, nginx):
    res = {}
    cases = [
        ("http1", "HTTP/1.1 plaintext, wrk -c50", lambda: wrk(f"http://127.0.0.1:{PORT_HTTP}/",
                                                               args.sat_seconds)),
        ("tls", "HTTP/1.1 over TLS, wrk -c50", lambda: wrk(f"https://127.0.0.1:{PORT_TLS}/",
                                                            args.sat_seconds)),
        ("h2", "HTTP/2 over TLS, h2load -c50 -m10",
         lambda: h2load(["-c50", "-m10", "-D", str(args.sat_seconds),
                         f"https://127.0.0.1:{PORT_H2}/"])),
    ]
    for name, title, load in cases:
        log(f"  saturation: {title}")
        rounds = args.sat_rounds if name == "http1" else args.other_rounds
        # The control only in full runs: bench-quick must end within 2 minutes.
        control = name == "http1" and not args.quick
        res[name] = keep_steady({"title": title,
                                 "runs": rounds_of(args, nginx, rounds, load, control)})
    return res


def fixed_rate(args, nginx):
    log(f"  fixed rate: h2load --h1 -c 50 --rps 200 -D {args.fixed_seconds}")
    load = lambda: h2load(["--h1", "-c50", "--rps", "200", "-D", str(args.fixed_seconds),
                           f"http://127.0.0.1:{PORT_HTTP}/"])
    return keep_steady({"runs": rounds_of(args, nginx, args.fixed_rounds, load)})


def prog_names(pid):
    """BPF program id -> name for the programs a process holds."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        pid_ = int(info["prog_id"])
        show = json.loads(run(["bpftool", "prog", "show", "id", str(pid_), "-j"]))
        out[pid_] = show["name"]
    return out


def prog_stats_by_name(pid, names):
    out = {}
    for pid_, name in names.items():
        show = json.loads(run(["bpftool", "prog", "show", "id", str(pid_), "-j"]))
        out[name] = (show.get("run_time_ns", 0), show.get("run_cnt", 0))
    return out


def bpf_breakdown(args, nginx):
    """BPF run time per program, floor against full tracing, at 10,000 req/s."""
    secs = 2 if args.quick else 6
    log(f"  kernel side: BPF run time per program, floor and full, {secs} s each")
    res = {}
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        was = f.read().strip()
    try:
        for mode in ("hooks", "full"):
            agent = Agent(args, mode, nginx.worker)
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write("1")
            names = prog_names(agent.proc.pid)
            p0 = prog_stats_by_name(agent.proc.pid, names)
            r = h2load(["--h1", "-c50", "--rps", "200", "-D", str(secs),
                        f"http://127.0.0.1:{PORT_HTTP}/"])
            p1 = prog_stats_by_name(agent.proc.pid, names)
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(was)
            agent.stop()
            n = max(r["requests"], 1)
            res[mode] = {k: ((p1[k][0] - p0[k][0]) / n, (p1[k][1] - p0[k][1]) / n)
                         for k in p1 if p1[k][1] > p0[k][1]}
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(was)
    return res


def rss_parts(pid):
    """Resident KiB: the ring buffer's mappings, file-backed (libraries), anonymous."""
    ring = 0
    cur = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fld = line.split()
            if not fld[0].endswith(":"):
                cur = line
            elif fld[0] == "Rss:" and "anon_inode:bpf-map" in cur:
                ring += int(fld[1])
    return {"ring": ring, "anon": proc_status_kib(pid, "RssAnon"),
            "file": proc_status_kib(pid, "RssFile") - ring}


def open_idle(n):
    """n keep-alive connections, each after one request (so sonde follows
    them), then left idle for the rest of the run."""
    socks = []
    req = f"GET /idle HTTP/1.1\r\nHost: 127.0.0.1:{PORT_HTTP}\r\n\r\n".encode()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", PORT_HTTP))
        s.sendall(req)
        s.recv(4096)
        socks.append(s)
    return socks


def sustained(args, nginx):
    log(f"  sustained: {args.idle} idle connections + h2load --h1 -c100 --rps 200 "
        f"-D {args.sustained_seconds} (20,000 req/s), full tracing, bpf_stats on")
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_was = f.read().strip()
    agent = Agent(args, "full", nginx.worker, prom=True)
    pid = agent.proc.pid
    names = ["sonde_events_read_total", "sonde_events_lost_total",
             "sonde_spans_dropped_total", "sonde_spans_total"]
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        idle = open_idle(args.idle)
        time.sleep(1)
        b0, p0, a0 = bpf_prog_stats(pid), prom_values(names), proc_cpu_ticks(pid)
        rss = []
        proc = subprocess.Popen(
            ["taskset", "-c", "1", "h2load", "--h1", "-c100", "--rps", "200", "-D",
             str(args.sustained_seconds), f"http://127.0.0.1:{PORT_HTTP}/"],
            stdout=subprocess.PIPE, text=True)
        while proc.poll() is None:
            rss.append(proc_status_kib(pid, "VmRSS"))
            time.sleep(1)
        out = proc.stdout.read()
        b1, p1, a1 = bpf_prog_stats(pid), prom_values(names), proc_cpu_ticks(pid)
        peak = proc_status_kib(pid, "VmHWM")
        parts = rss_parts(pid)
        for s in idle:
            s.close()
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(stats_was)
    fin = agent.stop()
    done = int(re.search(r"(\d+) succeeded", out).group(1))
    rps = float(re.search(r"finished in \S+, ([\d.]+) req/s", out).group(1))
    steady = rss[len(rss) // 2:] or rss
    d = {k: p1.get(k, 0) - p0.get(k, 0) for k in names}
    return {
        "requests": done, "rps": rps, "idle": args.idle, "seconds": args.sustained_seconds,
        "bpf_ns_per_req": (b1[0] - b0[0]) / max(done, 1),
        "bpf_runs_per_req": (b1[1] - b0[1]) / max(done, 1),
        "events_per_req": d["sonde_events_read_total"] / max(done, 1),
        "lost": d["sonde_events_lost_total"], "dropped": d["sonde_spans_dropped_total"],
        "spans": d["sonde_spans_total"],
        "agent_us_per_req": (a1 - a0) * 1e6 / HZ / max(done, 1),
        "rss_peak_mib": peak / 1024, "rss_steady_mib": statistics.median(steady) / 1024,
        "lost_total": fin.get("lost", 0), "dropped_total": fin.get("dropped", 0),
        "rss_parts_mib": {k: v / 1024 for k, v in parts.items()},
    }


def captured_bytes(args, nginx):
    """Events and bytes the kernel hands over per request, from sonde trace --stats."""
    n = 2000 if args.quick else 20000
    log(f"  capture: sonde trace --stats over {n} requests")
    err = open(f"{WORK}/trace-stats.log", "w+")
    proc = subprocess.Popen([args.sonde, "trace", "--pid", str(nginx.worker), "--stats",
                             "--no-summary", "-o", "json"], stdout=subprocess.DEVNULL,
                            stderr=err)
    time.sleep(1.5)
    h2load(["--h1", "-c10", "-n", str(n), f"http://127.0.0.1:{PORT_HTTP}/"])
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    err.seek(0)
    text = err.read()
    events = int(re.search(r"agent: events (\d+)", text).group(1))
    moved, cap = map(int, re.search(r"bytes: (\d+) moved, (\d+) captured", text).groups())
    return {"events_per_req": events / n, "captured_per_req": cap / n, "moved_per_req": moved / n}


LOG_RATE = 50000


def log_cost(args):
    """A process logging 50,000 lines a second: BPF run time and agent CPU
    per line with log collection on (every line exported to the sink as
    OTLP, no rate limit) and off (the same hooks, the one fd check)."""
    seconds = 3 if args.quick else 10
    lines = int(LOG_RATE * seconds)
    res = {}
    for mode in ("off", "on", "other"):
        log(f"  logs {mode}: {LOG_RATE} lines/s for {seconds} s")
        out = open(f"{WORK}/log-load-{mode}.out", "w")
        # "other": logs on, the lines written to a file on fd 3: the cost
        # every write that is not log output pays for logs being on.
        extra = [f"{WORK}/log-load-fd3.out"] if mode == "other" else []
        writer = subprocess.Popen([sys.executable, f"{ROOT}/bench/log_load.py", str(LOG_RATE),
                                   str(seconds), *extra], stdin=subprocess.PIPE, stdout=out,
                                  stderr=subprocess.PIPE, text=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SONDE_"))}
        env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{PORT_SINK}",
                    "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none",
                    "SONDE_LOGS": "false" if mode == "off" else "true",
                    "SONDE_LOGS_RATE_LIMIT": "0", "OTEL_BLRP_MAX_QUEUE_SIZE": "16384",
                    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "2048"})
        errpath = f"{WORK}/agent-logs-{mode}.log"
        err = open(errpath, "w+")
        agent = subprocess.Popen([args.sonde, "run", "--pid", str(writer.pid),
                                  "--prometheus-port", "0"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 20
        while time.time() < deadline:
            err.seek(0)
            if "sonde: running" in err.read():
                break
            time.sleep(0.05)
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            stats_before = f.read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        try:
            ns0, cnt0 = bpf_prog_stats(agent.pid)
            cpu0 = proc_cpu_ticks(agent.pid)
            writer.stdin.write("go\n")
            writer.stdin.flush()
            writer.wait(seconds * 4 + 30)
            time.sleep(1.5)  # the last lines through the loop and the queue
            ns1, cnt1 = bpf_prog_stats(agent.pid)
            cpu1 = proc_cpu_ticks(agent.pid)
        finally:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(stats_before)
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
        err.seek(0)
        m = re.search(r"sonde: (\d+) log records \((\d+) exported, (\d+) dropped, "
                      r"(\d+) rate-limited\)", err.read())
        rec = dict(zip(["records", "exported", "dropped", "limited"], map(int, m.groups()))) \
            if m else {}
        res[mode] = {"bpf_ns_per_line": (ns1 - ns0) / lines,
                     "agent_us_per_line": (cpu1 - cpu0) / HZ * 1e6 / lines,
                     "lines": lines, **rec}
    return res


def micro(args):
    log("  micro benchmarks")
    out = run([args.micro] + (["--quick"] if args.quick else []))
    res = {}
    for line in out.splitlines():
        name, rest = line.split(" ", 1)
        m = re.match(r"([\d.]+) (.*)", rest)
        res[name] = (float(m.group(1)), m.group(2)) if m else (None, rest)
    return res


# --- report -----------------------------------------------------------------


def verdict(ok):
    if ok is None:
        return "inconclusive (other jobs on the machine)"
    return "met" if ok else "**missed**"


def control_note(runs):
    per_1k = lambda key: (lambda r: r.get(key, 0) / r["requests"])
    return (
        "The CPU-matched control is the hooks-only floor beside bench/cpu_burn, which burns "
        "what the agent and the OTLP sink used in the same round's full run "
        f"({med(runs, 'full', per_1k('agent_us')):.3f} + "
        f"{med(runs, 'full', per_1k('sink_us')):.3f} ms per 1,000 requests), in bursts of "
        "the same length and rate (per thread: CPU time between two sleeps) and does "
        "nothing else. On two saturated cores that CPU comes out of nginx and wrk whoever "
        "uses it: the control's ratios to the floor "
        f"({med_ratio(runs, 'control', 'hooks', 'rps'):.3f} × req/s, "
        f"{med_ratio(runs, 'control', 'hooks', 'p99'):.3f} × p99) are what that CPU alone "
        "costs. What the full run loses beyond them "
        f"({med_ratio(runs, 'full', 'hooks', 'rps'):.3f} ×, "
        f"{med_ratio(runs, 'full', 'hooks', 'p99'):.3f} ×) is sonde's own: the BPF "
        "programs' work inside the syscalls, above the floor's, and what exporting costs "
        "beyond its CPU (README, Benchmarks).\n")


def report(args, env, sat, fixed, sus, cap, mic, bpf, peer_res):
    import peer  # bench/peer.py imports this file's helpers
    L = []
    L.append("# sonde benchmark results\n")
    L.append(f"`make {'bench-quick' if args.quick else 'bench'}` on {env['date']}, commit "
             f"`{env['commit']}`.\n")
    L.append(f"- kernel: {env['kernel']}; CPU: {env['cpu']} × {os.cpu_count()}")
    L.append(f"- load average before: {env['load_before']}; after: {env['load_after']}"
             f"{'; ' + args.note if args.note else ''}")
    L.append("- nginx 1 worker pinned to CPU 0, load generator to CPU 1, agent and OTLP sink "
             "unpinned. Modes alternate run by run (order rotated each round); ratios are "
             "taken within a round, medians over the rounds in which the host kept its "
             "speed (see each case's host speed line).")
    L.append("- Agent CPU: utime+stime of sonde (/proc/PID/stat) over the load; the sink's "
             "CPU is in the machine's figures (/proc/stat), never in the agent's.\n")

    L.append(peer.peer_report(args, peer_res))

    tls_note = "(no TLS/h2 tracing in this build)"
    L.append("## 1a. Saturation\n")
    for name, case in sat.items():
        runs = case["runs"]
        n = len(case["all"]["none"])
        traced = med(runs, "full", lambda r: r.get("spans", 0) / max(r["requests"], 1))
        note = "" if traced > 0.5 else f" {tls_note}"
        L.append(f"**{case['title']}**, {n} round(s) of {args.sat_seconds} s{note}\n")
        lat = "p50" in runs["none"][0]
        hdr = "| mode | req/s | × none | × floor |"
        hdr += " p50 µs | p99 µs | p99 × none | p99 × floor |" if lat else " mean µs | mean × none |"
        hdr += " agent CPU ms/1k req | spans/req | dropped |"
        L.append(hdr)
        L.append("|" + "---|" * (hdr.count("|") - 1))
        for mode in runs:
            row = f"| {MODE_TEXT[mode]} | {med(runs, mode, lambda r: r['rps']):.0f} | "
            row += f"{med_ratio(runs, mode, 'none', 'rps'):.3f} | "
            row += f"{med_ratio(runs, mode, 'hooks', 'rps'):.3f} | "
            if lat:
                row += f"{med(runs, mode, lambda r: r['p50']):.0f} | "
                row += f"{med(runs, mode, lambda r: r['p99']):.0f} | "
                row += f"{med_ratio(runs, mode, 'none', 'p99'):.3f} | "
                row += f"{med_ratio(runs, mode, 'hooks', 'p99'):.3f} | "
            else:
                row += f"{med(runs, mode, lambda r: r['mean']):.0f} | "
                row += f"{med_ratio(runs, mode, 'none', 'mean'):.3f} | "
            if mode == "none":
                row += "– | – | – |"
            elif mode == "control":
                row += (f"{med(runs, mode, lambda r: r.get('burner_us', 0) / r['requests']):.3f}"
                        " (burned) | – | – |")
            else:
                row += f"{med(runs, mode, lambda r: r['agent_us'] / r['requests']):.3f} | "
                row += f"{med(runs, mode, lambda r: r.get('spans', 0) / r['requests']):.2f} | "
                row += f"{sum(r.get('dropped', 0) for r in runs[mode])} |"
            L.append(row)
        L.append("")
        L.append(host_note(case))
        if "control" in runs:
            L.append(control_note(runs))

    L.append("## 1b. Fixed rate: 10,000 req/s (h2load --h1 -c 50 --rps 200)\n")
    fixed_case, fixed = fixed, fixed["runs"]
    n = len(fixed_case["all"]["none"])
    L.append(f"{n} round(s) of {args.fixed_seconds} s.\n")
    L.append("Machine CPU is all of /proc/stat (other jobs on the machine included); tested "
             "processes are nginx, h2load, the agent and the sink only. *added*: minus no agent, "
             "within a round.\n")
    L.append("| mode | req/s | machine CPU µs/req | added | tested processes µs/req | added "
             "| mean latency µs | × none | agent CPU µs/req | spans/req | dropped |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    cpu = lambda r: r["machine_us"] / r["requests"]
    tcpu = lambda r: r["tested_us"] / r["requests"]
    for mode in MODES:
        added = statistics.median(cpu(a) - cpu(b) for a, b in zip(fixed[mode], fixed["none"]))
        tadded = statistics.median(tcpu(a) - tcpu(b) for a, b in zip(fixed[mode], fixed["none"]))
        row = (f"| {MODE_TEXT[mode]} | {med(fixed, mode, lambda r: r['rps']):.0f} | "
               f"{med(fixed, mode, cpu):.2f} | {added:+.2f} | {med(fixed, mode, tcpu):.2f} | "
               f"{tadded:+.2f} | {med(fixed, mode, lambda r: r['mean']):.0f} | "
               f"{med_ratio(fixed, mode, 'none', 'mean'):.3f} | ")
        if mode == "none":
            row += "– | – | – |"
        else:
            row += (f"{med(fixed, mode, lambda r: r['agent_us'] / r['requests']):.2f} | "
                    f"{med(fixed, mode, lambda r: r.get('spans', 0) / r['requests']):.2f} | "
                    f"{sum(r.get('dropped', 0) for r in fixed[mode])} |")
        L.append(row)
    L.append("")
    L.append(host_note(fixed_case))

    L.append("## 2. Kernel side (full tracing, sustained run)\n")
    L.append(f"- BPF run time: {sus['bpf_ns_per_req']:.0f} ns per request, all programs "
             f"together ({sus['bpf_runs_per_req']:.1f} program runs per request, h2load's "
             "own syscalls and every other process's included; kernel.bpf_stats_enabled)")
    L.append(f"- events: {sus['events_per_req']:.2f} per request (sonde run); "
             f"{cap['events_per_req']:.2f} per request and {cap['captured_per_req']:.0f} bytes "
             f"captured of {cap['moved_per_req']:.0f} moved (sonde trace --stats)\n")
    L.append("Per program at 10,000 req/s (h2load --h1 -c 50), kernel.bpf_stats_enabled "
             "(which itself adds two clock reads per run):\n")
    L.append("| program | floor runs/req | floor ns/run | floor ns/req | full runs/req "
             "| full ns/run | full ns/req |")
    L.append("|---|---|---|---|---|---|---|")
    tot = {"hooks": 0, "full": 0}
    for name in sorted(set(bpf.get("hooks", {})) | set(bpf.get("full", {}))):
        row = f"| {name} |"
        for mode in ("hooks", "full"):
            ns, runs = bpf.get(mode, {}).get(name, (0, 0))
            tot[mode] += ns
            row += f" {runs:.2f} | {ns / runs if runs else 0:.0f} | {ns:.0f} |"
        L.append(row)
    L.append(f"| **all** | | | **{tot['hooks']:.0f}** | | | **{tot['full']:.0f}** |")
    L.append("")

    L.append(f"## 3. Agent cost: {sus['rps']:.0f} req/s for {sus['seconds']} s, "
             f"{sus['idle']} idle keep-alive connections open, full tracing\n")
    L.append(f"- agent CPU: {sus['agent_us_per_req'] * 1000:.0f} µs per 1,000 requests")
    rp = sus["rss_parts_mib"]
    L.append(f"- RSS: peak {sus['rss_peak_mib']:.1f} MiB, steady {sus['rss_steady_mib']:.1f} MiB; "
             f"at the end {rp['ring']:.1f} MiB of it the ring buffer (its data pages are mapped "
             f"twice), {rp['file']:.1f} MiB shared libraries, {rp['anon']:.1f} MiB anonymous "
             "(heap, tables, queues)")
    L.append(f"- ring buffer events lost: {sus['lost']:.0f}; spans dropped: {sus['dropped']:.0f} "
             f"(of {sus['spans']:.0f} spans)\n")

    L.append("## 4. Hot paths in isolation (bench/micro.c, median of 31 batches)\n")
    L.append("| case | ns/op | what |")
    L.append("|---|---|---|")
    for name, (ns, what) in mic.items():
        L.append(f"| {name} | {'%.0f' % ns if ns is not None else 'n/a'} | {what} |")
    L.append("")

    full_agent = med(fixed, "full", lambda r: r["agent_us"] / r["requests"])
    met_agent = med(fixed, "metrics", lambda r: r["agent_us"] / r["requests"])
    sat_full = med_ratio(sat["http1"]["runs"], "full", "hooks", "rps")
    p99_full = med_ratio(sat["http1"]["runs"], "full", "hooks", "p99")
    added_full = statistics.median(cpu(a) - cpu(b) for a, b in zip(fixed["full"], fixed["none"]))
    added_hooks = statistics.median(cpu(a) - cpu(b)
                                    for a, b in zip(fixed["hooks"], fixed["none"]))
    tcpu = lambda r: r["tested_us"] / r["requests"]
    tadded_full = statistics.median(tcpu(a) - tcpu(b) for a, b in zip(fixed["full"], fixed["none"]))
    tadded_hooks = statistics.median(tcpu(a) - tcpu(b)
                                     for a, b in zip(fixed["hooks"], fixed["none"]))
    lat_full = med_ratio(fixed, "full", "none", "mean")
    ctl = "control" in sat["http1"]["runs"]  # not in bench-quick
    ctl_rps = med_ratio(sat["http1"]["runs"], "full", "control", "rps") if ctl else 0
    ctl_p99 = med_ratio(sat["http1"]["runs"], "full", "control", "p99") if ctl else 0
    floor_ns = sum(ns for ns, _ in bpf.get("hooks", {}).values())
    full_ns = sum(ns for ns, _ in bpf.get("full", {}).values())
    bpf_x = full_ns / floor_ns if floor_ns else 0
    targets = [
        ("Agent CPU per exported span (fixed rate)", "≤ 1.0 µs/req", f"{full_agent:.2f} µs",
         full_agent <= 1.0),
        ("Agent CPU, metrics only (fixed rate)", "≤ 0.4 µs/req", f"{met_agent:.2f} µs",
         met_agent <= 0.4),
        ("BPF run time, plaintext HTTP/1 (per program, 10,000 req/s)", "≤ 1.5 × the floor",
         f"{bpf_x:.2f} × ({full_ns:.0f} vs {floor_ns:.0f} ns)", bpf_x <= 1.5),
        ("Saturation req/s, full tracing", "≥ the CPU-matched control's",
         (f"{ctl_rps:.3f} × the control's" if ctl else "– (no control in bench-quick)") +
         f" ({sat_full:.3f} × floor)",
         ctl_rps >= 1.0 if ctl else None),
        ("Saturation p99, full tracing", "≤ 1.1 × the control's",
         (f"{ctl_p99:.3f} × the control's" if ctl else "– (no control in bench-quick)") +
         f" ({p99_full:.3f} × floor)",
         ctl_p99 <= 1.1 if ctl else None),
        ("Fixed rate: added machine CPU, full", "≤ 5 µs/req",
         f"{added_full:.2f} µs (floor alone {added_hooks:.2f} µs)",
         None if added_hooks < 0 or added_full < 0 else added_full <= 5),
        ("… the same, tested processes only", "≤ 5 µs/req",
         f"{tadded_full:.2f} µs (floor alone {tadded_hooks:.2f} µs)", tadded_full <= 5),
        ("Fixed rate: mean latency, full", "≤ 1.05 × none", f"{lat_full:.3f} ×",
         lat_full <= 1.05),
        (f"Ring buffer loss at {sus['rps']:.0f} req/s for {sus['seconds']} s", "0",
         f"{sus['lost']:.0f}", sus["lost"] == 0),
        (f"Agent RSS steady, {sus['idle']} open connections", "≤ 32 MiB",
         f"{sus['rss_steady_mib']:.1f} MiB", sus["rss_steady_mib"] <= 32),
    ]
    L.append("## Targets\n")
    L.append("| figure | target | measured | |")
    L.append("|---|---|---|---|")
    L += peer.peer_target_lines(peer_res)
    for t in targets:
        L.append(f"| {t[0]} | {t[1]} | {t[2]} | {verdict(t[3])} |")
    L.append("")
    return "\n".join(L)


def log_report(logs):
    L = [f"\n## 5. Logs: a process writing {LOG_RATE:,} lines a second\n",
         "One write() per line (~100 bytes), stdout to a file; `sonde run --pid` of that "
         "process, logs exported to the sink as OTLP with no rate limit "
         "(`SONDE_LOGS_RATE_LIMIT=0`), traces and metrics off. BPF: run time of all of "
         "sonde's programs (kernel.bpf_stats_enabled) per line; agent: its CPU per line.\n",
         "| logs | BPF ns/line | agent µs/line | records | exported | dropped |",
         "|---|---|---|---|---|---|"]
    names = {"off": "off", "on": "on", "other": "on, lines to fd 3 (not log output)"}
    for mode in ("off", "on", "other"):
        r = logs[mode]
        L.append(f"| {names[mode]} | {r['bpf_ns_per_line']:.0f} | {r['agent_us_per_line']:.2f} | "
                 f"{r.get('records', '–')} | {r.get('exported', '–')} | {r.get('dropped', '–')} |")
    return "\n".join(L) + "\n"


HISTORY = "## Before and after"


def kept_history(path):
    """The results file's hand-kept section (what each profiled fix changed),
    which a new run carries over."""
    try:
        old = open(path).read()
    except OSError:
        return ""
    at = old.find("\n" + HISTORY + "\n")
    return old[at:] if at >= 0 else ""


def main():
    import peer  # bench/peer.py imports this file's helpers
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (make bench-quick)")
    ap.add_argument("--sonde", default=f"{ROOT}/build/sonde")
    ap.add_argument("--hooks-sonde", default=f"{ROOT}/build-hooks/sonde")
    ap.add_argument("--micro", default=f"{ROOT}/build/bench/micro")
    ap.add_argument("--burn", default=f"{ROOT}/build/bench/cpu_burn")
    ap.add_argument("--out", default=None, help="results file (default: bench/results.md, "
                    "or build/bench/results-quick.md with --quick)")
    ap.add_argument("--note", default="", help="a line added to the environment section")
    ap.add_argument("--peer-only", action="store_true",
                    help="only the peer comparison (section 0), printed, no results file")
    ap.add_argument("--logs-only", action="store_true",
                    help="only the log-cost case (section 5), printed, no results file")
    args = ap.parse_args()
    q = args.quick
    args.peer_rounds = 1 if q else 3
    args.peer_seconds = 4 if q else 10
    args.peer_warmup = 2
    if os.geteuid() != 0:
        raise SystemExit("bench: needs root (BPF)")
    os.makedirs(WORK, exist_ok=True)
    if args.logs_only:
        sink = Sink()
        try:
            print(log_report(log_cost(args)))
        finally:
            sink.stop()
        return
    if args.peer_only:
        res = peer.peer(args)
        with open(f"{WORK}/peer.json", "w") as f:
            json.dump(res, f, indent=1)
        print(peer.peer_report(args, res))
        print("| figure | target | measured | |\n|---|---|---|---|")
        print("\n".join(peer.peer_target_lines(res)))
        return
    args.sat_seconds = 3 if q else 5
    args.sat_rounds = 1 if q else 3
    args.other_rounds = 1 if q else 2
    args.fixed_seconds = 4 if q else 20
    args.fixed_rounds = 1 if q else 2
    args.sustained_seconds = 10 if q else 60
    args.idle = 2000 if q else 10000
    args.out = args.out or (f"{WORK}/results-quick.md" if q else f"{ROOT}/bench/results.md")
    for tool in ("nginx", "wrk", "h2load", "openssl", "taskset"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            raise SystemExit(f"bench: {tool} is missing (bash tools/install-deps.sh)")
    for port in (PORT_HTTP, PORT_TLS, PORT_H2, PORT_SINK, PORT_PROM):
        if port_open(port):
            raise SystemExit(f"bench: port {port} is already in use")
    peer.check_ready()
    for port in (peer.PORT_FRONT, peer.PORT_BACK, peer.PORT_PEER_SINK):
        if port_open(port):
            raise SystemExit(f"bench: port {port} is already in use")
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(limit, 65536), limit))

    t0 = time.time()
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": run(["git", "-C", ROOT, "describe", "--always", "--dirty"]).strip(),
        "kernel": os.uname().release,
        "cpu": re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1),
        "load_before": loadavg(),
    }
    log(f"bench: {'quick' if q else 'full'} run; load average {env['load_before']}")
    mic = micro(args)
    peer_res = peer.peer(args)
    nginx = Nginx()
    sink = Sink()
    try:
        sat = saturation(args, nginx)
        fixed = fixed_rate(args, nginx)
        sus = sustained(args, nginx)
        cap = captured_bytes(args, nginx)
        bpf = bpf_breakdown(args, nginx)
        logs = log_cost(args)
    finally:
        sink_counts = sink.stop()
        nginx.stop()
    env["load_after"] = loadavg()
    text = report(args, env, sat, fixed, sus, cap, mic, bpf, peer_res)
    text += log_report(logs)
    text += (f"\nOTLP sink received: {json.dumps(sink_counts)}. Wall time "
             f"{time.time() - t0:.0f} s.\n")
    text += kept_history(args.out)
    with open(args.out, "w") as f:
        f.write(text)
    with open(f"{WORK}/raw.json", "w") as f:
        json.dump({"peer": peer_res, "saturation": sat, "fixed": fixed, "sustained": sus,
                   "capture": cap, "bpf": bpf, "logs": logs}, f,
                  indent=1)
    print(text)
    log(f"bench: results in {os.path.relpath(args.out, ROOT)}, raw figures in "
        f"{os.path.relpath(WORK, ROOT)}/raw.json")


if __name__ == "__main__":
    main()
