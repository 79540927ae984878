# SPDX-License-Identifier: MIT
"""Kubernetes pod metadata, end to end: real kubepods-style cgroups with real
servers moved into them, a stand-in API server speaking the real list/watch
wire format (kube_api.py), `sonde run` exporting to the OTLP receiver, and
`sonde trace --pod` filtering by cgroup id in the kernel."""

import os
import subprocess
import tempfile
import time

from harness import SONDE, Sonde, check, free_port
from k8s_node import FakeNode, ids_of
from kube_api import KubeApi, make_pod
from otlp import (Receiver, SondeRun, get, items_server, latest_metrics, logs_of, spans_of,
                  wait_for)

NODE = "ip-10-0-1-23.ec2.internal"
FAST = {"OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "200"}


def server_in(node, pod, container, port, env=None, log=False):
    """items_server (otlp.py) inside the container's cgroup."""
    cg = node.container_dir(pod["metadata"]["uid"], ids_of(pod)[container])
    return items_server(port, env=env, cgroup=cg, log=log)


def logged_by(rcv, pid):
    """The "looking up item N" records of process pid: (resource, record)."""
    return [(res, rec) for res, rec, _ in logs_of(rcv) if res.get("process.pid") == pid and
            rec["body"]["stringValue"].startswith("looking up item")]


def served_on(rcv, *ports):
    """Server spans of our services only: the test's own API server is traced too."""
    return [(res, sp, a) for res, sp, a in spans_of(rcv)
            if sp["kind"] == "SPAN_KIND_SERVER" and a.get("server.port") in ports]


def hit(port, n, first=1):
    for i in range(first, first + n):
        get(f"http://127.0.0.1:{port}/items/{i}")


class Cluster:
    """A node, the API server, the OTLP receiver and `sonde run` against them."""

    def __init__(self, pods=(), run_env=None, replicasets=(), in_cluster=False):
        """in_cluster: as in the DaemonSet, k8s.enabled left at auto and the
        service account's files plus KUBERNETES_SERVICE_HOST/PORT."""
        self.tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
        self.node = FakeNode(NODE)
        self.api = KubeApi(tls=True, node=NODE).start()
        for ns, rs, dep in replicasets:
            self.api.add_replicaset(ns, rs, deployment=dep)
        self.pods = [self.api.add_pod(p) for p in pods]
        self.rcv = Receiver()
        self.kubeconfig = self.api.kubeconfig(os.path.join(self.tmp, "kubeconfig"))
        if in_cluster:
            sa = os.path.join(self.tmp, "serviceaccount")
            creds = dict(self.api.service_account(sa), SONDE_K8S_SERVICE_ACCOUNT_DIR=sa)
        else:
            creds = {"SONDE_K8S": "true", "SONDE_K8S_KUBECONFIG": self.kubeconfig}
        self.run_env = dict(FAST, OTEL_EXPORTER_OTLP_ENDPOINT=self.rcv.endpoint(),
                            SONDE_K8S_NODE_NAME=NODE, **creds, **(run_env or {}))
        self.agent = None
        self.servers = []

    def start_agent(self):
        self.agent = SondeRun("--prometheus-port", "0", env=self.run_env)
        self.api.wait_for(lambda: self.api.watch_requests(), what="sonde's pod watch")
        return self.agent

    def stop(self):
        rc = self.agent.stop() if self.agent else 0
        for s in self.servers:
            s.stop()
        time.sleep(0.2)
        self.node.cleanup()
        self.rcv.stop()
        self.api.stop()
        return rc


def checkout_pod():
    return make_pod("checkout-7d9f8b6c5-x2x9q", "shop", node=NODE, replicaset="checkout-7d9f8b6c5",
                    template_hash="7d9f8b6c5", containers=("app", "istio-proxy"))


def test_run_spans_and_metrics_carry_the_pod():
    """Spans and metric series of processes in pods carry k8s.* attributes and
    service.name by the usual order; a host process keeps its own identity."""
    db = make_pod("orders-db-0", "shop", node=NODE, statefulset="orders-db",
                  labels={"app.kubernetes.io/name": "orders-postgres"}, containers=("db",))
    c = Cluster(pods=[checkout_pod(), db],
                replicasets=[("shop", "checkout-7d9f8b6c5", "checkout")])
    try:
        checkout, db = c.pods
        p1, p2, p3 = free_port(), free_port(), free_port()
        c.servers = [server_in(c.node, checkout, "app", p1, log=True),
                     server_in(c.node, db, "db", p2), items_server(p3)]
        c.start_agent()
        hit(p1, 6)
        hit(p2, 4)
        hit(p3, 3)
        wait_for(lambda: len(served_on(c.rcv, p1, p2, p3)) >= 13, what="13 spans")
        time.sleep(0.5)
        by_port = {}
        for res, sp, a in served_on(c.rcv, p1, p2, p3):
            by_port.setdefault(a["server.port"], []).append(res)
        check(sorted(len(v) for v in by_port.values()) == [3, 4, 6], f"spans per server {by_port.keys()}")
        uid, cid = checkout["metadata"]["uid"], ids_of(checkout)["app"]
        for res in by_port[p1]:
            want = {"k8s.namespace.name": "shop", "k8s.pod.name": "checkout-7d9f8b6c5-x2x9q",
                    "k8s.pod.uid": uid, "k8s.container.name": "app", "k8s.node.name": NODE,
                    "k8s.replicaset.name": "checkout-7d9f8b6c5",
                    "k8s.deployment.name": "checkout", "container.id": cid,
                    "service.name": "checkout", "service.namespace": "shop",
                    "service.instance.id": "shop.checkout-7d9f8b6c5-x2x9q.app",
                    "host.name": NODE}
            got = {k: res.get(k) for k in want}
            check(got == want, f"checkout resource: {got}")
        # Its log records carry the same resource as its spans.
        records = wait_for(lambda: len(logged_by(c.rcv, c.servers[0].pid)) >= 6 and
                           logged_by(c.rcv, c.servers[0].pid), what="6 log records")
        for res, rec in records:
            got = {k: res.get(k) for k in by_port[p1][0]}
            check(got == by_port[p1][0], f"log record's resource {got} vs span's {by_port[p1][0]}")
        for res in by_port[p2]:
            check(res["service.name"] == "orders-postgres", f"label wins over owner: {res}")
            check(res["k8s.statefulset.name"] == "orders-db" and res["k8s.container.name"] == "db",
                  f"statefulset pod: {res}")
            check("k8s.deployment.name" not in res, "no deployment on a statefulset pod")
        for res in by_port[p3]:
            check(not any(k.startswith("k8s.") for k in res) and "container.id" not in res,
                  f"host process has no pod: {res}")
            check(res["service.name"] == res["process.executable.name"].split("/")[-1],
                  f"host process named by its executable: {res}")
        host_service = by_port[p3][0]["service.name"]

        def series():
            m = latest_metrics(c.rcv).get("http.server.request.duration", [])
            n = sum(int(p["count"]) for r, _, p, _ in m
                    if r.get("process.pid") in {s.pid for s in c.servers})
            return m if n >= 13 else None
        points = wait_for(series, what="duration series for 13 requests")
        ours = {s.pid for s in c.servers}
        counts = {}
        for res, _, p, _ in points:
            if res.get("process.pid") not in ours:
                continue  # the test's own API server is traced too
            key = (res.get("k8s.pod.name"), res.get("k8s.deployment.name"), res["service.name"])
            counts[key] = counts.get(key, 0) + int(p["count"])
        check(counts.get(("checkout-7d9f8b6c5-x2x9q", "checkout", "checkout")) == 6 and
              counts.get(("orders-db-0", None, "orders-postgres")) == 4 and
              counts.get((None, None, host_service)) == 3, f"series by pod: {counts}")
        watch = c.api.watch_requests()[0]
        check(watch.query.get("fieldSelector") == "spec.nodeName=" + NODE,
              f"the watch asks for this node's pods only: {watch.query}")
    finally:
        rc = c.stop()
    check(rc == 0, f"sonde run exited {rc}: {c.agent.stderr() if c.agent else ''}")


def test_run_holds_spans_until_the_pod_is_known():
    """Traffic starts before the API has the pod: the spans and log records
    wait (k8s.metadata_wait) and leave with the pod's metadata; the metric
    series too."""
    c = Cluster(run_env={"SONDE_K8S_METADATA_WAIT": "5000"},
                replicasets=[("shop", "checkout-7d9f8b6c5", "checkout")])
    try:
        pod = checkout_pod()
        p1 = free_port()
        c.servers = [server_in(c.node, pod, "app", p1, log=True)]
        c.start_agent()
        hit(p1, 5)
        time.sleep(1.0)
        check(not served_on(c.rcv, p1), "spans of an unknown pod wait for its metadata")
        check(not logged_by(c.rcv, c.servers[0].pid), "log records wait for it too")
        c.api.add_pod(pod)
        spans = wait_for(lambda: len(served_on(c.rcv, p1)) >= 5 and served_on(c.rcv, p1),
                         what="5 spans")
        for res, _, _ in spans:
            check(res.get("k8s.pod.name") == "checkout-7d9f8b6c5-x2x9q" and
                  res["service.name"] == "checkout", f"held span got its pod: {res}")
        records = wait_for(lambda: len(logged_by(c.rcv, c.servers[0].pid)) >= 5 and
                           logged_by(c.rcv, c.servers[0].pid), what="5 log records")
        for res, rec in records:
            check(res.get("k8s.pod.name") == "checkout-7d9f8b6c5-x2x9q" and
                  res["service.name"] == "checkout", f"held record got its pod: {res}")
        health = wait_for(lambda: latest_metrics(c.rcv, "sonde").get("sonde.k8s.spans.held"),
                          what="health metrics")
        check(int(health[0][2]["asInt"]) == 5, f"5 spans held: {health[0][2]}")
        unresolved = latest_metrics(c.rcv, "sonde")["sonde.k8s.spans.unresolved"]
        check(int(unresolved[0][2]["asInt"]) == 0, "none left without metadata")
        logs_held = latest_metrics(c.rcv, "sonde")["sonde.k8s.logs.held"]
        check(int(logs_held[0][2]["asInt"]) == 5, f"5 log records held: {logs_held[0][2]}")
    finally:
        rc = c.stop()
    check(rc == 0, f"sonde run exited {rc}")


def test_run_pod_never_known_is_exported_with_what_the_cgroup_says():
    """A pod the API never tells about: after the wait its spans go out with the
    pod uid and container id from the cgroup, counted; none is lost."""
    c = Cluster(run_env={"SONDE_K8S_METADATA_WAIT": "600"})
    try:
        pod = checkout_pod()
        p1 = free_port()
        c.servers = [server_in(c.node, pod, "app", p1)]
        c.start_agent()
        hit(p1, 4)
        spans = wait_for(lambda: len(served_on(c.rcv, p1)) >= 4 and served_on(c.rcv, p1),
                         what="4 spans")
        for res, _, _ in spans:
            check(res.get("k8s.pod.uid") == pod["metadata"]["uid"] and
                  res.get("container.id") == ids_of(pod)["app"] and
                  res.get("k8s.node.name") == NODE and "k8s.pod.name" not in res,
                  f"what the cgroup says: {res}")
        unresolved = wait_for(
            lambda: latest_metrics(c.rcv, "sonde").get("sonde.k8s.spans.unresolved"),
            what="health metrics")
        check(int(unresolved[0][2]["asInt"]) == 4, f"4 unresolved: {unresolved[0][2]}")
    finally:
        rc = c.stop()
    check(rc == 0, f"sonde run exited {rc}")


def test_run_pod_metadata_survives_410_and_dropped_watches():
    """After a 410 Gone (re-list) and a cut watch (resume), pods added later
    are still found: the agent keeps its store in step with the API. In-cluster
    credentials, as the DaemonSet has them."""
    c = Cluster(replicasets=[("shop", "checkout-7d9f8b6c5", "checkout")], in_cluster=True)
    try:
        c.start_agent()
        c.api.expire_watches_410()
        c.api.wait_for(lambda: len(c.api.list_requests()) >= 2, what="a re-list after 410")
        c.api.drop_watches()
        c.api.wait_for(lambda: len(c.api.watch_requests()) >= 3, what="a resumed watch")
        pod = c.api.add_pod(checkout_pod())
        p1 = free_port()
        c.servers = [server_in(c.node, pod, "app", p1)]
        hit(p1, 3)
        spans = wait_for(lambda: len(served_on(c.rcv, p1)) >= 3 and served_on(c.rcv, p1),
                         what="3 spans")
        check(all(res.get("k8s.deployment.name") == "checkout" for res, _, _ in spans),
              f"pod added after the faults is known: {[r for r, _, _ in spans][:1]}")
    finally:
        rc = c.stop()
    check(rc == 0, f"sonde run exited {rc}")


def test_run_k8s_settings_errors():
    """k8s.enabled=true without credentials stops with one line; auto inside a
    'cluster' whose service account is missing warns and runs on."""
    missing = os.path.join(tempfile.mkdtemp(), "nope")
    r = subprocess.run([SONDE, "run", "--k8s", "true", "--kubeconfig", missing],
                       capture_output=True, text=True, timeout=30)
    errors = [line for line in r.stderr.splitlines() if "error" in line]
    check(r.returncode == 1 and len(errors) == 1 and "kubernetes:" in errors[0] and
          missing in errors[0], f"k8s=true, no kubeconfig: {r.returncode} {r.stderr!r}")
    agent = SondeRun("--prometheus-port", "0",
                     env={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "1",
                          "SONDE_K8S_SERVICE_ACCOUNT_DIR": missing})
    try:
        time.sleep(0.5)
        check(agent.alive(), "auto mode runs without pod metadata")
        check("running without pod metadata" in agent.stderr(), agent.stderr())
    finally:
        agent.stop()


def test_trace_pod_follows_only_that_pod():
    """`sonde trace --pod NS/NAME` resolves the pod through the API and filters by
    its cgroups in the kernel; --container narrows to one container."""
    c = Cluster(pods=[checkout_pod(), make_pod("other-1", "shop", node=NODE)])
    try:
        checkout, other = c.pods
        p_app, p_proxy, p_other = free_port(), free_port(), free_port()
        c.servers = [server_in(c.node, checkout, "app", p_app),
                     server_in(c.node, checkout, "istio-proxy", p_proxy),
                     server_in(c.node, other, "main", p_other)]
        for args, want in (((), {p_app: 3, p_proxy: 2}),
                           (("--container", "app"), {p_app: 3})):
            t = Sonde("--pod", "shop/checkout-7d9f8b6c5-x2x9q", "--kubeconfig", c.kubeconfig,
                      *args)
            try:
                hit(p_app, 3)
                hit(p_proxy, 2)
                hit(p_other, 4)
                t.wait_spans(lambda s: s.get("kind") == "server", sum(want.values()))
                t.settle()
            finally:
                t.stop()
            got = {}
            for s in t.spans():
                if s["kind"] == "server":
                    got[s["server.port"]] = got.get(s["server.port"], 0) + 1
            check(got == want, f"--pod {args}: spans per port {got}, want {want}")
            check("tracing pod shop/checkout-7d9f8b6c5-x2x9q" in t.stderr(), t.stderr())
    finally:
        c.stop()


def test_trace_pod_errors():
    """Wrong pod, wrong container, a pod on another node: one clear line each."""
    c = Cluster(pods=[checkout_pod(), make_pod("elsewhere-1", "shop", node="ip-10-0-9-9")])
    try:
        cases = [
            (["--pod", "shop/nope"], "pod shop/nope not found"),
            (["--pod", "shop/checkout-7d9f8b6c5-x2x9q", "--container", "web"],
             "has no container 'web' (it has: app, istio-proxy)"),
            (["--pod", "shop/elsewhere-1"], "runs on node ip-10-0-9-9"),
            (["--pod", "bad name"], "invalid --pod"),
            (["--container", "app"], "--container needs --pod"),
        ]
        for args, want in cases:
            r = subprocess.run([SONDE, "trace", "--kubeconfig", c.kubeconfig, *args],
                               capture_output=True, text=True, timeout=30)
            lines = r.stderr.strip().splitlines()
            check(r.returncode != 0 and len(lines) == 1 and want in lines[0],
                  f"{args}: rc {r.returncode}, stderr {r.stderr!r}, want {want!r}")
    finally:
        c.stop()
