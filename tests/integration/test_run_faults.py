# SPDX-License-Identifier: MIT
"""`sonde run` against a collector that is down, dies, refuses with 503 and
Retry-After, or never answers: the agent stays up, memory stays bounded, drops
are counted, and spans flow again when the collector is back."""

import shutil
import tempfile
import time

from harness import Nginx, curl, free_port
from otlp import (Receiver, SondeRun, burst, check, get, items_server, prom_value,
                  spans_of, wait_for)

FAST = {"OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "200"}


def paths_received(rcv):
    return {a["url.path"] for _, _, a in spans_of(rcv)}


def metrics_text(prom):
    status, body = get(f"http://127.0.0.1:{prom}/metrics")
    check(status == 200, f"/metrics answered {status}")
    return body.decode()


def test_collector_down_at_start_then_up():
    port, prom = free_port(), free_port()
    http_port, grpc_port = free_port(), free_port()
    svc = items_server(port)
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", str(prom),
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{http_port}"))
    rcv = None
    try:
        burst(port, [f"/items/{n}" for n in range(1, 11)])
        wait_for(lambda: (prom_value(metrics_text(prom), "sonde_export_failures_total") or 0) > 0,
                 what="failed exports to be counted")
        check(agent.alive(), "sonde run died with the collector down")
        rcv = Receiver(http_port=http_port, grpc_port=grpc_port)
        want = {f"/items/{n}" for n in range(1, 11)}
        wait_for(lambda: want <= paths_received(rcv), timeout=20,
                 what="the spans queued while the collector was down")
    finally:
        agent.stop()
        svc.stop()
        if rcv:
            rcv.stop()


def test_collector_killed_mid_run():
    port = free_port()
    svc = items_server(port)
    rcv = Receiver()
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0",
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint()))
    try:
        burst(port, [f"/items/{n}" for n in range(1, 11)])
        wait_for(lambda: len(paths_received(rcv)) == 10, what="first 10 spans")
        rcv.kill()
        burst(port, [f"/items/{n}" for n in range(11, 21)])
        time.sleep(1.5)
        check(agent.alive(), "sonde run died with its collector")
        rcv = Receiver(http_port=rcv.http_port, grpc_port=rcv.grpc_port, out=rcv.out)
        burst(port, [f"/items/{n}" for n in range(21, 31)])
        want = {f"/items/{n}" for n in range(11, 31)}
        wait_for(lambda: want <= paths_received(rcv), timeout=20,
                 what="spans from during and after the outage")
    finally:
        agent.stop()
        svc.stop()
        rcv.stop()


def test_503_with_retry_after_is_honoured():
    port = free_port()
    svc = items_server(port)
    rcv = Receiver(status=503, retry_after=2, fail_count=1)
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0",
                     env=dict(OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint(),
                              OTEL_BSP_SCHEDULE_DELAY="100"))
    try:
        burst(port, [f"/items/{n}" for n in range(1, 6)])
        wait_for(lambda: len(paths_received(rcv)) == 5, timeout=15, what="5 spans after a 503")
        traces = rcv.requests("traces")
        check(traces[0]["result"] == "fail" and traces[1]["result"] == "ok",
              f"results {[t['result'] for t in traces]}")
        waited = (traces[1]["time_ms"] - traces[0]["time_ms"]) / 1000
        check(1.9 <= waited < 4, f"retried after {waited:.2f}s, Retry-After said 2s")
    finally:
        agent.stop()
        svc.stop()
        rcv.stop()


def test_retry_after_holds_whatever_wakes_the_exporter():
    """A collector answering 429 with Retry-After: 5 to the first three
    requests while a metrics snapshot comes every second, each of which wakes
    the exporter thread: the retries come 5 s apart (they came every second),
    then the export goes through."""
    port = free_port()
    svc = items_server(port)  # traced, but sent nothing: the metrics alone export
    rcv = Receiver(status=429, retry_after=5, fail_count=3)
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0",
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint()))
    try:
        wait_for(lambda: rcv.requests("metrics", accepted_only=True), timeout=30,
                 what="a metrics export accepted after three 429s")
        reqs = rcv.requests()
        check({r["signal"] for r in reqs} == {"metrics"}, f"signals {[r['signal'] for r in reqs]}")
        results = [r["result"] for r in reqs]
        check(results[:4] == ["fail", "fail", "fail", "ok"], f"results {results}")
        times = [r["time_ms"] / 1000 for r in reqs]
        gaps = [round(b - a, 2) for a, b in zip(times[:4], times[1:4])]
        check(all(4.9 <= g < 7 for g in gaps), f"attempts {gaps} s apart, Retry-After said 5 s")
        in_window = [t for t in times if t < times[0] + 12]
        check(len(in_window) == 3, f"{len(in_window)} attempts in 12 s, Retry-After allows 3")
    finally:
        agent.stop()
        svc.stop()
        rcv.stop()


