# SPDX-License-Identifier: MIT
"""MySQL protocol client spans from real clients against a real MariaDB on
loopback (a server of its own in a temporary directory, TLS on, a user with a
password): the mariadb client, Python pymysql (plain and over TLS), Go's
go-sql-driver/mysql with prepared statements. N commands give exactly N
spans with the right operation, table, database, rows and status; and
neither the password nor any bound value appears anywhere in sonde's
output."""

import atexit
import os
import shutil
import subprocess
import tempfile
import time

from dbtrace import check_db_span, ops, trace_client
from harness import HERE, PYTHON, ROOT, Failure, Proc, Sonde, check, free_port, make_cert

GO = "/usr/lib/go-1.19/bin/go" if os.path.exists("/usr/lib/go-1.19/bin/go") else "go"
PEER = os.path.join(HERE, "peers", "mysql")
USER = "app_mz"
PASSWORD = "pw_mz_Secret4"  # must never show
SECRET = "bound_mz_Value8"  # a bound or interpolated value: must never show
DB = "shop"


class MariaDB:
    """mariadb-install-db and mariadbd in a temporary directory, on a free
    loopback port, TLS with a self-signed certificate."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sonde-mariadb-")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.port = free_port()
        r = subprocess.run(["mariadb-install-db", f"--datadir={self.data}", "--user=root",
                            "--auth-root-authentication-method=normal", "--skip-test-db"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise Failure(f"mariadb-install-db failed: {r.stderr}")
        cert, key = make_cert(self.dir)
        self.proc = None
        try:
            self.start(cert, key)
        except Exception:
            self.stop()
            raise

    def start(self, cert, key):
        self.proc = Proc(["mariadbd", f"--datadir={self.data}", f"--socket={self.sock}",
                          f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root",
                          "--skip-log-bin", f"--pid-file={self.dir}/pid",
                          f"--ssl-cert={cert}", f"--ssl-key={key}",
                          "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M"])
        deadline = time.time() + 30
        while not self.admin("SELECT 1", check_rc=False):
            if time.time() > deadline:
                raise Failure("mariadbd did not start")
            time.sleep(0.2)
        self.admin(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; "
                   f"CREATE DATABASE {DB}; GRANT ALL ON {DB}.* TO '{USER}'@'127.0.0.1'; "
                   f"CREATE TABLE {DB}.orders (id INT PRIMARY KEY AUTO_INCREMENT, "
                   "item VARCHAR(64), qty INT); "
                   f"INSERT INTO {DB}.orders (item, qty) VALUES ('apple', 3), ('pear', 5), "
                   "('plum', 9); "
                   f"CREATE TABLE {DB}.big (id INT PRIMARY KEY, note VARCHAR(64)); "
                   f"INSERT INTO {DB}.big SELECT seq, REPEAT('x', 40) FROM {DB}.seq_1_to_5000")

    def admin(self, sql, check_rc=True):
        r = subprocess.run(["mariadb", "-S", self.sock, "-uroot", "-e", sql],
                           capture_output=True, text=True, timeout=30)
        if check_rc and r.returncode:
            raise Failure(f"mariadb {sql!r} failed: {r.stderr}")
        return r.returncode == 0

    def client_args(self, *args):
        return ["mariadb", "-h127.0.0.1", f"-P{self.port}", f"-u{USER}", f"-p{PASSWORD}",
                "--ssl=0", *args, DB]

    def stop(self):
        if self.proc:
            self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


_server = []


def server():
    if not _server:
        _server.append(MariaDB())
        atexit.register(_server[0].stop)
    return _server[0]


def mysql_trace(args, count, **kw):
    spans, sonde = trace_client(args, "mariadb", server().port,
                                secrets=(PASSWORD, SECRET), **kw)
    check(len(spans) == count,
          f"{len(spans)} spans, want {count}: {ops(spans)}\n{sonde.stderr()}")
    return spans, sonde


def check_mysql(s, op, collection="", query=None, status=None, rows=None, namespace=DB):
    check_db_span(s, "mariadb", op, query=query, namespace=namespace, collection=collection,
                  status=status, rows=rows)


def test_mariadb_client():
    """The mariadb client: one span per statement (it asks SELECT DATABASE()
    before each USE, which it sends as COM_INIT_DB), the error number as the
    status, the database as db.namespace."""
    s = server()
    script = (f"SELECT * FROM orders WHERE qty > 2 AND item <> '{SECRET}';\n"
              "UPDATE orders SET qty = qty WHERE id IN (1, 2, 3);\n"
              "SELECT nosuchcol FROM orders;\n"
              "USE information_schema;\n"
              "SELECT 1;\n"
              "USE shop;\n")
    spans, _ = mysql_trace(["sh", "-c", 'printf "%s" "$0" | "$@" && echo done', script,
                            *s.client_args("--force")], 8)
    check_mysql(spans[0], "SELECT", "orders", "SELECT * FROM orders WHERE qty > ? AND item <> ?",
                rows=3)
    check_mysql(spans[1], "UPDATE", "orders", "UPDATE orders SET qty = qty WHERE id IN (?)")
    check_mysql(spans[2], "SELECT", "orders", "SELECT nosuchcol FROM orders", status="1054")
    check_mysql(spans[3], "SELECT", "", "SELECT DATABASE()", rows=1)
    check_mysql(spans[4], "USE", "", namespace="information_schema")
    check_mysql(spans[5], "SELECT", "", "SELECT ?", rows=1, namespace="information_schema")
    check_mysql(spans[6], "SELECT", "", "SELECT DATABASE()", rows=1,
                namespace="information_schema")
    check_mysql(spans[7], "USE", "")
    for sp in spans:
        check(sp["duration_ns"] > 0, f"duration: {sp}")


def test_result_larger_than_capture():
    """5000 rows read in pieces larger than the capture: one span, marked
    truncated (its rows could not be counted), ending before the next
    command, which is paired again."""
    s = server()
    spans, _ = mysql_trace(s.client_args("-e", "SELECT * FROM big; SELECT COUNT(*) FROM big"),
                           2, done=None)
    check(spans[0].get("db.operation.name") == "SELECT" and
          spans[0].get("db.collection.name") == "big" and spans[0].get("sonde.truncated"),
          f"the large result: {spans[0]}")
    check_mysql(spans[1], "SELECT", "big", "SELECT COUNT(*) FROM big", rows=1)
    check(spans[0]["end_time_unix_nano"] <= spans[1]["start_time_unix_nano"],
          f"the large result ends before the next command: {spans}")


PYMYSQL_SCRIPT = r"""
import sys, pymysql
port, user, password, db, secret, tls = sys.argv[1:7]
ssl = {"ssl": {"check_hostname": False, "verify_mode": 0}} if tls == "1" else {}
conn = pymysql.connect(host="127.0.0.1", port=int(port), user=user, password=password,
                       database=db, autocommit=True, **ssl)
