# SPDX-License-Identifier: MIT
"""HTTPS traced as plaintext through TLS library uprobes, with real peers on
loopback: every request is one span with url.scheme=https, and the ciphertext
under it produces nothing."""

import os
import shutil
import subprocess
import tempfile
import time

from harness import (PYTHON, Nginx, Proc, Sonde, check, client_spans, curl, free_port,
                     make_cert, server_spans, wait_port)
from tls_peers import go_binaries, parse_errors, trace_command


def make_docroot():
    d = tempfile.mkdtemp(prefix="sonde-www-tls-")
    os.chmod(d, 0o755)
    for i in range(5):
        with open(os.path.join(d, str(i)), "w") as f:
            f.write(f"item {i}\n" * (i + 1))
    with open(os.path.join(d, "big.bin"), "wb") as f:
        f.write(os.urandom(300 * 1000))
    return d


DOCROOT = make_docroot()


def check_https(spans, what):
    for s in spans:
        check(s["url.scheme"] == "https", f"{what}: url.scheme {s['url.scheme']}: {s}")
        check(s["network.protocol.version"] == "1.1", f"{what}: version {s}")
        check(s["duration_ns"] > 0, f"{what}: no duration {s}")
        check("sonde.truncated" not in s, f"{what}: truncated {s}")


