# SPDX-License-Identifier: MIT
"""HTTP/1.x spans from real servers and clients on loopback."""

import os
import socket
import subprocess
import tempfile
import time

from harness import (PYTHON, Cgroup, Failure, Nginx, Proc, Sonde, check, client_spans, curl,
                     free_port, python_server, server_spans)


def make_docroot():
    d = tempfile.mkdtemp(prefix="sonde-www-")
    os.chmod(d, 0o755)  # nginx workers run as www-data
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("<h1>hello</h1>\n")
    with open(os.path.join(d, "big.bin"), "wb") as f:
        f.write(os.urandom(10 * 1024 * 1024))
    with open(os.path.join(d, "mid.bin"), "wb") as f:
        f.write(os.urandom(2 * 1024 * 1024))
    os.makedirs(os.path.join(d, "items"))
    for i in range(5):
        with open(os.path.join(d, "items", str(i)), "w") as f:
            f.write(f"item {i}\n" * (i + 1))
    return d


DOCROOT = make_docroot()


def test_python_server_and_curl_keepalive():
    """N keep-alive requests: exactly N server spans and N client spans."""
    port = free_port()
    srv = python_server(port, DOCROOT)
    n = 7
    urls = [f"http://127.0.0.1:{port}/items/{i % 5}?n={i}" for i in range(n)]
    sonde = Sonde("--capture-query")
    try:
        r = curl("-o", "/dev/null", "-w", "%{num_connects}\\n", *urls)
        check(r.stdout.split()[-1] == "0" or sum(map(int, r.stdout.split())) == 1,
              f"curl did not reuse one connection: {r.stdout!r}")
        srv_spans = sonde.wait_spans(lambda s: s["kind"] == "server" and
                                     s["process.pid"] == srv.pid, n)
        cli_spans = sonde.wait_spans(lambda s: s["kind"] == "client" and
                                     s["process.executable.name"] == "curl" and
                                     s.get("server.port") == port, n)
        sonde.settle()
    finally:
        sonde.stop()
        srv.stop()
    srv_spans = server_spans(sonde.spans(), pid=srv.pid)
    check(len(srv_spans) == n, f"expected {n} server spans, got {len(srv_spans)}")
    cli = [s for s in client_spans(sonde.spans()) if s.get("server.port") == port]
    check(len(cli) == n, f"expected {n} client spans, got {len(cli)}")
    for i, s in enumerate(srv_spans):
        check(s["http.request.method"] == "GET", f"method {s['http.request.method']}")
        check(s.get("url.path") == f"/items/{i % 5}", f"span {i} path {s['url.path']}")
        check(s["url.query"] == f"n={i}", f"span {i} query {s.get('url.query')}")
        check(s["http.response.status_code"] == 200, f"status {s['http.response.status_code']}")
        check(s["network.protocol.version"] == "1.1", "protocol version")
        check(s["client.address"] == "127.0.0.1", f"client.address {s.get('client.address')}")
        check(s["server.port"] == port, f"server.port {s.get('server.port')}")
        body = len(f"item {i % 5}\n") * (i % 5 + 1)
        check(s["http.response.body.size"] == body,
              f"response body size {s['http.response.body.size']} != {body}")
        check(s["duration_ns"] > 0, "duration is zero")
        check(s["user_agent.original"].startswith("curl/"), "user agent")
    for s in cli:
        check(s["network.peer.address"] == "127.0.0.1", "peer address")
        check(s["http.response.status_code"] == 200, "client status")


