#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The soak (`make soak`, `make soak-short`): `sonde run` under mixed traffic at a
fixed rate for a set time while its collector flaps; passes when its memory and
file descriptors stay flat after warm-up and every span it built was exported
or counted.

Traffic, all from processes in a cgroup of the soak's own (sonde selects it with
--cgroup, so nobody else's traffic reaches this sonde): curl at a fixed rate
(--rate) over one connection per batch of up to 10 s — HTTP/1.1 through nginx
to a Python service (four spans a request: curl's, nginx's server and client
sides, the service's), HTTP/1.1 over TLS, HTTP/2 over TLS (ALPN) through nginx
to the service — h2load (--rps) for h2c, and gRPC calls (grpcio, to the
Python peer of tests/integration/peers, one in ten answered NOT_FOUND),
PostgreSQL (psycopg2), MySQL (pymysql, against MariaDB) and Redis (redis-py)
commands at a fixed rate with a new connection every 500, where their
servers and clients are installed.

The collector (tools/otlp-receiver) cycles through: accepting (20 s), 503 with
Retry-After: 2 (10 s), accepting (10 s), never answering (10 s), accepting
(10 s), down — killed, and started again on the same ports 10 s later.

Every --report seconds a line: RSS (VmRSS), CPU (utime+stime over the
interval), open fds, and sonde's own counters from /metrics. At the end the
traffic stops, the collector accepts, and the exporter drains; then:

- flat: the highest RSS of the last third of the run is at most the highest of
  the middle third plus max(2 MiB, 5 %), and the most fds of the last third at
  most those of the middle third plus 2. The first third is warm-up: the
  export queue's array becomes resident the first time the queue fills (the
  first outage, 20 s in), tables and allocator arenas reach their working
  size. Maxima against maxima is not fooled by where in a flap cycle a sample
  fell. 2 MiB is well above the spread between flap cycles once warm (under
  0.5 MiB, bench/results.md) and well below what a leak does: 100 bytes a
  request at 200 requests/s is 20 KB/s, 2 MiB in under two minutes, so an
  hour's last third shows it ten times over (the two-minute run catches leaks
  of about 250 bytes a request and more). The 2 fds are an export connection
  replaced after a timeout (the new one opens before the old one is closed)
  and a /metrics scrape in progress.
- counted: sonde_spans_total == exported + dropped + unsampled, with the queue
  empty (nothing unaccounted).
- bounded: sonde's RSS never exceeds --max-rss-mib (MAX_RSS_MIB).
- requests against spans, per protocol: with no event, connection or parse
  lost (else reported only), HTTP/1 and HTTP/2 (gRPC included) spans equal
  what the requests answered make; database spans are at least one a
  command and at most two more a connection (clients add their own commands
  on connecting: AUTH, SET NAMES…).

Needs root (BPF). usage: tools/soak.py [--seconds N] [--rate R] [--report S]"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from harness import (PYTHON, SONDE, Cgroup, Nginx, Proc, free_port, in_cgroup,  # noqa: E402
                     interrupt, wait_port)
from otlp import Receiver, get, prom_value  # noqa: E402

MAX_SECONDS = 24 * 3600
# The bound on sonde's RSS at any time of the run (bench/results.md: the
# soak's peak is about ...).
MAX_RSS_MIB = 64
BATCH_SECONDS = 10
# (mode settings for the receiver's control port, or "down"; seconds)
FLAPS = [({"mode": "ok"}, 20), ({"mode": "fail", "status": 503, "retry_after": 2}, 10),
         ({"mode": "ok"}, 10), ({"mode": "hang"}, 10), ({"mode": "ok"}, 10), ("down", 10)]
# What each traffic channel takes of the rate, and the spans one request gives.
# Every traffic process is traced: curl's and h2load's client spans count too
# (the database servers run outside the cgroup: their clients' spans only).
CHANNELS = [("http1", 0.20, {"http1": 4}), ("tls-h1", 0.15, {"http1": 2}),
            ("tls-h2", 0.15, {"http2": 2, "http1": 2}), ("h2c", 0.10, {"http2": 2}),
            ("grpc", 0.10, {"http2": 2}), ("postgres", 0.10, {"postgres": 1}),
            ("mysql", 0.10, {"mysql": 1}), ("redis", 0.10, {"redis": 1})]
