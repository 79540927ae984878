# SPDX-License-Identifier: MIT
"""`sonde run`: OTLP traces and metrics as an independent decoder (the official
OpenTelemetry definitions, in tools/otlp-receiver) reads them, the Prometheus
endpoint, configuration, and collector faults."""

import os
import subprocess
import tempfile
import time

from harness import SONDE, free_port, make_cert
from otlp import (Failure, Receiver, SondeRun, attrs, check, get, items_server,
                  latest_metrics, spans_of, wait_for)

SEMCONV_DURATION_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5,
                           7.5, 10]
FAST = {"OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "200"}


def fifty_items(port):
    """GET /items/1..50: 10 of them (every fifth) answer 500."""
    for n in range(1, 51):
        status, _ = get(f"http://127.0.0.1:{port}/items/{n}")
        check(status == (500 if n % 5 == 0 else 200), f"/items/{n} answered {status}")


def run_exact(protocol, compression):
    port = free_port()
    svc = items_server(port, env={"OTEL_SERVICE_NAME": "checkout",
                                  "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"})
    rcv = Receiver()
    env = dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint(protocol),
               OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
               OTEL_EXPORTER_OTLP_COMPRESSION=compression,
               OTEL_EXPORTER_OTLP_HEADERS="x-tenant=acme%20corp",
               OTEL_RESOURCE_ATTRIBUTES="k8s.cluster.name=lab")
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0", env=env)
    try:
        fifty_items(port)
        spans = wait_for(lambda: len(spans_of(rcv, "checkout")) >= 50 and spans_of(rcv, "checkout"),
                         what="50 spans at the receiver")
        time.sleep(0.5)
        spans = spans_of(rcv, "checkout")
        check(len(spans) == 50, f"expected exactly 50 spans, got {len(spans)}")
        for req in rcv.requests():
            check(req["transport"] == ("grpc" if protocol == "grpc" else "http"),
                  f"sent over {req['transport']}")
            check(req["gzip"] == (compression == "gzip"), f"gzip was {req['gzip']}")
            check(req["headers"].get("x-tenant") == "acme corp",
                  f"x-tenant header: {req['headers'].get('x-tenant')!r}")
        errors = 0
        for res, sp, a in spans:
            check(res["service.name"] == "checkout", f"service.name {res['service.name']}")
            check(res["deployment.environment"] == "test", "process's own resource attribute")
            check(res["k8s.cluster.name"] == "lab", "agent's OTEL_RESOURCE_ATTRIBUTES")
            check(res["process.pid"] == svc.pid, f"process.pid {res['process.pid']}")
            check(res["telemetry.sdk.name"] == "sonde", "telemetry.sdk.name")
            check(res["service.instance.id"].endswith(f":{svc.pid}"), "service.instance.id")
            check(sp["kind"] == "SPAN_KIND_SERVER", f"kind {sp['kind']}")
            check(sp["name"] == "GET /items/{id}", f"name {sp['name']!r}")
            check(len(sp["traceId"]) == 32 and len(sp["spanId"]) == 16, "ids")
            check(not sp.get("parentSpanId"), "a root span has no parent")
            n = int(a["url.path"].rsplit("/", 1)[1])
            want = 500 if n % 5 == 0 else 200
            check(a["http.request.method"] == "GET", "method")
            check(a["http.route"] == "/items/{id}", f"route {a['http.route']}")
            check(a["url.scheme"] == "http", "scheme")
            check(a["http.response.status_code"] == want, f"status {a['http.response.status_code']}")
            check(a["server.address"] == "127.0.0.1" and a["server.port"] == port, "server")
            check(a["client.address"] == "127.0.0.1", "client.address")
            check(a["network.peer.address"] == "127.0.0.1", "network.peer.address")
            check(a["network.protocol.version"] == "1.1", "protocol version")
            check(a["user_agent.original"].startswith("Python-urllib"), "user agent")
            check(a["http.response.body.size"] == (12 if want == 500 else len(f"item {n}")),
                  f"response body size {a['http.response.body.size']}")
            check(int(sp["endTimeUnixNano"]) > int(sp["startTimeUnixNano"]), "times")
            if want == 500:
                errors += 1
                check(sp["status"].get("code") == "STATUS_CODE_ERROR", f"status {sp['status']}")
                check(a["error.type"] == "500", "error.type")
            else:
                check(sp["status"].get("code", "STATUS_CODE_UNSET") == "STATUS_CODE_UNSET",
                      f"status {sp['status']}")
                check("error.type" not in a, "no error.type on success")
        check(errors == 10, f"{errors} error spans")

        def complete():
            m = latest_metrics(rcv, "checkout").get("http.server.request.duration", [])
            return m if sum(int(p["count"]) for _, _, p, _ in m) == 50 else None
        points = wait_for(complete, what="duration histogram with 50 requests")
        by_status = {pa["http.response.status_code"]: (pa, p, m) for _, pa, p, m in points}
        check(sorted(by_status) == [200, 500], f"series by status {sorted(by_status)}")
        pa, p, m = by_status[500]
        check(int(p["count"]) == 10 and pa["error.type"] == "500", f"500 series {pa} {p['count']}")
        check(pa["http.route"] == "/items/{id}" and pa["http.request.method"] == "GET", "attrs")
        pa, p, m = by_status[200]
        check(int(p["count"]) == 40 and "error.type" not in pa, f"200 series {pa}")
        check(m["unit"] == "s", "unit s")
        check(m["histogram"]["aggregationTemporality"] == "AGGREGATION_TEMPORALITY_CUMULATIVE",
              "cumulative")
        check(p["explicitBounds"] == SEMCONV_DURATION_BOUNDS, f"bounds {p['explicitBounds']}")
        check(sum(int(c) for c in p["bucketCounts"]) == 40, "bucket counts add up")
        check(0 < p["sum"] < 40 * 1.0, f"sum {p['sum']}")
        sizes = latest_metrics(rcv, "checkout").get("http.server.response.body.size", [])
        check(sum(float(p["sum"]) for _, _, p, _ in sizes) ==
              sum(len(f"item {n}") if n % 5 else 12 for n in range(1, 51)),
              "response body bytes add up")
        health = latest_metrics(rcv, "sonde")
        check("sonde.spans.exported" in health and "sonde.export.queue.depth" in health,
              f"agent health metrics: {sorted(health)}")
    finally:
        rc = agent.stop()
        svc.stop()
        rcv.stop()
    check(rc == 0, f"sonde run exited {rc}: {agent.stderr()}")
    check("50 spans" in agent.stderr() and "50 exported" in agent.stderr(), agent.stderr())


