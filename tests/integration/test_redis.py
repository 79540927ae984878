# SPDX-License-Identifier: MIT
"""Redis client spans from real clients against a real redis-server on
loopback (its own, in a temporary directory, with a password): N commands
give exactly N spans with the right operation, query text and status;
pipelines, transactions, pub/sub, RESP3, redis-benchmark's pipelined load;
and neither the password nor any value appears anywhere in sonde's output."""

import atexit
import shutil
import tempfile

from dbtrace import check_db_span, ops, trace_client
from harness import PYTHON, Proc, check, free_port, wait_port

PASSWORD = "pw_rz_Secret7"  # AUTH's argument: must never show
SECRET = "val_rz_Hidden3"  # a value written and read: must never show


class RedisServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sonde-redis-")
        self.port = free_port()
        self.proc = Proc(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", self.dir,
                          "--requirepass", PASSWORD])
        wait_port(self.port)

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


_server = []


def server():
    if not _server:
        _server.append(RedisServer())
        atexit.register(_server[0].stop)
    return _server[0]


def redis_trace(args, count, **kw):
    spans, sonde = trace_client(args, "redis", server().port, secrets=(PASSWORD, SECRET), **kw)
    check(len(spans) == count,
          f"{len(spans)} spans, want {count}: {ops(spans)}\n{sonde.stderr()}")
    return spans, sonde


def check_redis(s, op, query, status=None, namespace="0"):
    check_db_span(s, "redis", op, query=query, namespace=namespace, status=status)


def test_redis_cli():
    """redis-cli in RESP3 (HELLO 3), reading commands from its input: AUTH,
    HELLO, COMMAND DOCS (redis-cli asks for them), then one span per
    command; WRONGTYPE as the status; SELECT changes db.namespace."""
    s = server()
    script = (f"SET greeting {SECRET}\nGET greeting\nLPUSH greeting x\nCLIENT SETNAME cli\n"
              "SELECT 3\nGET nokey\nCONFIG GET maxmemory\n")
    spans, _ = redis_trace(["sh", "-c", 'printf "$1" | redis-cli -3 -p "$2" -a "$3"; echo done',
                            "sh", script, str(s.port), PASSWORD], 10)
    check_redis(spans[0], "AUTH", "AUTH ?")
    check_redis(spans[1], "HELLO", "HELLO ?")
    # its reply, 150 KB of small items, is read in pieces larger than the
    # capture: its end is where the next command was written
    check(spans[2].get("db.query.text") == "COMMAND DOCS", f"COMMAND DOCS: {spans[2]}")
    check_redis(spans[3], "SET", "SET ? ?")
    check_redis(spans[4], "GET", "GET ?")
    check_redis(spans[5], "LPUSH", "LPUSH ? ?", status="WRONGTYPE")
    check_redis(spans[6], "CLIENT", "CLIENT SETNAME ?")
    check_redis(spans[7], "SELECT", "SELECT ?", namespace="3")
    check_redis(spans[8], "GET", "GET ?", namespace="3")
    check_redis(spans[9], "CONFIG", "CONFIG GET ?", namespace="3")
    for sp in spans:
        check(sp["duration_ns"] > 0, f"duration: {sp}")
        check(sp.get("network.peer.address") == "127.0.0.1", f"peer: {sp}")


PY_SCRIPT = r"""
import sys, time, redis
port, password, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = redis.Redis(host="127.0.0.1", port=port, password=password)
r.set("k", secret)
# a pipeline: 20 commands in one write
p = r.pipeline(transaction=False)
for i in range(10):
    p.set(f"p{i}", secret)
    p.get(f"p{i}")
p.execute()
# a transaction: MULTI, the queued commands, EXEC
t = r.pipeline(transaction=True)
t.incr("counter")
t.lpush("list", secret)
t.execute()
try:
    r.lpush("k", "x")
except redis.ResponseError:
    pass
# a blocking pop answered by another connection after 0.3 s
other = redis.Redis(host="127.0.0.1", port=port, password=password)
import threading
threading.Timer(0.3, lambda: other.rpush("queue", "job")).start()
r.blpop("queue", timeout=5)
# pub/sub on a connection of its own
ps = r.pubsub()
ps.subscribe("news", "sport")
for _ in range(2):
    ps.get_message(timeout=2)
for i in range(3):
    other.publish("news", secret)
got = 0
while got < 3:
    m = ps.get_message(timeout=2)
    if m is None:
        break
    if m["type"] == "message":
        got += 1
assert got == 3, got
ps.unsubscribe()
ps.get_message(timeout=2)
ps.get_message(timeout=2)
ps.close()
print("done")
"""


