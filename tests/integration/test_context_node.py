# SPDX-License-Identifier: MIT
"""Node.js request context with no change to the application: sonde opens the
inspector of a running `node` (SIGUSR1), evaluates its script, closes the
inspector, and from then on every outgoing call made in a request's
asynchronous context is that request's child. One event-loop thread serves
all the requests at once, so nothing but the asynchronous context can say
whose call is whose."""

import concurrent.futures
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import HERE, Failure, Proc, Sonde, check, free_port, wait_for, wait_port
from otlp import SondeRun

APP = os.path.join(HERE, "peers", "node_ctx_app.js")
NODE = shutil.which("node") or "node"
INSPECTOR_PORT = 9229
# What Node.js 20 prints on the application's stderr when sonde comes by.
DEBUGGER_LINES = ("Debugger listening on ws://127.0.0.1:9229/",
                  "For help, see: https://nodejs.org/en/docs/inspector",
                  "Debugger attached.")
MODES = ("direct", "keepalive", "timer")


class NodeApp:
    """node node_ctx_app.js ARGS..., its stderr kept in a file."""

    def __init__(self, *args, node_args=(), port=None):
        self.dir = tempfile.mkdtemp(prefix="sonde-node-")
        self.err_path = os.path.join(self.dir, "stderr")
        self.err = open(self.err_path, "w")
        self.proc = Proc([NODE, *node_args, APP, *args], stderr=self.err)
        self.pid = self.proc.pid
        if port:
            wait_port(port)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stop(self):
        self.proc.stop()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def listening_ports():
    """TCP ports something listens on in this network namespace."""
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A":
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            pass
    return ports


def wait_injected(app):
    """Until sonde has been through the app's inspector and closed it."""
    wait_for(lambda: "Debugger attached." in app.stderr()
             and INSPECTOR_PORT not in listening_ports(),
             timeout=20, what="the script to be injected and the inspector closed")


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def get_all(urls):
    """All at once: 32 requests in flight together on one event loop."""
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(get, urls))


def customer_of(span):
    """The customer: in the query of server spans (--capture-query shows it),
    in the path of the calls."""
    if span["kind"] == "server":
        return urllib.parse.parse_qs(span.get("url.query", "")).get("customer", [None])[0]
    return span["url.path"].rsplit("/", 1)[1]


def together_urls(port, n):
    """n requests that are all in flight when each makes its call."""
    return [f"http://127.0.0.1:{port}/together?customer={i}&n={n}" for i in range(n)]