def test_otlp_http_protobuf():
    run_exact("http/protobuf", "none")


def test_otlp_http_protobuf_gzip():
    run_exact("http/protobuf", "gzip")


def test_otlp_grpc():
    run_exact("grpc", "none")


def test_otlp_grpc_gzip():
    run_exact("grpc", "gzip")


def test_traceparent_sets_trace_and_parent_and_sampling():
    port = free_port()
    svc = items_server(port)
    rcv = Receiver()
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0",
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint()))
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    try:
        get(f"http://127.0.0.1:{port}/items/1",
            {"traceparent": f"00-{trace_id}-{parent}-01"})
        # Not sampled upstream: parentbased_always_on (the default) drops it...
        get(f"http://127.0.0.1:{port}/items/2",
            {"traceparent": f"00-{'ab' * 16}-{'cd' * 8}-00"})
        get(f"http://127.0.0.1:{port}/items/3", {"traceparent": "garbage"})
        wait_for(lambda: len(spans_of(rcv)) >= 2, what="spans")

        def counted():
            m = latest_metrics(rcv).get("http.server.request.duration", [])
            return sum(int(p["count"]) for _, _, p, _ in m) == 3
        # ...but metrics count every request.
        wait_for(counted, what="3 requests in the metrics")
        spans = {a["url.path"]: sp for _, sp, a in spans_of(rcv)}
        check(sorted(spans) == ["/items/1", "/items/3"], f"exported {sorted(spans)}")
        sp = spans["/items/1"]
        check(sp["traceId"] == trace_id, f"trace id {sp['traceId']}")
        check(sp["parentSpanId"] == parent, f"parent {sp.get('parentSpanId')}")
        check(sp["spanId"] != parent, "a span id of its own")
        check(sp["flags"] & 0x1 and sp["flags"] & 0x300 == 0x300, f"flags {sp['flags']:#x}")
        check(not spans["/items/3"].get("parentSpanId"), "an invalid traceparent is ignored")
    finally:
        agent.stop()
        svc.stop()
        rcv.stop()


def test_sampler_always_off_keeps_metrics():
    port = free_port()
    svc = items_server(port)
    rcv = Receiver()
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0",
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint(),
                              OTEL_TRACES_SAMPLER="always_off"))
    try:
        for n in range(1, 21):
            get(f"http://127.0.0.1:{port}/items/{n}")

        def counted():
            m = latest_metrics(rcv).get("http.server.request.duration", [])
            return sum(int(p["count"]) for _, _, p, _ in m) == 20
        wait_for(counted, what="20 requests in the metrics")
        check(spans_of(rcv) == [], "always_off exports no span")
    finally:
        agent.stop()
        svc.stop()
        rcv.stop()
    check("20 spans (20 not sampled" in agent.stderr(), agent.stderr())