def test_tls_nginx_server_and_curl_client():
    """N requests over one TLS connection: N nginx server spans and N curl client
    spans, with the right method, path, status, sizes, addresses and https."""
    port = free_port()
    ngx = Nginx(port, DOCROOT, tls=True)
    workers = ngx.worker_pids()
    n = 6
    base = f"https://127.0.0.1:{port}"
    urls = [f"{base}/{i % 5}?n={i}" for i in range(n - 1)] + [f"{base}/status/404"]
    sonde = Sonde("--stats", "--capture-query", "--comm", "curl", *[a for w in workers for a in ("--pid", str(w))])
    try:
        r = curl("-k", "--http1.1", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                 "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                 "-w", "%{num_connects} %{local_port}\\n", *urls)
        check(sum(int(l.split()[0]) for l in r.stdout.splitlines()) == 1,
              f"curl did not reuse one connection: {r.stdout!r}")
        curl_port = int(r.stdout.split()[1])
        sonde.wait_spans(lambda s: s.get("server.port") == port, 2 * n)
        sonde.settle()
    finally:
        sonde.stop()
        ngx.stop()
    spans = [s for s in sonde.spans() if s.get("server.port") == port]
    srv = server_spans(spans)
    cli = client_spans(spans)
    check(len(srv) == n, f"expected {n} nginx spans, got {len(srv)}: {srv}")
    check(len(cli) == n, f"expected {n} curl spans, got {len(cli)}: {cli}")
    check(all(s["process.pid"] in workers for s in srv), "server spans from the worker")
    for i, (s, c) in enumerate(zip(srv, cli)):
        path = f"/{i % 5}" if i < n - 1 else "/status/404"
        for sp in (s, c):
            check(sp["http.request.method"] == "GET", f"method {sp}")
            check(sp["url.path"] == path, f"span {i}: path {sp['url.path']} != {path}")
        status = 200 if i < n - 1 else 404
        check(s["http.response.status_code"] == status, f"server status {s}")
        check(c["http.response.status_code"] == status, f"client status {c}")
        if i < n - 1:
            body = len(f"item {i % 5}\n") * (i % 5 + 1)
            check(s["url.query"] == f"n={i}", f"query {s}")
            check(s["http.response.body.size"] == body, f"server body size {s}")
            check(c["http.response.body.size"] == body, f"client body size {c}")
        check(s["client.address"] == "127.0.0.1" and s["client.port"] == curl_port,
              f"server span's client address: {s}")
        check(c["network.peer.port"] == port and c["network.local.port"] == curl_port,
              f"client span's addresses: {c}")
        check(s["user_agent.original"].startswith("curl/"), "user agent")
    check(cli[-1]["error.type"] == "404", f"client 404 is an error: {cli[-1]}")
    check_https(spans, "nginx/curl")
    check(len(spans) == len(sonde.spans()), f"spans from elsewhere: {sonde.spans()}")
    check("parse errors 0" in sonde.stderr(), f"ciphertext was parsed: {sonde.stderr()}")


def test_tls_post_and_large_response():
    """A POST body and a 300 kB response through SSL_write/SSL_read pieces."""
    port = free_port()
    ngx = Nginx(port, DOCROOT, tls=True)
    base = f"https://127.0.0.1:{port}"
    try:
        spans, r = trace_command(
            "sh", "-c", f"head -c 5000 /dev/zero | "
            f"curl -sk --http1.1 -o /dev/null --data-binary @- {base}/upload && "
            f"curl -sk --http1.1 -o /dev/null {base}/big.bin")
    finally:
        ngx.stop()
    spans = [s for s in spans if s.get("server.port") == port and
             s.get("process.executable.name") == "curl"]
    posts = [s for s in spans if s["http.request.method"] == "POST"]
    check(len(posts) == 1 and posts[0]["http.request.body.size"] == 5000 and
          posts[0]["http.response.status_code"] == 201, f"{posts}")
    big = [s for s in spans if s.get("url.path") == "/big.bin"]
    check(len(big) == 1 and big[0]["http.response.body.size"] == 300 * 1000, f"{big}")
    check_https(spans, "post/large")
    check(parse_errors(r.stderr) == 0, r.stderr)


def test_tls_python_ssl_client():
    """Python's ssl module (SSL_read_ex/SSL_write_ex), started by sonde: N spans."""
    port = free_port()
    ngx = Nginx(port, DOCROOT, tls=True)
    code = (
        "import http.client, ssl\n"
        "ctx = ssl._create_unverified_context()\n"
        f"c = http.client.HTTPSConnection('127.0.0.1', {port}, context=ctx)\n"
        "for i in range(5):\n"
        "    c.request('GET', f'/{i}', headers={'User-Agent': 'py-ssl'})\n"
        "    c.getresponse().read()\n"
        "c.request('POST', '/upload', body=b'x' * 1234)\n"
        "c.getresponse().read()\n"
    )
    try:
        spans, r = trace_command(PYTHON, "-c", code)
    finally:
        ngx.stop()
    check(r.returncode == 0, f"python failed: {r.stderr}")
    cli = client_spans(spans)
    check(len(cli) == 6, f"expected 6 python spans, got {len(cli)}: {cli}")
    for i, s in enumerate(cli[:5]):
        check(s.get("url.path") == f"/{i}" and s["http.response.status_code"] == 200, f"{s}")
        check(s["http.response.body.size"] == len(f"item {i}\n") * (i + 1), f"{s}")
        check(s["user_agent.original"] == "py-ssl", f"{s}")
        check(s["server.port"] == port and s["network.peer.address"] == "127.0.0.1", f"{s}")
    check(cli[5]["http.request.method"] == "POST" and
          cli[5]["http.request.body.size"] == 1234, f"{cli[5]}")
    check_https(cli, "python")
    check(len(cli) == len(spans), f"other spans: {spans}")
    check(parse_errors(r.stderr) == 0, r.stderr)


def test_tls_ciphertext_without_uprobes_gives_nothing():
    """With --no-tls the same HTTPS traffic produces no span and no parse error:
    TLS records are recognised and left alone."""
    port = free_port()
    ngx = Nginx(port, DOCROOT, tls=True)
    try:
        spans, r = trace_command("curl", "-sk", "--http1.1", "-o", "/dev/null",
                                 f"https://127.0.0.1:{port}/1", args=("--no-tls",))
    finally:
        ngx.stop()
    check(r.returncode == 0, f"curl failed: {r.stderr}")
    check(spans == [], f"spans from ciphertext: {spans}")
    check(parse_errors(r.stderr) == 0, r.stderr)


def test_tls_process_started_later_in_another_mount_namespace():
    """nginx started after sonde, in its own mount namespace, with a copy of
    libssl (another inode than the system's) at a path that only exists in
    that namespace: hooked through its exec and /proc/PID/root within a
    second, traced, and unhooked when it exits; --stats says so."""
    libdir = tempfile.mkdtemp(prefix="sonde-libssl-")
    mnt = tempfile.mkdtemp(prefix="sonde-ns-")  # empty outside the namespace
    shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", libdir)
    private = os.path.join(mnt, "libssl.so.3")
    wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f"mount --bind {libdir} {mnt} && LD_LIBRARY_PATH={mnt} exec \"$0\" \"$@\""]
    port = free_port()
    sonde = Sonde("--stats", "-v", "--comm", "nginx")
    ngx = None
    try:
        ngx = Nginx(port, DOCROOT, tls=True, wrap=wrap)
        workers = ngx.worker_pids()
        check(not os.path.exists(private), "the private libssl is visible to sonde")
        with open(f"/proc/{workers[0]}/maps") as f:
            check(private in f.read(), "nginx does not use the private libssl")
        time.sleep(1.0)
        curl("-k", "--http1.1", "-o", "/dev/null", "-o", "/dev/null",
             f"https://127.0.0.1:{port}/1", f"https://127.0.0.1:{port}/echo")
        sonde.wait_spans(lambda s: s.get("server.port") == port, 2)
        ngx.stop()
        ngx = None
        time.sleep(0.5)
    finally:
        sonde.stop()
        if ngx:
            ngx.stop()
        shutil.rmtree(libdir, ignore_errors=True)
        os.rmdir(mnt)
    spans = [s for s in server_spans(sonde.spans()) if s.get("server.port") == port]
    check([s.get("url.path") for s in spans] == ["/1", "/echo"], f"spans {spans}")
    check(all(s["process.pid"] in workers for s in spans), f"not from the workers: {spans}")
    check_https(spans, "late nginx")
    err = sonde.stderr()
    check(f"tls: hooked {private} (openssl, 9 uprobes)" in err, err)
    check(f"tls: unhooked {private}" in err, err)
    check(f"    {private}: openssl, 9 uprobes, unhooked: its processes exited" in err, err)