def test_nginx_errors_and_methods():
    """Status codes, error.type, HEAD without body, POST body size."""
    port = free_port()
    ngx = Nginx(port, DOCROOT)
    sonde = Sonde()
    try:
        base = f"http://127.0.0.1:{port}"
        curl("-o", "/dev/null", f"{base}/status/404", f"{base}/status/500", f"{base}/echo")
        curl("-I", "-o", "/dev/null", f"{base}/index.html")
        payload = "x" * 3000
        curl("-o", "/dev/null", "-X", "POST", "--data-binary", payload, f"{base}/upload")
        workers = ngx.worker_pids()
        sonde.wait_spans(lambda s: s["kind"] == "server" and s["process.pid"] in workers, 5)
        sonde.settle()
    finally:
        sonde.stop()
        ngx.stop()
    spans = [s for s in server_spans(sonde.spans()) if s["process.pid"] in workers]
    by_path = {s.get("url.path"): s for s in spans}
    check(len(spans) == 5, f"expected 5 nginx spans, got {len(spans)}: {spans}")
    check(by_path["/status/404"]["http.response.status_code"] == 404, "404")
    check("error.type" not in by_path["/status/404"], "404 is not a server error")
    check(by_path["/status/500"]["http.response.status_code"] == 500, "500")
    check(by_path["/status/500"]["error.type"] == "500", "error.type for 500")
    head = by_path["/index.html"]
    check(head["http.request.method"] == "HEAD", "HEAD method")
    check(head["http.response.body.size"] == 0, "HEAD response has no body")
    post = by_path["/upload"]
    check(post["http.request.method"] == "POST", "POST method")
    check(post["http.request.body.size"] == 3000, f"POST body {post['http.request.body.size']}")
    check(post["http.response.status_code"] == 201, "POST status")
    client = [s for s in client_spans(sonde.spans()) if s.get("server.port") == port]
    check(len(client) == 5, f"expected 5 curl spans, got {len(client)}")
    check(sum(1 for s in client if "error.type" in s) == 2, "client errors: 404 and 500")


def test_large_response_size_and_duration():
    """A 10 MB file served with sendfile has the right size and a real duration."""
    port = free_port()
    ngx = Nginx(port, DOCROOT)
    sonde = Sonde()
    try:
        r = curl("-o", "/dev/null", "-w", "%{time_total} %{size_download}",
                 "--limit-rate", "50M", f"http://127.0.0.1:{port}/big.bin")
        total_s, size = r.stdout.split()
        workers = ngx.worker_pids()
        sonde.wait_spans(lambda s: s["kind"] == "server" and s["process.pid"] in workers, 1)
        sonde.wait_spans(lambda s: s["kind"] == "client" and s.get("url.path") == "/big.bin", 1)
        sonde.settle()
    finally:
        sonde.stop()
        ngx.stop()
    size = int(size)
    check(size == 10 * 1024 * 1024, f"curl downloaded {size}")
    srv = [s for s in server_spans(sonde.spans(), path="/big.bin") if s["process.pid"] in workers]
    cli = client_spans(sonde.spans(), path="/big.bin")
    check(len(srv) == 1 and len(cli) == 1, f"spans: {len(srv)} server, {len(cli)} client")
    check(srv[0]["http.response.body.size"] == size, f"server body {srv[0]['http.response.body.size']}")
    check(cli[0]["http.response.body.size"] == size, f"client body {cli[0]['http.response.body.size']}")
    # curl's rate limit makes the transfer last ~200 ms; the client span covers it.
    total_ns = float(total_s) * 1e9
    check(cli[0]["duration_ns"] > 0.5 * total_ns,
          f"client span {cli[0]['duration_ns']} ns vs curl {total_ns:.0f} ns")
    check(cli[0]["duration_ns"] <= total_ns * 1.05 + 5e6, "client span longer than curl's transfer")


