# SPDX-License-Identifier: MIT
"""Database clients run under `sonde trace -- …`: the spans of one database
system on one server port, and the check that no secret (a password, an AUTH
argument, a bound value) appears anywhere in what sonde printed."""

import os
import subprocess
import tempfile

from harness import Failure, Sonde, check


def db_spans(sonde, system, port):
    return [s for s in sonde.spans() if s.get("db.system.name") == system and
            s.get("server.port") == port]


def check_no_secrets(sonde, secrets):
    out = "".join(sonde.stdout_lines) + "".join(sonde.stderr_lines)
    for secret in secrets:
        check(secret not in out, f"sonde's output shows {secret!r}")


def trace_client(args, system, port, env=None, timeout=20, secrets=(), done="done"):
    """Runs a client (its output to a file, not sonde's) under sonde trace
    until it exits; returns its spans of `system` on `port`, in order, and
    sonde (for its counters). The client must print `done` (None: any exit)."""
    out = tempfile.NamedTemporaryFile(prefix="sonde-db-client-", mode="r")
    shell = 'exec "$@" >"$OUT" 2>&1'
    sonde = Sonde("--stats", "--", "sh", "-c", shell, "sh", *args,
                  env=dict(env or os.environ, OUT=out.name))
    try:
        sonde.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        sonde.stop()
        raise Failure(f"{args[0]} did not finish: {sonde.stderr()}")
    sonde.stop()
    client_out = out.read()
    check(done is None or done in client_out, f"{args[0]} failed: {client_out}")
    check_no_secrets(sonde, secrets)
    spans = db_spans(sonde, system, port)
    spans.sort(key=lambda s: s["start_time_unix_nano"])
    return spans, sonde


def check_db_span(s, system, op, query=None, namespace=None, collection="", status=None,
                  rows=None):
    """One span's database attributes, as a user reads them."""
    what = f"span {s}"
    check(s["kind"] == "client", f"kind: {what}")
    check(s.get("db.system.name") == system, f"system {system}: {what}")
    check(s.get("db.operation.name") == op, f"operation {op}: {what}")
    check(s.get("db.collection.name", "") == collection, f"collection {collection!r}: {what}")
    check(s["name"] == (f"{op} {collection}" if collection else op), f"name: {what}")
    if query is not None:
        check(s.get("db.query.text") == query, f"query {query!r}: {what}")
    if namespace is not None:
        check(s.get("db.namespace") == namespace, f"namespace {namespace}: {what}")
    if status:
        check(s.get("db.response.status_code") == status, f"status {status}: {what}")
        check(s.get("error.type") == status, f"error.type: {what}")
    else:
        check("db.response.status_code" not in s and "error.type" not in s, f"ok: {what}")
    if rows is not None:
        check(s.get("db.response.returned_rows") == rows, f"rows {rows}: {what}")
    check("sonde.truncated" not in s, f"truncated: {what}")


def ops(spans):
    return [s.get("db.operation.name") for s in spans]
