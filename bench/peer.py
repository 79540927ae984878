# SPDX-License-Identifier: MIT
"""`make bench`'s peer comparison (issue 27, README Benchmarks): sonde beside
the OpenTelemetry SDK, which the OpenTelemetry Operator injects into each pod,
on the SDK's own ground.

A two-hop Node.js service (bench/node/service.js: an `http` server that calls a
second Node.js `http` server for every request; three spans per request) on
loopback, in three modes alternated run by run: no instrumentation; the SDK
(bench/node/sdk.js, loaded with `node --require`) exporting its spans to an
OTLP sink; `sonde run --pid FRONTEND --pid BACKEND` exporting the same spans to
the same sink. The sink counts the spans it receives, so each mode shows that it
exported three per request. Loads: a fixed 2,000 requests/s and saturation,
each measured after a warm-up of the same load (the JIT's first compilations).
Nothing is pinned: the SDK's work runs in the services' processes, sonde's in
its own, and on two cores both take it from the same place.
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

from run import (HZ, ROOT, WORK, Agent, Sink, children_cpu_s, host_note, host_speed,
                 keep_steady, log, machine_busy_ticks, proc_cpu_ticks, to_us, verdict)

PORT_FRONT, PORT_BACK, PORT_PEER_SINK = 28090, 28091, 24319
NODE_DIR = os.path.join(ROOT, "bench", "node")
PEER_MODES = ["none", "sdk", "sonde"]
PEER_TEXT = {"none": "no instrumentation", "sdk": "OpenTelemetry SDK", "sonde": "sonde run"}
SDK_VERSIONS = {}  # package -> installed version, for the report
SPANS_PER_REQUEST = 3
FIXED_RPS = 2000
FIXED_CLIENTS = 10  # h2load's --rps is per client: 10 × 200, in bursts of 10 every 5 ms


def sdk_versions():
    out = {}
    for pkg in ("sdk-node", "auto-instrumentations-node", "exporter-trace-otlp-proto"):
        path = os.path.join(NODE_DIR, "node_modules", "@opentelemetry", pkg, "package.json")
        with open(path) as f:
            out[f"@opentelemetry/{pkg}"] = json.load(f)["version"]
    return out


def check_ready():
    """Raises SystemExit unless node and the SDK's packages are there."""
    if subprocess.run(["which", "node"], capture_output=True).returncode:
        raise SystemExit("bench: node is missing (bash tools/install-deps.sh)")
    try:
        SDK_VERSIONS.update(sdk_versions())
    except OSError:
        raise SystemExit("bench: the OpenTelemetry SDK is missing (bash bench/node/install.sh)")


class NodeServices:
    """The backend and the frontend, with the SDK loaded or not."""

    def __init__(self, sdk):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SONDE_"))}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{PORT_PEER_SINK}"
        pre = ["--require", os.path.join(NODE_DIR, "sdk.js")] if sdk else []
        self.procs = []
        for name, args in (("backend", [str(PORT_BACK)]),
                           ("frontend", [str(PORT_FRONT), str(PORT_BACK)])):
            env["OTEL_SERVICE_NAME"] = f"bench-{name}"
            p = subprocess.Popen(["node"] + pre + [os.path.join(NODE_DIR, "service.js")] + args,
                                 env=dict(env), stdout=subprocess.PIPE, text=True,
                                 stderr=open(f"{WORK}/node-{name}.log", "w"))
            self.procs.append(p)
            if p.stdout.readline().strip() != "ready":
                self.stop()
                raise SystemExit(f"bench: the Node.js {name} did not start; see "
                                 f"{WORK}/node-{name}.log")
        self.back, self.front = self.procs

    def cpu_ticks(self):
        return sum(proc_cpu_ticks(p.pid) for p in self.procs)

    def stop(self):
        """Stops both (the SDK flushes first); returns the requests the
        frontend answered."""
        answered = []
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
            try:
                out = p.communicate(timeout=30)[0]
            except subprocess.TimeoutExpired:
                p.kill()
                out = p.communicate()[0]
            try:
                answered.append(json.loads(out.strip().splitlines()[-1])["requests"])
            except (IndexError, ValueError, KeyError):
                answered.append(0)
        return answered[0]