def test_preexisting_connection():
    """A keep-alive connection opened before the agent started is traced."""
    port = free_port()
    srv = python_server(port, DOCROOT)
    client_code = (
        "import http.client, sys\n"
        f"c = http.client.HTTPConnection('127.0.0.1', {port})\n"
        "c.request('GET', '/items/1'); c.getresponse().read()\n"
        "print('ready', flush=True)\n"
        "for line in sys.stdin:\n"
        "    c.request('GET', '/items/' + line.strip()); c.getresponse().read()\n"
        "    print('done', flush=True)\n"
    )
    cli = subprocess.Popen([PYTHON, "-c", client_code], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        check(cli.stdout.readline().strip() == "ready", "client did not start")
        sonde = Sonde()
        try:
            for i in (2, 3, 4):
                cli.stdin.write(f"{i}\n")
                cli.stdin.flush()
                check(cli.stdout.readline().strip() == "done", "client request failed")
            sonde.wait_spans(lambda s: s["kind"] == "server" and s["process.pid"] == srv.pid, 3)
            sonde.wait_spans(lambda s: s["kind"] == "client" and s["process.pid"] == cli.pid, 3)
            sonde.settle()
        finally:
            sonde.stop()
    finally:
        cli.stdin.close()
        cli.wait(5)
        srv.stop()
    srv_spans = server_spans(sonde.spans(), pid=srv.pid)
    cli_spans = client_spans(sonde.spans(), pid=cli.pid)
    check([s.get("url.path") for s in srv_spans] == ["/items/2", "/items/3", "/items/4"],
          f"server spans {[s['url.path'] for s in srv_spans]}")
    check([s.get("url.path") for s in cli_spans] == ["/items/2", "/items/3", "/items/4"],
          f"client spans {[s['url.path'] for s in cli_spans]}")
    check(all(s["http.response.status_code"] == 200 for s in srv_spans + cli_spans), "status")
    check(all(s.get("network.peer.port") for s in srv_spans), "addresses of a pre-existing socket")


def test_concurrent_connections_wrk():
    """100 concurrent keep-alive connections: one span per request nginx served."""
    port = free_port()
    ngx = Nginx(port, DOCROOT)
    sonde = Sonde("--max-conns", "4096")
    try:
        subprocess.run(["wrk", "-t", "2", "-c", "100", "-d", "2s",
                        f"http://127.0.0.1:{port}/index.html"],
                       check=True, capture_output=True, timeout=60)
        time.sleep(0.5)
        served = ngx.served()
        workers = ngx.worker_pids()
        sonde.wait_spans(lambda s: s["kind"] == "server" and s["process.pid"] in workers,
                         served, timeout=20)
        sonde.settle()
    finally:
        sonde.stop()
        ngx.stop()
    spans = [s for s in server_spans(sonde.spans(), path="/index.html")
             if s["process.pid"] in workers]
    check(served > 1000, f"wrk made too few requests ({served})")
    check(len(spans) == served, f"nginx served {served} requests, sonde saw {len(spans)}\n"
          + sonde.stderr())
    peers = {s["network.peer.port"] for s in spans}
    check(len(peers) >= 100, f"expected 100 distinct client connections, saw {len(peers)}")
    check(all(s["http.response.status_code"] == 200 for s in spans), "status")


def test_pipelined_requests():
    """Three requests in one write are answered in order: three spans."""
    port = free_port()
    ngx = Nginx(port, DOCROOT)
    sonde = Sonde()
    try:
        req = "".join(f"GET /items/{i} HTTP/1.1\r\nHost: localhost\r\n\r\n" for i in range(3))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(req.encode())
            data = b""
            deadline = time.time() + 5
            while data.count(b"HTTP/1.1 200") < 3 and time.time() < deadline:
                data += s.recv(65536)
        workers = ngx.worker_pids()
        sonde.wait_spans(lambda s: s["kind"] == "server" and s["process.pid"] in workers, 3)
        sonde.settle()
    finally:
        sonde.stop()
        ngx.stop()
    spans = [s for s in server_spans(sonde.spans()) if s["process.pid"] in workers]
    check([s.get("url.path") for s in spans] == ["/items/0", "/items/1", "/items/2"],
          f"paths {[s['url.path'] for s in spans]}")
    check([s["http.response.body.size"] for s in spans] == [7, 14, 21],
          f"sizes {[s['http.response.body.size'] for s in spans]}")
    check(all(s["server.address"] == "localhost" for s in spans), "server.address from Host")


def test_non_http_service_is_ignored():
    """Redis traffic produces no HTTP spans (its own are database spans)."""
    port = free_port()
    redis = Proc(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                  "--save", "", "--appendonly", "no"])
    try:
        from harness import wait_port
        wait_port(port)
        sonde = Sonde("--stats")
        try:
            subprocess.run(["redis-benchmark", "-p", str(port), "-n", "2000", "-q",
                            "-t", "set,get"], check=True, capture_output=True, timeout=60)
            sonde.settle()
        finally:
            sonde.stop()
    finally:
        redis.stop()
    spans = [s for s in sonde.spans() if (s["process.pid"] == redis.pid or
             s["process.executable.name"].startswith("redis")) and "db.system.name" not in s]
    check(spans == [], f"redis produced HTTP spans: {spans[:3]}")
    check("non-HTTP sockets ignored" in sonde.stderr(), "stats line missing")


