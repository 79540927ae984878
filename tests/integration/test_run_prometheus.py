# SPDX-License-Identifier: MIT
"""A real Prometheus 2.42 scrapes `sonde run`'s /metrics (it asks for
OpenMetrics, and gets it); PromQL over what it stored gives the expected
request counts, error ratio, rate and latency, and `promtool check metrics`
accepts the text exposition. Exemplars: a trace id from an exemplar that
Prometheus stored, and from one in OTLP, is a trace sonde exported."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

from harness import Proc, free_port, wait_port
from otlp import (Receiver, SondeRun, burst, check, get, items_server, latest_metrics,
                  spans_of, wait_for)


class Prometheus:
    def __init__(self, target_port, flags=()):
        self.dir = tempfile.mkdtemp(prefix="sonde-prom-")
        self.port = free_port()
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sonde
    static_configs:
      - targets: ['127.0.0.1:{target_port}']
""")
        self.proc = Proc(["prometheus", f"--config.file={conf}",
                          f"--storage.tsdb.path={self.dir}/data",
                          f"--web.listen-address=127.0.0.1:{self.port}", *flags])
        wait_port(self.port, timeout=30)
        # The web port opens before the storage is ready: /-/ready says when.
        deadline = time.time() + 30
        while get(f"http://127.0.0.1:{self.port}/-/ready")[0] != 200:
            check(time.time() < deadline, "Prometheus did not become ready")
            time.sleep(0.2)

    def query(self, q):
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": q}))
        status, body = get(url)
        check(status == 200, f"query {q}: HTTP {status} {body[:200]!r}")
        result = json.loads(body)["data"]["result"]
        return [float(r["value"][1]) for r in result]

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_prometheus_scrapes_red_metrics():
    port, metrics_port = free_port(), free_port()
    svc = items_server(port, env={"OTEL_SERVICE_NAME": "checkout"})
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", str(metrics_port),
                     "--prometheus-address", "127.0.0.1")
    prom = Prometheus(metrics_port)
    count = 'http_server_request_duration_seconds_count{service_name="checkout"}'
    try:
        # Poll for the first scrape instead of sleeping: it comes after ~6 s.
        wait_for(lambda: prom.query('up{job="sonde"}') == [1.0], timeout=40,
                 what="Prometheus to scrape sonde")
        burst(port, [f"/items/{n}" for n in range(1, 26)])
        wait_for(lambda: prom.query(f"sum({count})") == [25.0], timeout=20,
                 what="25 requests in Prometheus")
        time.sleep(2.5)  # two more scrapes, so rate() has an increase to see
        burst(port, [f"/items/{n}" for n in range(26, 51)])
        wait_for(lambda: prom.query(f"sum({count})") == [50.0], timeout=20,
                 what="50 requests in Prometheus")

        ratio = prom.query(
            'sum(http_server_request_duration_seconds_count{service_name="checkout",'
            'http_response_status_code="500"}) / sum(' + count + ')')
        check(ratio == [0.2], f"error ratio {ratio}: 10 of 50 answered 500")
        errors = prom.query('sum(http_server_request_duration_seconds_count{'
                            'service_name="checkout",error_type="500"})')
        check(errors == [10.0], f"error.type=500 count {errors}")
        routes = prom.query(f'count(count by (http_route) ({count}))')
        check(routes == [1.0], f"{routes} routes: /items/N templates to /items/{{id}}")
        rate = prom.query(f"sum(rate({count}[1m]))")
        check(len(rate) == 1 and rate[0] > 0, f"rate {rate}")
        p50 = prom.query('histogram_quantile(0.5, sum by (le) ('
                         'http_server_request_duration_seconds_bucket{service_name="checkout"}))')
        check(len(p50) == 1 and 0 < p50[0] <= 0.1, f"median latency {p50} s")
        up = prom.query('sonde_spans_total{job="sonde"}')
        check(up and up[0] >= 50, f"sonde_spans_total {up}")

        status, body = get(f"http://127.0.0.1:{metrics_port}/metrics")
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           timeout=30)
        check(r.returncode == 0, f"promtool check metrics: {r.stdout!r} {r.stderr!r}")
    finally:
        prom.stop()
        agent.stop()
        svc.stop()


def get_with(url, accept):
    import urllib.request
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers.get("Content-Type"), r.read()


def test_exemplars_link_metrics_to_traces():
    port, metrics_port = free_port(), free_port()
    receiver = Receiver()
    svc = items_server(port, env={"OTEL_SERVICE_NAME": "checkout"})
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", str(metrics_port),
                     "--prometheus-address", "127.0.0.1",
                     env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint(),
                          "OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "200"})
    prom = Prometheus(metrics_port, flags=["--enable-feature=exemplar-storage"])
    try:
        wait_for(lambda: prom.query('up{job="sonde"}') == [1.0], timeout=40,
                 what="Prometheus to scrape sonde")
        burst(port, [f"/items/{n}" for n in range(1, 21)])
        wait_for(lambda: len(spans_of(receiver)) >= 20, timeout=20, what="20 spans exported")
        exported = {sp["traceId"] for _, sp, _ in spans_of(receiver)}

        # OpenMetrics on request, with exemplars and # EOF; the text format without.
        ctype, om = get_with(f"http://127.0.0.1:{metrics_port}/metrics",
                             "application/openmetrics-text;version=1.0.0")
        check(ctype.startswith("application/openmetrics-text"), f"content type {ctype}")
        check(om.endswith(b"# EOF\n"), "no # EOF")
        om_traces = set(re.findall(rb'# \{trace_id="([0-9a-f]{32})",span_id="[0-9a-f]{16}"\}',
                                   om))
        check(om_traces and {t.decode() for t in om_traces} <= exported,
              f"exemplar traces {om_traces} not among the exported spans")
        ctype, text = get_with(f"http://127.0.0.1:{metrics_port}/metrics", "text/plain")
        check(ctype.startswith("text/plain") and b"trace_id" not in text, "text format")
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           timeout=30)
        check(r.returncode == 0, f"promtool check metrics: {r.stdout!r} {r.stderr!r}")
        # promtool 2.42 reads the text format only ("expected integer as
        # timestamp, got #" on an exemplar): the OpenMetrics exposition is
        # checked by Prometheus's own parser, which scraped it (every scrape
        # of this test and the one above negotiates it) and stored its
        # exemplars (below).

        def stored():
            now = time.time()
            url = (f"http://127.0.0.1:{prom.port}/api/v1/query_exemplars?" +
                   urllib.parse.urlencode({"query": "http_server_request_duration_seconds_bucket",
                                           "start": now - 300, "end": now + 60}))
            status, body = get(url)
            data = json.loads(body).get("data") or []
            return [e["labels"]["trace_id"] for d in data for e in d.get("exemplars", [])]

        traces = wait_for(stored, timeout=30, what="exemplars stored by Prometheus")
        check(set(traces) <= exported, f"Prometheus exemplars {traces} not exported traces")

        # OTLP: the duration histogram's exemplars name exported traces too.
        def otlp_exemplars():
            m = latest_metrics(receiver, "checkout").get("http.server.request.duration", [])
            return [e["traceId"] for _, _, p, _ in m for e in p.get("exemplars", [])]

        ot = wait_for(otlp_exemplars, timeout=20, what="OTLP exemplars")
        check(set(ot) <= exported, f"OTLP exemplars {ot} not exported traces")
    finally:
        prom.stop()
        agent.stop()
        svc.stop()
        receiver.stop()
