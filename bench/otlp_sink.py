#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The OTLP receiver of `make bench`: answers 200 to every POST (/v1/traces,
/v1/metrics, /v1/logs) without decoding it, and counts requests and bytes per
path. tools/otlp-receiver decodes every message in JavaScript and would cost
more CPU than the agent it measures; this one costs next to nothing, and its
CPU counts in the machine's figures, never in the agent's (another process).

With --count-spans it also counts the spans of each /v1/traces request (the
peer comparison checks that sonde and the OpenTelemetry SDK export the same
number per request): it walks the protobuf down to the spans and skips their
bytes, decoding nothing else.

usage: otlp_sink.py PORT [--count-spans] — prints "ready" when listening;
GET /counts answers the counts so far as JSON; on SIGTERM prints
{"/v1/traces": {"requests": N, "bytes": B[, "spans": S]}, ...} and exits."""
import gzip
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
lock = threading.Lock()
COUNT_SPANS = "--count-spans" in sys.argv[2:]


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(buf, start, end):
    """(field number, start, end) of each length-delimited field of a message;
    other wire types are stepped over."""
    i = start
    while i < end:
        key, i = varint(buf, i)
        wire = key & 7
        if wire == 2:
            n, i = varint(buf, i)
            yield key >> 3, i, i + n
            i += n
        elif wire == 0:
            _, i = varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"wire type {wire}")


def span_count(body):
    """Spans in an ExportTraceServiceRequest: resource_spans (1) →
    scope_spans (2) → spans (2)."""
    n = 0
    for f, s, e in fields(body, 0, len(body)):
        if f != 1:
            continue
        for f2, s2, e2 in fields(body, s, e):
            if f2 == 2:
                n += sum(1 for f3, _, _ in fields(body, s2, e2) if f3 == 2)
    return n


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as libcurl and Node expect

    def body_chunks(self):
        """The request body's pieces: by Content-Length, or chunked (as
        Node's OTLP exporter sends)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk

    def do_POST(self):
        keep = COUNT_SPANS and self.path == "/v1/traces"
        parts = []
        n = 0
        for chunk in self.body_chunks():
            n += len(chunk)
            if keep:
                parts.append(chunk)
        spans = None
        if keep:
            body = b"".join(parts)
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            try:
                spans = span_count(body)
            except (IndexError, ValueError):
                spans = -1  # counted apart: a malformed request
        with lock:
            c = counts.setdefault(self.path, {"requests": 0, "bytes": 0})
            c["requests"] += 1
            c["bytes"] += n
            if spans is not None and spans >= 0:
                c["spans"] = c.get("spans", 0) + spans
            elif spans is not None:
                c["malformed"] = c.get("malformed", 0) + 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            body = json.dumps(counts).encode()
        self.send_response(200 if self.path == "/counts" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
    server.daemon_threads = True

    def stop(*_):
        with lock:
            print(json.dumps(counts), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