def test_request_written_one_byte_at_a_time():
    """The first bytes of a connection may come in payloads too short to tell
    its protocol: the kernel keeps them until it can, so the request written
    (and read) one byte at a time is still one span on each side."""
    port = free_port()
    server = python_server(port, DOCROOT)
    client_code = (
        "import socket, sys, time\n"
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
        "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
        "for b in b'GET /index.html?bytewise=1 HTTP/1.1\\r\\nHost: x\\r\\n"
        "Connection: close\\r\\n\\r\\n':\n"
        "    s.send(bytes([b])); time.sleep(0.003)\n"
        "while s.recv(65536): pass\n")
    sonde = Sonde("--stats", "--capture-query")
    try:
        client = subprocess.run([PYTHON, "-c", client_code, str(port)], timeout=30,
                                capture_output=True)
        check(client.returncode == 0, f"client failed: {client.stderr!r}")
        got = sonde.wait_spans(lambda s: "bytewise" in s.get("url.query", ""), 2)
        sonde.settle()
    finally:
        sonde.stop()
        server.stop()
    spans = [s for s in sonde.spans() if s.get("url.query") == "bytewise=1"]
    kinds = sorted(s["kind"] for s in spans)
    check(kinds == ["client", "server"], f"expected one client and one server span, got {got}")
    for s in spans:
        check(s["http.request.method"] == "GET" and s.get("url.path") == "/index.html" and
              s["http.response.status_code"] == 200, f"wrong span: {s}")


def test_pid_filter():
    """--pid shows only that process."""
    p1, p2 = free_port(), free_port()
    s1, s2 = python_server(p1, DOCROOT), python_server(p2, DOCROOT)
    sonde = Sonde("--pid", str(s1.pid))
    try:
        for _ in range(3):
            curl("-o", "/dev/null", f"http://127.0.0.1:{p1}/index.html",
                 f"http://127.0.0.1:{p2}/index.html")
        sonde.wait_spans(lambda s: True, 3)
        sonde.settle()
    finally:
        sonde.stop()
        s1.stop()
        s2.stop()
    spans = sonde.spans()
    check(len(spans) == 3, f"expected 3 spans, got {len(spans)}")
    check(all(s["process.pid"] == s1.pid and s["kind"] == "server" for s in spans),
          f"spans from other processes: {[(s['process.pid'], s['kind']) for s in spans]}")


def test_comm_filter():
    """--comm selects threads by name."""
    port = free_port()
    srv = python_server(port, DOCROOT)
    sonde = Sonde("--comm", "curl")
    try:
        curl("-o", "/dev/null", f"http://127.0.0.1:{port}/index.html")
        sonde.wait_spans(lambda s: True, 1)
        sonde.settle()
    finally:
        sonde.stop()
        srv.stop()
    spans = sonde.spans()
    check(len(spans) == 1 and spans[0]["kind"] == "client" and
          spans[0]["process.executable.name"] == "curl", f"spans {spans}")