def test_slow_collector_makes_the_agent_wait_not_drop():
    """A burst of 300 spans into a queue of 20 that a slow collector drains 10
    at a time: the agent waits for room (the events wait in the ring buffer)
    instead of dropping most of them."""
    port, prom = free_port(), free_port()
    root = tempfile.mkdtemp(prefix="sonde-www-")
    web = Nginx(port, root)
    rcv = Receiver(delay_ms=10)
    agent = SondeRun("--pid", str(web.worker_pids()[0]), "--prometheus-port", str(prom),
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint(),
                              OTEL_BSP_SCHEDULE_DELAY="50",
                              OTEL_BSP_MAX_QUEUE_SIZE="20",
                              OTEL_BSP_MAX_EXPORT_BATCH_SIZE="10"))
    try:
        # One curl, one keep-alive connection: 300 requests in well under 100 ms
        # of the agent's time, so they reach it together.
        curl(f"http://127.0.0.1:{port}/echo?[1-300]")
        echoes = lambda: sum(a["url.path"] == "/echo" for _, _, a in spans_of(rcv))
        wait_for(lambda: echoes() >= 300, timeout=30, what="all 300 spans at the slow collector")
        text = metrics_text(prom)
        check(echoes() == 300, f"{echoes()} spans for 300 requests")
        check(prom_value(text, "sonde_spans_dropped_total") == 0,
              f"dropped {prom_value(text, 'sonde_spans_dropped_total')}")
        check(prom_value(text, "sonde_export_queue_waits_total") > 0,
              f"waits {prom_value(text, 'sonde_export_queue_waits_total')}")
        check(len(rcv.requests("traces")) >= 30, "batches of at most 10 spans")
    finally:
        rc = agent.stop()
        web.stop()
        rcv.stop()
        shutil.rmtree(root, ignore_errors=True)
    check(rc == 0, f"exit {rc}: {agent.stderr()}")


def test_collector_that_never_answers():
    port, prom = free_port(), free_port()
    svc = items_server(port)
    rcv = Receiver(mode="hang")
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", str(prom),
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint(),
                              OTEL_EXPORTER_OTLP_TIMEOUT="500",
                              OTEL_BSP_MAX_QUEUE_SIZE="50",
                              OTEL_BSP_MAX_EXPORT_BATCH_SIZE="10"))
    try:
        burst(port, [f"/items/{n}" for n in range(1, 301)])
        wait_for(lambda: prom_value(metrics_text(prom), "sonde_spans_total") == 300,
                 what="300 spans built")
        rss1 = agent.rss_kib()
        burst(port, [f"/items/{n}" for n in range(301, 601)])
        wait_for(lambda: prom_value(metrics_text(prom), "sonde_spans_total") == 600,
                 what="600 spans built")
        rss2 = agent.rss_kib()
        text = metrics_text(prom)
        dropped = prom_value(text, "sonde_spans_dropped_total")
        depth = prom_value(text, "sonde_export_queue_depth")
        check(dropped >= 500, f"dropped {dropped}: the queue holds 50")
        check(depth <= 50, f"queue depth {depth}")
        check(rss2 - rss1 < 2048, f"memory grew by {rss2 - rss1} KiB with a stuck collector")
        check(get(f"http://127.0.0.1:{prom}/healthz")[0] == 200, "healthz while stuck")
        # The collector comes back: new spans get through.
        rcv.set_mode(mode="ok")
        wait_for(lambda: paths_received(rcv), timeout=20, what="any span after recovery")
        wait_for(lambda: prom_value(metrics_text(prom), "sonde_export_queue_depth") == 0,
                 timeout=20, what="the queue to drain")
        burst(port, ["/items/9001", "/items/9002"])
        wait_for(lambda: {"/items/9001", "/items/9002"} <= paths_received(rcv), timeout=10,
                 what="spans sent after recovery")
        check(agent.alive(), "sonde run died")
    finally:
        rc = agent.stop()
        svc.stop()
        rcv.stop()
    check(rc == 0, f"exit {rc}")
    check("dropped" in agent.stderr(), agent.stderr())


def test_collector_answering_garbage():
    port = free_port()
    svc = items_server(port)
    rcv = Receiver(mode="garbage")
    agent = SondeRun("--pid", str(svc.pid), "--prometheus-port", "0",
                     env=dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint("grpc"),
                              OTEL_EXPORTER_OTLP_PROTOCOL="grpc"))
    try:
        burst(port, [f"/items/{n}" for n in range(1, 21)])
        wait_for(lambda: len(rcv.requests("traces")) >= 1, what="an export")
        time.sleep(1.5)
        check(agent.alive(), "sonde run died on a garbage answer")
    finally:
        rc = agent.stop()
        svc.stop()
        rcv.stop()
    check(rc == 0, f"exit {rc}: {agent.stderr()}")
