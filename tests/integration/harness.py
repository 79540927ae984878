# SPDX-License-Identifier: MIT
"""Helpers for integration tests: real servers and clients on loopback, the
real agent, and assertions on the spans it printed."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SONDE = os.environ.get("SONDE", os.path.join(ROOT, "build", "sonde"))
PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=15.0, what="condition", interval=0.2):
    """pred()'s first true value, polled every interval; Failure after timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(interval)
    raise Failure(f"timed out after {timeout}s waiting for {what}")


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise Failure(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class Sonde:
    """`sonde trace --output json` running in the background."""

    def __init__(self, *args, env=None):
        self.args = [SONDE, "trace", "--output", "json", *args]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.stdout_lines = []
        self.stderr_lines = []
        self.ready = threading.Event()
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out.start()
        self._t_err.start()
        if not self.ready.wait(30):
            self.stop()
            raise Failure("sonde did not start: " + "".join(self.stderr_lines))

    def _read_out(self):
        for line in self.proc.stdout:
            self.stdout_lines.append(line)

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            if "sonde: tracing" in line:
                self.ready.set()
        self.ready.set()

    def spans(self):
        out = []
        for line in list(self.stdout_lines):
            try:
                obj = json.loads(line)
            except ValueError:
                raise Failure(f"sonde printed a line that is not JSON: {line!r}")
            if "kind" in obj and not obj.get("summary"):
                out.append(obj)
        return out

    def wait_spans(self, pred, count, timeout=10.0):
        """Waits until at least `count` spans match pred; returns them."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [s for s in self.spans() if pred(s)]
            if len(got) >= count:
                return got
            time.sleep(0.1)
        return [s for s in self.spans() if pred(s)]

    def settle(self, quiet=0.6, timeout=10.0):
        """Waits until no new output arrives for `quiet` seconds."""
        deadline = time.time() + timeout
        n, since = len(self.stdout_lines), time.time()
        while time.time() < deadline:
            time.sleep(0.1)
            if len(self.stdout_lines) != n:
                n, since = len(self.stdout_lines), time.time()
            elif time.time() - since >= quiet:
                return

    def stop(self):
        interrupt(self.proc)
        self._t_out.join(5)
        self._t_err.join(5)
        return self.proc.returncode

    def stderr(self):
        return "".join(self.stderr_lines)


def in_cgroup(cgroup, args):
    """args run inside a cgroup v2 directory: the shell moves itself there and
    execs, so not one syscall of the program runs outside. None: as they are."""
    if not cgroup:
        return args
    return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, *args]


class Cgroup:
    """A cgroup v2 directory of its own, to select a test's processes with
    --cgroup (on a cgroup v1-only host a cgroup2 hierarchy is mounted beside
    it). remove() once its processes are gone."""

    def __init__(self, name):
        root = None
        with open("/proc/self/mountinfo") as f:
            for line in f:
                parts = line.split()
                if parts[parts.index("-") + 1] == "cgroup2":
                    root = parts[4]
                    break
        self.mounted = None
        if root is None:
            self.mounted = root = tempfile.mkdtemp(prefix="sonde-cg2-")
            subprocess.run(["mount", "-t", "cgroup2", "none", root], check=True)
        self.path = os.path.join(root, f"{name}-{os.getpid()}")
        os.makedirs(self.path, exist_ok=True)

    def add(self, pid):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def remove(self):
        # A process that was just killed leaves its cgroup a moment later.
        for _ in range(50):
            try:
                os.rmdir(self.path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        if self.mounted:
            subprocess.run(["umount", self.mounted])


def protocol_counter_names():
    """(protocol, --stats text) -> sonde run's Prometheus name, for every
    struct protocol_counter in agent/protocols/."""
    out = {}
    for d, _, files in os.walk(os.path.join(ROOT, "agent", "protocols")):
        for fn in files:
            with open(os.path.join(d, fn)) as f:
                for metric, text in re.findall(r'\{ "sonde\.([a-z0-9._]+)", "([^"]+)"', f.read()):
                    out[(metric.split(".")[0], text)] = \
                        "sonde_" + metric.replace(".", "_") + "_total"
    return out


def interrupt(proc, sig=signal.SIGINT, timeout=15):
    """Sends sig to a Popen and waits; kills it after timeout. Returns
    whether it ended by itself."""
    if proc.poll() is not None:
        return True
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


class Proc:
    """A background process that is always cleaned up."""

    def __init__(self, args, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        self.proc = subprocess.Popen(args, **kw)
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def python_server(port, directory, http11=True):
    """python3 http.server; HTTP/1.1 keep-alive unless http11 is False."""
    proto = "HTTP/1.1" if http11 else "HTTP/1.0"
    code = (
        "import http.server, functools, sys\n"
        f"h = functools.partial(http.server.SimpleHTTPRequestHandler, directory={directory!r})\n"
        f"h.func.protocol_version = {proto!r}\n"
        "h.func.log_message = lambda *a: None\n"
        f"http.server.ThreadingHTTPServer(('127.0.0.1', {port}), h).serve_forever()\n"
    )
    p = Proc([PYTHON, "-c", code])
    wait_port(port)
    return p


def make_cert(directory):
    """A self-signed certificate for localhost and 127.0.0.1; (cert, key)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)  # nginx workers run as www-data
    return cert, key


