# SPDX-License-Identifier: MIT
"""Helpers for `sonde run` tests: the OTLP test receiver (which decodes with the
official OpenTelemetry definitions), the agent itself, a small HTTP service with
known answers, and readers for what the receiver decoded."""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

from harness import (PYTHON, ROOT, SONDE, Failure, Proc, check, free_port,
                     in_cgroup, wait_for, wait_port)

RECEIVER = os.path.join(ROOT, "tools", "otlp-receiver", "receiver.js")


class Receiver:
    """tools/otlp-receiver/receiver.js on free ports; fault modes at runtime."""

    def __init__(self, http_port=None, grpc_port=None, out=None, **fault):
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.control_port = free_port()
        self.out = out or tempfile.mktemp(prefix="sonde-otlp-", suffix=".jsonl")
        args = ["node", RECEIVER, "--http-port", str(self.http_port),
                "--grpc-port", str(self.grpc_port), "--out", self.out,
                "--control-port", str(self.control_port)]
        for key, value in fault.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.time() + 20
        for line in self.proc.stdout:
            if "otlp-receiver: listening" in line:
                break
            if time.time() > deadline:
                break
        else:
            raise Failure("receiver did not start: " + self.proc.stderr.read())
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def endpoint(self, protocol="http/protobuf"):
        port = self.grpc_port if protocol == "grpc" else self.http_port
        return f"http://127.0.0.1:{port}"

    def set_mode(self, **fault):
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/mode",
                                     data=json.dumps(fault).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def requests(self, signal_name=None, accepted_only=False):
        """Decoded requests; accepted_only keeps those answered with success."""
        try:
            with open(self.out) as f:
                # A line still being appended has no newline yet: the next
                # poll reads it whole.
                lines = [json.loads(line) for line in f
                         if line.endswith("\n") and line.strip()]
        except FileNotFoundError:
            return []
        return [r for r in lines if (signal_name is None or r.get("signal") == signal_name)
                and (not accepted_only or r.get("result") == "ok")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.proc.kill()
        self.proc.wait()


class SondeRun:
    """`sonde run` in the background, with OTEL_*/SONDE_* variables and flags."""

    def __init__(self, *args, env=None, ready_timeout=30):
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("OTEL_", "SONDE_"))}
        full_env.update(env or {})
        self.proc = subprocess.Popen([SONDE, "run", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=full_env)
        self.stdout_lines, self.stderr_lines = [], []
        self.ready = threading.Event()
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, False),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, True),
                                          daemon=True)]
        for t in self._threads:
            t.start()
        if not self.ready.wait(ready_timeout):
            self.stop()
            raise Failure("sonde run did not start: " + self.stderr())

    def _read(self, stream, is_err):
        for line in stream:
            (self.stderr_lines if is_err else self.stdout_lines).append(line)
            if is_err and "sonde: running" in line:
                self.ready.set()
        if is_err:
            self.ready.set()

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure(f"sonde run did not stop within {timeout}s: " + self.stderr())
        for t in self._threads:
            t.join(5)
        return self.proc.returncode

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        return "".join(self.stderr_lines)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def items_server(port, env=None, cgroup=None, log=False):
    """A Python HTTP/1.1 service: GET /items/N answers 500 when N % 5 == 0, else
    200 with body 'item N'; POST /orders answers 201; anything else 404. With
    cgroup, it runs in that cgroup v2 directory from its first instruction.
    With log, GET /items/N first writes "looking up item N" to its stderr (a
    file)."""
    code = f"""
import http.server, os
LOG = {log!r}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        parts = self.path.split("?")[0].split("/")
        if len(parts) == 3 and parts[1] == "items" and parts[2].isdigit():
            n = int(parts[2])
            if LOG:
                os.write(2, b"looking up item %d\\n" % n)
            if n % 5 == 0:
                self.answer(500, b"out of stock")
            else:
                self.answer(200, ("item %d" % n).encode())
        else:
            self.answer(404, b"no")
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.answer(201, b"created")
http.server.ThreadingHTTPServer(("127.0.0.1", {port}), H).serve_forever()
"""
    full_env = dict(os.environ)
    full_env.update(env or {})
    err = tempfile.TemporaryFile() if log else subprocess.DEVNULL
    p = Proc(in_cgroup(cgroup, [PYTHON, "-c", code]), env=full_env, stderr=err)
    wait_port(port)
    return p


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def attrs(obj):
    """OTLP KeyValue list → dict of plain values (intValue as int)."""
    out = {}
    for kv in obj.get("attributes", []):
        v = kv["value"]
        if "stringValue" in v:
            out[kv["key"]] = v["stringValue"]
        elif "intValue" in v:
            out[kv["key"]] = int(v["intValue"])
        elif "boolValue" in v:
            out[kv["key"]] = v["boolValue"]
        elif "doubleValue" in v:
            out[kv["key"]] = v["doubleValue"]
        else:
            out[kv["key"]] = v
    return out


def spans_of(receiver, service=None):
    """Every span the receiver decoded: (resource attrs, span, span attrs)."""
    out = []
    for req in receiver.requests("traces", accepted_only=True):
        for rs in req["body"].get("resourceSpans", []):
            res = attrs(rs.get("resource", {}))
            if service and res.get("service.name") != service:
                continue
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    out.append((res, sp, attrs(sp)))
    return out


def latest_metrics(receiver, service=None):
    """name → list of (resource attrs, point attrs, point) from the newest
    metrics request (metrics are cumulative: the newest has everything)."""
    reqs = receiver.requests("metrics", accepted_only=True)
    out = {}
    if not reqs:
        return out
    for rm in reqs[-1]["body"].get("resourceMetrics", []):
        res = attrs(rm.get("resource", {}))
        if service and res.get("service.name") != service:
            continue
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                data = m.get("histogram") or m.get("sum") or m.get("gauge") or {}
                for p in data.get("dataPoints", []):
                    out.setdefault(m["name"], []).append((res, attrs(p), p, m))
    return out


__all__ = ["Receiver", "SondeRun", "items_server", "get", "attrs", "spans_of",
           "latest_metrics", "wait_for", "check", "free_port", "Failure"]


def burst(port, paths):
    """GETs every path on one keep-alive connection; returns the statuses."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    statuses = []
    for p in paths:
        conn.request("GET", p)
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
    conn.close()
    return statuses


def prom_value(text, name):
    """The value of an unlabelled sample in a Prometheus exposition, or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def logs_of(receiver, service=None):
    """Every log record the receiver decoded: (resource attrs, record, record attrs)."""
    out = []
    for req in receiver.requests("logs", accepted_only=True):
        for rl in req["body"].get("resourceLogs", []):
            res = attrs(rl.get("resource", {}))
            if service and res.get("service.name") != service:
                continue
            for sl in rl.get("scopeLogs", []):
                for rec in sl.get("logRecords", []):
                    out.append((res, rec, attrs(rec)))
    return out
