# SPDX-License-Identifier: MIT
"""HTTP/2 and gRPC spans from real peers on loopback: gRPC servers and clients
in Go (Debian's grpc), Python (grpcio) and Node (@grpc/grpc-js), nginx with
h2c driven by h2load and curl, curl's h2c Upgrade against Go, a connection
already open when sonde starts, and gRPC metrics over OTLP and Prometheus."""

import os
import subprocess
import tempfile
import time

from harness import (HERE, PYTHON, ROOT, Failure, Nginx, Proc, Sonde, check, client_spans,
                     curl, free_port, server_spans)
from otlp import Receiver, SondeRun, get, latest_metrics, prom_value, spans_of, wait_for

PEERS = os.path.join(HERE, "peers")
GO_PEER = os.path.join(ROOT, "build", "h2peer")
NODE_ENV = dict(os.environ, NODE_PATH=os.path.join(ROOT, "tools", "otlp-receiver",
                                                   "node_modules"))

# What each client calls (tests/integration/peers), with the status it gets.
ECHO_CALLS = [("sonde.test.Echo/Say", 0), ("sonde.test.Echo/Say", 5),
              ("sonde.test.Echo/Say", 13), ("sonde.test.Echo/Count", 0),
              ("sonde.test.Echo/Nope", 12)]
GO_CALLS = [("grpc.health.v1.Health/Check", 0), ("grpc.health.v1.Health/Check", 5),
            ("sonde.test.Echo/Say", 0), ("sonde.test.Echo/Say", 13),
            ("sonde.test.Echo/Count", 0), ("sonde.test.Echo/Nope", 12),
            ("sonde.test.Echo/Say", 0)]
STATUS_NAMES = {1: "CANCELLED", 5: "NOT_FOUND", 12: "UNIMPLEMENTED", 13: "INTERNAL"}
SERVER_ERRORS = {2, 4, 12, 13, 14, 15}  # the OpenTelemetry gRPC conventions


def go_peer():
    """build/h2peer, rebuilt when its source is newer (Go 1.19, GOPATH mode)."""
    src = os.path.join(PEERS, "h2peer", "main.go")
    if not os.path.exists(GO_PEER) or os.path.getmtime(GO_PEER) < os.path.getmtime(src):
        gopath = os.path.join(ROOT, "build", "gopath")
        env = dict(os.environ, GO111MODULE="off",
                   GOPATH=f"{gopath}:/usr/share/gocode",
                   GOCACHE=os.path.join(ROOT, "build", "gocache"))
        r = subprocess.run(["go", "build", "-o", GO_PEER, "."], cwd=os.path.dirname(src),
                           env=env, capture_output=True, text=True, timeout=300)
        if r.returncode:
            raise Failure("cannot build the Go peer: " + r.stderr)
    return GO_PEER


def client_cmd(lang, addr):
    if lang == "go":
        return [go_peer(), "grpc-client", addr]
    if lang == "python":
        return [PYTHON, os.path.join(PEERS, "grpc_peer.py"), "client", addr]
    return ["node", os.path.join(PEERS, "grpc_peer.js"), "client", addr]