def test_trace_command_and_children():
    """`sonde trace -- COMMAND` traces the command and its children only."""
    port = free_port()
    srv = python_server(port, DOCROOT)
    url = f"http://127.0.0.1:{port}/items/3"
    try:
        r = subprocess.run([os.environ.get("SONDE", "build/sonde"), "trace", "--output", "json",
                            "--", "sh", "-c", f"curl -s -o /dev/null {url}; "
                            f"curl -s -o /dev/null {url}; exit 3"],
                           capture_output=True, text=True, timeout=60)
    finally:
        srv.stop()
    import json
    spans = [json.loads(l) for l in r.stdout.splitlines()
             if '"kind"' in l and '"summary"' not in l]
    check(r.returncode == 3, f"exit code of the command not passed on: {r.returncode}")
    check(len(spans) == 2, f"expected 2 client spans from the children, got {spans}")
    check(all(s["kind"] == "client" and s.get("url.path") == "/items/3" for s in spans), "spans")
    summary = [json.loads(l) for l in r.stdout.splitlines() if '"summary"' in l]
    check(any(s.get("count") == 2 and s.get("path") == "/items/3" for s in summary),
          f"summary {summary}")
    r = subprocess.run([os.environ.get("SONDE", "build/sonde"), "trace", "--", "sh", "-c",
                        "kill -9 $$"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 137, f"a command killed by SIGKILL should give 137: {r.returncode}")


def test_cgroup_filter():
    """--cgroup traces processes in a cgroup v2 directory, moved there for real."""
    cg = Cgroup("sonde-test")
    p1, p2 = free_port(), free_port()
    s1, s2 = python_server(p1, DOCROOT), python_server(p2, DOCROOT)
    try:
        cg.add(s1.pid)
        sonde = Sonde("--cgroup", cg.path)
        try:
            curl("-o", "/dev/null", f"http://127.0.0.1:{p1}/index.html",
                 f"http://127.0.0.1:{p2}/index.html")
            sonde.wait_spans(lambda s: True, 1)
            sonde.settle()
        finally:
            sonde.stop()
    finally:
        s1.stop()
        s2.stop()
        cg.remove()
    spans = sonde.spans()
    check(len(spans) == 1 and spans[0]["process.pid"] == s1.pid, f"spans {spans}")


def test_http10_close_delimited():
    """HTTP/1.0 server closing each connection: spans end at the close."""
    port = free_port()
    srv = python_server(port, DOCROOT, http11=False)
    sonde = Sonde()
    try:
        for i in range(3):
            curl("-o", "/dev/null", "--http1.0", f"http://127.0.0.1:{port}/items/{i}")
        sonde.wait_spans(lambda s: s["kind"] == "server" and s["process.pid"] == srv.pid, 3)
        sonde.settle()
    finally:
        sonde.stop()
        srv.stop()
    spans = server_spans(sonde.spans(), pid=srv.pid)
    check(len(spans) == 3, f"expected 3 spans, got {len(spans)}")
    check(all(s["network.protocol.version"] == "1.0" for s in spans), "version 1.0")
    check([s["http.response.body.size"] for s in spans] == [7, 14, 21], "sizes")


def test_text_output_and_summary():
    """The human output: one line per span, then the per-endpoint summary."""
    port = free_port()
    srv = python_server(port, DOCROOT)
    try:
        r = subprocess.run([os.environ.get("SONDE", "build/sonde"), "trace", "--", "sh", "-c",
                            f"for i in 1 2 3 4; do curl -s -o /dev/null "
                            f"http://127.0.0.1:{port}/items/2; done; "
                            f"curl -s -o /dev/null http://127.0.0.1:{port}/nope"],
                           capture_output=True, text=True, timeout=60)
    finally:
        srv.stop()
    lines = r.stdout.splitlines()
    spans = [l for l in lines if " client " in l and "curl[" in l]
    check(len(spans) == 5, f"expected 5 span lines:\n{r.stdout}")
    check("GET /items/2 200" in spans[0], f"line: {spans[0]}")
    check(f"-> 127.0.0.1:{port}" in spans[0], f"peer in line: {spans[0]}")
    check("GET /nope 404" in spans[4], f"line: {spans[4]}")
    rows = [l for l in lines if "/items/2" in l and l not in spans]
    check(rows and " 4 " in rows[0], f"summary row for /items/2:\n{r.stdout}")


def test_errors_are_one_line():
    """Bad input gives a one-line error and a non-zero exit."""
    sonde = os.environ.get("SONDE", "build/sonde")
    r = subprocess.run([sonde, "trace", "--pid", "999999999"], capture_output=True, text=True)
    check(r.returncode != 0 and "no process with pid 999999999" in r.stderr,
          f"unknown pid: rc={r.returncode} {r.stderr!r}")
    check(len(r.stderr.strip().splitlines()) == 1, f"not one line: {r.stderr!r}")
    r = subprocess.run([sonde, "trace", "--duration", "soon"], capture_output=True, text=True)
    check(r.returncode == 2 and "invalid --duration" in r.stderr, f"bad duration: {r.stderr!r}")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sonde, "trace"], capture_output=True, text=True)
    check(r.returncode != 0 and "root" in r.stderr, f"non-root: rc={r.returncode} {r.stderr!r}")
    check(len(r.stderr.strip().splitlines()) == 1, f"not one line: {r.stderr!r}")
    r = subprocess.run([sonde, "trace", "--cgroup", "/nonexistent"], capture_output=True,
                       text=True)
    check(r.returncode != 0 and "cannot use cgroup" in r.stderr, f"bad cgroup: {r.stderr!r}")
    # Issue 21, 8: each validation gap is one line that names the problem.
    yaml = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    yaml.write("log:\n  level: info\nlog:\n  level: debug\n")
    yaml.close()
    for args, rc, want in (
            (["trace", "--bogus"], 2, "sonde trace: unknown option --bogus (see sonde trace "
             "--help)"),
            (["trace", "--cgroup", "/tmp"], 1, "cannot use cgroup '/tmp': not on a cgroup v2 "
             "file system"),
            (["trace", "--comm", "a", "--comm", "b"], 2, "--comm given twice"),
            (["trace", "--pod", "noslash"], 2, "invalid --pod 'noslash': expected "
             "NAMESPACE/NAME"),
            (["run", "--otlp-endpoint", "collector:4318"], 2, "no scheme: write http://"),
            (["run", "--config", yaml.name], 2, f"{yaml.name}:3: 'log' given twice")):
        r = subprocess.run([sonde, *args], capture_output=True, text=True, timeout=30)
        check(r.returncode == rc and want in r.stderr and
              len(r.stderr.strip().splitlines()) == 1 and not r.stdout,
              f"sonde {' '.join(args)}: rc={r.returncode} {r.stdout!r} {r.stderr!r}")
    os.unlink(yaml.name)