def sink_spans():
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT_PEER_SINK}/counts", timeout=5) as r:
        return json.load(r).get("/v1/traces", {}).get("spans", 0)


def h2load_logged(args, seconds):
    """h2load against the frontend: throughput, mean latency, and the p99
    from its per-request log."""
    logf = f"{WORK}/peer-h2load.log"
    if os.path.exists(logf):
        os.unlink(logf)  # h2load appends to it
    out = subprocess.run(["h2load", "--h1", f"--log-file={logf}", "-D", str(seconds)] + args +
                         [f"http://127.0.0.1:{PORT_FRONT}/"], check=True, capture_output=True,
                         text=True).stdout
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) "
                     r"failed", out)
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", out)
    with open(logf) as f:
        lat = sorted(int(line.split("\t")[2]) for line in f if line.strip())
    return {"rps": float(re.search(r"finished in \S+, ([\d.]+) req/s", out).group(1)),
            "mean": to_us(mean.group(1)), "p99": lat[int(len(lat) * 0.99)] if lat else 0,
            "requests": int(done.group(2)), "failed": int(done.group(3))}


def peer_run(args, mode, load_args, seconds):
    """One measured run of `mode`: services (and agent) started, warmed up,
    measured, stopped; the spans the sink received over their whole life."""
    spans0 = sink_spans()
    svc = NodeServices(sdk=mode == "sdk")
    agent = None
    try:
        if mode == "sonde":
            agent = Agent(args, "full", [svc.back.pid, svc.front.pid], sink_port=PORT_PEER_SINK)
        h2load_logged(load_args, args.peer_warmup)
        speed = host_speed(args)
        n0, a0 = svc.cpu_ticks(), proc_cpu_ticks(agent.proc.pid) if agent else 0
        s0, c0 = proc_cpu_ticks(PEER_SINK.proc.pid), children_cpu_s()
        m0 = machine_busy_ticks()
        r = h2load_logged(load_args, seconds)
        m1 = machine_busy_ticks()
        n1, a1 = svc.cpu_ticks(), proc_cpu_ticks(agent.proc.pid) if agent else 0
        s1, c1 = proc_cpu_ticks(PEER_SINK.proc.pid), children_cpu_s()
        r["speed"] = speed + host_speed(args)
    finally:
        answered = svc.stop()
        fin = agent.stop() if agent else {}
    n = max(r["requests"], 1)
    r["machine_us"] = (m1 - m0) * 1e6 / HZ / n
    r["node_us"] = (n1 - n0) * 1e6 / HZ / n
    r["agent_us"] = (a1 - a0) * 1e6 / HZ / n
    r["sink_us"] = (s1 - s0) * 1e6 / HZ / n
    # Node.js, h2load, agent, sink: what the comparison is about, blind to
    # other jobs on a shared machine (unlike /proc/stat).
    r["tested_us"] = ((n1 - n0 + a1 - a0 + s1 - s0) / HZ + c1 - c0) * 1e6 / n
    r["other_us"] = r["machine_us"] - r["tested_us"]  # other jobs on the machine
    r["answered"] = answered
    time.sleep(0.2)  # the sink's last answer counted
    r["spans"] = sink_spans() - spans0
    r["spans_per_req"] = r["spans"] / max(answered, 1)
    if fin:
        r["agent_dropped"], r["agent_lost"] = fin.get("dropped", 0), fin.get("lost", 0)
    return r


def short(r):
    return (f"{r['rps']:.0f} req/s, mean {r['mean']:.0f} us, p99 {r['p99']:.0f} us, "
            f"{r['spans_per_req']:.2f} spans/req, tested {r['tested_us']:.0f} us/req, "
            f"machine {r['machine_us']:.0f} us/req")