class Nginx:
    """nginx, one worker, own prefix; access log counts requests served."""

    def __init__(self, port, root, http2=False, tls=False, wrap=(), more_listens=(),
                 extra_conf="", cgroup=None):
        """wrap: a command prefix nginx runs under (e.g. unshare).
        more_listens: further (port, http2, tls) listening sockets of the
        same server. extra_conf: more directives (locations) of the server.
        cgroup: a cgroup v2 directory nginx runs in from its first instruction."""
        self.dir = tempfile.mkdtemp(prefix="sonde-nginx-")
        listens = [(port, http2, tls), *more_listens]
        # nginx 1.22: "listen … http2" without ssl is h2c with prior knowledge;
        # with ssl it is h2 by ALPN.
        listen_conf = "\n        ".join(
            f"listen 127.0.0.1:{p}{' ssl' if t else ''}{' http2' if h2 else ''};"
            for p, h2, t in listens)
        tls_conf = ""
        if any(t for _, _, t in listens):
            os.chmod(self.dir, 0o755)
            cert, key = make_cert(self.dir)
            tls_conf = f"ssl_certificate {cert};\n        ssl_certificate_key {key};"
        self.access_log = os.path.join(self.dir, "access.log")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log {self.access_log};
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    sendfile on;
    keepalive_requests 100000;
    server {{
        {listen_conf}
        {tls_conf}
        root {root};
        location = /status/404 {{ return 404; }}
        location = /status/500 {{ return 500 "boom"; }}
        location = /echo {{ return 200 "ok"; }}
        location = /upload {{ client_max_body_size 50m; return 201 "stored"; }}
        {extra_conf}
    }}
}}
""")
        self.proc = Proc(in_cgroup(cgroup, [*wrap, "nginx", "-c", conf, "-p", self.dir]),
                         stderr=subprocess.PIPE)
        for p, _, _ in listens:
            wait_port(p)
        self.master_pid = self.proc.pid

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.master_pid)],
                             capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]

    def served(self):
        try:
            with open(self.access_log) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def curl(*args, check_rc=True):
    r = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise Failure(f"curl {' '.join(args)} failed: {r.stderr.strip()}")
    return r


def server_spans(spans, pid=None, path=None):
    return [s for s in spans if s["kind"] == "server"
            and (pid is None or s["process.pid"] == pid)
            and (path is None or s.get("url.path") == path)]


def client_spans(spans, pid=None, path=None):
    return [s for s in spans if s["kind"] == "client"
            and (pid is None or s["process.pid"] == pid)
            and (path is None or s.get("url.path") == path)]