def test_duration_stops():
    """--duration ends tracing by itself."""
    sonde = os.environ.get("SONDE", "build/sonde")
    t0 = time.time()
    r = subprocess.run([sonde, "trace", "--duration", "1s"], capture_output=True, text=True,
                       timeout=30)
    took = time.time() - t0
    check(r.returncode == 0, f"rc {r.returncode}: {r.stderr}")
    check(took < 10, f"took {took:.1f}s")


def test_probe():
    """`sonde probe` reports the kernel's features and that sonde can run."""
    sonde = os.environ.get("SONDE", "build/sonde")
    r = subprocess.run([sonde, "probe"], capture_output=True, text=True)
    check(r.returncode == 0, f"probe failed: {r.stdout}{r.stderr}")
    for word in ("BTF", "ring buffer", "kprobes", "fentry", "lockdown", "hook set"):
        check(word.lower() in r.stdout.lower(), f"probe output lacks {word}:\n{r.stdout}")
    import json
    r = subprocess.run([sonde, "probe", "--output", "json"], capture_output=True, text=True)
    obj = json.loads(r.stdout)
    check(obj["can_run"] is True and obj["btf"] is True, f"probe json {obj}")


def test_ipv6_loopback():
    """IPv6 sockets: addresses read from the socket are IPv6."""
    port = free_port()
    code = (
        "import http.server, socket\n"
        "class S(http.server.ThreadingHTTPServer): address_family = socket.AF_INET6\n"
        "h = http.server.SimpleHTTPRequestHandler\n"
        "h.protocol_version = 'HTTP/1.1'\n"
        "h.log_message = lambda *a: None\n"
        f"S(('::1', {port}), h).serve_forever()\n"
    )
    srv = Proc([PYTHON, "-c", code], cwd=DOCROOT)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("::1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        sonde = Sonde("--pid", str(srv.pid))
        try:
            curl("-g", "-o", "/dev/null", f"http://[::1]:{port}/index.html")
            sonde.wait_spans(lambda s: True, 1)
            sonde.settle()
        finally:
            sonde.stop()
    finally:
        srv.stop()
    spans = sonde.spans()
    check(len(spans) == 1, f"spans {spans}")
    s = spans[0]
    check(s["client.address"] == "::1" and s["network.local.address"] == "::1",
          f"addresses {s.get('client.address')} {s.get('network.local.address')}")
    check(s["server.address"] == "::1" and s["server.port"] == port,
          f"server {s.get('server.address')}:{s.get('server.port')}")


CHUNKED_SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Trailer", "X-Checksum")
        self.end_headers()
        for part in (b"a" * 100, b"b" * 3000, b"c" * 5):
            self.wfile.write(b"%x;ext=1\\r\\n" % len(part) + part + b"\\r\\n")
            self.wfile.flush()
        self.wfile.write(b"0\\r\\nX-Checksum: 42\\r\\n\\r\\n")
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def test_chunked_response_with_trailers():
    """Chunked bodies written chunk by chunk: one span, wire size, then keep-alive goes on."""
    port = free_port()
    srv = Proc([PYTHON, "-c", CHUNKED_SERVER, str(port)])
    from harness import wait_port
    wait_port(port)
    sonde = Sonde("--pid", str(srv.pid))
    try:
        r = curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{size_download}\\n",
                 f"http://127.0.0.1:{port}/a", f"http://127.0.0.1:{port}/b")
        check(r.stdout.split() == ["3105", "3105"], f"curl got {r.stdout!r}")
        sonde.wait_spans(lambda s: True, 2)
        sonde.settle()
    finally:
        sonde.stop()
        srv.stop()
    spans = sonde.spans()
    check([s.get("url.path") for s in spans] == ["/a", "/b"], f"spans {spans}")
    # wire bytes after the head: three chunks with size lines and CRLFs, the
    # last chunk, one trailer field and the final CRLF
    wire = sum(len(f"{n:x};ext=1\r\n") + n + 2 for n in (100, 3000, 5)) + len(
        "0\r\nX-Checksum: 42\r\n\r\n")
    check(all(s["http.response.body.size"] == wire for s in spans),
          f"sizes {[s['http.response.body.size'] for s in spans]} != {wire}")
    check(all("sonde.truncated" not in s for s in spans), "marked truncated")


