# SPDX-License-Identifier: MIT
"""A thread-per-connection HTTP service for the request-context tests:
answers GET /PATH?customer=C with its name and the customer, after calling
DOWNSTREAM + PATH?customer=C when it has one (a new connection per call, or
one keep-alive connection per serving thread with --keep-alive).

With --log (the logs tests), the serving thread first writes, for customer C:
  - Python logging's default format on stderr: "WARNING:NAME:slow query for customer C",
  - a JSON logger's line on stdout (a logging handler with a JSON formatter):
    {"level": "info", "msg": "served", "customer": "C"},
  - for customer 13, logging.exception(): the message and its traceback.
With --print, it print()s "served customer C ....." (230 bytes) to stdout
without flushing: block-buffered when stdout is a file or a pipe.

usage: chain_svc.py NAME PORT [--down URL] [--keep-alive] [--tls CERT KEY] [--log] [--print]
"""
import argparse
import http.client
import json
import logging
import sys
import http.server
import socketserver
import ssl
import threading
import urllib.parse
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("name")
ap.add_argument("port", type=int)
ap.add_argument("--down")
ap.add_argument("--keep-alive", action="store_true")
ap.add_argument("--tls", nargs=2)
ap.add_argument("--log", action="store_true")
ap.add_argument("--print", action="store_true")
args = ap.parse_args()
logging.basicConfig(level=logging.INFO)  # stderr, "LEVEL:name:message"
log = logging.getLogger(args.name)


class JsonFormatter(logging.Formatter):
    def format(self, record):
        return json.dumps({"level": record.levelname.lower(), "msg": record.getMessage(),
                           "customer": record.customer})


json_log = logging.getLogger(args.name + ".json")
json_log.propagate = False
json_handler = logging.StreamHandler(sys.stdout)
json_handler.setFormatter(JsonFormatter())
json_log.addHandler(json_handler)


def write_logs(path):
    customer = path.split("customer=")[-1]
    log.warning("slow query for customer %s", customer)
    json_log.info("served", extra={"customer": customer})
    if customer == "13":
        try:
            {}["missing"]
        except KeyError:
            log.exception("lookup failed for customer %s", customer)
local = threading.local()
insecure = ssl.create_default_context()
insecure.check_hostname = False
insecure.verify_mode = ssl.CERT_NONE


def call_down(path):
    if not args.keep_alive:
        with urllib.request.urlopen(args.down + path, context=insecure) as r:
            return r.read()
    if not hasattr(local, "conn"):
        u = urllib.parse.urlsplit(args.down)
        local.conn = http.client.HTTPConnection(u.hostname, u.port)
    local.conn.request("GET", path)
    return local.conn.getresponse().read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if args.log:
            write_logs(self.path)
        if args.print:
            line = f"served customer {self.path.split('customer=')[-1]} "
            print(line + "." * (229 - len(line)))
        body = f"{args.name} {self.path}".encode()
        if args.down:
            body += b" <- " + call_down(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


server = Server(("127.0.0.1", args.port), Handler)
if args.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*args.tls)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
