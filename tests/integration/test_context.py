# SPDX-License-Identifier: MIT
"""Request context: one trace per request across the threads and processes of
a node, under concurrency, never by timing. Two Python thread-per-connection
services, A calling B; every request names its customer, so each trace must
hold exactly one customer's spans."""

import collections
import http.client
import os
import subprocess
import tempfile
import threading
import time

from harness import (HERE, PYTHON, Proc, Sonde, check, free_port, make_cert, wait_port)

SVC = os.path.join(HERE, "peers", "chain_svc.py")


def start_chain(a_args=(), b_args=(), scheme="http"):
    """B, then A calling B: (a, b, a_port)."""
    pa, pb = free_port(), free_port()
    b = Proc([PYTHON, SVC, "B", str(pb), *b_args])
    wait_port(pb)
    a = Proc([PYTHON, SVC, "A", str(pa), "--down", f"{scheme}://127.0.0.1:{pb}", *a_args])
    wait_port(pa)
    return a, b, pa


def drive(port, customers, keep_alive=False, headers=None):
    """One request per customer, all at once (or, keep_alive, one after the
    other on a single connection); returns the bodies."""
    bodies = {}

    def one(c):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", f"/order?customer={c}", headers=headers or {})
        bodies[c] = conn.getresponse().read().decode()
        conn.close()

    if keep_alive:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for c in customers:
            conn.request("GET", f"/order?customer={c}")
            bodies[c] = conn.getresponse().read().decode()
        conn.close()
        return bodies
    threads = [threading.Thread(target=one, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return bodies


def traces_of(spans, port_a):
    """The spans of each trace that touched A, by trace id."""
    by_trace = collections.defaultdict(list)
    for s in spans:
        by_trace[s["trace_id"]].append(s)
    return {t: ss for t, ss in by_trace.items()
            if any(s["kind"] == "server" and s.get("server.port") == port_a for s in ss)}


def check_chain(traces, customers, b_pid, a_pid, link_b):
    """Each customer's request is exactly one trace: A's server span (root),
    A's client span (its child, same thread), B's server span (the client
    span's child, the other end of the connection)."""
    check(len(traces) == len(customers), f"{len(traces)} traces for {len(customers)} requests")
    seen = set()
    for tid, ss in traces.items():
        queries = {s.get("url.query") for s in ss}
        check(len(queries) == 1, f"trace {tid} mixes requests: {queries}")
        seen |= queries
        by_kind = {(s["kind"], s["process.pid"]): s for s in ss}
        check(len(ss) == 3 and len(by_kind) == 3, f"trace {tid}: {len(ss)} spans {list(by_kind)}")
        a_srv, a_cli = by_kind[("server", a_pid)], by_kind[("client", a_pid)]
        b_srv = by_kind[("server", b_pid)]
        check("parent_span_id" not in a_srv and a_srv["sonde.link"] == "root",
              f"A's server span is not the root: {a_srv}")
        check(a_cli["parent_span_id"] == a_srv["span_id"] and a_cli["sonde.link"] == "thread",
              f"A's call is not its request's child: {a_cli}")
        check(b_srv["parent_span_id"] == a_cli["span_id"] and b_srv["sonde.link"] == link_b,
              f"B's span is not the call's child: {b_srv}")
    check(seen == {f"customer={c}" for c in customers}, f"requests seen: {sorted(seen)}")


def run_traced(pids, fn, *args):
    sonde = Sonde("--pid", str(pids[0]), "--pid", str(pids[1]), "--stats", "--capture-query")
    try:
        result = fn(*args)
        sonde.settle(quiet=1.0)
    finally:
        sonde.stop()
    return sonde, result


def test_concurrent_customers_each_get_one_trace():
    a, b, pa = start_chain()
    customers = [f"c{i:02d}" for i in range(32)]
    try:
        sonde, bodies = run_traced((a.pid, b.pid), drive, pa, customers)
    finally:
        a.stop()
        b.stop()
    check(all(f"customer={c}" in bodies[c] for c in customers), "a request failed")
    check_chain(traces_of(sonde.spans(), pa), customers, b.pid, a.pid, "connection")
    check("roots where a parent was expected 0 " in sonde.stderr(),
          f"a link was expected and missed:\n{sonde.stderr()}")


def test_keep_alive_connections_carry_separate_traces():
    """A calls B over one keep-alive connection per serving thread, and the
    driver sends its requests one after another on one connection: every
    request is still its own trace (no giant trace, OBI #2551)."""
    a, b, pa = start_chain(a_args=("--keep-alive",))
    customers = [f"k{i:02d}" for i in range(20)]
    try:
        sonde, _ = run_traced((a.pid, b.pid), drive, pa, customers, True)
    finally:
        a.stop()
        b.stop()
    spans = sonde.spans()
    a_calls = [s for s in spans if s["kind"] == "client" and s["process.pid"] == a.pid]
    ports = {s["network.local.port"] for s in a_calls}
    check(len(ports) == 1, f"A's calls used {len(ports)} connections, the test wants one")
    check_chain(traces_of(spans, pa), customers, b.pid, a.pid, "connection")


def test_callers_traceparent_is_continued():
    a, b, pa = start_chain()
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    tp = f"00-{trace}-00f067aa0ba902b7-01"
    try:
        sonde, _ = run_traced((a.pid, b.pid), drive, pa, ["h1"], False, {"traceparent": tp})
    finally:
        a.stop()
        b.stop()
    spans = [s for s in sonde.spans() if s.get("url.query") == "customer=h1"]
    check(len(spans) == 3 and all(s["trace_id"] == trace for s in spans),
          f"not all in the caller's trace: {spans}")
    a_srv = [s for s in spans if s["kind"] == "server" and s["process.pid"] == a.pid][0]
    check(a_srv["parent_span_id"] == "00f067aa0ba902b7" and a_srv["sonde.link"] == "header",
          f"A's server span does not continue the header: {a_srv}")


def test_tls_hop_in_the_middle():
    """A calls B over HTTPS: B's server span still finds A's client span, by
    where the TLS record that carries the request starts on the wire."""
    certdir = tempfile.mkdtemp(prefix="sonde-ctx-tls-")
    cert, key = make_cert(certdir)
    a, b, pa = start_chain(b_args=("--tls", cert, key), scheme="https")
    customers = [f"t{i:02d}" for i in range(16)]
    try:
        sonde, _ = run_traced((a.pid, b.pid), drive, pa, customers)
    finally:
        a.stop()
        b.stop()
    spans = sonde.spans()
    b_spans = [s for s in spans if s["process.pid"] == b.pid]
    check(b_spans and all(s["url.scheme"] == "https" for s in b_spans), f"B over TLS: {b_spans}")
    check_chain(traces_of(spans, pa), customers, b.pid, a.pid, "connection")


def test_tree_view_nests_the_call():
    """--tree: the trace of one request, B's side on the call's line."""
    a, b, pa = start_chain()
    sonde_args = ["trace", "--tree", "--no-summary", "--capture-query", "--pid", str(a.pid),
                  "--pid", str(b.pid)]
    try:
        p = subprocess.Popen([os.environ.get("SONDE", "build/sonde"), *sonde_args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        drive(pa, ["tree1"])
        time.sleep(1.5)
        p.send_signal(2)
        out, err = p.communicate(timeout=20)
    finally:
        a.stop()
        b.stop()
    lines = [ln for ln in out.splitlines() if "customer=tree1" in ln or ln.startswith("trace ")]
    check(len(lines) == 3 and lines[0].startswith("trace "), f"tree:\n{out}\n{err}")
    check(lines[1].startswith("  GET /order?customer=tree1 200  server python3"),
          f"root line: {lines[1]!r}")
    check(lines[2].startswith("    GET /order?customer=tree1 200  python3[") and
          f"python3[{b.pid}]" in lines[2] and " client " in lines[2] and " server " in lines[2],
          f"call line: {lines[2]!r}")