NODE_SERVER = """
const https = require('https'), fs = require('fs');
const [port, key, cert] = process.argv.slice(2);
https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
  let n = 0;
  req.on('data', (c) => n += c.length);
  req.on('end', () => {
    const body = 'node ' + req.url + ' ' + n;
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-length': body.length });
    res.end(body);
  });
}).listen(+port, '127.0.0.1');
"""

NODE_CLIENT = """
const https = require('https');
const port = +process.argv[2];
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
let i = 0;
function next() {
  if (i === 4) { agent.destroy(); return; }
  https.get({ host: '127.0.0.1', port, path: '/n' + i++, agent }, (res) => {
    res.resume();
    res.on('end', next);
  });
}
next();
"""


def node_exports_openssl():
    out = subprocess.run(["nm", "-D", "--defined-only", "/usr/bin/node"],
                         capture_output=True, text=True).stdout.split()
    return "SSL_read" in out and "SSL_write" in out


def test_tls_node_server_and_client():
    """Node.js carries its own OpenSSL (found by its exported SSL_read/SSL_write)
    and feeds it through memory BIOs: an https server started after sonde, with
    curl and a Node https client: N server spans and N client spans."""
    check(node_exports_openssl(), "/usr/bin/node does not export SSL_read: linked to libssl?")
    d = tempfile.mkdtemp(prefix="sonde-node-")
    cert, key = make_cert(d)
    port = free_port()
    sonde = Sonde("--stats", "--comm", "node")
    srv = None
    try:
        srv = Proc(["node", "-e", NODE_SERVER, "-", str(port), key, cert])
        wait_port(port)
        time.sleep(0.5)
        curl("-k", "-o", "/dev/null", "-o", "/dev/null", f"https://127.0.0.1:{port}/a",
             f"https://127.0.0.1:{port}/missing")
        curl("-k", "-o", "/dev/null", "--data-binary", "x" * 2000, f"https://127.0.0.1:{port}/p")
        subprocess.run(["node", "-e", NODE_CLIENT, "-", str(port)], check=True, timeout=30)
        sonde.wait_spans(lambda s: s.get("server.port") == port, 11)
        sonde.settle()
    finally:
        sonde.stop()
        if srv:
            srv.stop()
        shutil.rmtree(d, ignore_errors=True)
    spans = [s for s in sonde.spans() if s.get("server.port") == port]
    srv_spans = server_spans(spans, pid=srv.pid)
    node_cli = [s for s in client_spans(spans) if s["process.executable.name"] == "node"]
    paths = ["/a", "/missing", "/p"] + [f"/n{i}" for i in range(4)]
    check([s.get("url.path") for s in srv_spans] == paths, f"server spans {srv_spans}")
    check([s.get("url.path") for s in node_cli] == paths[3:], f"client spans {spans}")
    check([s["http.response.status_code"] for s in srv_spans] == [200, 404] + [200] * 5,
          f"statuses {srv_spans}")
    check(srv_spans[2]["http.request.method"] == "POST" and
          srv_spans[2]["http.request.body.size"] == 2000, f"POST {srv_spans[2]}")
    for s in srv_spans:
        body = len(f"node {s['url.path']} {2000 if s['url.path'] == '/p' else 0}")
        check(s["http.response.body.size"] == body, f"body size {s}")
        check(s["client.address"] == "127.0.0.1", f"client address {s}")
    check_https(spans, "node")
    check(len(spans) == 11, f"expected 11 spans, got {len(spans)}: {spans}")


