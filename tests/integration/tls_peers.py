# SPDX-License-Identifier: MIT
"""TLS peers for the integration tests: a self-signed certificate, nginx with
TLS, and the spans sonde prints for a command it runs."""

import json
import os
import shutil
import subprocess
import tempfile

from harness import SONDE, Failure, Proc, wait_port


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


class TlsNginx:
    """nginx serving HTTP/1.1 over TLS only, one worker."""

    def __init__(self, port, root, wrap=()):
        self.dir = tempfile.mkdtemp(prefix="sonde-nginx-tls-")
        os.chmod(self.dir, 0o755)
        cert, key = make_cert(self.dir)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root};
        location = /status/404 {{ return 404; }}
        location = /status/500 {{ return 500 "boom"; }}
        location = /echo {{ return 200 "ok"; }}
        location = /upload {{ client_max_body_size 50m; return 201 "stored"; }}
    }}
}}
""")
        self.proc = Proc([*wrap, "nginx", "-c", conf, "-p", self.dir], stderr=subprocess.PIPE)
        wait_port(port)
        self.master_pid = self.proc.pid

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.master_pid)],
                             capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def trace_command(*command, args=(), timeout=120):
    """`sonde trace -o json --stats [args] -- COMMAND`: (spans, completed process)."""
    r = subprocess.run([SONDE, "trace", "--output", "json", "--no-summary", "--stats", *args,
                        "--", *command], capture_output=True, text=True, timeout=timeout)
    spans = []
    for line in r.stdout.splitlines():
        try:
            spans.append(json.loads(line))
        except ValueError:
            raise Failure(f"sonde printed a line that is not JSON: {line!r}")
    return spans, r


def parse_errors(stderr):
    """The parse error count of sonde's closing line."""
    for line in stderr.splitlines():
        if line.startswith("sonde: ") and "parse errors" in line:
            return int(line.rsplit(";", 1)[1].split()[0])
    raise Failure(f"no closing counters line in:\n{stderr}")