def test_no_collector_prints_spans():
    port = free_port()
    svc = items_server(port)
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0")
    try:
        check("traces → console" in agent.stderr(), agent.stderr())
        get(f"http://127.0.0.1:{port}/items/7")
        wait_for(lambda: any("/items/7" in line for line in agent.stdout_lines),
                 what="a span line on stdout")
        line = next(line for line in agent.stdout_lines if "/items/7" in line)
        check("GET" in line and "200" in line and "server" in line, line)
    finally:
        agent.stop()
        svc.stop()


def test_route_cap_folds_and_counts():
    port = free_port()
    svc = items_server(port)
    prom = free_port()
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", str(prom),
                     env={"SONDE_ROUTE_LIMIT": "3"})
    try:
        for name in ["a", "b", "c", "d", "e", "a"]:
            get(f"http://127.0.0.1:{port}/{name}/42")

        def scraped():
            text = get(f"http://127.0.0.1:{prom}/metrics")[1].decode()
            return text if "sonde_routes_overflowed_total 2" in text else None
        text = wait_for(scraped, what="2 routes folded")
        routes = {}
        for line in text.splitlines():
            if line.startswith("http_server_request_duration_seconds_count{"):
                route = line.split('http_route="')[1].split('"')[0]
                routes[route] = int(line.rsplit(" ", 1)[1])
        check(routes == {"/a/{id}": 2, "/b/{id}": 1, "/c/{id}": 1, "/{other}": 2},
              f"routes {routes}")
    finally:
        agent.stop()
        svc.stop()


def test_bad_configuration_is_one_line():
    cases = [
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, [], "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, [], "http/json"),
        ({}, ["--prometheus-port", "70000"], "--prometheus-port"),
        ({}, ["--no-such-option"], "--no-such-option"),
    ]
    conf = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    conf.write("exporter:\n  otlp:\n    endpiont: http://x:4318\n")
    conf.close()
    cases.append(({}, ["--config", conf.name], f"{conf.name}:3"))
    for env, args, needle in cases:
        full = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        full.update(env)
        r = subprocess.run([SONDE, "run", *args], capture_output=True, text=True,
                           env=full, timeout=20)
        check(r.returncode == 2, f"{env} {args}: exit {r.returncode}")
        lines = r.stderr.strip().splitlines()
        check(len(lines) == 1 and needle in lines[0], f"{env} {args}: {r.stderr!r}")
    os.unlink(conf.name)


def test_precedence_flag_env_file():
    """prometheus.port from all three sources: the flag wins, then env, then file."""
    port = free_port()
    svc = items_server(port)
    p_file, p_env, p_flag = free_port(), free_port(), free_port()
    conf = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    conf.write(f"prometheus:\n  port: {p_file}\nroutes:\n  limit: 5\n")
    conf.close()
    try:
        for args, env, want in [
            (["--config", conf.name], {}, p_file),
            (["--config", conf.name], {"SONDE_PROMETHEUS_PORT": str(p_env)}, p_env),
            (["--config", conf.name, "--prometheus-port", str(p_flag)],
             {"SONDE_PROMETHEUS_PORT": str(p_env)}, p_flag),
        ]:
            agent = SondeRun("--pid", str(svc.pid), *args, env=env)
            try:
                check(f":{want}/metrics" in agent.stderr(), agent.stderr())
                status, body = get(f"http://127.0.0.1:{want}/healthz")
                check(status == 200 and body == b"ok\n", f"healthz {status} {body!r}")
            finally:
                agent.stop()
    finally:
        svc.stop()
        os.unlink(conf.name)


