# SPDX-License-Identifier: MIT
"""Logs: what real programs write to stdout and stderr while they serve
requests becomes log records carrying the trace and span of the request the
writing thread was serving — checked by content (every line names its
customer) under 32 concurrent requests, for Python logging and a JSON logger
(thread per request), Go's log, Node's console over pipes, and Python's
block-buffered print (never another request's ids); awkward output (partial
writes, many lines per write, a 100 KB line, a traceback, invalid UTF-8,
10 MB of binary); a log storm (rate limit counted, memory bounded); sonde
run's OTLP logs over HTTP and gRPC, decoded by the official definitions, with
the generic and the logs-only OTLP variables; logs.comm; the tree view."""

import collections
import json
import os
import re
import subprocess
import tempfile
import time

from harness import HERE, PYTHON, SONDE, Proc, Sonde, check, free_port, wait_for, wait_port
from otlp import Receiver, SondeRun, get, logs_of, spans_of
from test_context import drive

SVC = os.path.join(HERE, "peers", "chain_svc.py")
GO = "/usr/lib/go-1.19/bin/go" if os.path.exists("/usr/lib/go-1.19/bin/go") else "go"
WRITER = os.path.join(HERE, "peers", "log_writer.py")
CUSTOMERS = [str(c) for c in range(32)]


def start_svc(tmp, name, port, down=None, mode="--log"):
    """The service with its stdout and stderr in files (what a container
    runtime's pipe would be)."""
    out = open(os.path.join(tmp, f"{name}.out"), "w")
    err = open(os.path.join(tmp, f"{name}.err"), "w")
    args = [PYTHON, SVC, name, str(port), mode] + (["--down", down] if down else [])
    env = dict(os.environ)
    if mode == "--print":  # Python's default: stdout to a file is block-buffered
        env.pop("PYTHONUNBUFFERED", None)
    p = Proc(args, stdout=out, stderr=err, env=env)
    wait_port(port)
    return p


def json_lines(sonde):
    out = []
    for line in list(sonde.stdout_lines):
        out.append(json.loads(line))
    return out


def trace_during(procs, port, servers, rounds=1, stats=False):
    """sonde trace --logs -o json of procs while every customer calls port at
    once (rounds times); its output objects once `servers` server spans
    came. With stats, (objects, sonde's stderr)."""
    sonde = Sonde("--logs", "--capture-query", *(["--stats"] if stats else []),
                  *[a for p in procs for a in ("--pid", str(p.pid))])
    try:
        time.sleep(0.5)
        for _ in range(rounds):
            drive(port, CUSTOMERS)
        wait_for(lambda: sum(1 for o in json_lines(sonde) if o.get("kind") == "server")
                 >= servers, timeout=20, what=f"{servers} server spans")
        sonde.settle(quiet=1.0)
    finally:
        sonde.stop()
        for p in procs:
            p.stop()
    return (json_lines(sonde), sonde.stderr()) if stats else json_lines(sonde)


def customer_of(text):
    m = re.search(r'customer"?:? ?"?(\d+)', text) or re.search(r"customer (\d+)", text)
    return m.group(1) if m else None


def test_lines_carry_their_request():
    """A calls B; each line either service writes while serving a customer
    carries that customer's server span of that process, and the trace A's
    request began."""
    with tempfile.TemporaryDirectory() as tmp:
        pb, pa = free_port(), free_port()
        b = start_svc(tmp, "B", pb)
        a = start_svc(tmp, "A", pa, down=f"http://127.0.0.1:{pb}")
        objs = trace_during([a, b], pa, 64)
    spans = [o for o in objs if "kind" in o and not o.get("summary")]
    logs = [o for o in objs if "log" in o]
    servers = {(s["process.pid"], s["url.query"].split("=")[1]): s
               for s in spans if s["kind"] == "server"}
    check(len(servers) == 64, f"{len(servers)} server spans")
    kinds = collections.Counter()
    for rec in logs:
        c = customer_of(rec["log"])
        if c is None:
            continue  # "listening on", outside any request
        srv = servers[(rec["process.pid"], c)]
        check(rec.get("span_id") == srv["span_id"],
              f"line {rec['log']!r} of pid {rec['process.pid']}: span {rec.get('span_id')}, "
              f"customer {c}'s server span is {srv['span_id']}")
        check(rec["trace_id"] == srv["trace_id"], f"line {rec['log']!r}: wrong trace")
        # B's line is in the trace A's request began.
        check(rec["trace_id"] == servers[(a.pid, c)]["trace_id"], "B's line in another trace")
        if rec["log"].startswith("WARNING:"):
            check(rec["severity_number"] == 13 and rec["log.iostream"] == "stderr",
                  f"python logging line: {rec}")
            kinds["warning"] += 1
        elif rec["log"].startswith("{"):
            check(rec["severity_text"] == "info" and rec["log.iostream"] == "stdout",
                  f"JSON line: {rec}")
            kinds["json"] += 1
        elif rec["log"].startswith("ERROR:"):
            check("Traceback (most recent call last):" in rec["log"] and
                  rec["log"].rstrip().endswith("KeyError: 'missing'"),
                  f"the traceback is not one record: {rec['log']!r}")
            kinds["traceback"] += 1
    check(kinds == {"warning": 64, "json": 64, "traceback": 2}, f"lines by kind: {dict(kinds)}")


