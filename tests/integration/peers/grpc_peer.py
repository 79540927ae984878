# SPDX-License-Identifier: MIT
"""The Python (grpcio) side of sonde's gRPC integration tests, without protoc:
generic handlers on raw bytes, messages hand-encoded as
google.protobuf.StringValue (field 1, length-delimited).

    grpc_peer.py server PORT    sonde.test.Echo: Say (unary), Count (server streaming)
    grpc_peer.py client ADDR    Say hello, Say status:5, Say status:13, Count 3, Nope
"""

import sys
from concurrent import futures

import grpc


def encode(text):
    data = text.encode()
    assert len(data) < 128
    return b"\x0a" + bytes([len(data)]) + data


def decode(msg):
    return msg[2:2 + msg[1]].decode() if len(msg) >= 2 else ""


def say(request, context):
    arg = decode(request)
    if arg.startswith("status:"):
        context.abort(grpc.StatusCode(_code(int(arg[7:]))), "asked for")
    return encode("said " + arg)


def count(request, context):
    for i in range(1, int(decode(request)) + 1):
        yield encode(str(i))


def _code(n):
    return next(c.value for c in grpc.StatusCode if c.value[0] == n)


def server(port):
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Count": grpc.unary_stream_rpc_method_handler(count),
    }
    srv.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("sonde.test.Echo",
                                                                      handlers),))
    srv.add_insecure_port(f"127.0.0.1:{port}")
    srv.start()
    print("ready", flush=True)
    srv.wait_for_termination()


def client(addr):
    with grpc.insecure_channel(addr) as ch:
        say_rpc = ch.unary_unary("/sonde.test.Echo/Say")
        for arg in ("hello", "status:5", "status:13"):
            try:
                say_rpc(encode(arg), timeout=10)
                print(f"Say {arg}: OK", flush=True)
            except grpc.RpcError as e:
                print(f"Say {arg}: {e.code().name}", flush=True)
        got = list(ch.unary_stream("/sonde.test.Echo/Count")(encode("3"), timeout=10))
        print(f"Count {len(got)}: OK", flush=True)
        try:
            ch.unary_unary("/sonde.test.Echo/Nope")(encode(""), timeout=10)
            print("Nope: OK", flush=True)
        except grpc.RpcError as e:
            print(f"Nope: {e.code().name}", flush=True)


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2])
