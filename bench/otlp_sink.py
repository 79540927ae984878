#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The OTLP receiver of `make bench`: answers 200 to every POST (/v1/traces,
/v1/metrics) without decoding it, and counts requests and bytes per path.
tools/otlp-receiver decodes every message in JavaScript and would cost more
CPU than the agent it measures; this one costs next to nothing, and its CPU
counts in the machine's figures, never in the agent's (another process).

usage: otlp_sink.py PORT — prints "ready" when listening; on SIGTERM prints
{"/v1/traces": {"requests": N, "bytes": B}, ...} as JSON and exits."""
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as libcurl expects

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
        c = counts.setdefault(self.path, {"requests": 0, "bytes": 0})
        c["requests"] += 1
        c["bytes"] += n
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
    server.daemon_threads = True

    def stop(*_):
        print(json.dumps(counts), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
