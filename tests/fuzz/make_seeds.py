#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seeds in tests/fuzz/seeds/<target>/ (committed).

Each target reads its input in its own layout (the comment at the top of
tests/fuzz/fuzz_<target>.c); the seeds here are real requests, frames, header
blocks, events, JSON and YAML in those layouts, so fuzzing starts from what
the parsers see in production. Reproducers of findings are committed next to
them by hand (named repro-*) and are not written here.

  tests/fuzz/make_seeds.py        rewrites every seed-* file
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEEDS = os.path.join(HERE, "seeds")


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- syscall chunks (fuzz_input.h, fuzz_chunk): [dir][size-1][extra][bytes]

def chunks(ingress, data, first=None, gap=0):
    """data as chunks of at most 200 bytes in one direction; first overrides
    the first chunk's direction byte (the HTTP/2 target reads options in it);
    the last chunk's syscall moved gap * 37 bytes more than were captured."""
    out = b""
    for i in range(0, len(data), 200):
        piece = data[i:i + 200]
        d = 1 if ingress else 0
        if first is not None and not out:
            d = first
        extra = 0x80 | gap if gap and i + 200 >= len(data) else 0
        out += bytes([d, len(piece) - 1, extra]) + piece
    return out


# ---- HTTP/1

def http1_seeds():
    get = b"GET /api/orders/42?expand=items HTTP/1.1\r\nHost: shop.example\r\n" \
          b"User-Agent: curl/8.5.0\r\nAccept: */*\r\n" \
          b"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n" \
         b'{"id": 42}'
    write("http1", "get", chunks(True, get) + chunks(False, ok))
    post = b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" \
           b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    created = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    write("http1", "chunked", chunks(True, post) + chunks(False, created))
    pipelined = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n" \
                b"GET /c HTTP/1.0\r\n\r\n"
    answers = b"HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\n" \
              b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" \
              b"HTTP/1.0 500 Internal Server Error\r\nConnection: close\r\n\r\noops"
    write("http1", "pipelined", chunks(True, pipelined) + chunks(False, answers))
    # A client: the request is written (egress), the answer read.
    client = chunks(False, b"DELETE /v1/items/7 HTTP/1.1\r\nHost: api\r\nContent-Length: 0\r\n\r\n")
    client += chunks(True, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n"
                           b"Content-Length: 0\r\n\r\n")
    write("http1", "client", client)
    upgrade = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n" \
              b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
    write("http1", "upgrade", chunks(True, upgrade) + chunks(
        False, b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"))
    # A request whose body the capture missed (a gap of 37 * 100 bytes).
    big = b"PUT /blob HTTP/1.1\r\nHost: s3\r\nContent-Length: 3700\r\n\r\n"
    write("http1", "gap", chunks(True, big, gap=100)
          + chunks(False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))


# ---- HTTP/2 and HPACK

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def hp_int(top, n, v):
    mx = (1 << n) - 1
    if v < mx:
        return bytes([top | v])
    out = [top | mx]
    v -= mx
    while v >= 128:
        out.append(v % 128 + 128)
        v //= 128
    out.append(v)
    return bytes(out)


def hp_lit(name, value, index=True):
    """A literal with a new name, with incremental indexing or without."""
    name, value = name.encode(), value.encode()
    return (b"\x40" if index else b"\x00") + hp_int(0, 7, len(name)) + name + \
        hp_int(0, 7, len(value)) + value


def hp_lit_idx(idx, value, index=True):
    """A literal whose name is the static or dynamic entry idx."""
    value = value.encode()
    return (hp_int(0x40, 6, idx) if index else hp_int(0, 4, idx)) + hp_int(0, 7, len(value)) + value


# RFC 7541 Appendix C: header blocks as sent.
C3 = [bytes.fromhex("828684410f7777772e6578616d706c652e636f6d"),
      bytes.fromhex("828684be58086e6f2d6361636865"),
      bytes.fromhex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565")]
C4 = [bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff"),
      bytes.fromhex("828684be5886a8eb10649cbf"),
      bytes.fromhex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf")]
C6 = [bytes.fromhex("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff"
                    "6e919d29ad171863c78f0b97c8e9ae82ae43d3"),
      bytes.fromhex("4883640effc1c0bf"),
      bytes.fromhex("88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94"
                    "e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c0"
                    "03ed4ee5b1063d5007")]


def h2_seeds():
    server, client = 0x25, 0x0e  # fuzz_http2: role and "start seen" in the first byte
    req = hp_int(0x80, 7, 2) + hp_int(0x80, 7, 6) + hp_lit_idx(4, "/api/v1/users?page=2") + \
        hp_lit_idx(1, "shop.example") + hp_lit_idx(58, "grpc-go/1.60") + \
        hp_lit("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    resp = hp_int(0x80, 7, 8) + hp_lit_idx(31, "application/json")
    c2s = PREFACE + frame(4, 0, 0, struct.pack(">HI", 1, 4096) + struct.pack(">HI", 4, 65535)) + \
        frame(1, 4, 1, req) + frame(0, 1, 1, b'{"name":"a"}')
    s2c = frame(4, 0, 0) + frame(4, 1, 0) + frame(1, 4, 1, resp) + frame(0, 1, 1, b"[]")
    write("http2", "get", chunks(True, c2s, first=server) + chunks(False, s2c))
    # Three requests on one connection: the dynamic table in use (RFC 7541 C.4).
    c2s = PREFACE + frame(4, 0, 0) + b"".join(frame(1, 5, 1 + 2 * i, b) for i, b in enumerate(C4))
    s2c = frame(4, 0, 0) + b"".join(frame(1, 5, 1 + 2 * i, b) for i, b in enumerate(C6))
    write("http2", "huffman-table", chunks(False, c2s, first=client) + chunks(True, s2c))
    # gRPC: request, message, response headers, message, trailers; a reset stream.
    greq = hp_int(0x80, 7, 3) + hp_int(0x80, 7, 6) + hp_lit_idx(4, "/helloworld.Greeter/SayHello") + \
        hp_lit_idx(31, "application/grpc") + hp_lit("te", "trailers")
    msg = b"\x00\x00\x00\x00\x07\x0a\x05world"
    c2s = PREFACE + frame(4, 0, 0) + frame(1, 4, 1, greq) + frame(0, 1, 1, msg) + \
        frame(1, 4, 3, greq) + frame(3, 0, 3, struct.pack(">I", 8))
    s2c = frame(4, 0, 0) + frame(1, 4, 1, hp_int(0x80, 7, 8) + hp_lit_idx(31, "application/grpc")) + \
        frame(0, 0, 1, msg) + frame(1, 5, 1, hp_lit("grpc-status", "5") +
                                    hp_lit("grpc-message", "not found"))
    write("http2", "grpc", chunks(True, c2s, first=server) + chunks(False, s2c))
    # Padding, priority, CONTINUATION, PUSH_PROMISE, PING, WINDOW_UPDATE, GOAWAY.
    c2s = PREFACE + frame(4, 0, 0) + \
        frame(1, 0x08 | 0x20, 1, b"\x02" + b"\x00\x00\x00\x00\x10" + req[:5] + b"\x00\x00") + \
        frame(9, 4, 1, req[5:]) + frame(6, 0, 0, b"12345678") + frame(8, 0, 0, b"\x00\x01\x00\x00")
    s2c = frame(4, 0, 0) + frame(5, 4, 1, b"\x00\x00\x00\x02" + req) + \
        frame(1, 5, 1, resp) + frame(7, 0, 0, b"\x00\x00\x00\x01\x00\x00\x00\x00")
    write("http2", "frames", chunks(True, c2s, first=server) + chunks(False, s2c))
    # Joined mid-way (start not seen): frames only, a gap inside DATA.
    mid = frame(1, 4, 7, req) + frame(0, 0, 7, b"x" * 100)
    write("http2", "midway", chunks(True, mid, first=0x01, gap=20) +
          chunks(False, frame(1, 5, 7, resp)))

    # fuzz_hpack: [partial][len >> 2][len & 3 | actions][block]...
    def blocks(seq, partial=0, actions=0):
        out = bytes([partial])
        for b in seq:
            out += bytes([len(b) >> 2, (len(b) & 3) | actions]) + b
        return out
    write("hpack", "c3-requests", blocks(C3))
    write("hpack", "c4-requests-huffman", blocks(C4))
    write("hpack", "c6-responses-huffman", blocks(C6))
    write("hpack", "partial", blocks(C4, partial=1))
    write("hpack", "lost-block", blocks([C3[0], C3[1]]) + bytes([len(C3[2]) >> 2,
                                                                (len(C3[2]) & 3) | 4]) + C3[2])
    # A size update to 0 (evicts everything), then entries again.
    write("hpack", "size-update", blocks([b"\x20" + C3[0], b"\x3f\xe1\x1f" + C3[1]]))


def grpc_seeds():
    def call(opts, path, req_type, status, resp_type, grpc_status, message, body, code):
        out = bytes([opts])
        for s in (path, req_type, status, resp_type, grpc_status, message, body):
            s = s.encode() if isinstance(s, str) else s
            out += bytes([len(s)]) + s
        return out + struct.pack(">I", code)
    body = b"\x0a\x05world"
    write("grpc", "ok", call(0, "/helloworld.Greeter/SayHello", "application/grpc", "200",
                             "application/grpc", "0", "", body, 0))
    write("grpc", "not-found", call(0x01, "/shop.v1.Orders/Get", "application/grpc+proto",
                                    "200", "application/grpc+proto", "5", "order 7 not found",
                                    body, 0))
    write("grpc", "trailers-only", call(0x02, "/pkg.Svc/Method", "application/grpc;charset=utf-8",
                                        "200", "application/grpc", "14", "", b"", 0))
    write("grpc", "reset", call(0x04 | 0x20, "/pkg.Svc/Stream", "application/grpc", "200",
                                "application/grpc", "", "", body, 8))
    write("grpc", "goaway", call(0x08 | 0x10, "/a.B/C", "application/grpc", "503", "text/plain",
                                 "", "", b"", 7))
    write("grpc", "not-grpc", call(0x02, "/index.html?x=1", "text/html", "404", "text/html",
                                   "", "", b"", 0))


# ---- event ingest: [op][conn][time] + fields (fuzz_ingest.c)

def ev_open(conn, role, proto, comm=b"server"):
    return bytes([1, conn, 1, role, proto, 0, 1, 2]) + struct.pack(">HH", 8080, 41000) + \
        bytes([len(comm)]) + comm


def ev_data(conn, ingress, role, proto, payload, pos_mode=1, extra=0, op=2):
    # flags: bit 0 the direction (0 is ingress, enum sonde_dir), syscall 1 (read)
    flags = (0 if ingress else 1) | (1 << 1) | (pos_mode << 5)
    return bytes([op, conn, 1, flags, role, proto, extra]) + struct.pack(">H", len(payload)) + \
        payload


def ev_log(conn, text):
    """A write to fd 1 (conn bit 1 clear) or 2 by conn's process (bit 0)."""
    return ev_data(conn, False, 0, 0, text, op=0x22)


def ev_simple(op, conn):
    return bytes([op, conn, 1])


def ingest_seeds():
    get = b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    write("ingest", "http1", ev_open(0, 1, 1) + ev_data(0, True, 1, 1, get) +
          ev_data(0, False, 1, 1, ok) + ev_simple(3, 0))
    # Lines written while serving a request, before it and after it.
    write("ingest", "logs", ev_log(0, b"listening\n") + ev_open(0, 1, 1) +
          ev_data(0, True, 1, 1, get) + ev_log(2, b"WARNING:shop:slow query ") +
          ev_log(2, b"for customer 7\n  detail\n") + ev_data(0, False, 1, 1, ok) +
          ev_log(0, b'{"level":"info","msg":"after"}\n') + ev_simple(4, 0))
    # Data without an open, another process's connection, then its exit.
    write("ingest", "no-open-exit", ev_data(3, False, 2, 1, get) + ev_data(3, True, 2, 1, ok) +
          ev_data(2, True, 1, 1, get, pos_mode=2) + b"\x00\x00" + ev_simple(4, 3) +
          ev_simple(4, 2))
    upgrade = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n" \
              b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
    switching = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    # The server's SETTINGS in the 101's write (still HTTP/1 to the kernel),
    # the client's preface, then the answer to the upgraded request (stream 1).
    write("ingest", "h2c-upgrade", ev_open(1, 1, 1) + ev_data(1, True, 1, 1, upgrade) +
          ev_data(1, False, 1, 1, switching + frame(4, 0, 0)) +
          ev_data(1, True, 1, 2, PREFACE + frame(4, 0, 0)) +
          ev_data(1, False, 1, 2, frame(1, 5, 1, hp_int(0x80, 7, 8))) + ev_simple(3, 1))
    c2s = PREFACE + frame(4, 0, 0) + frame(1, 5, 1, C4[0])
    write("ingest", "http2", ev_open(4, 1, 2) + ev_data(4, True, 1, 2, c2s) +
          ev_data(4, False, 1, 2, frame(4, 0, 0) + frame(1, 5, 1, C6[0])) + ev_simple(3, 4))
    # Database protocols as the kernel classifies them (ids 3, 4, 5).
    pg = struct.pack(">I", 8) + struct.pack(">I", 80877103)  # SSLRequest
    pg_q = b"Q" + struct.pack(">I", 4 + 9) + b"SELECT 1\x00"
    pg_r = b"T" + struct.pack(">I", 6) + b"\x00\x00" + b"C" + struct.pack(">I", 13) + \
        b"SELECT 1\x00" + b"Z" + struct.pack(">I", 5) + b"I"
    params = b"user\x00app\x00database\x00shop\x00\x00"
    startup = struct.pack(">II", 8 + len(params), 196608) + params  # protocol 3.0
    auth_ok = b"R" + struct.pack(">II", 8, 0) + b"Z" + struct.pack(">I", 5) + b"I"
    write("ingest", "postgres", ev_open(5, 2, 3) + ev_data(5, False, 2, 3, pg) +
          ev_data(5, True, 2, 3, b"N") + ev_data(5, False, 2, 3, startup) +
          ev_data(5, True, 2, 3, auth_ok) + ev_data(5, False, 2, 3, pg_q) +
          ev_data(5, True, 2, 3, pg_r) + ev_simple(3, 5))
    my_q = struct.pack("<I", 9)[:3] + b"\x00" + b"\x03SELECT 1"
    my_ok = struct.pack("<I", 7)[:3] + b"\x01" + b"\x00\x00\x00\x02\x00\x00\x00"
    write("ingest", "mysql", ev_open(6, 2, 4) + ev_data(6, False, 2, 4, my_q) +
          ev_data(6, True, 2, 4, my_ok) + ev_simple(3, 6))
    write("ingest", "redis", ev_open(7, 2, 5) +
          ev_data(7, False, 2, 5, b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n") +
          ev_data(7, True, 2, 5, b"$5\r\nvalue\r\n") +
          ev_data(7, False, 2, 5, b"*1\r\n$4\r\nPING\r\n") + ev_data(7, True, 2, 5, b"+PONG\r\n"))
    # Records cut short, a size that lies, an unknown type.
    write("ingest", "malformed", bytes([0x41, 0, 1]) + ev_open(0, 1, 1)[3:] +
          bytes([0x42, 0, 1, 0, 1, 1, 0x80, 0, 4]) + b"GET " + bytes([0, 0, 0, 8]) +
          b"\x09\x00\x00\x00\x00\x00\x00\x00")


# ---- Kubernetes JSON, kubeconfig, configuration

def compact(path):
    with open(path) as f:
        return json.dumps(json.load(f), separators=(",", ":"))


def k8s_seeds():
    fixtures = os.path.join(ROOT, "tests", "integration", "fixtures", "k8s")
    for name in ("deployment_pod", "cronjob_pod", "ephemeral_pod"):
        write("pod_json", name, compact(os.path.join(fixtures, name + ".json")))
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "web-0", "namespace": "default",
                        "uid": "0b6f3f5e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "resourceVersion": "17",
                        "labels": {"app.kubernetes.io/name": "web"},
                        "ownerReferences": [{"kind": "StatefulSet", "name": "web",
                                             "controller": True}]},
           "spec": {"nodeName": "node-1", "containers": [{"name": "nginx"}]},
           "status": {"phase": "Running", "containerStatuses": [
               {"name": "nginx", "containerID": "containerd://" + "ab" * 32}]}}
    small = json.dumps(pod, separators=(",", ":"))
    write("pod_json", "pod", small)
    write("pod_json", "list", json.dumps({"kind": "PodList", "apiVersion": "v1",
                                          "metadata": {"resourceVersion": "42", "continue": "c2"},
                                          "items": [pod, {"metadata": {}}]},
                                         separators=(",", ":")))
    write("pod_json", "event-added", '{"type":"ADDED","object":' + small + "}")
    write("pod_json", "event-bookmark",
          '{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"99"}}}')
    write("pod_json", "event-error", '{"type":"ERROR","object":{"kind":"Status","code":410,'
                                     '"reason":"Expired","message":"too old resource version"}}')
    write("pod_json", "replicaset", '{"kind":"ReplicaSet","metadata":{"name":"web-5d4f",'
                                    '"ownerReferences":[{"kind":"Deployment","name":"web",'
                                    '"controller":true}]}}')

    kubeconfig = """apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: prod
  context: {cluster: prod, user: admin, namespace: shop}
- name: dev
  context: {cluster: dev, user: eks}
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
- name: dev
  cluster: {server: "https://[fd00::1]:443", insecure-skip-tls-verify: true}
users:
- name: admin
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg==
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, dev]
      env: [{name: AWS_PROFILE, value: dev}]
"""
    write("kube_config", "kubeconfig", b"\x00" + kubeconfig.encode())
    write("kube_config", "kubeconfig-dev", b"\x01" + kubeconfig.encode())
    write("kube_config", "token-file", b"\x00" + b"""apiVersion: v1
kind: Config
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://k:443", certificate-authority: /ok/ca.crt}}]
users: [{name: u, user: {tokenFile: /ok/token, token: abc}}]
""")
    write("kube_config", "exec-credential", b"\x02" + json.dumps({
        "kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
        "status": {"token": "k8s-aws-v1.abc", "expirationTimestamp": "2024-05-01T12:00:00Z"}
    }).encode())
    write("kube_config", "exec-credential-cert", b"\x06" + json.dumps({
        "kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1",
        "status": {"clientCertificateData": "-----BEGIN CERTIFICATE-----\n",
                   "clientKeyData": "-----BEGIN PRIVATE KEY-----\n"}}).encode())
    write("kube_config", "time", b"\x03" + b"2024-05-01T12:00:00.123456+02:00")

    readme = os.path.join(ROOT, "README.md")
    with open(readme) as f:
        text = f.read()
    start = text.index("# sonde.yaml\n")
    yaml = text[start:text.index("```", start)]
    write("config", "readme", b"\x00" + yaml.encode())
    write("config", "daemonset", b"\x00" + b"""exporter:
  otlp:
    compression: gzip
    traces: {endpoint: "http://collector:4318/v1/traces", timeout: 5000}
metrics:
  export_interval: 15000
prometheus:
  port: 9464
  address: "::"
k8s:
  enabled: true
select:
  pids: [1, 2, 3]
log:
  level: info
""")
    write("config", "value-endpoint", b"\x01\x00" + b"collector.observability:4317")
    write("config", "value-add", b"\x04\x00" + b"http://localhost:4318")
    write("config", "kv-list", b"\x02" + b"x-tenant=acme,authorization=Bearer%20abc,k=v=w")


# ---- log output (fuzz_log_lines.c): [stream][size-1][dt][ctx][how][bytes]

def log_writes(stream, text, dt=1, ctx=0, how=0, size=64):
    """text as writes of at most size bytes to one stream (bit 1: process,
    bit 0: stderr), (dt & 0x3f) * 7 ms apart by thread dt >> 6, written in
    request ctx (0: none)."""
    if isinstance(text, str):
        text = text.encode()
    out = b""
    for i in range(0, len(text), size):
        piece = text[i:i + size]
        out += bytes([stream, len(piece) - 1, dt, ctx, how]) + piece
    return out


def log_seeds():
    write("log_lines", "python", log_writes(
        1, "2025-01-01 12:00:00,001 WARNING shop.db slow query table=orders\n", ctx=4))
    write("log_lines", "json", log_writes(
        0, '{"level":"error","msg":"payment declined","customer":"c-17"}\n'
           '{"severity":"INFO","msg":"ok"}\n', ctx=2, size=40))
    write("log_lines", "logfmt-split", log_writes(
        0, 'level=warn msg="slow query" duration_ms=34\n', ctx=5, size=7))
    write("log_lines", "stack-trace", log_writes(
        1, "ERROR Exception in handler\njava.lang.IllegalStateException: boom\n"
           "\tat shop.Checkout.pay(Checkout.java:42)\n"
           "\tat shop.Server.handle(Server.java:7)\n", ctx=2, size=50) +
        log_writes(1, "[INFO] next request\n", dt=30, ctx=0))
    write("log_lines", "two-processes", log_writes(0, "[WARN] first half of ", ctx=2) +
          log_writes(2, "W0101 12:00:00.000 1 main.go:3] other process\n", ctx=3) +
          log_writes(0, "a line\n", ctx=2, how=0x7f) +
          log_writes(2, "gone\n", how=0x7e))
    write("log_lines", "binary-and-gaps", log_writes(
        0, bytes(range(256)), size=64) +
        log_writes(1, b"cut \xff\xfe invalid UTF-8 and bytes not copied\n", how=0xc0) +
        log_writes(1, "after a lost write\n", how=0x30))
    write("log_lines", "long-line", log_writes(0, "x" * 700 + "\n", ctx=2))
    # Two threads (dt's top bits) of one process, each in its own request.
    write("log_lines", "two-threads", log_writes(1, "slow query for ", dt=0x01, ctx=2) +
          log_writes(1, "customer 8\n  detail\n", dt=0x41, ctx=4) +
          log_writes(1, "customer 7\n", dt=0x01, ctx=2))
    write("log_lines", "buffered-flush", log_writes(
        0, "served customer 1\nserved customer 2\nserved cust", dt=0x01, ctx=2, size=64) +
        log_writes(0, "omer 3\n", dt=0x81, ctx=4))


def main():
    http1_seeds()
    h2_seeds()
    grpc_seeds()
    ingest_seeds()
    k8s_seeds()
    log_seeds()


if __name__ == "__main__":
    main()