cur = conn.cursor()
cur.execute("SELECT id FROM orders WHERE item = %s OR qty > %s", (secret, 4))
assert len(cur.fetchall()) == 2
cur.executemany("INSERT INTO orders (item, qty) VALUES (%s, %s)", [(secret, 1), (secret, 2)])
cur.execute("DELETE FROM orders WHERE item = %s", (secret,))
try:
    cur.execute("SELECT * FROM nosuch")
except pymysql.err.ProgrammingError as e:
    assert e.args[0] == 1146, e.args
conn.select_db("information_schema")
cur.execute("SELECT COUNT(*) FROM TABLES WHERE TABLE_SCHEMA = %s", ("shop",))
conn.ping()
conn.close()
print("done")
"""


def pymysql_spans(tls):
    s = server()
    spans, _ = mysql_trace([PYTHON, "-c", PYMYSQL_SCRIPT, str(s.port), USER, PASSWORD, DB,
                            SECRET, "1" if tls else "0"], 7)
    check_mysql(spans[0], "SELECT", "orders", "SELECT id FROM orders WHERE item = ? OR qty > ?",
                rows=2)
    check_mysql(spans[1], "INSERT", "orders", "INSERT INTO orders (item, qty) VALUES (?, ?)")
    check_mysql(spans[2], "DELETE", "orders", "DELETE FROM orders WHERE item = ?")
    check_mysql(spans[3], "SELECT", "nosuch", "SELECT * FROM nosuch", status="1146")
    check_mysql(spans[4], "USE", "", namespace="information_schema")
    check_mysql(spans[5], "SELECT", "TABLES",
                "SELECT COUNT(*) FROM TABLES WHERE TABLE_SCHEMA = ?", rows=1,
                namespace="information_schema")
    check_mysql(spans[6], "PING", "", namespace="information_schema")
    return spans


def test_pymysql():
    """pymysql: values interpolated by the client, hidden by the sanitiser;
    executemany as one multi-row INSERT; select_db (COM_INIT_DB); ping."""
    pymysql_spans(tls=False)


def test_pymysql_tls():
    """pymysql over TLS: the same spans, from the TLS library's plaintext
    (the greeting and the SSLRequest in the clear before it)."""
    spans = pymysql_spans(tls=True)
    for sp in spans:
        check(sp.get("url.scheme") is None, f"no HTTP attributes: {sp}")


def go_client():
    d = os.path.join(ROOT, "build", "mysql-go")
    out = os.path.join(d, "mysql_client")
    if not os.path.exists(out):
        os.makedirs(d, exist_ok=True)
        env = dict(os.environ, GO111MODULE="off",
                   GOPATH=os.path.join(d, "gopath") + ":/usr/share/gocode",
                   GOCACHE=os.path.join(d, "cache"), HOME=d, CGO_ENABLED="0")
        r = subprocess.run([GO, "build", "-o", out, os.path.join(PEER, "mysql_client.go")],
                           cwd=d, env=env, capture_output=True, text=True, timeout=300)
        if r.returncode:
            raise Failure(f"go build failed: {r.stderr}")
    return out


def test_go_sql_driver():
    """go-sql-driver/mysql with prepared statements: each execution a span
    with the prepared text and its rows; an Exec with arguments (prepare,
    execute, close) one span; the syntax error; no bound value anywhere."""
    s = server()
    dsn = f"{USER}:{PASSWORD}@tcp(127.0.0.1:{s.port})/{DB}"
    spans, _ = mysql_trace([go_client(), dsn, SECRET], 5)
    for sp in spans[:3]:
        check_mysql(sp, "SELECT", "orders",
                    "SELECT id, item FROM orders WHERE qty > ? AND item <> ?", rows=3)
    check_mysql(spans[3], "UPDATE", "orders", "UPDATE orders SET qty = qty + ? WHERE item = ?")
    check_mysql(spans[4], "SELEC", "", "SELEC broken", status="1064")


def test_traced_server_makes_no_spans():
    """A traced mariadbd makes no spans: its clients' are theirs to make."""
    s = server()
    pid = int(open(os.path.join(s.dir, "pid")).read())
    sonde = Sonde("--stats", "--pid", str(pid))
    try:
        r = subprocess.run(s.client_args("-e", "SELECT * FROM orders; SELECT 1"),
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"client failed: {r.stderr}")
        sonde.settle()
    finally:
        sonde.stop()
    spans = [sp for sp in sonde.spans() if sp.get("process.pid") == pid]
    check(not spans, f"spans from the server: {spans}")