class TlsProxy:
    """nginx terminating TLS in front of the receiver: OTLP/HTTP on one port and
    OTLP/gRPC (HTTP/2) on another, with a self-signed certificate for 127.0.0.1."""

    def __init__(self, rcv):
        import shutil as _shutil
        self._rm = _shutil.rmtree
        self.dir = tempfile.mkdtemp(prefix="sonde-tls-")
        self.cert, key = make_cert(self.dir)
        self.http_port, self.grpc_port = free_port(), free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    ssl_certificate {self.cert};
    ssl_certificate_key {key};
    server {{
        listen 127.0.0.1:{self.http_port} ssl;
        location / {{ proxy_pass http://127.0.0.1:{rcv.http_port}; }}
    }}
    server {{
        listen 127.0.0.1:{self.grpc_port} ssl http2;
        location / {{ grpc_pass grpc://127.0.0.1:{rcv.grpc_port}; }}
    }}
}}
""")
        from harness import Proc, wait_port
        self.proc = Proc(["nginx", "-c", conf, "-p", self.dir])
        wait_port(self.http_port)
        wait_port(self.grpc_port)

    def stop(self):
        self.proc.stop()
        self._rm(self.dir, ignore_errors=True)


def test_otlp_over_tls_with_ca_file_and_insecure():
    port = free_port()
    svc = items_server(port)
    rcv = Receiver()
    proxy = TlsProxy(rcv)
    try:
        cases = [
            ("http/protobuf", proxy.http_port, {"OTEL_EXPORTER_OTLP_CERTIFICATE": proxy.cert},
             "/items/1"),
            ("grpc", proxy.grpc_port, {"OTEL_EXPORTER_OTLP_CERTIFICATE": proxy.cert},
             "/items/2"),
            ("http/protobuf", proxy.http_port, {"OTEL_EXPORTER_OTLP_INSECURE": "true"},
             "/items/3"),
            ("grpc", proxy.grpc_port, {"OTEL_EXPORTER_OTLP_INSECURE": "true"}, "/items/4"),
        ]
        for protocol, tls_port, extra, path in cases:
            env = dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=f"https://127.0.0.1:{tls_port}",
                       OTEL_EXPORTER_OTLP_PROTOCOL=protocol, **extra)
            agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0", env=env)
            try:
                get(f"http://127.0.0.1:{port}{path}")
                wait_for(lambda: path in {a["url.path"] for _, _, a in spans_of(rcv)},
                         what=f"{path} over TLS ({protocol}, {extra})")
            finally:
                agent.stop()
        # Without the CA file the self-signed collector is refused, and said so.
        env = dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=f"https://127.0.0.1:{proxy.http_port}")
        agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0", env=env)
        try:
            get(f"http://127.0.0.1:{port}/items/6")
            wait_for(lambda: "certificate" in agent.stderr().lower(),
                     what="a certificate error on stderr")
            check("/items/6" not in {a["url.path"] for _, _, a in spans_of(rcv)},
                  "an unverified collector got the span")
        finally:
            agent.stop()
    finally:
        proxy.stop()
        svc.stop()
        rcv.stop()


def test_client_spans_and_metrics():
    """A long-lived Python client calling the items service: CLIENT spans named
    after the route, server.address/port on spans and client metrics, and the
    executable's name as service.name when the process sets none."""
    port = free_port()
    svc = items_server(port)
    rcv = Receiver()
    code = ("import sys, time, urllib.request\n"
            "time.sleep(1.5)\n"
            "for n in (1, 5, 7):\n"
            "    try:\n"
            f"        urllib.request.urlopen('http://localhost:{port}/items/%d' % n).read()\n"
            "    except Exception:\n"
            "        pass\n"
            "time.sleep(30)\n")
    from harness import PYTHON, Proc
    client = Proc([PYTHON, "-c", code])
    agent = SondeRun("--pid", str(client.pid), "--prometheus-port", "0",
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint()))
    try:
        spans = wait_for(lambda: len(spans_of(rcv)) >= 3 and spans_of(rcv), timeout=20,
                         what="3 client spans")
        for res, sp, a in spans:
            check(sp["kind"] == "SPAN_KIND_CLIENT", f"kind {sp['kind']}")
            check(sp["name"] == "GET /items/{id}", f"name {sp['name']}")
            check(a["server.address"] == "localhost" and a["server.port"] == port,
                  f"server {a.get('server.address')}:{a.get('server.port')}")
            check(res["service.name"] == res["process.executable.name"],
                  f"service.name {res['service.name']} without OTEL_SERVICE_NAME")
            failed = a["url.path"] == "/items/5"
            check((sp["status"].get("code") == "STATUS_CODE_ERROR") == failed,
                  f"{a['url.path']} status {sp['status']}")

        def client_metrics():
            m = latest_metrics(rcv).get("http.client.request.duration", [])
            return m if sum(int(p["count"]) for _, _, p, _ in m) == 3 else None
        points = wait_for(client_metrics, what="client duration metrics")
        for _, pa, _, _ in points:
            check(pa["server.address"] == "localhost" and pa["server.port"] == port,
                  f"client metric attributes {pa}")
    finally:
        agent.stop()
        client.stop()
        svc.stop()
        rcv.stop()
