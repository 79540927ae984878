# SPDX-License-Identifier: MIT
"""PostgreSQL client spans from real clients against a real PostgreSQL 15 on
loopback (a cluster of its own in a temporary directory): N commands give
exactly N spans with the right operation, table, database and status; a
syntax error is a span with SQLSTATE 42601; TLS, a connection opened before
sonde started; and neither the password nor any bound value appears anywhere
in sonde's output."""

import atexit
import os
import shutil
import subprocess
import tempfile
import time

from dbtrace import check_db_span, db_spans, trace_client
from harness import HERE, PYTHON, ROOT, Failure, Proc, Sonde, check, free_port, make_cert

PG_BIN = "/usr/lib/postgresql/15/bin"
GO = "/usr/lib/go-1.19/bin/go" if os.path.exists("/usr/lib/go-1.19/bin/go") else "go"
PEER = os.path.join(HERE, "peers", "pg")
USER = "app_zq"
PASSWORD = "pw_zq_Secret9"  # sent in clear ("password" authentication): must never show
SECRET = "bound_zq_Value7"  # a bound or interpolated value: must never show
DB = "shop"


class Cluster:
    """initdb, pg_ctl as the postgres user (initdb refuses root); TLS on, and
    clear-text password authentication over TCP so that a leak would show."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sonde-pg-")
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_pg([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres"])
        cert, key = make_cert(self.dir)
        for f in (cert, key):
            shutil.chown(f, "postgres")
        os.chmod(key, 0o600)
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\nhost all all 127.0.0.1/32 password\n")
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c ssl=on "
                f"-c ssl_cert_file={cert} -c ssl_key_file={key} -c fsync=off")
        self.as_pg([f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", opts, "-l",
                    os.path.join(self.dir, "log"), "-w", "start"])
        self.psql_admin(f"CREATE USER {USER} PASSWORD '{PASSWORD}'")
        self.psql_admin(f"CREATE DATABASE {DB} OWNER {USER}")
        self.run_psql(["-c", "CREATE TABLE orders (id int, note text)",
                       "-c", "INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 50) g"])

    def as_pg(self, args):
        r = subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True,
                           text=True, timeout=60)
        if r.returncode:
            raise Failure(f"{args[0]} failed: {r.stdout} {r.stderr}")

    def psql_admin(self, sql):
        self.as_pg(["psql", "-q", "-h", self.dir, "-p", str(self.port), "-c", sql])

    def env(self):
        return dict(os.environ, PGPASSWORD=PASSWORD, PGSSLMODE="disable")

    def psql_args(self, args):
        return ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DB,
                *args]

    def run_psql(self, args):
        r = subprocess.run(self.psql_args(args), env=self.env(), capture_output=True,
                           text=True, timeout=30)
        if r.returncode:
            raise Failure(f"psql failed: {r.stderr}")

    def dsn(self, sslmode="disable"):
        return (f"host=127.0.0.1 port={self.port} user={USER} password={PASSWORD} "
                f"dbname={DB} sslmode={sslmode}")

    def stop(self):
        try:
            self.as_pg([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"])
        except Failure:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


_cluster = []


def cluster():
    if not _cluster:
        _cluster.append(Cluster())
        atexit.register(_cluster[0].stop)
    return _cluster[0]


def pg_spans(sonde, port):
    return db_spans(sonde, "postgresql", port)


def check_span(s, op, table, query=None, status=None, rows=None):
    check_db_span(s, "postgresql", op, query, DB, table, status, rows)
    if status:
        check(s.get("error.type") == status, f"error.type: span {s}")


def trace(args, env, count, port, timeout=15, stats=()):
    """Runs a client under sonde trace (its output to a file, not sonde's);
    its PostgreSQL spans, which must be count; stats: texts --stats must show."""
    spans, sonde = trace_client(args, "postgresql", port, env, timeout,
                                (PASSWORD, SECRET, USER),
                                None if args[0] == "psql" else "done")
    check(len(spans) == count, f"{len(spans)} spans, want {count}: {spans}\n{sonde.stderr()}")
    for text in stats:
        check(text in sonde.stderr(), f"stats without {text!r}: {sonde.stderr()}")
    return spans


def test_psql():
    """psql, the simple query protocol: one span per command, the syntax error
    with 42601, a large result read in pieces larger than the capture."""
    c = cluster()
    spans = trace(c.psql_args([
        "-c", f"SELECT * FROM orders WHERE note = '{SECRET}'",
        "-c", "UPDATE orders SET note = note WHERE id IN (1, 2, 3)",
        "-c", "SELEC 1",
        "-c", "SELECT g, repeat('x', 40) FROM generate_series(1, 5000) g",
        "-c", "BEGIN; DELETE FROM orders WHERE id = 999; COMMIT"]), c.env(), 5, c.port)
    check_span(spans[0], "SELECT", "orders", "SELECT * FROM orders WHERE note = ?", rows=0)
    check_span(spans[1], "UPDATE", "orders",
               "UPDATE orders SET note = note WHERE id IN (?)")
    check_span(spans[2], "SELEC", "", "SELEC ?", status="42601")
    check_span(spans[3], "SELECT", "", rows=5000)
    check_span(spans[4], "DELETE", "orders",
               "BEGIN; DELETE FROM orders WHERE id = ?; COMMIT")


PSYCOPG_SCRIPT = r"""
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("SELECT id FROM orders WHERE note = %s AND id > %s", (sys.argv[2], 3))
cur.fetchall()
cur.execute("INSERT INTO orders (id, note) VALUES (%s, %s)", (77, sys.argv[2]))
conn.commit()
try:
    cur.execute("SELECT * FROM nosuch")
except psycopg2.Error as e:
    assert e.pgcode == "42P01", e.pgcode
conn.rollback()
conn.close()
print("done")
"""


def test_psycopg2():
    """psycopg2 (values interpolated client-side, hidden by the sanitiser;
    transactions opened implicitly): BEGIN, SELECT, INSERT, COMMIT, BEGIN,
    the error, ROLLBACK."""
    c = cluster()
    spans = trace([PYTHON, "-c", PSYCOPG_SCRIPT, c.dsn(), SECRET], None, 7, c.port)
    check_span(spans[0], "BEGIN", "", "BEGIN")
    check_span(spans[1], "SELECT", "orders", "SELECT id FROM orders WHERE note = ? AND id > ?",
               rows=0)
    check_span(spans[2], "INSERT", "orders", "INSERT INTO orders (id, note) VALUES (?, ?)")
    check_span(spans[3], "COMMIT", "", "COMMIT")
    check_span(spans[4], "BEGIN", "")
    check_span(spans[5], "SELECT", "nosuch", status="42P01")
    check_span(spans[6], "ROLLBACK", "")


def test_psycopg2_tls():
    """sslmode=require: the same spans, from the TLS library's plaintext."""
    c = cluster()
    spans = trace([PYTHON, "-c", PSYCOPG_SCRIPT, c.dsn("require"), SECRET], None, 7, c.port)
    check_span(spans[1], "SELECT", "orders", "SELECT id FROM orders WHERE note = ? AND id > ?")
    check_span(spans[5], "SELECT", "nosuch", status="42P01")


def go_client(name="pg_client"):
    """peers/pg/NAME.go built once (Debian's Go packages, GOPATH mode)."""
    d = os.path.join(ROOT, "build", "pg-go")
    out = os.path.join(d, name)
    if not os.path.exists(out):
        os.makedirs(d, exist_ok=True)
        env = dict(os.environ, GO111MODULE="off",
                   GOPATH=os.path.join(d, "gopath") + ":/usr/share/gocode",
                   GOCACHE=os.path.join(d, "cache"), HOME=d, CGO_ENABLED="0")
        r = subprocess.run([GO, "build", "-o", out, os.path.join(PEER, name + ".go")],
                           cwd=d, env=env, capture_output=True, text=True, timeout=300)
        if r.returncode:
            raise Failure(f"go build failed: {r.stderr}")
    return out


def test_go_lib_pq():
    """Go database/sql and lib/pq, the extended protocol: the query with a
    bound value, a prepared statement run three times, an insert, the syntax
    error (at Parse) — one span each, no bound value anywhere."""
    c = cluster()
    spans = trace([go_client(), c.dsn(), SECRET], None, 6, c.port)
    check_span(spans[0], "SELECT", "orders", "SELECT count(*) FROM orders WHERE note = $1",
               rows=1)
    for s in spans[1:4]:
        check_span(s, "SELECT", "orders", "SELECT id FROM orders WHERE id = $1")
    check_span(spans[4], "INSERT", "orders", "INSERT INTO orders (id, note) VALUES ($1, $2)")
    check_span(spans[5], "SELEC", "", "SELEC ?", status="42601")


def test_go_pgx_batch():
    """Go pgx batches, pipelined: one span per command; in the batch that
    fails at its second command, the third is skipped by the server and
    gives no span (counted)."""
    c = cluster()
    spans = trace([go_client("pgx_batch"), c.dsn(), SECRET], None, 8, c.port,
                  stats=["executes skipped after an error 1,", "replies without command 0,"])
    for s in spans[:5]:
        check_span(s, "SELECT", "orders", "SELECT id FROM orders WHERE id = $1")
    check_span(spans[5], "UPDATE", "orders", "UPDATE orders SET note = $1 WHERE id = ?")
    check_span(spans[6], "SELECT", "", "SELECT $1::int", rows=1)
    check_span(spans[7], "SELECT", "", "SELECT ? / $1::int", status="22012")


def test_node_pg():
    """Node.js pg: unnamed and named statements, the syntax error."""
    c = cluster()
    if not os.path.isdir(os.path.join(PEER, "node_modules", "pg")):
        subprocess.run(["bash", os.path.join(PEER, "install.sh")], check=True, timeout=300)
    spans = trace(["node", os.path.join(PEER, "pg_client.js"), str(c.port), PASSWORD, SECRET],
                  None, 6, c.port)
    check_span(spans[0], "SELECT", "orders", "SELECT count(*) FROM orders WHERE note = $1",
               rows=1)
    for s in spans[1:4]:
        check_span(s, "SELECT", "orders", "SELECT id FROM orders WHERE id = $1")
    check_span(spans[4], "UPDATE", "orders", "UPDATE orders SET note = $1 WHERE id = $2")
    check_span(spans[5], "SELEC", "", "SELEC ?", status="42601")


OPEN_FIRST_SCRIPT = r"""
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT 1")
print("connected", flush=True)
sys.stdin.readline()
for i in range(4):
    cur.execute("SELECT note FROM orders WHERE id = %s", (i,))
    cur.fetchall()
print("done", flush=True)
"""


def test_connection_open_before_sonde():
    """A connection opened before sonde starts is picked up at its next
    command: every command after that is a span, without the database name
    (its start-up was not seen)."""
    c = cluster()
    client = subprocess.Popen([PYTHON, "-c", OPEN_FIRST_SCRIPT, c.dsn(), SECRET],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        check(client.stdout.readline().strip() == "connected", "the client did not connect")
        sonde = Sonde("--stats", "--pid", str(client.pid))
        try:
            client.stdin.write("go\n")
            client.stdin.flush()
            check(client.stdout.readline().strip() == "done", "the client did not finish")
            client.wait(timeout=10)
            sonde.wait_spans(lambda s: s.get("server.port") == c.port, 4)
            sonde.settle()
        finally:
            sonde.stop()
    finally:
        if client.poll() is None:
            client.kill()
    spans = pg_spans(sonde, c.port)
    check(len(spans) == 4, f"{len(spans)} spans, want 4: {spans}\n{sonde.stderr()}")
    for s in spans:
        check(s.get("db.operation.name") == "SELECT" and
              s.get("db.collection.name") == "orders" and
              s.get("db.query.text") == "SELECT note FROM orders WHERE id = ?",
              f"span {s}")
        check("db.namespace" not in s, f"no database name: {s}")
    check("connections picked up open 1," in sonde.stderr(), f"stats: {sonde.stderr()}")
    check_no_secrets(sonde)


def test_traced_server_gives_no_spans():
    """The PostgreSQL server itself traced (its backends read what clients
    send): no span, counted as server-side views."""
    c = cluster()
    sonde = Sonde("--stats", "--comm", "postgres")
    try:
        c.run_psql(["-c", "SELECT 1", "-c", "SELECT * FROM orders WHERE id = 3"])
        sonde.settle(quiet=1.0)
    finally:
        sonde.stop()
    spans = [s for s in sonde.spans() if s.get("process.executable.name") == "postgres"]
    check(not spans, f"spans from the server: {spans}")
    check("server side 0," not in sonde.stderr() and "server side" in sonde.stderr(),
          f"stats: {sonde.stderr()}")
    check_no_secrets(sonde)