def test_small_capture_still_gives_spans():
    """With a 64-byte capture, heads are cut: method, path and status still right."""
    port = free_port()
    ngx = Nginx(port, DOCROOT)
    sonde = Sonde("--capture-bytes", "64")
    try:
        for i in range(3):
            curl("-o", "/dev/null", "-H", "X-Padding: " + "p" * 200,
                 f"http://127.0.0.1:{port}/items/{i}")
        workers = ngx.worker_pids()
        sonde.wait_spans(lambda s: s["kind"] == "server" and s["process.pid"] in workers, 3)
        sonde.settle()
    finally:
        sonde.stop()
        ngx.stop()
    spans = [s for s in server_spans(sonde.spans()) if s["process.pid"] in workers]
    check([s.get("url.path") for s in spans] == ["/items/0", "/items/1", "/items/2"],
          f"paths {[s['url.path'] for s in spans]}")
    check(all(s["http.response.status_code"] == 200 for s in spans), "status")
    check(all(s.get("sonde.truncated") is True for s in spans), "truncation not flagged")


def test_preexisting_connection_mid_body():
    """Tracing starts in the middle of a response body: the next exchange is traced.

    A socket found already open gets 255 payloads to show a message start; the
    rest of this 2 MiB body takes well under that."""
    port = free_port()
    srv = python_server(port, DOCROOT)
    client_code = (
        "import http.client, sys, time\n"
        f"c = http.client.HTTPConnection('127.0.0.1', {port})\n"
        "c.request('GET', '/mid.bin'); r = c.getresponse()\n"
        "r.read(256 * 1024)\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "while r.read(64 * 1024): pass\n"
        "c.request('GET', '/items/4'); c.getresponse().read()\n"
        "print('done', flush=True)\n"
    )
    cli = subprocess.Popen([PYTHON, "-c", client_code], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        check(cli.stdout.readline().strip() == "ready", "client did not start")
        sonde = Sonde("--stats")
        try:
            cli.stdin.write("go\n")
            cli.stdin.flush()
            check(cli.stdout.readline().strip() == "done", "client failed")
            sonde.wait_spans(lambda s: s.get("url.path") == "/items/4", 2)
            sonde.settle()
        finally:
            sonde.stop()
    finally:
        cli.wait(10)
        srv.stop()
    spans = [s for s in sonde.spans() if s["process.pid"] in (srv.pid, cli.pid)]
    check(sorted((s["kind"], s.get("url.path")) for s in spans) ==
          [("client", "/items/4"), ("server", "/items/4")],
          f"spans {[(s['kind'], s['url.path']) for s in spans]}\n{sonde.stderr()}")
    check(all(s["http.response.body.size"] == 35 for s in spans), "sizes")


def test_mounts_tracefs_when_missing():
    """Without tracefs (in a private mount namespace), sonde mounts it and traces."""
    sonde = os.environ.get("SONDE", "build/sonde")
    port = free_port()
    srv = python_server(port, DOCROOT)
    # The request goes once sonde says it is tracing (its start-up is slow on a
    # loaded machine), then sonde runs out its duration.
    script = (
        "umount /sys/kernel/debug/tracing 2>/dev/null; umount /sys/kernel/tracing 2>/dev/null; "
        "test -e /sys/kernel/tracing/events && { echo 'tracefs still mounted'; exit 9; }; "
        "err=$(mktemp); "
        f"{sonde} trace --output json --pid {srv.pid} --duration 8s 2>$err & "
        "for i in $(seq 300); do grep -q 'Ctrl-C to stop' $err && break; sleep 0.1; done; "
        f"curl -s -o /dev/null http://127.0.0.1:{port}/items/1; wait; cat $err >&2; rm -f $err"
    )
    try:
        r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                           text=True, timeout=60)
    finally:
        srv.stop()
    check(r.returncode == 0, f"rc {r.returncode}: {r.stdout}{r.stderr}")
    check('"url.path":"/items/1"' in r.stdout, f"no span:\n{r.stdout}{r.stderr}")


