# SPDX-License-Identifier: MIT
"""One privacy rule, checked in every output at once.

Real traffic carries planted secrets, each unique to this run: Authorization
(Bearer and Basic), Cookie, Set-Cookie and API-key headers, request and
response bodies, query strings, credentials in paths (a JWT, an sk_live_ key,
an e-mail address, a ;jsessionid= of letters), over HTTP/1.1 to a Python
service and through nginx (which forwards them as a client), over TLS (HTTP/1.1
and h2 by ALPN), over h2c, PostgreSQL and MySQL passwords, users,
interpolated and bound values, a Redis AUTH password and value, a secret in a
traced process's environment and command line, and the collector's own
credentials (exporter.otlp.headers), which only the collector may see.

Seven sondes watch the same traffic (selected by a cgroup of its own, so no
other test's traffic reaches them): `sonde run` exporting OTLP (the receiver
keeps every message's raw bytes) with /metrics scraped and debug logs on,
`sonde run` printing to its console, `sonde trace` as text with -v, as JSON, as
trees, and, as the control that proves the search can fail, `sonde trace` and
`sonde run` with --capture-query. Every byte they write is searched for every
secret, as sent, %-encoded, in base64 and in hex: none may appear, except the
query strings in the control's outputs (where they must), and the credentials
in paths inside url.path (the path as sent; never in a span name, http.route or
a metric label)."""

import base64
import json
import os
import random
import shutil
import string
import subprocess
import tempfile
import threading
import time
import urllib.parse

from harness import (PYTHON, SONDE, Cgroup, Failure, Nginx, Proc, check, free_port,
                     in_cgroup, interrupt, wait_for, wait_port)
from otlp import Receiver, get, prom_value, spans_of
import test_mysql
import test_postgres

ALNUM = string.ascii_letters + string.digits


def token(prefix, n=14, alphabet=ALNUM):
    return prefix + "".join(random.choice(alphabet) for _ in range(n))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Secrets:
    """Every planted secret, by name. `never` must appear in no output;
    `query` only in the outputs of --capture-query; `path` only in url.path."""

    def __init__(self):
        self.channels = ["h1", "nginx", "tls", "tls-h2", "h2c"]
        self.never, self.query, self.path = {}, {}, {}
        for ch in self.channels:
            for what in ("bearer", "cookie", "api_key", "req_body", "basic_pass"):
                self.never[f"{ch}.{what}"] = token(f"zq{what.replace('_', '')}")
            basic = f"zq{ch}:{self.never[f'{ch}.basic_pass']}".encode()
            self.never[f"{ch}.basic_header"] = base64.b64encode(basic).decode()
            self.query[f"{ch}.password"] = token("zqQpw")
            self.query[f"{ch}.token"] = token("zqQtok")
        for what in ("backend.set_cookie", "backend.resp_body", "nginx.set_cookie",
                     "nginx.resp_body", "env", "argv", "pg.literal", "pg.bound",
                     "mysql.literal", "mysql.bound", "redis.password", "redis.value"):
            self.never[what] = token("zq" + what.split(".")[-1].replace("_", ""))
        # The database servers' users are made once per test run.
        self.never["pg.password"] = test_postgres.PASSWORD
        self.never["pg.user"] = test_postgres.USER
        self.never["mysql.password"] = test_mysql.PASSWORD
        self.never["mysql.user"] = test_mysql.USER
        header = b64url(b'{"alg":"HS256","typ":"JWT"}')
        claims = b64url(json.dumps({"sub": token("u", 10), "role": "admin"}).encode())
        self.path["jwt"] = f"{header}.{claims}.{token('', 43, ALNUM + '-_')}"
        self.path["sk_live"] = token("sk_live_", 24)
        self.path["email"] = f"jane.{token('', 8, string.ascii_lowercase)}@example.com"
        self.path["jsessionid"] = token("", 24, string.ascii_letters)
        self.otlp_header = token("zqCollector")

    def paths(self):
        """Every path sent with a credential in it, as sent."""
        p = self.path
        return [f"/api/auth/{p['jwt']}/profile", f"/api/keys/{p['sk_live']}",
                f"/api/users/{p['email']}/orders",
                f"/api/users/{urllib.parse.quote(p['email'], safe='')}/orders",
                f"/api/cart;jsessionid={p['jsessionid']}"]


def variants(secret):
    """The secret as sent, %-encoded, in base64 (the part that does not
    depend on what follows it) and in hex."""
    raw = secret.encode()
    whole = len(raw) // 3 * 4
    out = {raw, urllib.parse.quote(secret, safe="").encode(),
           urllib.parse.quote_plus(secret).encode(),
           base64.b64encode(raw)[:whole], base64.urlsafe_b64encode(raw)[:whole],
           raw.hex().encode(), raw.hex().upper().encode()}
    return {v for v in out if len(v) >= 6}