def go_https(kind):
    """A Go 1.19 HTTPS server started after sonde, curl and a Go client: N + 1
    server and N client spans; --stats says how the functions and offsets were
    found."""
    binary = go_binaries()[kind]
    d = tempfile.mkdtemp(prefix="sonde-go-cert-")
    cert, key = make_cert(d)
    port = free_port()
    n = 6
    sonde = Sonde("--stats", "--comm", os.path.basename(binary))
    srv = None
    try:
        srv = Proc([binary, "server", str(port), cert, key])
        wait_port(port)
        time.sleep(0.5)
        curl("-k", "-o", "/dev/null", f"https://127.0.0.1:{port}/missing")
        subprocess.run([binary, "client", str(port), str(n)], check=True, timeout=30)
        sonde.wait_spans(lambda s: s.get("server.port") == port, 2 * n + 1)
        sonde.settle()
    finally:
        sonde.stop()
        if srv:
            srv.stop()
        shutil.rmtree(d, ignore_errors=True)
    spans = [s for s in sonde.spans() if s.get("server.port") == port]
    srv_spans = server_spans(spans, pid=srv.pid)
    cli = client_spans(spans)
    paths = ["/missing"] + [f"/g{i}" for i in range(n - 1)] + ["/post"]
    check([s.get("url.path") for s in srv_spans] == paths, f"server spans {srv_spans}")
    check([s.get("url.path") for s in cli] == paths[1:], f"client spans {cli}")
    for s in srv_spans + cli:
        post = s.get("url.path") == "/post"
        body = f"go {s['url.path']} {3000 if post else 0}"
        check(s["http.request.method"] == ("POST" if post else "GET"), f"method {s}")
        check(s["http.request.body.size"] == (3000 if post else 0), f"request body {s}")
        check(s["http.response.status_code"] == (404 if s.get("url.path") == "/missing" else 200),
              f"status {s}")
        check(s["http.response.body.size"] == len(body), f"response body {s}")
        check(s["network.peer.address"] == "127.0.0.1", f"peer {s}")
    check_https(spans, f"go {kind}")
    check(len(spans) == 2 * n + 1, f"expected {2 * n + 1} spans, got {len(spans)}: {spans}")
    err = sonde.stderr()
    check("parse errors 0" in err and "responses without request 0" in err, err)
    return err


def test_tls_go_with_symbols():
    """Functions from the symbol table, offsets from DWARF."""
    err = go_https("symtab")
    check("go go1.19" in err and "functions from the symbol table, offsets from dwarf" in err,
          err)


def test_tls_go_stripped():
    """-ldflags=-s -w: functions from .gopclntab, offsets from the Go version table."""
    err = go_https("stripped")
    check("functions from .gopclntab, offsets from go version table" in err, err)


def test_tls_sonde_run_metrics_say_https():
    """`sonde run` hooks TLS too: RED metrics of HTTPS requests to nginx carry
    url_scheme="https" on the Prometheus endpoint."""
    from otlp import SondeRun, get, wait_for

    port, prom = free_port(), free_port()
    ngx = Nginx(port, DOCROOT, tls=True)
    agent = SondeRun("--pid", str(ngx.worker_pids()[0]), "--prometheus-port", str(prom),
                     "--traces-exporter", "none")
    try:
        curl("-k", "--http1.1", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
             f"https://127.0.0.1:{port}/1", f"https://127.0.0.1:{port}/2",
             f"https://127.0.0.1:{port}/status/500")

        def scraped():
            text = get(f"http://127.0.0.1:{prom}/metrics")[1].decode()
            lines = [l for l in text.splitlines()
                     if l.startswith("http_server_request_duration_seconds_count{")]
            total = sum(float(l.rsplit(" ", 1)[1]) for l in lines)
            return lines if total >= 3 else None
        lines = wait_for(scraped, what="3 requests counted")
    finally:
        agent.stop()
        ngx.stop()
    check(all('url_scheme="https"' in l for l in lines), f"{lines}")
    check(any('http_response_status_code="500"' in l for l in lines), f"{lines}")