COUNTERS = ["sonde_spans_total", "sonde_spans_exported_total", "sonde_spans_dropped_total",
            "sonde_spans_unsampled_total", "sonde_events_read_total", "sonde_events_lost_total",
            "sonde_export_queue_depth", "sonde_export_requests_total",
            "sonde_export_failures_total", "sonde_parse_errors_total",
            "sonde_connections_evicted_total", "sonde_metric_series"]

BACKEND = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        body = ("item " + self.path + "\n").encode()
        self.send_response(500 if self.path.endswith("7") else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""

# A database or gRPC client at a fixed rate until its time is up, a new
# connection every 500 commands; prints what it sent.
DRIVER = r"""
import json, sys, time
kind, target, rate, seconds = sys.argv[1], json.loads(sys.argv[2]), *map(float, sys.argv[3:5])
sent = ok = connections = 0
conn = None
t0 = time.time()
def connect():
    if kind == "postgres":
        import psycopg2
        c = psycopg2.connect(target["dsn"])
        c.autocommit = True
        return c
    if kind == "mysql":
        import pymysql
        return pymysql.connect(host="127.0.0.1", port=target["port"], user=target["user"],
                               password=target["password"], database=target["db"],
                               autocommit=True)
    if kind == "grpc":
        import grpc
        return grpc.insecure_channel("127.0.0.1:%d" % target["port"])
    import redis
    return redis.Redis(host="127.0.0.1", port=target["port"], password=target["password"])
while True:
    due = t0 + sent / rate
    if due - t0 >= seconds:
        break
    if due > time.time():
        time.sleep(due - time.time())
    try:
        if conn is None or sent % 500 == 0:
            if conn is not None:
                conn.close()
            conn = connect()
            connections += 1
        if kind in ("postgres", "mysql"):
            cur = conn.cursor()
            cur.execute("SELECT id FROM orders WHERE id = %s", (sent % 50,))
            cur.fetchall()
        elif kind == "grpc":
            import grpc
            # sonde.test.Echo/Say (tests/integration/peers/grpc_peer.py):
            # a StringValue; one call in ten asks for NOT_FOUND.
            arg = b"status:5" if sent % 10 == 9 else b"hello"
            try:
                conn.unary_unary("/sonde.test.Echo/Say")(b"\x0a" + bytes([len(arg)]) + arg,
                                                         timeout=5)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
        elif sent % 2:
            conn.get("k%d" % (sent % 100))
        else:
            conn.set("k%d" % (sent % 100), "v%d" % sent)
        ok += 1
    except Exception:
        conn = None
    sent += 1
print(json.dumps({"sent": sent, "ok": ok, "connections": connections}))
"""


def log(msg):
    print(msg, flush=True)


class Channel:
    """One kind of traffic at a fixed rate, in its own thread."""

    def __init__(self, name, rate, spans_per_request):
        """spans_per_request: protocol -> the spans one request makes."""
        self.name, self.rate, self.spans_per_request = name, rate, spans_per_request
        self.sent = self.answered = self.connections = 0
        self.thread = None

    def start(self, deadline):
        self.thread = threading.Thread(target=self.run, args=(deadline,), daemon=True)
        self.thread.start()

    def join(self):
        if self.thread:
            self.thread.join(BATCH_SECONDS + 30)


class CurlChannel(Channel):
    """curl at --rate over one connection a batch; a new connection (and for
    TLS a new handshake) every batch."""

    def __init__(self, name, rate, spans_per_request, cg, url, opts):
        super().__init__(name, rate, spans_per_request)
        self.cg, self.url, self.opts = cg, url, opts

    def run(self, deadline):
        while (left := deadline - time.time()) >= 1:
            n = max(1, int(self.rate * min(BATCH_SECONDS, left)))
            cmd = ["curl", "-sS", *self.opts, "--rate", f"{int(self.rate * 3600)}/h",
                   "-w", "%{stderr}%{http_code}\\n", f"{self.url}[1-{n}]"]
            r = subprocess.run(in_cgroup(self.cg, cmd), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=BATCH_SECONDS * 6)
            codes = re.findall(r"^(\d{3})$", r.stderr, re.M)
            self.sent += n
            self.answered += sum(c != "000" for c in codes)


class H2loadChannel(CurlChannel):
    """h2load at --rps over one h2c connection a batch (curl 7.88 cannot reuse
    an h2c prior-knowledge connection to nginx 1.22)."""

    def run(self, deadline):
        while (left := deadline - time.time()) >= 1:
            n = max(1, int(self.rate * min(BATCH_SECONDS, left)))
            cmd = ["h2load", "-n", str(n), "-c", "1", "-m", "1",
                   "--rps", str(max(1, round(self.rate))), self.url]
            r = subprocess.run(in_cgroup(self.cg, cmd), capture_output=True, text=True,
                               timeout=BATCH_SECONDS * 6)
            done = re.search(r"requests: \d+ total, \d+ started, (\d+) done", r.stdout)
            self.sent += n
            self.answered += int(done.group(1)) if done else 0


class DriverChannel(Channel):
    """A Python database or gRPC client at a fixed rate (DRIVER)."""

    def __init__(self, name, rate, spans_per_request, cg, target):
        super().__init__(name, rate, spans_per_request)
        self.cg, self.target = cg, target

    def run(self, deadline):
        cmd = [PYTHON, "-c", DRIVER, self.name, json.dumps(self.target),
               str(self.rate), str(max(0.0, deadline - time.time()))]
        r = subprocess.run(in_cgroup(self.cg, cmd), capture_output=True, text=True)
        try:
            got = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            log(f"soak: {self.name} driver failed: {r.stderr.strip()[-400:]}")
            return
        self.sent, self.answered = got["sent"], got["ok"]
        self.connections = got["connections"]


class Collector:
    """The test receiver, whose fault mode flaps; its counts survive restarts."""

    def __init__(self):
        self.rcv = Receiver(out="/dev/null")
        self.ports = (self.rcv.http_port, self.rcv.grpc_port)
        self.past = {}
        self.phase = "ok"
        self.lock = threading.Lock()

    def endpoint(self):
        return f"http://127.0.0.1:{self.ports[0]}"

    def stats(self):
        """Requests by result and spans accepted, over every incarnation."""
        with self.lock:
            now = {}
            if self.rcv:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{self.rcv.control_port}/stats", timeout=5) as r:
                    now = json.loads(r.read())
            keys = set(now) | set(self.past)
            return {k: now.get(k, 0) + self.past.get(k, 0) for k in keys}

    def set(self, setting):
        with self.lock:
            if setting == "down":
                # Refuse first, so that nothing is accepted between the
                # last count and the kill.
                self.rcv.set_mode(mode="fail", status=503)
                time.sleep(0.5)
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{self.rcv.control_port}/stats", timeout=5) as r:
                    for k, v in json.loads(r.read()).items():
                        self.past[k] = self.past.get(k, 0) + v
                self.rcv.kill()
                self.rcv = None
                self.phase = "down"
                return
            if self.rcv is None:
                self.rcv = Receiver(http_port=self.ports[0], grpc_port=self.ports[1],
                                    out="/dev/null")
            self.rcv.set_mode(**setting)
            self.phase = setting["mode"] + (f" {setting['status']}" if "status" in setting
                                            else "")

    def flap(self, deadline, stop):
        i = 0
        while not stop.is_set() and time.time() < deadline:
            setting, seconds = FLAPS[i % len(FLAPS)]
            self.set(setting)
            stop.wait(min(seconds, max(0, deadline - time.time())))
            i += 1
        self.set({"mode": "ok"})

    def stop(self):
        if self.rcv:
            self.rcv.stop()


def proc_figures(pid):
    """(RSS in KiB, CPU seconds, open fds) of a process."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return rss, cpu, len(os.listdir(f"/proc/{pid}/fd"))


def counters(port):
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    text = body.decode()
    out = {name: int(prom_value(text, name) or 0) for name in COUNTERS}
    out["protocols"] = {m.group(1): int(float(m.group(2))) for m in
                        re.finditer(r"^sonde_(\w+?)_spans_total (\S+)$", text, re.M)}
    return out


def unaccounted(c):
    return c["sonde_spans_total"] - (c["sonde_spans_exported_total"] +
                                     c["sonde_spans_dropped_total"] +
                                     c["sonde_spans_unsampled_total"])


def flatness(samples, t_begin, t_end):
    """The verdicts on RSS and fds: (ok, text) for each."""
    third = (t_end - t_begin) / 3
    mid = [s for s in samples if t_begin + third <= s[0] < t_begin + 2 * third]
    last = [s for s in samples if s[0] >= t_begin + 2 * third]
    if not mid or not last:
        return (False, "too few samples"), (False, "too few samples")
    rss_mid, rss_last = max(s[1] for s in mid), max(s[1] for s in last)
    allowed = max(2048, rss_mid * 5 // 100)
    fd_mid, fd_last = max(s[3] for s in mid), max(s[3] for s in last)
    rss = (rss_last <= rss_mid + allowed,
           f"RSS max {rss_mid / 1024:.1f} MiB in the middle third, {rss_last / 1024:.1f} MiB "
           f"in the last ({(rss_last - rss_mid) / 1024:+.1f} MiB, allowed "
           f"+{allowed / 1024:.1f})")
    fds = (fd_last <= fd_mid + 2,
           f"open fds max {fd_mid} in the middle third, {fd_last} in the last (allowed +2)")
    return rss, fds


class Soak:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="sonde-soak-")
        self.cg = Cgroup("sonde-soak")
        self.procs, self.nginx, self.cluster, self.mariadb = [], None, None, None
        self.sonde = None
        self.collector = None
        self.samples = []  # (t, rss KiB, cpu s, fds)
        self.started, self.setup_s, self.drain_s = time.time(), 0.0, 0.0
        self.failures = []

    def start_services(self):
        cg = self.cg.path
        docroot = os.path.join(self.dir, "www")
        os.makedirs(docroot)
        os.chmod(self.dir, 0o755)
        os.chmod(docroot, 0o755)
        backend = free_port()
        self.procs.append(Proc(in_cgroup(cg, [PYTHON, "-c", BACKEND, str(backend)])))
        wait_port(backend)
        self.ports = {"http": free_port(), "tls": free_port(), "h2c": free_port()}
        extra = f"""
        location /api/ {{ proxy_pass http://127.0.0.1:{backend}; }}
        location /echo/ {{ return 200 "ok"; }}"""
        self.nginx = Nginx(self.ports["http"], docroot, extra_conf=extra, cgroup=cg,
                           more_listens=[(self.ports["tls"], True, True),
                                         (self.ports["h2c"], True, False)])
        # The database servers, where installed; outside the cgroup (a traced
        # server makes no spans, only work).
        self.targets = {}
        # A gRPC server (grpcio), traced: its spans and its clients'.
        if self._has_module("grpc"):
            port = free_port()
            self.procs.append(Proc(in_cgroup(cg, [
                PYTHON, os.path.join(ROOT, "tests", "integration", "peers", "grpc_peer.py"),
                "server", str(port)])))
            wait_port(port)
            self.targets["grpc"] = {"port": port}
        if shutil.which("redis-server") and self._has_module("redis"):
            port = free_port()
            self.procs.append(Proc([
                "redis-server", "--port", str(port), "--bind", "127.0.0.1",
                "--requirepass", "soak-pw", "--save", "", "--appendonly", "no"]))
            wait_port(port)
            self.targets["redis"] = {"port": port, "password": "soak-pw"}
        if os.path.exists("/usr/lib/postgresql/15/bin/initdb") and self._has_module("psycopg2"):
            from test_postgres import Cluster
            self.cluster = Cluster()
            self.targets["postgres"] = {"dsn": self.cluster.dsn()}
        if shutil.which("mariadb-install-db") and self._has_module("pymysql"):
            import test_mysql
            self.mariadb = test_mysql.MariaDB()
            self.targets["mysql"] = {"port": self.mariadb.port, "user": test_mysql.USER,
                                "password": test_mysql.PASSWORD, "db": test_mysql.DB}

    @staticmethod
    def _has_module(name):
        return subprocess.run([PYTHON, "-c", f"import {name}"],
                              capture_output=True).returncode == 0

    def channels(self):
        rate, cg, p = self.args.rate, self.cg.path, self.ports
        out = []
        for name, share, spans in CHANNELS:
            r = rate * share
            if name == "http1":
                out.append(CurlChannel(name, r, spans, cg,
                                       f"http://127.0.0.1:{p['http']}/api/items/", []))
            elif name == "tls-h1":
                out.append(CurlChannel(name, r, spans, cg,
                                       f"https://127.0.0.1:{p['tls']}/echo/", ["-k", "--http1.1"]))
            elif name == "tls-h2":
                out.append(CurlChannel(name, r, spans, cg,
                                       f"https://127.0.0.1:{p['tls']}/api/items/",
                                       ["-k", "--http2"]))
            elif name == "h2c":
                out.append(H2loadChannel(name, r, spans, cg,
                                         f"http://127.0.0.1:{p['h2c']}/echo/h2c", []))
            elif name in self.targets:
                out.append(DriverChannel(name, r, spans, cg, self.targets[name]))
            else:
                log(f"soak: no {name} traffic (its server or Python client is not installed)")
        return out

    def start_sonde(self):
        self.collector = Collector()
        self.prom = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SONDE_"))}
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=self.collector.endpoint(),
                   OTEL_METRIC_EXPORT_INTERVAL="10000", OTEL_EXPORTER_OTLP_TIMEOUT="5000")
        self.sonde_out = open(os.path.join(self.dir, "sonde.log"), "w+b")
        self.sonde = subprocess.Popen(
            [self.args.sonde, "run", "--cgroup", self.cg.path, "--prometheus-port",
             str(self.prom), "--prometheus-address", "127.0.0.1"],
            stdout=self.sonde_out, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while b"sonde: running" not in self.log_bytes():
            if self.sonde.poll() is not None or time.time() > deadline:
                raise RuntimeError("sonde run did not start: " + self.log_bytes().decode())
            time.sleep(0.2)

    def log_bytes(self):
        with open(self.sonde_out.name, "rb") as f:
            return f.read()

    def sample(self, t0):
        rss, cpu, fds = proc_figures(self.sonde.pid)
        self.samples.append((time.time() - t0, rss, cpu, fds))
        return rss, cpu, fds

    def report_line(self, t0, last_cpu, channels):
        rss, cpu, fds = self.sample(t0)
        c = counters(self.prom)
        elapsed = time.time() - t0
        interval = elapsed - last_cpu[0]
        pct = 100 * (cpu - last_cpu[1]) / interval if interval > 0 else 0
        sent = sum(ch.sent for ch in channels)
        log(f"{elapsed:6.0f}s {self.collector.phase:<9} {rss / 1024:7.1f} {pct:5.1f} {fds:4d} "
            f"{sent:8d} {c['sonde_spans_total']:8d} {c['sonde_spans_exported_total']:8d} "
            f"{c['sonde_spans_dropped_total']:7d} {c['sonde_events_lost_total']:6d} "
            f"{c['sonde_export_queue_depth']:5d} {c['sonde_export_failures_total']:6d}")
        return elapsed, cpu

    def run(self):
        a = self.args
        log(f"soak: {a.seconds} s at {a.rate} requests/s, a line every {a.report} s; "
            f"files in {self.dir}")
        self.started = time.time()
        self.start_services()
        self.start_sonde()
        channels = self.channels()
        self.setup_s = time.time() - self.started
        log("soak: traffic " + ", ".join(f"{ch.name} {ch.rate:g}/s" for ch in channels))
        log("  time collector  RSS MiB  CPU%  fds requests    spans exported dropped   lost "
            "depth xfails")
        t0 = time.time()
        deadline = t0 + a.seconds
        stop = threading.Event()
        flapper = threading.Thread(target=self.collector.flap, args=(deadline, stop),
                                   daemon=True)
        flapper.start()
        for ch in channels:
            ch.start(deadline)
        last = (0.0, proc_figures(self.sonde.pid)[1])
        next_report = t0 + a.report
        sample_every = max(1.0, a.report / 6)
        while time.time() < deadline:
            time.sleep(min(sample_every, max(0.05, deadline - time.time())))
            if self.sonde.poll() is not None:
                self.failures.append(f"sonde run exited ({self.sonde.returncode})")
                break
            if time.time() >= next_report:
                last = self.report_line(t0, last, channels)
                next_report += a.report
            else:
                self.sample(t0)
        for ch in channels:
            ch.join()
        stop.set()
        flapper.join(30)
        if self.sonde.poll() is None and time.time() - t0 - last[0] >= 1:
            self.report_line(t0, last, channels)
        return self.finish(t0, channels)

    def finish(self, t0, channels):
        a = self.args
        if self.sonde.poll() is not None:
            self.failures.append(f"sonde run exited ({self.sonde.returncode})")
            return self.verdict(None, channels)
        # Drain: the collector accepts; everything built is exported or counted.
        drain_t0 = time.time()
        self.collector.set({"mode": "ok"})
        deadline = time.time() + 90
        c = counters(self.prom)
        while time.time() < deadline:
            c = counters(self.prom)
            if c["sonde_export_queue_depth"] == 0 and unaccounted(c) == 0:
                break
            time.sleep(1)
        time.sleep(2)
        c = counters(self.prom)
        self.drain_s = time.time() - drain_t0
        rss, fds = flatness(self.samples, 0, a.seconds)
        peak = max(s[1] for s in self.samples)
        bound = (peak <= a.max_rss_mib * 1024,
                 f"RSS at most {peak / 1024:.1f} MiB over the run (bound {a.max_rss_mib} MiB)")
        for ok, text in (bound, rss, fds):
            log(("ok   " if ok else "FAIL ") + text)
            if not ok:
                self.failures.append(text)
        return self.verdict(c, channels)

    def verdict(self, c, channels):
        for ch in channels:
            log(f"     {ch.name}: {ch.sent} requests, {ch.answered} answered")
            if ch.sent and ch.answered < 0.95 * ch.sent:
                self.failures.append(f"{ch.name}: {ch.answered} of {ch.sent} answered")
        if c is None:
            return self.end()
        self.spans_per_protocol(c, channels)
        got = self.collector.stats()
        log(f"     exported {c['sonde_spans_exported_total']} (the collector accepted "
            f"{got.get('spans', 0)}), dropped {c['sonde_spans_dropped_total']}, unsampled "
            f"{c['sonde_spans_unsampled_total']}, queue {c['sonde_export_queue_depth']}; "
            f"export requests {c['sonde_export_requests_total']}, failed "
            f"{c['sonde_export_failures_total']}; collector answers {got}")
        left = unaccounted(c)
        text = (f"every span exported or counted: {c['sonde_spans_total']} built = "
                f"{c['sonde_spans_exported_total']} + {c['sonde_spans_dropped_total']} + "
                f"{c['sonde_spans_unsampled_total']}" if left == 0 and
                c["sonde_export_queue_depth"] == 0 else
                f"{left} spans unaccounted ({c['sonde_export_queue_depth']} queued)")
        log(("ok   " if left == 0 and c["sonde_export_queue_depth"] == 0 else "FAIL ") + text)
        if left or c["sonde_export_queue_depth"]:
            self.failures.append(text)
        if got.get("spans", 0) < c["sonde_spans_exported_total"]:
            self.failures.append(f"sonde counts {c['sonde_spans_exported_total']} exported, "
                                 f"the collector accepted {got.get('spans', 0)}")
        if c["sonde_spans_total"] == 0 or c["sonde_spans_exported_total"] == 0:
            self.failures.append("no span built or exported: the soak tested nothing")
        return self.end()

    def spans_per_protocol(self, c, channels):
        """Requests made against spans built, per protocol. With nothing lost
        on the way (no event, connection or parse lost), HTTP spans must be
        exactly those of the requests answered; database clients add their
        connections' own commands (AUTH, SET NAMES…): at least one a command,
        at most two more a connection."""
        expected, extra = {}, {}
        for ch in channels:
            for proto, n in ch.spans_per_request.items():
                expected[proto] = expected.get(proto, 0) + ch.answered * n
                if not proto.startswith("http"):
                    extra[proto] = extra.get(proto, 0) + 2 * ch.connections
        lossless = (c["sonde_events_lost_total"] == 0 and
                    c["sonde_connections_evicted_total"] == 0 and
                    c["sonde_parse_errors_total"] == 0)
        log(f"     events read {c['sonde_events_read_total']}, lost "
            f"{c['sonde_events_lost_total']}; connections evicted "
            f"{c['sonde_connections_evicted_total']}; parse errors "
            f"{c['sonde_parse_errors_total']}")
        for proto, want in sorted(expected.items()):
            if proto not in c["protocols"]:
                log(f"FAIL {proto}: no sonde_{proto}_spans_total on /metrics")
                self.failures.append(f"sonde_{proto}_spans_total is missing from /metrics")
                continue
            built, most = c["protocols"][proto], want + extra.get(proto, 0)
            ok = want <= built <= most
            mark = "     " if not lossless else "ok   " if ok else "FAIL "
            more = f" (up to {most} with the connections' own commands)" if most > want else ""
            log(f"{mark}{proto}: {built} spans for {want} expected from the requests answered"
                f"{more}")
            if lossless and not ok:
                self.failures.append(f"{proto}: {built} spans built for {want} requests' spans")
        log(f"     spans built {c['sonde_spans_total']} in all")

    def end(self):
        if self.sonde and self.sonde.poll() is None:
            if not interrupt(self.sonde, signal.SIGTERM, 30):
                self.failures.append("sonde run did not stop within 30 s of SIGTERM")
            if self.sonde.returncode not in (0, None):
                self.failures.append(f"sonde run exited with {self.sonde.returncode}")
            for line in self.log_bytes().decode(errors="replace").strip().splitlines()[-2:]:
                log("     sonde: " + line)
        for f in self.failures:
            log("FAIL " + f)
        log(f"soak: {'FAILED' if self.failures else 'passed'} in {time.time() - self.started:.0f} s"
            f" (start {self.setup_s:.0f} s, traffic {self.args.seconds} s, drain "
            f"{self.drain_s:.0f} s)")
        return 1 if self.failures else 0

    def cleanup(self):
        if self.sonde and self.sonde.poll() is None:
            self.sonde.kill()
            self.sonde.wait()
        if self.collector:
            self.collector.stop()
        if self.nginx:
            self.nginx.stop()
        for p in self.procs:
            p.stop()
        for db in (self.cluster, self.mariadb):
            if db:
                db.stop()
        self.cg.remove()
        if not self.failures:
            shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=3600,
                    help=f"how long the traffic runs (60 to {MAX_SECONDS}; default 3600)")
    ap.add_argument("--rate", type=float, default=200, help="requests a second in all (10-2000)")
    ap.add_argument("--report", type=int, default=60, help="seconds between report lines")
    ap.add_argument("--max-rss-mib", type=int, default=MAX_RSS_MIB,
                    help=f"the RSS sonde may reach at any time (default {MAX_RSS_MIB} MiB)")
    ap.add_argument("--sonde", default=SONDE)
    a = ap.parse_args()
    if not 60 <= a.seconds <= MAX_SECONDS:
        ap.error(f"--seconds: between 60 and {MAX_SECONDS}, not {a.seconds}")
    if not 10 <= a.rate <= 2000:
        ap.error(f"--rate: between 10 and 2000, not {a.rate:g}")
    if not 1 <= a.report <= a.seconds // 3:
        ap.error(f"--report: between 1 and a third of --seconds, not {a.report}")
    if os.geteuid() != 0:
        print("soak: needs root (it loads BPF programs)", file=sys.stderr)
        return 1
    soak = Soak(a)
    try:
        return soak.run()
    finally:
        soak.cleanup()


if __name__ == "__main__":
    sys.exit(main())