def peer_rounds(args, name, load_args, seconds):
    out = {m: [] for m in PEER_MODES}
    for i in range(args.peer_rounds):
        order = PEER_MODES[i % len(PEER_MODES):] + PEER_MODES[:i % len(PEER_MODES)]
        for mode in order:
            out[mode].append(peer_run(args, mode, load_args, seconds))
            log(f"    {name} round {i + 1} {mode:6} " + short(out[mode][-1]))
    return keep_steady({"runs": out})


PEER_SINK = None


def peer(args):
    """Both loads, every mode, args.peer_rounds rounds each."""
    global PEER_SINK
    check_ready()
    PEER_SINK = Sink(PORT_PEER_SINK, count_spans=True)
    try:
        secs = args.peer_seconds
        log(f"  peer: two-hop Node.js service, {FIXED_RPS} req/s (h2load --h1 "
            f"-c {FIXED_CLIENTS} --rps {FIXED_RPS // FIXED_CLIENTS} -D {secs})")
        fixed = peer_rounds(args, "fixed", ["-c", str(FIXED_CLIENTS), "--rps",
                                            str(FIXED_RPS // FIXED_CLIENTS)], secs)
        log(f"  peer: two-hop Node.js service, saturation (h2load --h1 -c 50 -D {secs})")
        sat = peer_rounds(args, "saturation", ["-c", "50"], secs)
    finally:
        PEER_SINK.stop()
    return {"fixed": fixed, "saturation": sat, "versions": dict(SDK_VERSIONS)}


# --- report -----------------------------------------------------------------


def added(runs, mode, key):
    """Per round: mode's figure minus no instrumentation's."""
    return [a[key] - b[key] for a, b in zip(runs[mode], runs["none"])]


def ratio_of_added(runs, key):
    """Median over rounds of sonde's added figure / the SDK's, and the two
    medians; None when the SDK added nothing measurable in some round."""
    s, k = added(runs, "sonde", key), added(runs, "sdk", key)
    if any(x <= 0 for x in k):
        return None, statistics.median(s), statistics.median(k)
    return statistics.median(a / b for a, b in zip(s, k)), statistics.median(s), \
        statistics.median(k)


def case_table(case):
    runs = case["runs"]
    med = lambda mode, key: statistics.median(r[key] for r in runs[mode])
    L = ["| mode | req/s | × none | mean µs | added | p99 µs | added | machine CPU µs/req "
         "| added | tested processes µs/req | added | of which Node.js | agent | sink "
         "| other jobs µs/req | spans/req | failed |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode in PEER_MODES:
        row = (f"| {PEER_TEXT[mode]} | {med(mode, 'rps'):.0f} | "
               f"{statistics.median(a['rps'] / b['rps'] for a, b in zip(runs[mode], runs['none'])):.3f} | ")
        for key in ("mean", "p99", "machine_us", "tested_us"):
            fmt = "{:.0f}" if key in ("mean", "p99") else "{:.1f}"
            row += (fmt.format(med(mode, key)) + " | " +
                    ("{:+.1f}".format(statistics.median(added(runs, mode, key))) if mode != "none"
                     else "–") + " | ")
        row += (f"{med(mode, 'node_us'):.1f} | "
                f"{med(mode, 'agent_us'):.1f} | {med(mode, 'sink_us'):.1f} | "
                f"{med(mode, 'other_us'):.1f} | "
                f"{med(mode, 'spans_per_req'):.2f} | {sum(r['failed'] for r in runs[mode])} |")
        L.append(row)
    return "\n".join(L) + "\n"


def peer_targets(res):
    """(figure, measured, target, ok) rows; ok None: inconclusive."""
    fixed, sat = res["fixed"]["runs"], res["saturation"]["runs"]
    rows = []
    # Other jobs' CPU moves between the runs of a round; when it moves by more
    # than a fifth of what the SDK adds, a 0.2 × verdict is beyond this run.
    spread = statistics.median(max(runs) - min(runs) for runs in
                               zip(*([r["other_us"] for r in fixed[m]] for m in PEER_MODES)))
    for key, what in (("machine_us", "added machine CPU per request"),
                      ("tested_us", "… the same, tested processes only")):
        r, s, k = ratio_of_added(fixed, key)
        noisy = key == "machine_us" and spread > 0.2 * abs(k)
        rows.append((f"{what} at {FIXED_RPS:,} req/s, sonde vs SDK",
                     (f"{r:.2f} ×" if r is not None else "–") +
                     f" (sonde {s:+.1f}, SDK {k:+.1f} µs" +
                     (f"; other jobs moved {spread:.0f} µs/req within a round)" if noisy
                      else ")"), "≤ 0.2 × the SDK's",
                     None if r is None or noisy else r <= 0.2))
    r, s, k = ratio_of_added(fixed, "p99")
    rows.append((f"added p99 latency at {FIXED_RPS:,} req/s, sonde vs SDK",
                 (f"{r:.2f} ×" if r is not None else "–") + f" (sonde {s:+.0f}, SDK {k:+.0f} µs)",
                 "≤ 0.2 × the SDK's", None if r is None else r <= 0.2))
    thr = statistics.median(a["rps"] / b["rps"] for a, b in zip(sat["sonde"], sat["sdk"]))
    rows.append(("saturation throughput, sonde vs SDK",
                 f"{thr:.2f} × ({statistics.median(r['rps'] for r in sat['sonde']):.0f} vs "
                 f"{statistics.median(r['rps'] for r in sat['sdk']):.0f} req/s)",
                 "≥ 2 × the SDK's", thr >= 2))
    counts = [(case, mode, r["spans_per_req"]) for case, c in (("fixed", fixed), ("sat", sat))
              for mode in ("sdk", "sonde") for r in c[mode]]
    worst = min(counts, key=lambda t: t[2])
    rows.append(("spans exported per request, both, every run",
                 f"{min(c[2] for c in counts):.3f}–{max(c[2] for c in counts):.3f} "
                 f"(lowest: {PEER_TEXT[worst[1]]}, {worst[0]})", f"{SPANS_PER_REQUEST}",
                 all(abs(c[2] - SPANS_PER_REQUEST) < 0.01 for c in counts)))
    return rows


def peer_report(args, res):
    v = res["versions"]
    L = ["## 0. Beside the OpenTelemetry SDK: a two-hop Node.js service\n",
         "bench/node/service.js: an `http` server that calls a second Node.js `http` "
         "server for every request over keep-alive connections, on loopback; three spans "
         "per request (the frontend's server and client spans, the backend's server "
         "span). Modes alternate run by run, order rotated each round, each run on "
         f"freshly started services warmed up for {args.peer_warmup} s with the same load: "
         "no instrumentation; the OpenTelemetry SDK loaded with `node --require "
         "bench/node/sdk.js` (" + ", ".join(f"`{k}@{ver}`" for k, ver in v.items()) +
         "; every automatic instrumentation with its defaults, the default batch span "
         "processor) exporting OTLP/HTTP protobuf; `sonde run --pid FRONTEND --pid "
         "BACKEND` (traces and metrics over OTLP/HTTP). Both export to the same sink, "
         "which counts the spans it receives. Node.js "
         f"{subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}"
         "; nothing pinned. Machine CPU is all of /proc/stat (other jobs on the machine "
         "included); tested processes are the two Node.js processes, h2load, the agent and "
         "the sink. *added*: minus no instrumentation, within a round; medians over "
         "rounds.\n"]
    for key, title in (("fixed", f"{FIXED_RPS:,} requests/s (h2load --h1 -c {FIXED_CLIENTS} "
                                 f"--rps {FIXED_RPS // FIXED_CLIENTS})"),
                       ("saturation", "saturation (h2load --h1 -c 50)")):
        case = res[key]
        L.append(f"**{title}**, {len(case['all']['none'])} round(s) of {args.peer_seconds} s\n")
        L.append(case_table(case))
        L.append(host_note(case))
    return "\n".join(L)


def peer_target_lines(res):
    return [f"| {f} | {t} | {m} | {verdict(ok)} |" for f, m, t, ok in peer_targets(res)]