BACKEND = r"""
import http.server, sys
SET_COOKIE, BODY = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = ("account " + BODY + "\n").encode()
        self.send_response(200)
        self.send_header("Set-Cookie", "sid=" + SET_COOKIE + "; HttpOnly")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), H).serve_forever()
"""

PYMYSQL = r"""
import sys, pymysql
port, user, password, db, secret = sys.argv[1:6]
conn = pymysql.connect(host="127.0.0.1", port=int(port), user=user, password=password,
                       database=db, autocommit=True)
cur = conn.cursor()
cur.execute("SELECT id FROM orders WHERE item = %s", (secret,))
cur.fetchall()
conn.close()
print("done")
"""

PSYCOPG = r"""
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("SELECT count(*) FROM orders WHERE note = %s", (sys.argv[2],))
cur.fetchall()
conn.commit()
conn.close()
print("done")
"""


class Captured:
    """A sonde whose stdout and stderr are kept byte for byte."""

    def __init__(self, name, args, ready, env):
        self.name = name
        self.proc = subprocess.Popen([SONDE, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.out, self.err = bytearray(), bytearray()
        self.marker = ready.encode()
        self.ready = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self, stream, buf):
        while True:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            if buf is self.err and self.marker in buf:
                self.ready.set()
        self.ready.set()

    def wait_ready(self):
        if not self.ready.wait(60) or self.proc.poll() is not None:
            raise Failure(f"{self.name} did not start: {bytes(self.err)!r}")

    def stop(self):
        interrupt(self.proc, timeout=20)
        for t in self.threads:
            t.join(5)
        return self.proc.returncode


def sonde_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SONDE_"))}
    # The clients print what they read (redis-cli GET prints the value): log
    # bodies are the application's output, sent as written (README, Privacy).
    # What is checked here is what sonde takes from traffic.
    env["SONDE_LOGS"] = "false"
    env.update(extra or {})
    return env


def scrape(port):
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    check(status == 200, f"/metrics on {port} answered {status}")
    return body


class Services:
    """The traced side: a Python service, nginx in front of it (HTTP/1.1, TLS
    with h1 and h2, h2c), PostgreSQL clients and Redis, all in one cgroup."""

    def __init__(self, sec, cg):
        self.sec, self.cg = sec, cg
        self.backend_port = free_port()
        self.h1, self.tls, self.h2c = free_port(), free_port(), free_port()
        self.redis_port = free_port()
        self.docroot = tempfile.mkdtemp(prefix="sonde-www-")
        os.chmod(self.docroot, 0o755)
        self.procs, self.nginx = [], None
        env = dict(os.environ, APP_SECRET=sec.never["env"])
        self.procs.append(Proc(in_cgroup(cg.path, [
            PYTHON, "-c", BACKEND, sec.never["backend.set_cookie"],
            sec.never["backend.resp_body"], str(self.backend_port), sec.never["argv"]]),
            env=env))
        wait_port(self.backend_port)
        extra = f"""
        location /api/ {{
            proxy_pass http://127.0.0.1:{self.backend_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location = /direct/login {{
            add_header Set-Cookie "nsid={sec.never['nginx.set_cookie']}; Secure";
            return 200 "vault {sec.never['nginx.resp_body']}\\n";
        }}"""
        self.nginx = Nginx(self.h1, self.docroot, extra_conf=extra, cgroup=cg.path,
                           more_listens=[(self.tls, True, True), (self.h2c, True, False)])
        self.redis = None
        if shutil.which("redis-server"):
            self.redis = Proc(in_cgroup(cg.path, [
                "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--requirepass", sec.never["redis.password"], "--save", "",
                "--appendonly", "no"]))
            wait_port(self.redis_port)

    def run(self, args, env=None):
        r = subprocess.run(in_cgroup(self.cg.path, args), capture_output=True, timeout=60,
                           env=env)
        if r.returncode:
            raise Failure(f"{args[0]} failed: {r.stdout!r} {r.stderr!r}")
        return r.stdout

    def http(self):
        """Per channel: a login with every secret a request can carry, Basic
        credentials, the credentials in paths, and (nginx) its own answer."""
        sec = self.sec
        bases = {"h1": (f"http://127.0.0.1:{self.backend_port}", []),
                 "nginx": (f"http://127.0.0.1:{self.h1}", []),
                 "tls": (f"https://127.0.0.1:{self.tls}", ["-k", "--http1.1"]),
                 "tls-h2": (f"https://127.0.0.1:{self.tls}", ["-k", "--http2"]),
                 "h2c": (f"http://127.0.0.1:{self.h2c}", ["--http2-prior-knowledge"])}
        for ch, (base, opts) in bases.items():
            s = {k.split(".", 1)[1]: v for k, v in sec.never.items() if k.startswith(ch + ".")}
            q = {k.split(".", 1)[1]: v for k, v in sec.query.items() if k.startswith(ch + ".")}
            curl = ["curl", "-sS", "--fail", *opts]
            null = ["-o", "/dev/null"]
            body = self.run([*curl, *null, "-w", "%{http_version}",
                             "-H", f"Authorization: Bearer {s['bearer']}",
                             "-H", f"Cookie: session={s['cookie']}; theme=dark",
                             "-H", f"X-Api-Key: {s['api_key']}",
                             "-H", "Content-Type: application/json",
                             "--data-binary", json.dumps({"card": s["req_body"]}),
                             f"{base}/api/login?password={q['password']}&token={q['token']}"])
            want = b"2" if ch in ("tls-h2", "h2c") else b"1.1"
            check(body == want, f"{ch}: curl spoke HTTP/{body.decode()}")
            self.run([*curl, *null, "-u", f"zq{ch}:{s['basic_pass']}", f"{base}/api/basic"])
            urls = [base + p for p in sec.paths()]
            # One curl per request for h2c: curl 7.88 fails to reuse an h2c
            # prior-knowledge connection to nginx 1.22.
            for batch in ([[u] for u in urls] if ch == "h2c" else [urls]):
                self.run([*curl, *[a for u in batch for a in (*null, "--url", u)]])
            if ch != "h1":
                self.run([*curl, *null, f"{base}/direct/login"])

    def postgres(self):
        """psycopg2 (the value interpolated into the query text) and Go
        lib/pq (a bound parameter), both logging in with the password."""
        c = test_postgres.cluster()
        out = self.run([PYTHON, "-c", PSYCOPG, c.dsn(), self.sec.never["pg.literal"]])
        check(b"done" in out, f"psycopg2: {out!r}")
        out = self.run([test_postgres.go_client(), c.dsn(), self.sec.never["pg.bound"]])
        check(b"done" in out, f"lib/pq: {out!r}")
        return c.port

    def mysql(self):
        """pymysql (the value interpolated) and go-sql-driver/mysql
        (prepared statements, bound values), both logging in with the
        password."""
        m = test_mysql.server()
        user, password, db = test_mysql.USER, test_mysql.PASSWORD, test_mysql.DB
        out = self.run([PYTHON, "-c", PYMYSQL, str(m.port), user, password, db,
                        self.sec.never["mysql.literal"]])
        check(b"done" in out, f"pymysql: {out!r}")
        out = self.run([test_mysql.go_client(), f"{user}:{password}@tcp(127.0.0.1:{m.port})/{db}",
                        self.sec.never["mysql.bound"]])
        check(b"done" in out, f"go-sql-driver/mysql: {out!r}")
        return m.port

    def redis_traffic(self):
        if not self.redis:
            return
        cli = ["redis-cli", "--no-auth-warning", "-p", str(self.redis_port)]
        pw, value = self.sec.never["redis.password"], self.sec.never["redis.value"]
        self.run([*cli, "-a", pw, "SET", "greeting", value])
        out = self.run([*cli, "-a", pw, "GET", "greeting"])
        check(value.encode() in out, f"redis GET: {out!r}")
        self.run([*cli, "HELLO", "3", "AUTH", "default", pw])

    def stop(self):
        if self.nginx:
            self.nginx.stop()
        for p in self.procs + ([self.redis] if self.redis else []):
            p.stop()
        shutil.rmtree(self.docroot, ignore_errors=True)


def strip_paths(data, paths):
    """Text outputs print the path as sent: remove those, so what is left
    of a credential is where it must not be."""
    for p in sorted(paths, key=len, reverse=True):
        data = data.replace(p.encode(), b"<path>")
    return data


def without_paths_json_lines(data):
    """`sonde trace -o json`: every line without url.path (nor the summary's
    path), written back."""
    out = []
    for line in data.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        obj.pop("url.path", None)
        if obj.get("summary"):
            obj.pop("path", None)
        out.append(json.dumps(obj).encode())
    return b"\n".join(out)


def without_paths_otlp(receiver):
    """The receiver's decoded requests, url.path attributes taken out, and
    the HTTP headers the collector was sent (exporter.otlp.headers go there
    by design) left out."""
    def walk(v):
        if isinstance(v, dict):
            if v.get("key") == "url.path":
                return None
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v if not (isinstance(x, dict) and x.get("key") == "url.path")]
        return v
    return json.dumps([walk({k: v for k, v in r.items() if k != "headers"})
                       for r in receiver.requests()]).encode()