def test_awkward_output():
    """Partial writes, many lines in one write, a 100 KB line (cut at 8 KiB
    and marked), a traceback (one record), invalid UTF-8 (made valid), 10 MB
    of binary (skipped and counted), then a last line."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        sonde = Sonde("--logs", "--stats", "--", "sh", "-c",
                      f'exec {PYTHON} {WRITER} > {out}')
        sonde.proc.wait(60)
        sonde.stop()
        bodies = [o["log"] for o in json_lines(sonde) if "log" in o]
        recs = [o for o in json_lines(sonde) if "log" in o]
    check(bodies[:6] == ["partial line in three writes", "one", "two", "three", "four", "five"],
          f"first records: {bodies[:6]}")
    big = recs[6]
    check(big["log"] == "L" * 8192 and big.get("sonde.truncated") is True,
          f"the 100 KB line: {len(big['log'])} bytes, {big.get('sonde.truncated')}")
    check(bodies[7] == "ERROR:root:it broke\nTraceback (most recent call last):\n"
          '  File "x.py", line 1, in <module>\nZeroDivisionError: division by zero',
          f"traceback record: {bodies[7]!r}")
    check(recs[7]["severity_number"] == 17, "the traceback's severity")
    check(bodies[8] == "bad \ufffd\ufffd bytes", f"invalid UTF-8: {bodies[8]!r}")
    check(bodies[9:] == ["done"], f"records after the binary: {bodies[9:][:5]}")
    stats = sonde.stderr()
    m = re.search(r"binary bytes (\d+)", stats)
    check(m and int(m.group(1)) > 0, f"binary not counted: {stats}")


def test_log_storm_is_limited():
    """200,000 lines as fast as a process can write them: the kernel's byte
    budget and the per-process record limit drop most, counted; the agent's
    memory stays bounded."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        sonde = Sonde("--logs", "--stats", "--no-summary", "--", "sh", "-c",
                      f'exec {PYTHON} {WRITER} --storm 200000 > {out}')
        rss = 0
        while sonde.proc.poll() is None:
            try:
                with open(f"/proc/{sonde.proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            rss = max(rss, int(line.split()[1]))
            except FileNotFoundError:
                break
            time.sleep(0.05)
        sonde.stop()
        recs = [o for o in json_lines(sonde) if "log" in o]
    stats = sonde.stderr()
    limited = int(re.search(r"rate-limited (\d+)", stats).group(1))
    budget = int(re.search(r"(\d+) not copied: budget", stats).group(1))
    lost = int(re.search(r"bytes lost (\d+)", stats).group(1))
    check(limited + budget > 0, f"nothing limited: {stats}")
    # At 1000 records a second per process (and a second's burst), a run of
    # a few seconds gives at most a few thousand.
    check(len(recs) < 10000, f"{len(recs)} records passed the limit")
    check(recs[-1]["log"] == "done", "the last line after the storm")
    check(rss < 96 * 1024, f"agent RSS {rss} KiB")
    print(f"storm: {len(recs)} records, {limited} rate-limited, {budget} writes over budget, "
          f"{lost} bytes lost, RSS {rss} KiB")


def trace_text(*args):
    """sonde trace --logs ARGS (text) of the service while customer 7 calls
    it: (the output's lines, sonde's stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        svc = start_svc(tmp, "shop", port)
        err_path = os.path.join(tmp, "sonde.err")
        proc = subprocess.Popen([SONDE, "trace", *args, "--logs", "--capture-query",
                                 "--no-summary", "--pid", str(svc.pid)],
                                stdout=subprocess.PIPE, stderr=open(err_path, "w"), text=True)
        try:
            wait_for(lambda: "sonde: tracing" in open(err_path).read(), timeout=30,
                     what="sonde trace to start")
            drive(port, ["7"])
            time.sleep(1.0)
        finally:
            proc.send_signal(2)
            out, _ = proc.communicate(15)
            err = open(err_path).read()
            svc.stop()
    return out.splitlines(), err


def test_tree_shows_lines_under_their_span():
    lines, err = trace_text("--tree")
    i = next((k for k, l in enumerate(lines) if "GET /order?customer=7 200" in l), None)
    check(i is not None, "no span line in the tree:\n" + "\n".join(lines) + err)
    under = lines[i + 1:i + 3]
    check(all(l.startswith("    log ") for l in under) and
          any("slow query for customer 7" in l for l in under), "tree:\n" + "\n".join(lines))


def test_live_view_shows_lines_under_their_span():
    """The live text view: the request's span line, then its two lines
    (stderr's warning, stdout's JSON line), each with the span's ids."""
    lines, err = trace_text()
    i = next((k for k, l in enumerate(lines) if "GET /order?customer=7 200" in l), None)
    check(i is not None, "no span line:\n" + "\n".join(lines) + err)
    under = lines[i + 1:i + 3]
    check(all(l.startswith("  log ") for l in under), "live view:\n" + "\n".join(lines))
    warn = next((l for l in under if "WARNING:shop:slow query for customer 7" in l), "")
    check(" WARN " in warn and re.search(r"\(trace [0-9a-f]{32}/span [0-9a-f]{16}\)$", warn),
          f"the warning's line: {warn!r}")
    check(any('"customer": "7"' in l for l in under), "the JSON line:\n" + "\n".join(under))


GO_LOG_SVC = """
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	http.HandleFunc("/order", func(w http.ResponseWriter, r *http.Request) {
		c := r.URL.Query().Get("customer")
		log.Printf("slow query for customer %s", c)
		time.Sleep(2 * time.Millisecond)
		fmt.Fprintf(w, "go %s", c)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Args[1], nil))
}
"""


def go_log_svc(tmp):
    with open(os.path.join(tmp, "main.go"), "w") as f:
        f.write(GO_LOG_SVC)
    env = dict(os.environ, GO111MODULE="off", GOPATH=os.path.join(tmp, "gopath"),
               GOCACHE=os.path.join(tmp, "cache"), HOME=tmp, CGO_ENABLED="0")
    out = os.path.join(tmp, "golog")
    r = subprocess.run([GO, "build", "-o", out, "main.go"], cwd=tmp, env=env,
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, f"go build: {r.stderr}")
    return out


def test_go_log_lines_are_never_given_another_request():
    """Go's log in a net/http handler under 32 concurrent requests: every line
    is collected; a line that carries ids carries its own request's. Without
    goroutine ids (the Go request-context hooks) goroutines share threads, so
    most lines carry none; with them, all do."""
    with tempfile.TemporaryDirectory() as tmp:
        binary = go_log_svc(tmp)
        port = free_port()
        svc = Proc([binary, str(port)], stderr=open(os.path.join(tmp, "err"), "w"))
        wait_port(port)
        objs = trace_during([svc], port, 32)
    servers = {s["url.query"].split("=")[1]: s for s in objs
               if s.get("kind") == "server" and not s.get("summary")}
    lines = [o for o in objs if "log" in o and "slow query" in o["log"]]
    check(len(lines) == 32, f"{len(lines)} Go log lines of 32")
    linked = 0
    for rec in lines:
        c = customer_of(rec["log"])
        if "span_id" in rec:
            linked += 1
            check(rec["span_id"] == servers[c]["span_id"],
                  f"Go line {rec['log']!r} given another request's span")
    print(f"go: {linked} of 32 lines carried their request")


NODE_LOG_SVC = """
const http = require('http');
http.createServer((req, res) => {
  const c = new URL(req.url, 'http://x').searchParams.get('customer');
  console.log(JSON.stringify({level: 'info', msg: 'order', customer: c}));
  setTimeout(() => {
    console.error(`WARN slow query for customer ${c}`);
    res.end(`node ${c}`);
  }, 5);
}).listen(+process.argv[2], '127.0.0.1');
"""


def check_own_request(rec, servers):
    """A record that carries ids carries those of its customer's request."""
    if "span_id" not in rec:
        return False
    srv = servers[customer_of(rec["log"])]
    check(rec["span_id"] == srv["span_id"] and rec["trace_id"] == srv["trace_id"],
          f"line {rec['log']!r} given another request's ids")
    return True


def test_node_console_lines_are_never_given_another_request():
    """Node's console.log and console.error over pipes (a container
    runtime's) while one event loop serves 32 requests at once: every line is
    collected with its stream and severity; a line that carries ids carries
    its own request's. (The thread serves several requests at once: without
    the Node.js hook naming the request, lines carry none.)"""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "svc.js")
        with open(script, "w") as f:
            f.write(NODE_LOG_SVC)
        port = free_port()
        svc = Proc(["node", script, str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_port(port)
        objs = trace_during([svc], port, 32)
    servers = {s["url.query"].split("=")[1]: s for s in objs
               if s.get("kind") == "server" and not s.get("summary")}
    out = [o for o in objs if "log" in o and o["log"].startswith("{")]
    err = [o for o in objs if "log" in o and o["log"].startswith("WARN ")]
    check(sorted(customer_of(o["log"]) for o in out) == sorted(CUSTOMERS) and
          sorted(customer_of(o["log"]) for o in err) == sorted(CUSTOMERS),
          f"{len(out)} console.log and {len(err)} console.error lines of 32 each")
    check(all(o["log.iostream"] == "stdout" and o["severity_text"] == "info" for o in out) and
          all(o["log.iostream"] == "stderr" and o["severity_number"] == 13 for o in err),
          f"streams or severities: {out[:1]} {err[:1]}")
    linked = sum(check_own_request(o, servers) for o in out + err)
    print(f"node: {linked} of 64 lines carried their request")


def test_buffered_print_lines_are_never_given_another_request():
    """Python's print() to a file is block-buffered: whichever serving thread
    fills the buffer writes the other threads' lines. 96 requests (32 at a
    time) print 230-byte lines: no line carries another request's ids."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        svc = start_svc(tmp, "printer", port, mode="--print")
        objs, stats = trace_during([svc], port, 96, rounds=3, stats=True)
    lines = [o for o in objs if "log" in o and o["log"].startswith("served customer")]
    # 8 KiB flushes of 230-byte lines: at least the first two went out.
    check(len(lines) >= 60, f"{len(lines)} printed lines collected")
    # Python flushes whole print() calls: each write holds ~35 records, so
    # none keeps the flushing thread's request (counted).
    m = re.search(r"in one but without its ids (\d+)", stats)
    check(m and int(m.group(1)) >= len(lines), f"records sent without ids: {stats}")
    check(not any("span_id" in rec for rec in lines),
          f"a flushed line kept a request's ids: {[r for r in lines if 'span_id' in r][:1]}")


def check_run_logs(protocol, logs_only_vars=False):
    """sonde run with logs over protocol: with logs_only_vars, the generic
    variables send traces over HTTP and OTEL_EXPORTER_OTLP_LOGS_* send the
    logs (their own endpoint and protocol)."""
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        svc = start_svc(tmp, "checkout", port)
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint(protocol),
               "OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_BLRP_SCHEDULE_DELAY": "200",
               "OTEL_BSP_SCHEDULE_DELAY": "200", "SONDE_PIDS": str(svc.pid),
               "SONDE_CAPTURE_QUERY": "true"}
        if logs_only_vars:
            env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint("http/protobuf"),
                        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": receiver.endpoint(protocol),
                        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": protocol,
                        "OTEL_LOGS_EXPORTER": "otlp"})
        metrics_port = free_port()
        run = SondeRun("--prometheus-port", str(metrics_port), "--prometheus-address",
                       "127.0.0.1", env=env)
        try:
            time.sleep(0.5)
            drive(port, CUSTOMERS[:10])
            wait_for(lambda: len([r for r in logs_of(receiver)
                                  if "customer" in r[1]["body"]["stringValue"]]) >= 20,
                     timeout=20, what="20 log records")
            # The health counters: 10 JSON lines and 10 warnings, each in its
            # request, exported (the listening line besides, outside any).
            health = {}

            def counted():
                status, body = get(f"http://127.0.0.1:{metrics_port}/metrics")
                for line in body.decode().splitlines():
                    if line.startswith("sonde_logs_"):
                        name, value = line.rsplit(" ", 1)
                        health[name] = float(value)
                return health.get("sonde_logs_exported_total", 0) >= 20
            wait_for(counted, timeout=10, what="sonde_logs_exported_total 20")
            check(health["sonde_logs_records_in_request_total"] == 20 and
                  health["sonde_logs_records_total"] >= 20 and
                  health["sonde_logs_dropped_total"] == 0 and
                  health["sonde_logs_records_unlinked_total"] == 0 and
                  health["sonde_logs_rate_limited_total"] == 0, f"health counters {health}")
        finally:
            run.stop()
            svc.stop()
            receiver.stop()
    spans = {a["url.query"].split("=")[1]: (res, sp) for res, sp, a in spans_of(receiver)
             if sp["kind"] == "SPAN_KIND_SERVER"}
    n = 0
    for res, rec, a in logs_of(receiver):
        body = rec["body"]["stringValue"]
        c = customer_of(body)
        if c is None:
            continue
        sres, sp = spans[c]
        check(rec.get("traceId") == sp["traceId"] and rec.get("spanId") == sp["spanId"],
              f"{body!r}: {rec.get('traceId')}/{rec.get('spanId')} vs {sp['traceId']}/"
              f"{sp['spanId']}")
        check(res["service.name"] == sres["service.name"] and
              res["process.pid"] == svc.pid, f"resource {res}")
        if body.startswith("WARNING:"):
            check(rec["severityNumber"] == "SEVERITY_NUMBER_WARN" and
                  rec["severityText"] == "WARNING" and a["log.iostream"] == "stderr",
                  f"record {rec}")
        check(int(rec["timeUnixNano"]) >= int(sp["startTimeUnixNano"]) and
              int(rec["timeUnixNano"]) <= int(sp["endTimeUnixNano"]), "time outside its span")
        n += 1
    check(n == 20, f"{n} records of customers")
    transports = {(r["signal"], r["transport"]) for r in receiver.requests()}
    logs_via = "grpc" if protocol == "grpc" else "http"
    check({t for s, t in transports if s == "logs"} == {logs_via},
          f"logs requests came over {transports}, not {logs_via} alone")
    if logs_only_vars:
        check({t for s, t in transports if s == "traces"} == {"http"},
              f"traces should follow the generic variables: {transports}")


def test_run_otlp_logs_http():
    check_run_logs("http/protobuf")


def test_run_otlp_logs_grpc():
    check_run_logs("grpc")


def test_run_otlp_logs_own_endpoint_grpc():
    """OTEL_EXPORTER_OTLP_LOGS_ENDPOINT/PROTOCOL: logs over gRPC to their own
    endpoint while traces go over HTTP to the generic one."""
    check_run_logs("grpc", logs_only_vars=True)


def test_run_logs_exporter_none_and_comm():
    """OTEL_LOGS_EXPORTER=none: spans are exported, no log record is; and
    logs.comm selects processes by name: of two traced services, only the
    named one's lines are exported."""
    for env_extra, want in (({"OTEL_LOGS_EXPORTER": "none"}, set()),
                            ({"SONDE_LOGS_COMM": "logsvc-b"}, {"b"})):
        receiver = Receiver()
        with tempfile.TemporaryDirectory() as tmp:
            procs, ports = [], []
            for name in ("a", "b"):
                # The process name (comm) the selection reads: the name the
                # interpreter was started by.
                exe = os.path.join(tmp, f"logsvc-{name}")
                os.symlink(os.path.realpath(PYTHON), exe)
                port = free_port()
                out = open(os.path.join(tmp, f"{name}.out"), "w")
                procs.append(Proc([exe, SVC, name, str(port), "--log"], stdout=out,
                                  stderr=out))
                wait_port(port)
                ports.append(port)
            env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint("http/protobuf"),
                   "OTEL_BLRP_SCHEDULE_DELAY": "200", "OTEL_BSP_SCHEDULE_DELAY": "200",
                   "SONDE_PIDS": ",".join(str(p.pid) for p in procs),
                   "SONDE_CAPTURE_QUERY": "true", **env_extra}
            run = SondeRun("--prometheus-port", "0", env=env)
            try:
                time.sleep(0.5)
                for port in ports:
                    drive(port, CUSTOMERS[:5])
                wait_for(lambda: len([1 for _, sp, _ in spans_of(receiver)
                                      if sp["kind"] == "SPAN_KIND_SERVER"]) >= 10,
                         timeout=20, what="10 server spans")
                time.sleep(1.0)  # logs batched at 200 ms
            finally:
                run.stop()
                for p in procs:
                    p.stop()
                receiver.stop()
        names = {p.pid: n for p, n in zip(procs, ("a", "b"))}
        got = {names.get(res["process.pid"]) for res, rec, _ in logs_of(receiver)
               if customer_of(rec["body"]["stringValue"])}
        check(got == want, f"{env_extra}: logs of {got}, want {want}")