def test_hostile_traffic():
    """Malformed and oversized requests: spans for what is HTTP, no crash, errors counted."""
    port = free_port()
    ngx = Nginx(port, DOCROOT)
    sonde = Sonde("--stats")
    import random
    rng = random.Random(7)
    try:
        def exchange(payload, read=True):
            with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
                s.sendall(payload)
                if read:
                    try:
                        while s.recv(65536):
                            pass
                    except OSError:
                        pass
        # a valid request, then binary junk on the same connection
        exchange(b"GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(rng.randrange(256)
                                                                     for _ in range(3000)))
        # a 20 KB header: nginx answers 400 (or 494); the capture is cut
        exchange(b"GET /items/2 HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 20000 + b"\r\n\r\n")
        # a request line with control characters and a lying Content-Length
        exchange(b"POST /items/3\x01\x02 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nab")
        # a request that stops in the middle of its head
        exchange(b"GET /items/4 HTTP/1.1\r\nHost: x\r\nX-Unfinished: y", read=False)
        curl("-o", "/dev/null", f"http://127.0.0.1:{port}/items/0")
        workers = ngx.worker_pids()
        sonde.wait_spans(lambda s: s["kind"] == "server" and s.get("url.path") == "/items/0"
                         and s["process.pid"] in workers, 1)
        sonde.settle()
        alive = sonde.proc.poll() is None
    finally:
        rc = sonde.stop()
        ngx.stop()
    check(alive, f"sonde died: {sonde.stderr()}")
    check(rc == 0, f"sonde exit code {rc}: {sonde.stderr()}")
    spans = [s for s in server_spans(sonde.spans()) if s["process.pid"] in workers]
    paths = [s.get("url.path") for s in spans]
    check("/items/1" in paths and "/items/0" in paths, f"paths {paths}")
    first = next(s for s in spans if s.get("url.path") == "/items/1")
    check(first["http.response.status_code"] == 200, "valid request before the junk")
    big = [s for s in spans if s.get("url.path") == "/items/2"]
    check(big and big[0]["http.response.status_code"] >= 400, f"oversized head: {big}")
    check("parse errors" in sonde.stderr(), "stats printed")


PIPELINE_10K = r"""
import socket, sys
n = int(sys.argv[2])
req = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n" * n
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(req)
data = b""
while data.count(b"HTTP/1.1 200") < n:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    data += chunk
print(data.count(b"HTTP/1.1 200"))
"""


def test_pipelined_losses_show_in_run():
    """10,000 requests in one write (issue 21, 8): most of them are past the
    capture, so few spans; what was lost shows in `sonde run`'s /metrics
    as in `sonde trace --stats`, counter for counter, not only as one parse
    error."""
    from harness import in_cgroup, protocol_counter_names
    from otlp import SondeRun, get, prom_value
    n = 10000
    cg = Cgroup("sonde-pipeline")
    port, prom = free_port(), free_port()
    ngx = Nginx(port, DOCROOT, cgroup=cg.path)
    agent = SondeRun("--cgroup", cg.path, "--prometheus-port", str(prom),
                     "--prometheus-address", "127.0.0.1")
    trace = Sonde("--cgroup", cg.path, "--stats", "--no-summary")
    try:
        r = subprocess.run(in_cgroup(cg.path, [PYTHON, "-c", PIPELINE_10K, str(port), str(n)]),
                           capture_output=True, text=True, timeout=120)
        check(r.stdout.strip() == str(n), f"answered: {r.stdout!r} {r.stderr!r}")
        trace.settle(quiet=1.5)
        time.sleep(0.5)  # sonde run publishes its counters every 100 ms
        status, body = get(f"http://127.0.0.1:{prom}/metrics")
        check(status == 200, f"/metrics answered {status}")
    finally:
        trace.stop()
        agent.stop()
        ngx.stop()
        cg.remove()
    metrics = body.decode()
    stats = trace.stderr()
    names = protocol_counter_names()
    check(len(names) >= 40, f"protocol counters found in the sources: {len(names)}")
    compared = 0
    for line in stats.splitlines():
        proto, sep, rest = line.strip().partition(": ")
        if not sep or not any(p == proto for p, _ in names):
            continue
        for item in rest.split(", "):
            text, _, value = item.rpartition(" ")
            metric = names.get((proto, text))
            check(metric, f"--stats shows '{proto}: {text}', sonde run has no counter of it")
            got = prom_value(metrics, metric)
            check(got == int(value), f"{metric} {got}, --stats {proto}: {text} {value}")
            compared += 1
    check(compared >= 40, f"{compared} counters compared: {stats}")
    spans = prom_value(metrics, "sonde_http1_spans_total")
    unmatched = prom_value(metrics, "sonde_http1_responses_unmatched_total")
    check(spans < n and unmatched >= n // 2,
          f"{spans} spans and {unmatched} responses without request for {n} requests")
    check(prom_value(metrics, "sonde_bytes_uncaptured_total") > 0, "bytes not captured")