def check_debugger_lines(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    check(len(lines) == 3 and all(l.startswith(p) for l, p in zip(lines, DEBUGGER_LINES)),
          f"Node.js printed other lines than the inspector's three: {lines}")


def stats_line(sonde, name="nodejs"):
    got = [l for l in sonde.stderr_lines if l.strip().startswith(name + ":")]
    check(got, f"no {name} line in --stats: {sonde.stderr()}")
    return got[-1]


@contextlib.contextmanager
def frontend():
    """A backend and a frontend that calls it (both Node.js): yields the
    frontend and its port; stops both."""
    back_port, front_port = free_port(), free_port()
    backend = NodeApp("backend", str(back_port), port=back_port)
    try:
        front = NodeApp("frontend", str(front_port), str(back_port), port=front_port)
        try:
            yield front, front_port
        finally:
            front.stop()
    finally:
        backend.stop()


def trace_frontend(drive, nspans, *args, injected=True):
    """`sonde trace --capture-query --stats --pid FRONTEND ARGS`: drive(port)
    once the script is in (injected) or once an injection would have been
    done; returns the frontend's spans, the stopped sonde and what the
    frontend printed on stderr."""
    with frontend() as (front, port):
        sonde = Sonde("--capture-query", "--stats", "--pid", str(front.pid), *args)
        try:
            if injected:
                wait_injected(front)
            else:
                time.sleep(1)  # what an injection takes (well under 100 ms), many times
            drive(port)
            sonde.wait_spans(lambda s: s["process.pid"] == front.pid, nspans)
            sonde.settle()
            check(INSPECTOR_PORT not in listening_ports(), "the inspector listens again")
        finally:
            sonde.stop()
        return ([s for s in sonde.spans() if s["process.pid"] == front.pid], sonde,
                front.stderr())


def test_node_async_context_links_each_call_to_its_request():
    """32 concurrent requests for distinct customers on a Node.js server
    started before sonde, each calling a backend (new connection, keep-alive
    agent, after an awaited timer): every client span is the child of the
    server span of the same customer, linked by the asynchronous context; the
    inspector is closed afterwards and Node.js said only its three lines."""
    check(INSPECTOR_PORT not in listening_ports(), "something listens on 9229 already")
    n = 32

    def drive(port):
        urls = [f"http://127.0.0.1:{port}/{MODES[i % 3]}?customer={i}" for i in range(n)]
        replies = get_all(urls)
        check(replies == [f"frontend {i}" for i in range(n)], f"replies {replies}")
    spans, sonde, front_err = trace_frontend(drive, 2 * n)
    servers = {customer_of(s): s for s in spans if s["kind"] == "server"}
    clients = {customer_of(s): s for s in spans if s["kind"] == "client"}
    check(len(spans) == 2 * n and len(servers) == n and len(clients) == n,
          f"expected {n} server and {n} client spans, one per customer: {spans}")
    for c in map(str, range(n)):
        srv, cli = servers[c], clients[c]
        check(srv["sonde.link"] == "root" and "parent_span_id" not in srv,
              f"customer {c}: the server span has a parent: {srv}")
        check(cli.get("parent_span_id") == srv["span_id"],
              f"customer {c}: client span's parent is not its request: {cli} / {srv}")
        check(cli["trace_id"] == srv["trace_id"], f"customer {c}: two traces")
        check(cli["sonde.link"] == "async", f"customer {c}: linked by {cli['sonde.link']}")
    check(len({s["trace_id"] for s in servers.values()}) == n, "requests share traces")
    check_debugger_lines(front_err)
    line = stats_line(sonde)
    check("injected 1 " in line and "failed 0" in line and "left open 0" in line,
          f"stats: {line}")
    links = stats_line(sonde, "links")
    check(f"async {n};" in links and "roots where a parent was expected 0 " in links
          and "serve no request 0," in links, f"stats: {links}")


def test_node_call_after_its_request_ended_is_a_root():
    """A call made in a request's asynchronous context after its response
    was sent (a timer set on 'finish') is no child of it, nor of another
    request on that connection: a root. The call before it is a child."""
    n = 8

    def drive(port):
        get_all([f"http://127.0.0.1:{port}/late?customer={i}" for i in range(n)])
    spans, sonde, _ = trace_frontend(drive, 3 * n)
    servers = {customer_of(s): s for s in spans if s["kind"] == "server"}
    clients = {customer_of(s): s for s in spans if s["kind"] == "client"}
    check(len(servers) == n and len(clients) == 2 * n, f"spans {spans}")
    for c in map(str, range(n)):
        check(clients[c].get("parent_span_id") == servers[c]["span_id"],
              f"customer {c}: the call in the request is not its child: {clients[c]}")
        late = clients[c + "-late"]
        check("parent_span_id" not in late and late["sonde.link"] == "root",
              f"customer {c}: the call after the response has a parent: {late}")
    # The hook said so for each late call: known roots, not parents missed.
    links = stats_line(sonde, "links")
    check(f"async {n};" in links and f"serve no request {n}," in links
          and "roots where a parent was expected 0 " in links, f"stats: {links}")


def test_node_started_by_sonde_is_injected_after_exec():
    """`sonde trace -- node app`: the process is looked at when it execs,
    injected once Node.js has its SIGUSR1 handler in place, and linked."""
    back_port, front_port = free_port(), free_port()
    backend = NodeApp("backend", str(back_port), port=back_port)
    sonde = Sonde("--capture-query", "--stats", "--", NODE, APP, "frontend", str(front_port),
                  str(back_port))
    try:
        wait_port(front_port)
        # The application's stderr is sonde's.
        wait_for(lambda: any("Debugger attached." in l for l in sonde.stderr_lines)
                 and INSPECTOR_PORT not in listening_ports(), timeout=20, what="injection")
        replies = get_all([f"http://127.0.0.1:{front_port}/direct?customer={i}"
                           for i in range(4)])
        check(len(replies) == 4, "replies")
        sonde.wait_spans(lambda s: s["kind"] == "client", 4)
        sonde.settle()
    finally:
        sonde.stop()
        backend.stop()
    spans = sonde.spans()
    servers = {customer_of(s): s for s in spans if s["kind"] == "server"}
    clients = {customer_of(s): s for s in spans if s["kind"] == "client"}
    for c in map(str, range(4)):
        check(clients[c].get("parent_span_id") == servers[c]["span_id"],
              f"customer {c}: not linked: {clients.get(c)}")
    line = stats_line(sonde)
    check("injected 1 " in line, f"stats: {line}")


def test_node_own_sigusr1_handler_is_left_alone():
    """A Node.js process that handles SIGUSR1 itself gets no signal from
    sonde (its handler is not run, no inspector opens), and is counted."""
    port = free_port()
    marker = tempfile.mktemp(prefix="sonde-sigusr1-")
    app = NodeApp("sigusr1", str(port), marker, port=port)
    sonde = Sonde("--pid", str(app.pid), "--stats")
    try:
        # The start-up look is done at once; give it time to have been done.
        time.sleep(2)
        check(get(f"http://127.0.0.1:{port}/") == "ok", "the application stopped serving")
    finally:
        sonde.stop()
        alive = app.proc.proc.poll() is None
        app_err = app.stderr()
        app.stop()
    check(alive, "the application died")
    check(not os.path.exists(marker), "the application's SIGUSR1 handler ran")
    check("Debugger" not in app_err, f"the inspector opened: {app_err}")
    line = stats_line(sonde)
    check("own SIGUSR1 handler 1" in line and "injected 0 " in line, f"stats: {line}")


def test_node_with_its_own_inspector_is_left_alone():
    """A process started with --inspect: its inspector is the operator's.
    sonde neither signals it nor closes that inspector."""
    port, insp = free_port(), free_port()
    app = NodeApp("frontend", str(port), "1", node_args=(f"--inspect=127.0.0.1:{insp}",),
                  port=port)
    sonde = Sonde("--pid", str(app.pid), "--stats")
    try:
        wait_port(insp)
        time.sleep(2)
        check(insp in listening_ports(), "the operator's inspector was closed")
    finally:
        sonde.stop()
        app.stop()
    line = stats_line(sonde)
    check("inspector in use 1" in line and "injected 0 " in line, f"stats: {line}")


def test_node_context_off_injects_nothing_and_calls_stay_roots():
    """--context-nodejs off: the Node.js process gets no signal, no inspector
    and no script (nothing on its stderr, no nodejs line in --stats). Its one
    thread serves all the requests at once, so nothing links their calls:
    every span is a root, and each call is counted as an event-loop thread's
    call left unlinked."""
    n = 8

    def drive(port):
        replies = get_all(together_urls(port, n))
        check(replies == [f"frontend {i}" for i in range(n)], f"replies {replies}")
    spans, sonde, front_err = trace_frontend(drive, 2 * n, "--context-nodejs", "off",
                                             injected=False)
    check(len(spans) == 2 * n, f"expected {2 * n} spans: {spans}")
    for s in spans:
        check(s["sonde.link"] == "root" and "parent_span_id" not in s,
              f"a span has a parent without the script: {s}")
    check(front_err.strip() == "", f"Node.js printed something: {front_err!r}")
    check(not any(l.strip().startswith("nodejs:") for l in sonde.stderr_lines),
          f"the injector ran: {sonde.stderr()}")
    links = stats_line(sonde, "links")
    check(f"root {2 * n}," in links and "async 0;" in links and "thread 0," in links
          and "roots where a parent was expected 0 " in links
          and f"event-loop threads 1 (calls not linked {n})" in links
          and "hook hints 0 " in links, f"stats: {links}")


def scrape(port):
    """sonde run's own sonde_links* counters, by name."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {name: int(float(value)) for name, value in
            (l.split(" ", 1) for l in text.splitlines() if l.startswith("sonde_links"))}


def test_sonde_run_reads_context_nodejs():
    """`sonde run` with SONDE_CONTEXT_NODEJS=off leaves the process alone and
    counts its calls as unlinked; then `sonde run` with the default injects
    the same process and links every call to its request."""
    n = 8
    cases = (({"SONDE_CONTEXT_NODEJS": "off"},
              {"sonde_links_total": 0, "sonde_links_event_loop_unlinked_total": n}),
             ({}, {"sonde_links_total": n, "sonde_links_event_loop_unlinked_total": 0}))
    with frontend() as (front, front_port):
        for env, want in cases:
            want = dict(want, sonde_links_roots_expected_total=0,
                        sonde_links_roots_no_request_total=0)
            prom = free_port()
            agent = SondeRun("--pid", str(front.pid), "--prometheus-port", str(prom),
                             "--prometheus-address", "127.0.0.1", env=env)
            try:
                if env:
                    time.sleep(1)
                else:
                    wait_injected(front)
                get_all(together_urls(front_port, n))
                got = {}

                def counted():
                    got.update(scrape(prom))
                    return all(got.get(k) == v for k, v in want.items())
                try:
                    wait_for(counted, timeout=10, what=f"{want}")
                except Failure:
                    raise Failure(f"{env}: sonde_links* {got}, expected {want}")
            finally:
                agent.stop()
            if env:
                check(front.stderr().strip() == "",
                      f"injected with context.nodejs off: {front.stderr()!r}")
        check_debugger_lines(front.stderr())
