# SPDX-License-Identifier: MIT
"""A thread-per-connection HTTP service that logs while it serves, for the logs
tests: GET /order?customer=C writes, from the serving thread,
  - Python logging's default format on stderr: "WARNING:shop:slow query for customer C",
  - a JSON logger's line on stdout: {"level":"info","msg":"served","customer":"C"},
  - for customer 13, logging.exception(): the message and its traceback,
then (with --down) calls DOWNSTREAM/order?customer=C, and answers.

usage: log_svc.py NAME PORT [--down URL]
"""
import argparse
import http.server
import json
import logging
import socketserver
import sys
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("name")
ap.add_argument("port", type=int)
ap.add_argument("--down")
args = ap.parse_args()
logging.basicConfig(level=logging.INFO)  # stderr, "LEVEL:name:message"
log = logging.getLogger(args.name)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        customer = self.path.split("customer=")[-1]
        log.warning("slow query for customer %s", customer)
        sys.stdout.write(json.dumps({"level": "info", "msg": "served",
                                     "customer": customer}) + "\n")
        sys.stdout.flush()
        if customer == "13":
            try:
                {}["missing"]
            except KeyError:
                log.exception("lookup failed for customer %s", customer)
        body = f"{args.name} {customer}".encode()
        if args.down:
            with urllib.request.urlopen(f"{args.down}/order?customer={customer}") as r:
                body += b" <- " + r.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


print(f"{args.name} listening on {args.port}", flush=True)
Server(("127.0.0.1", args.port), Handler).serve_forever()