def find_leaks(outputs, secrets):
    """(output, secret name, variant) for every secret found in an output."""
    leaks = []
    for out_name, data in outputs.items():
        for sec_name, secret in secrets.items():
            for v in variants(secret):
                if v in data:
                    leaks.append(f"{sec_name} ({v.decode()!r}) in {out_name}")
    return leaks


def test_no_secret_in_any_output():
    t0 = time.time()
    sec = Secrets()
    cg = Cgroup("sonde-privacy")
    fast = {"OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "200"}
    raw_otlp = tempfile.mktemp(prefix="sonde-otlp-raw-")
    rcv = Receiver(raw_out=raw_otlp)
    rcv_q = Receiver()
    prom = {"run-otlp": free_port(), "run-console": free_port(), "run-otlp-query": free_port()}
    sel = ["--cgroup", cg.path]
    # The collector's credentials: sent to it, shown nowhere else.
    otlp_headers = f"authorization=Bearer%20{sec.otlp_header},x-tenant=shop"
    check_config = subprocess.run([SONDE, "run", "--check-config"], capture_output=True,
                                  env=sonde_env({"OTEL_EXPORTER_OTLP_HEADERS": otlp_headers}),
                                  timeout=30)
    check(check_config.returncode == 0 and b"authorization" in check_config.stdout,
          f"--check-config: {check_config.stdout!r} {check_config.stderr!r}")

    def run_args(name, *more):
        return ["run", *sel, "--prometheus-port", str(prom[name]),
                "--prometheus-address", "127.0.0.1", "--log-level", "debug", *more]

    sondes = [
        Captured("run-otlp", run_args("run-otlp"), "sonde: running",
                 sonde_env(dict(fast, OTEL_EXPORTER_OTLP_ENDPOINT=rcv.endpoint(),
                                OTEL_EXPORTER_OTLP_HEADERS=otlp_headers))),
        Captured("run-console", run_args("run-console"), "sonde: running", sonde_env()),
        Captured("trace-text", ["trace", *sel, "-v", "--stats"], "sonde: tracing",
                 sonde_env()),
        Captured("trace-json", ["trace", *sel, "-o", "json", "--stats"], "sonde: tracing",
                 sonde_env()),
        Captured("trace-tree", ["trace", *sel, "--tree"], "sonde: tracing", sonde_env()),
        # The controls: the query strings must show here.
        Captured("trace-text-query", ["trace", *sel, "--capture-query"], "sonde: tracing",
                 sonde_env()),
        Captured("run-otlp-query", run_args("run-otlp-query", "--capture-query"),
                 "sonde: running",
                 sonde_env(dict(fast, OTEL_EXPORTER_OTLP_ENDPOINT=rcv_q.endpoint()))),
    ]
    scraped = {name: bytearray() for name in prom}
    by_name = {s.name: s for s in sondes}
    svc = None
    try:
        for s in sondes:
            s.wait_ready()
        svc = Services(sec, cg)
        svc.http()
        pg_port = svc.postgres()
        mysql_port = svc.mysql()
        svc.redis_traffic()
        for name, port in prom.items():
            scraped[name] += scrape(port)

        def json_spans():
            return [json.loads(line) for line in bytes(by_name["trace-json"].out).splitlines()
                    if line.startswith(b"{") and b'"summary"' not in line]

        def exported(name, receiver):
            text = scrape(prom[name]).decode()
            built = prom_value(text, "sonde_spans_total") or 0
            done = sum(prom_value(text, f"sonde_spans_{w}_total") or 0
                       for w in ("exported", "dropped", "unsampled"))
            return built > 0 and built == done and spans_of(receiver)

        # Every output has what it will get: the JSON shows the last client's
        # spans, both exporters have sent all they built.
        wait_for(lambda: any(s.get("server.port") == pg_port and
                             s.get("db.query.text", "").startswith("INSERT")
                             for s in json_spans()), timeout=20, what="the PostgreSQL spans")

        def quiet():
            sizes = [len(s.out) for s in sondes if s.name != "run-otlp"]
            time.sleep(1.5)
            return sizes == [len(s.out) for s in sondes if s.name != "run-otlp"]

        wait_for(quiet, timeout=30, what="the outputs to settle")
        wait_for(lambda: exported("run-otlp", rcv), timeout=20, what="run-otlp's export")
        wait_for(lambda: exported("run-otlp-query", rcv_q), timeout=20,
                 what="run-otlp-query's export")
        time.sleep(1.5)  # a metrics export with every series, the trees' last roots
        for name, port in prom.items():
            scraped[name] += scrape(port)
    finally:
        for s in sondes:
            s.stop()
        if svc:
            svc.stop()
        rcv.stop()
        rcv_q.stop()
        cg.remove()

    # What was traced: without it, finding nothing would prove nothing.
    spans = json_spans()
    paths = {s.get("url.path") for s in spans}
    for p in sec.paths():
        check(p in paths, f"no span for {p}; paths {sorted(filter(None, paths))}")
    versions = {(s.get("url.scheme"), s.get("network.protocol.version")) for s in spans
                if s.get("url.path") == "/api/login" and s["kind"] == "server"}
    for want in (("http", "1.1"), ("https", "1.1"), ("https", "2"), ("http", "2")):
        check(want in versions, f"no {want} server span for /api/login: {versions}")
    for system, port, least in (("postgresql", pg_port, 7), ("mariadb", mysql_port, 6),
                                ("redis", svc.redis_port if svc.redis else None, 3)):
        got = [s for s in spans if s.get("db.system.name") == system and
               s.get("server.port") == port]
        check(port is None or len(got) >= least, f"{len(got)} {system} spans, want {least}: "
              f"{[s for s in spans if s.get('db.system.name')]}")
    for s in sondes:
        if s.name.startswith("trace") or s.name == "run-console":
            check(b"/api/login" in s.out, f"{s.name} printed no /api/login span: {bytes(s.out)!r}")
    otlp = spans_of(rcv)
    routes = {a.get("http.route") for _, _, a in otlp}
    for route in ("/api/auth/{token}/profile", "/api/keys/{token}", "/api/users/{email}/orders",
                  "/api/cart;jsessionid={id}"):
        check(route in routes, f"route {route} not exported: {sorted(filter(None, routes))}")
    check(len(otlp) >= len(spans) - 5, f"{len(otlp)} spans exported, {len(spans)} traced")

    def raw(path):
        with open(path, "rb") as f:
            return f.read()

    plain = {}
    for s in sondes:
        if s.name.endswith("-query"):
            continue
        if s.name == "trace-json":
            plain[f"{s.name} stdout"] = without_paths_json_lines(bytes(s.out))
        else:
            plain[f"{s.name} stdout"] = strip_paths(bytes(s.out), sec.paths())
        plain[f"{s.name} stderr"] = strip_paths(bytes(s.err), sec.paths())
    for name in ("run-otlp", "run-console"):
        plain[f"{name} /metrics"] = bytes(scraped[name])
    plain["OTLP messages (raw)"] = raw(raw_otlp)
    plain["run --check-config"] = check_config.stdout + check_config.stderr
    plain["OTLP messages (decoded, without url.path)"] = without_paths_otlp(rcv)
    never_and_query = dict(sec.never, **sec.query)
    leaks = find_leaks({k: v for k, v in plain.items() if k != "OTLP messages (raw)"},
                       dict(never_and_query, **sec.path))
    leaks += find_leaks({"OTLP messages (raw)": plain["OTLP messages (raw)"]}, never_and_query)
    leaks += find_leaks(plain, {"otlp header": sec.otlp_header})

    # The controls: the same outputs with --capture-query.
    control = {
        "trace-text-query stdout": strip_paths(bytes(by_name["trace-text-query"].out),
                                               sec.paths()),
        "run-otlp-query OTLP (decoded, without url.path)": without_paths_otlp(rcv_q),
        "run-otlp-query /metrics": bytes(scraped["run-otlp-query"]),
    }
    leaks += find_leaks(control, dict(sec.never, **sec.path))
    leaks += find_leaks({"run-otlp-query /metrics": control["run-otlp-query /metrics"]},
                        sec.query)
    check(not leaks, f"{len(leaks)} secrets in the outputs:\n  " + "\n  ".join(leaks[:40]))
    sent = [r.get("headers", {}).get("authorization") for r in rcv.requests()]
    check(f"Bearer {sec.otlp_header}" in sent, f"the collector got authorization {set(sent)}")
    for name, q in sec.query.items():
        for out_name in ("trace-text-query stdout",
                         "run-otlp-query OTLP (decoded, without url.path)"):
            check(q.encode() in control[out_name],
                  f"control: --capture-query does not show {name} in {out_name}")
    print(f"  (privacy: {len(spans)} spans traced, {len(otlp)} exported, "
          f"{time.time() - t0:.0f}s)", flush=True)