def test_python_redis():
    """Python redis: a pipeline of 20 commands (20 spans from one write),
    MULTI/EXEC (each queued command a span answered by QUEUED), an error,
    BLPOP lasting until its answer, SUBSCRIBE with messages pushed that are
    no spans, UNSUBSCRIBE."""
    s = server()
    spans, _ = trace_client([PYTHON, "-c", PY_SCRIPT, str(s.port), PASSWORD, SECRET], "redis",
                            s.port, secrets=(PASSWORD, SECRET))
    # the other connection's AUTH, RPUSH and PUBLISHes are in there too; pub/sub
    # reuses the first connection, free again after BLPOP
    main = [sp for sp in spans if sp.get("db.operation.name") not in ("RPUSH", "PUBLISH")]
    names = ops(main)
    want = (["AUTH", "SET"] + ["SET", "GET"] * 10 + ["MULTI", "INCRBY", "LPUSH", "EXEC"] +
            ["LPUSH", "AUTH", "BLPOP", "SUBSCRIBE", "UNSUBSCRIBE"])
    check(sorted(names) == sorted(want), f"operations {names}, want {want}; all: {ops(spans)}")
    by_op = {}
    for sp in main:
        by_op.setdefault(sp["db.operation.name"], []).append(sp)
    check_redis(by_op["SUBSCRIBE"][0], "SUBSCRIBE", "SUBSCRIBE ? ?")
    check_redis(by_op["UNSUBSCRIBE"][0], "UNSUBSCRIBE", "UNSUBSCRIBE")
    check_redis(by_op["EXEC"][0], "EXEC", "EXEC")
    check_redis(by_op["INCRBY"][0], "INCRBY", "INCRBY ? ?")
    errors = [sp for sp in by_op["LPUSH"] if sp.get("db.response.status_code")]
    check(len(errors) == 1, f"one LPUSH error: {by_op['LPUSH']}")
    check_redis(errors[0], "LPUSH", "LPUSH ? ?", status="WRONGTYPE")
    blpop = by_op["BLPOP"][0]
    check(blpop["duration_ns"] >= 250_000_000, f"BLPOP lasted until its answer: {blpop}")
    others = [sp for sp in spans if sp.get("db.operation.name") in ("RPUSH", "PUBLISH")]
    check(sorted(ops(others)) == ["PUBLISH"] * 3 + ["RPUSH"], f"the other connection: {others}")


def test_redis_benchmark():
    """redis-benchmark -P 16: exactly N SET and N GET spans, the pipelined
    replies paired in order, no loss."""
    s = server()
    n = 4000
    spans, sonde = trace_client(
        ["sh", "-c", 'redis-benchmark -p "$1" -a "$2" -P 16 -n "$3" -c 4 -t set,get -q '
         '&& echo done', "sh", str(s.port), PASSWORD, str(n)],
        "redis", s.port, secrets=(PASSWORD,), timeout=60)
    sets = [sp for sp in spans if sp.get("db.operation.name") == "SET"]
    gets = [sp for sp in spans if sp.get("db.operation.name") == "GET"]
    check(len(sets) == n, f"{len(sets)} SET spans, want {n}\n{sonde.stderr()}")
    check(len(gets) == n, f"{len(gets)} GET spans, want {n}\n{sonde.stderr()}")
    for sp in sets[:50] + gets[:50]:
        check("db.response.status_code" not in sp and "sonde.truncated" not in sp,
              f"clean span: {sp}")
    check(sets[0].get("db.query.text") == "SET ? ?", f"query: {sets[0]}")


def test_traced_server_makes_no_spans():
    """A traced redis-server makes no spans of its own (its clients' are not
    its to make); the redis-cli beside it makes its two."""
    d = tempfile.mkdtemp(prefix="sonde-redis-")
    port = free_port()
    try:
        spans, sonde = trace_client(
            ["sh", "-c", 'redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no '
             '--dir "$2" & pid=$!; for i in $(seq 50); do redis-cli -p "$1" ping && break; '
             'sleep 0.1; done; redis-cli -p "$1" set k v; redis-cli -p "$1" shutdown nosave; '
             'wait $pid; echo done', "sh", str(port), d],
            "redis", port)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    servers = [sp for sp in sonde.spans() if sp.get("db.system.name") == "redis" and
               sp.get("process.executable.name", "").startswith("redis-server")]
    check(not servers, f"spans from the server: {servers}")
    check("SET" in ops(spans), f"the client's spans: {ops(spans)}")