class Server(Proc):
    """A peer server, ready once it printed 'ready'."""

    def __init__(self, args, env=None):
        super().__init__(args, stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise Failure(f"{args[0]} did not start: {line!r}")


def grpc_server(lang, port, env=None):
    if lang == "go":
        return Server([go_peer(), "grpc-server", str(port)], env=env)
    if lang == "python":
        return Server([PYTHON, os.path.join(PEERS, "grpc_peer.py"), "server", str(port)])
    return Server(["node", os.path.join(PEERS, "grpc_peer.js"), "server", str(port)],
                  env=NODE_ENV)


def traced_command(server_pid, command, out_path, *extra):
    """Runs command under `sonde trace --pid SERVER -- sh -c …` (its output to a
    file, so that sonde's stdout is only spans); returns sonde."""
    script = " ".join(f"'{a}'" for a in command) + f" > {out_path} 2>&1"
    sonde = Sonde("--pid", str(server_pid), "--stats", *extra, "--", "sh", "-c", script,
                  env=NODE_ENV)
    sonde.proc.wait(60)
    sonde.stop()
    return sonde


def check_grpc_spans(spans, kind, calls, port):
    check(len(spans) == len(calls),
          f"{len(calls)} {kind} spans expected, got {len(spans)}: "
          f"{[(s['name'], s.get('rpc.grpc.status_code')) for s in spans]}")
    spans = sorted(spans, key=lambda s: s["sonde.http2.stream_id"])
    for s, (name, code) in zip(spans, calls):
        where = f"{kind} {name} {code}: {s}"
        check(s["name"] == name, where)
        check(s["rpc.system"] == "grpc", where)
        check(f"{s['rpc.service']}/{s['rpc.method']}" == name, where)
        check(s["rpc.grpc.status_code"] == code, where)
        check(s["network.protocol.name"] == "http" and
              s["network.protocol.version"] == "2", where)
        check(s["server.port"] == port, where)
        check(s["sonde.http2.stream_id"] % 2 == 1, where)
        check(s["duration_ns"] > 0, where)
        check("sonde.truncated" not in s, where)
        check("http.request.method" not in s, where)
        error = code in SERVER_ERRORS if kind == "server" else code != 0
        check(s.get("error.type") == (STATUS_NAMES.get(code) if error else None), where)
    ids = [s["sonde.http2.stream_id"] for s in spans]
    check(len(set(ids)) == len(ids), f"stream ids {ids}")
    return spans


def run_grpc(server_lang, client_lang, calls):
    port = free_port()
    srv = grpc_server(server_lang, port)
    out = tempfile.mktemp(prefix="sonde-grpc-")
    try:
        sonde = traced_command(srv.pid, client_cmd(client_lang, f"127.0.0.1:{port}"), out)
    finally:
        srv.stop()
    with open(out) as f:
        printed = f.read()
    check("UNIMPLEMENTED" in printed.upper() and "Count 3" in printed,
          f"the client's calls did not go as planned: {printed}")
    spans = sonde.spans()
    srv_spans = check_grpc_spans(server_spans(spans, pid=srv.pid), "server", calls, port)
    cli = [s for s in client_spans(spans) if s["server.port"] == port]
    cli_spans = check_grpc_spans(cli, "client", calls, port)
    # Count streams three 8-byte messages (5-byte gRPC prefix + "\n\x01N").
    count = [s for s in srv_spans if s["name"] == "sonde.test.Echo/Count"][0]
    check(count["http.response.body.size"] == 24, f"Count response body {count}")
    check("header tables out of sync 0" in sonde.stderr() and
          "degraded connections 0" in sonde.stderr(), sonde.stderr())
    return srv_spans, cli_spans


def test_grpc_go():
    srv, cli = run_grpc("go", "go", GO_CALLS)
    # 300 KB each way and 20 KB of metadata (HEADERS + CONTINUATION, one
    # syscall larger than an event): decoded, sizes exact.
    big = srv[-1]
    check(big["http.request.body.size"] == 5 + 1 + 3 + 300000, f"big request {big}")
    check(big["http.response.body.size"] == 5 + 1 + 3 + 300005, f"big response {big}")
    check(cli[-1]["http.response.body.size"] == big["http.response.body.size"], "client size")


def test_grpc_python():
    run_grpc("python", "python", ECHO_CALLS)


def test_grpc_node():
    run_grpc("node", "node", ECHO_CALLS)


def test_grpc_across_languages():
    """Another HPACK encoder on each side: Node calling Python, Python calling Node."""
    run_grpc("python", "node", ECHO_CALLS)
    run_grpc("node", "python", ECHO_CALLS)


def test_nginx_h2load_many_streams():
    """h2load: 4 connections with 100 concurrent streams each; N requests → N spans."""
    port = free_port()
    docroot = tempfile.mkdtemp(prefix="sonde-www-")
    os.chmod(docroot, 0o755)
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("<h1>hello</h1>\n")
    ngx = Nginx(port, docroot, http2=True)
    n = 4000
    try:
        workers = ngx.worker_pids()
        sonde = Sonde("--stats", *[a for w in workers for a in ("--pid", str(w))])
        r = subprocess.run(["h2load", "-n", str(n), "-c", "4", "-m", "100",
                            f"http://127.0.0.1:{port}/index.html"],
                           capture_output=True, text=True, timeout=120)
        check(f"{n} succeeded" in r.stdout, f"h2load: {r.stdout}")
        sonde.wait_spans(lambda s: True, n, timeout=30)
        sonde.settle()
        sonde.stop()
    finally:
        ngx.stop()
    spans = server_spans(sonde.spans())
    check(len(spans) == n, f"{n} requests, {len(spans)} spans; {sonde.stderr()}")
    check(all(s["http.response.status_code"] == 200 and s.get("url.path") == "/index.html" and
              s["network.protocol.version"] == "2" and s["http.response.body.size"] == 15 and
              "sonde.truncated" not in s for s in spans), "every span is a 200 for /index.html")
    per_conn = {}
    for s in spans:
        per_conn.setdefault(s["client.port"], set()).add(s["sonde.http2.stream_id"])
    check(len(per_conn) == 4 and sum(len(v) for v in per_conn.values()) == n,
          f"streams per connection {[len(v) for v in per_conn.values()]}")
    check("streams dropped (too many open) 0" in sonde.stderr(), sonde.stderr())


def test_nginx_h2_over_tls_h2load_and_curl():
    """HTTP/2 negotiated by ALPN over TLS: the plaintext comes from the libssl
    uprobes and goes through the same HTTP/2 path; N requests → N https spans."""
    port = free_port()
    docroot = tempfile.mkdtemp(prefix="sonde-www-")
    os.chmod(docroot, 0o755)
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("<h1>hello</h1>\n")
    ngx = Nginx(port, docroot, http2=True, tls=True)
    n = 400
    try:
        sonde = Sonde("--stats", *[a for w in ngx.worker_pids() for a in ("--pid", str(w))])
        for path in ("/index.html", "/status/500"):
            curl("-k", "--http2", "-o", "/dev/null", f"https://127.0.0.1:{port}{path}")
        r = subprocess.run(["h2load", "-n", str(n), "-c", "4", "-m", "50",
                            f"https://127.0.0.1:{port}/index.html"],
                           capture_output=True, text=True, timeout=120)
        check(f"{n} succeeded" in r.stdout and "Application protocol: h2" in r.stdout,
              f"h2load: {r.stdout}")
        sonde.wait_spans(lambda s: True, n + 2, timeout=30)
        sonde.settle()
        sonde.stop()
    finally:
        ngx.stop()
    spans = server_spans(sonde.spans())
    check(len(spans) == n + 2, f"{n + 2} requests, {len(spans)} spans; {sonde.stderr()}")
    check(all(s["url.scheme"] == "https" and s["network.protocol.version"] == "2" and
              "sonde.truncated" not in s for s in spans), "every span is HTTP/2 over TLS")
    by_status = {}
    for s in spans:
        by_status.setdefault((s.get("url.path"), s["http.response.status_code"]), 0)
        by_status[(s.get("url.path"), s["http.response.status_code"])] += 1
    check(by_status == {("/index.html", 200): n + 1, ("/status/500", 500): 1},
          f"spans by path and status {by_status}")
    check("parse errors 0" in sonde.stderr(), sonde.stderr())


def test_curl_prior_knowledge_nginx():
    port = free_port()
    docroot = tempfile.mkdtemp(prefix="sonde-www-")
    os.chmod(docroot, 0o755)
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("<h1>hello</h1>\n")
    ngx = Nginx(port, docroot, http2=True)
    base = f"http://127.0.0.1:{port}"
    try:
        # One curl per request: curl 7.88 fails to reuse an h2c prior-knowledge
        # connection to nginx 1.22 ("Error in the HTTP2 framing layer").
        script = " && ".join(f"curl -sS --http2-prior-knowledge -o /dev/null {base}{p}"
                             for p in ("/index.html", "/status/404", "/status/500"))
        sonde = Sonde(*[a for w in ngx.worker_pids() for a in ("--pid", str(w))],
                      "--", "sh", "-c", script)
        sonde.proc.wait(60)
        sonde.stop()
    finally:
        ngx.stop()
    spans = sonde.spans()
    for kind, got in (("server", server_spans(spans)), ("client", client_spans(spans))):
        by_path = {s.get("url.path"): s for s in got}
        check(sorted(by_path) == ["/index.html", "/status/404", "/status/500"],
              f"{kind} spans {[s['url.path'] for s in got]}")
        check(by_path["/index.html"]["http.response.status_code"] == 200, "200")
        check(by_path["/index.html"]["http.response.body.size"] == 15, "body size")
        check(by_path["/status/404"]["http.response.status_code"] == 404, "404")
        check(by_path["/status/500"]["error.type"] == "500", "500 is an error")
        check(("error.type" in by_path["/status/404"]) == (kind == "client"),
              "404 is an error for clients only")
        check(all(s["network.protocol.version"] == "2" and s["http.request.method"] == "GET" and
                  s["sonde.http2.stream_id"] == 1 for s in got), f"{kind} h2 spans")


def test_curl_h2c_upgrade_go():
    """curl --http2 asks for h2c with Upgrade: the request is stream 1, its
    response comes over HTTP/2; no 101 span."""
    port = free_port()
    srv = Server([go_peer(), "h2c-server", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        script = (f"curl -sS --http2 -o /dev/null {base}/hello && "
                  f"curl -sS --http2 -o /dev/null -d abc=1 {base}/hello && "
                  f"curl -sS --http2 -o /dev/null {base}/missing && "
                  f"curl -sS --http2-prior-knowledge -o /dev/null {base}/hello")
        sonde = Sonde("--pid", str(srv.pid), "--", "sh", "-c", script)
        sonde.proc.wait(60)
        sonde.stop()
    finally:
        srv.stop()
    spans = sonde.spans()
    for kind, got in (("server", server_spans(spans, pid=srv.pid)),
                      ("client", client_spans(spans))):
        got = sorted(got, key=lambda s: s["start_time_unix_nano"])
        summary = [(s["http.request.method"], s.get("url.path"), s["http.response.status_code"],
                    s["network.protocol.version"], s["sonde.http2.stream_id"]) for s in got]
        check(summary == [("GET", "/hello", 200, "2", 1), ("POST", "/hello", 200, "2", 1),
                          ("GET", "/missing", 404, "2", 1), ("GET", "/hello", 200, "2", 1)],
              f"{kind} spans {summary}")
        check(got[1]["http.request.body.size"] == 5, f"upgraded POST body {got[1]}")
        check(all(s["http.response.body.size"] == len("hello over HTTP/1.1\n")
                  for s in (got[0], got[1])), "responses over HTTP/2")


def test_grpc_connection_open_before_sonde():
    """A gRPC connection sonde finds already open: its header tables hold
    entries sonde never saw. Every call still becomes a span (stream id,
    method and status from the static table, times), marked truncated; a path
    it cannot decode is left empty, never wrong; a method called for the first
    time is decoded in full."""
    port = free_port()
    srv = grpc_server("go", port)
    cli = subprocess.Popen([go_peer(), "grpc-idle", f"127.0.0.1:{port}"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        check(cli.stdout.readline().startswith("Say first: OK"), "first call")
        sonde = Sonde("--pid", str(srv.pid), "--pid", str(cli.pid), "--stats")
        try:
            for cmd in ("say a1", "say a2", "check", "say b3"):
                cli.stdin.write(cmd + "\n")
                cli.stdin.flush()
                check(cli.stdout.readline().strip().endswith(": OK"), cmd)
            sonde.wait_spans(lambda s: True, 8)
            sonde.settle()
        finally:
            sonde.stop()
    finally:
        cli.stdin.close()
        cli.wait(10)
        srv.stop()
    spans = sonde.spans()
    for kind, got in (("server", server_spans(spans, pid=srv.pid)),
                      ("client", client_spans(spans, pid=cli.pid))):
        got = sorted(got, key=lambda s: s["sonde.http2.stream_id"])
        check([s["sonde.http2.stream_id"] for s in got] == [3, 5, 7, 9],
              f"{kind} stream ids {[s['sonde.http2.stream_id'] for s in got]}")
        for s in got:
            check(s.get("sonde.truncated") is True, f"{kind} span marked truncated: {s}")
            check(s.get("http.request.method", "POST") == "POST", f"method {s}")
            check(s.get("http.response.status_code", 200) == 200, f"status {s}")
            path = s.get("url.path", "/" + s.get("name", ""))
            check(path in ("", "/sonde.test.Echo/Say", "/grpc.health.v1.Health/Check"),
                  f"{kind} path {path!r} is not one that was called")
        check(got[2].get("url.path") == "/grpc.health.v1.Health/Check" or
              got[2].get("name") == "grpc.health.v1.Health/Check",
              f"a first call's path is decoded: {got[2]}")
    check("degraded connections 2" in sonde.stderr(), sonde.stderr())


def test_grpc_metrics_and_spans_over_otlp():
    """sonde run: gRPC spans named package.Service/Method with rpc.*, error
    status only for server failures, rpc.server.duration in ms over OTLP and
    rpc_server_duration_milliseconds on the Prometheus endpoint."""
    port = free_port()
    srv = grpc_server("go", port, env=dict(os.environ, OTEL_SERVICE_NAME="greeter"))
    rcv = Receiver()
    prom = free_port()
    env = {"OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "200",
           "OTEL_EXPORTER_OTLP_ENDPOINT": rcv.endpoint()}
    agent = SondeRun("--pid", str(srv.pid), "--prometheus-port", str(prom), env=env)
    try:
        r = subprocess.run(client_cmd("go", f"127.0.0.1:{port}"), capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, f"client: {r.stdout} {r.stderr}")
        spans = wait_for(lambda: len(spans_of(rcv, "greeter")) >= len(GO_CALLS),
                         what="gRPC spans at the receiver")
        time.sleep(0.5)
        spans = spans_of(rcv, "greeter")
        check(len(spans) == len(GO_CALLS), f"{len(spans)} spans")
        got = sorted(((sp["name"], a["rpc.grpc.status_code"],
                       sp["status"].get("code", "STATUS_CODE_UNSET"), sp["kind"])
                      for _, sp, a in spans))
        want = sorted((n, c, "STATUS_CODE_ERROR" if c in SERVER_ERRORS else "STATUS_CODE_UNSET",
                       "SPAN_KIND_SERVER") for n, c in GO_CALLS)
        check(got == want, f"spans {got}")
        for _, sp, a in spans:
            check(a["rpc.system"] == "grpc" and a["server.port"] == port and
                  a["network.protocol.version"] == "2" and "http.route" not in a, f"{a}")

        def complete():
            points = latest_metrics(rcv, "greeter").get("rpc.server.duration", [])
            return points if sum(int(p["count"]) for _, _, p, _ in points) == 7 else None
        points = wait_for(complete, what="rpc.server.duration with 7 calls")
        check(points[0][3]["unit"] == "ms", "unit ms")
        series = {(pa["rpc.service"], pa["rpc.method"], pa["rpc.grpc.status_code"]):
                  int(p["count"]) for _, pa, p, _ in points}
        check(series == {("grpc.health.v1.Health", "Check", 0): 1,
                         ("grpc.health.v1.Health", "Check", 5): 1,
                         ("sonde.test.Echo", "Say", 0): 2, ("sonde.test.Echo", "Say", 13): 1,
                         ("sonde.test.Echo", "Count", 0): 1,
                         ("sonde.test.Echo", "Nope", 12): 1}, f"series {series}")
        check(all(pa["rpc.system"] == "grpc" for _, pa, _, _ in points), "rpc.system")
        check("http.server.request.duration" not in latest_metrics(rcv, "greeter"),
              "gRPC calls are not counted as HTTP requests")
        text = get(f"http://127.0.0.1:{prom}/metrics")[1].decode()
        line = [ln for ln in text.splitlines()
                if ln.startswith("rpc_server_duration_milliseconds_count{") and
                'rpc_method="Say"' in ln and 'rpc_grpc_status_code="0"' in ln]
        check(len(line) == 1 and line[0].endswith(" 2"), f"Prometheus: {line}")
    finally:
        agent.stop()
        srv.stop()
        rcv.stop()


# A raw h2c client: one connection per request (nginx may end a connection
# after a malformed request), each a HEADERS frame of literal fields.
RAW_H2C = r"""
import socket, struct, sys
def lit(name, value):
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload
port = int(sys.argv[1])
for method, path in ((b"\xff\xfeAB", b"/bad-method"), (b"GE T", b"/bad-method"),
                     (b"GET", sys.argv[2].encode("latin-1")), (b"GET", b"/echo")):
    block = (lit(b":method", method) + lit(b":scheme", b"http") + lit(b":path", path) +
             lit(b":authority", b"127.0.0.1"))
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") +
              frame(1, 5, 1, block))
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
print("done")
"""

# A path that would forge a span line and retitle the terminal if printed raw.
FORGED = ("/h\n12:00:00.000000 server nginx[1] GET /admin 200 1ms"
          "\x1b]0;pwned\x07\x1b[2J")


def test_hostile_h2c_requests_reach_no_output_raw():
    """Issue 21, defects 1 and 2 from real traffic: a request whose :method is
    the bytes ff fe 41 42, or has a space, is counted as malformed and makes no
    span, and /metrics stays valid (promtool accepts it, every byte UTF-8);
    no OTLP message carries the bytes; a :path with a line break, an OSC title
    and a clear-screen prints as one escaped line in `sonde trace`'s text."""
    from harness import Cgroup, in_cgroup
    port, prom = free_port(), free_port()
    docroot = tempfile.mkdtemp(prefix="sonde-www-")
    os.chmod(docroot, 0o755)
    cg = Cgroup("sonde-hostile-h2")
    raw = tempfile.mktemp(prefix="sonde-otlp-raw-")
    rcv = Receiver(raw_out=raw)
    ngx = Nginx(port, docroot, http2=True, cgroup=cg.path)
    agent = SondeRun("--cgroup", cg.path, "--prometheus-port", str(prom),
                     "--prometheus-address", "127.0.0.1",
                     env={"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.endpoint(),
                          "OTEL_METRIC_EXPORT_INTERVAL": "1000",
                          "OTEL_BSP_SCHEDULE_DELAY": "200"})
    text = subprocess.Popen([os.environ.get("SONDE", "build/sonde"), "trace", "--cgroup",
                             cg.path, "--no-summary"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        time.sleep(2)  # sonde trace attaches
        r = subprocess.run(in_cgroup(cg.path, [PYTHON, "-c", RAW_H2C, str(port), FORGED]),
                           capture_output=True, text=True, timeout=60)
        check("done" in r.stdout, f"raw h2c client: {r.stdout!r} {r.stderr!r}")

        def metrics():
            status, body = get(f"http://127.0.0.1:{prom}/metrics")
            return body if status == 200 else b""

        def counted():
            t = metrics().decode("utf-8", "replace")
            return ((prom_value(t, "sonde_http2_requests_malformed_total") or 0) >= 4 and
                    (prom_value(t, "sonde_spans_exported_total") or 0) >= 4)

        wait_for(counted,
                 timeout=20, what="the malformed requests counted and the spans exported")
        time.sleep(1.5)  # one more metrics export
        body = metrics()
    finally:
        text.send_signal(2)
        out, err = text.communicate(timeout=20)
        agent.stop()
        ngx.stop()
        rcv.stop()
        cg.remove()
    # /metrics: parses, and is text.
    body.decode("utf-8")
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=30)
    check(r.returncode == 0, f"promtool check metrics: {r.stdout!r} {r.stderr!r}")
    check(b'http_request_method="_OTHER"' not in body and b"\xef\xbf\xbd" not in body,
          "a malformed request made a series")
    # Both ends (the raw client and nginx) count the two malformed requests.
    malformed = prom_value(body.decode(), "sonde_http2_requests_malformed_total")
    check(malformed == 4, f"{malformed} malformed requests counted, 4 made")
    with open(raw, "rb") as f:
        otlp = f.read()
    os.unlink(raw)
    check(b"\xff\xfe" not in otlp, "the method's bytes reached an OTLP message")
    names = {sp["name"] for _, sp, _ in spans_of(rcv)}
    check(not any("bad-method" in n or "\ufffd" in n for n in names), f"span names {names}")
    check(any(n == "GET" or n.startswith("GET ") for n in names), f"no GET span: {names}")
    # The text output: one line per span, the hostile bytes as escapes.
    check(b"\x1b" not in out and b"\x07" not in out, f"raw escape sequences: {out!r}")
    lines = out.decode().splitlines()
    check(not any(line.startswith("12:00:00.000000") for line in lines), f"forged line: {out!r}")
    check(sum("\\x0a12:00:00.000000 server nginx[1] GET /admin 200 1ms\\x1b]0;pwned\\x07"
              "\\x1b[2J" in line for line in lines) == 2, f"escaped path not shown: {lines}")
    check(not any("bad-method" in line for line in lines), f"a malformed request: {lines}")
