# SPDX-License-Identifier: MIT
"""The Kubernetes API side of pod metadata: pod_watch (list, watch, bookmarks,
410, drops, backoff, owners) and kube_client (kubeconfig, in-cluster, client
certificates, exec plugins, errors), driven through build/tests/k8s-watch-driver
against the stand-in API server kube_api.py."""

import json
import os
import signal
import stat
import subprocess
import tempfile
import threading
import time

from harness import ROOT, Failure, check, free_port
from kube_api import KubeApi, container_id, make_pod

DRIVER = os.path.join(ROOT, "build", "tests", "k8s-watch-driver")
FIXTURES = ["deployment_pod", "statefulset_pod", "daemonset_pod", "cronjob_pod",
            "ephemeral_pod", "pending_pod", "docker_pod"]
# Short timings so that faults play out in seconds.
FAST = ["--interval-ms", "100", "--backoff-min-ms", "100", "--backoff-max-ms", "800",
        "--idle-timeout", "5", "--watch-timeout", "60"]


class Driver:
    """k8s-watch-driver in the background; its JSON lines as they come."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen([DRIVER, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **(env or {})))
        self.lines = []
        self.err = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._te = threading.Thread(target=lambda: self.err.extend(self.proc.stderr),
                                    daemon=True)
        self._t.start()
        self._te.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.lines.append({"event": "garbage", "text": line})

    def last(self, event):
        for obj in reversed(list(self.lines)):
            if obj.get("event") == event:
                return obj
        return None

    def state(self):
        return self.last("state") or {"synced": False, "store": {}, "watch": {}}

    def watch(self):
        return self.state()["watch"]

    def pods(self, include_deleted=True):
        p = self.last("pods")
        pods = p["pods"] if p else []
        return {x["name"]: x for x in pods if include_deleted or not x["deleted"]}

    def wait(self, pred, timeout=15.0, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                v = pred(self)
            except (KeyError, TypeError):
                v = None
            if v:
                return v
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise Failure(f"driver exited {self.proc.returncode} while waiting for {what}: "
                              f"{self.stderr()}")
            time.sleep(0.05)
        raise Failure(f"timed out waiting for {what}; last state {self.state()}; "
                      f"stderr {self.stderr()}")

    def synced(self, timeout=15.0):
        return self.wait(lambda d: d.state()["synced"], timeout, "the first list")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._t.join(5)
        self._te.join(5)
        return self.proc.returncode

    def stop_ms(self):
        s = self.last("stopped")
        return s["stop_ms"] if s else None

    def stderr(self):
        return "".join(self.err)


def serve_fixtures(api):
    """The EKS-shaped fixtures on this node and their owners; a pod of another node."""
    api.add_replicaset("shop", "checkout-7d9f8c6b5", deployment="checkout")
    api.add_replicaset("payments", "api-6b7c9d8f4", deployment="api")
    api.add_replicaset("shop", "cart-5c6d7e8f9", deployment="cart")
    api.add_job("shop", "nightly-report-28577340", cronjob="nightly-report")
    uids = {}
    for name in FIXTURES:
        pod = api.add_pod(api.load_fixture(name))
        uids[pod["metadata"]["name"]] = pod["metadata"]["uid"]
    api.add_pod(make_pod("elsewhere", "shop", node="ip-10-0-0-9.ec2.internal"))
    return uids


def test_list_pagination_owners_and_events():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    drv = None
    try:
        serve_fixtures(api)
        for i in range(5):
            api.add_replicaset("web", f"web-5d4f8c{i}", deployment="web")
            api.add_pod(make_pod(f"web-5d4f8c{i}-x{i}", "web", replicaset=f"web-5d4f8c{i}",
                                 template_hash=f"5d4f8c{i}"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", "--list-limit", "3", *FAST)
        drv.synced()
        drv.wait(lambda d: len(d.pods()) == 12, what="12 pods")
        lists = api.list_requests()
        check(len(lists) == 4, f"12 pods by 3: 4 pages, got {len(lists)}")
        check(all(r.query.get("limit") == "3" and
                  r.query.get("fieldSelector") == "spec.nodeName=node-1" for r in lists),
              f"list queries {[r.query for r in lists]}")
        check("continue" not in lists[0].query and all("continue" in r.query for r in lists[1:]),
              "pages after the first carry the continue token")
        check(drv.watch()["list_pages"] == 4 and drv.watch()["lists"] == 1, str(drv.watch()))
        pods = drv.pods()
        check("elsewhere" not in pods, "a pod of another node")
        dep = pods["checkout-7d9f8c6b5-x2x4q"]
        check(dep["deployment"] == "checkout" and dep["replicaset"] == "checkout-7d9f8c6b5",
              f"deployment pod owners {dep}")
        check(dep["service_annotation"] == "checkout-api" and dep["app_name_label"] == "checkout",
              f"service name candidates {dep}")
        check(dep["extra"] == {"deployment.environment.name": "production",
                               "service.namespace": "shop"}, f"extra {dep['extra']}")
        check([c["name"] for c in dep["containers"]] == ["checkout", "envoy"], str(dep))
        check(pods["redis-0"]["statefulset"] == "redis", "statefulset")
        check(pods["aws-node-8xk2m"]["daemonset"] == "aws-node", "daemonset")
        cj = pods["nightly-report-28577340-kq9vd"]
        check(cj["job"] == "nightly-report-28577340" and cj["cronjob"] == "nightly-report",
              f"cronjob pod {cj}")
        check(pods["api-6b7c9d8f4-p8wqz"]["deployment"] == "api", "cri-o pod's deployment")
        check(pods["cart-5c6d7e8f9-zz7xk"]["containers"][0]["id"] == "", "pending pod, no id")
        check(pods["web-5d4f8c3-x3"]["deployment"] == "web", "generated pod")
        check(drv.watch()["owner_fallbacks"] == 0, "every owner came from the API")
        # the watch starts from the list's resourceVersion
        w = api.wait_for(api.watch_requests, what="a watch request")[0]
        check(w.query["resourceVersion"] == drv.watch()["resource_version"] and
              w.query["allowWatchBookmarks"] == "true" and
              w.query["fieldSelector"] == "spec.nodeName=node-1", f"watch query {w.query}")

        # ADDED
        new = api.add_pod(make_pod("late-1", "shop", statefulset="late"))
        drv.wait(lambda d: "late-1" in d.pods(), what="ADDED pod")
        # MODIFIED: a container restarted, new id
        uid = new["metadata"]["uid"]
        new_id = container_id("restarted")
        api.modify_pod(uid, lambda p: p["status"]["containerStatuses"][0].update(
            containerID="containerd://" + new_id))
        drv.wait(lambda d: d.pods()["late-1"]["containers"][0]["id"] == new_id,
                 what="MODIFIED container id")
        # DELETED: kept as a tombstone
        api.delete_pod(uid)
        drv.wait(lambda d: d.pods()["late-1"]["deleted"], what="DELETED pod marked")
        # the driver prints pods and state as separate lines: wait for both
        drv.wait(lambda d: d.state()["store"]["deleted"] == 1, what="store counts the tombstone")
        check(drv.watch()["events"] == 3, f"events {drv.watch()['events']}")
        check(drv.watch()["resource_version"] == str(api.rv), "rv follows the events")
        check(len(api.list_requests()) == 4, "no list after the first")
    finally:
        if drv:
            drv.stop()
        api.stop()
    check(drv.stop_ms() is not None and drv.stop_ms() < 1500,
          f"pod_watch_stop took {drv.stop_ms()} ms mid-watch")


def test_bookmark_advances_resource_version():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(node="node-1", bookmark_interval=0.3).start()
    drv = None
    try:
        api.add_pod(make_pod("a", "shop"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST[:-2], "--watch-timeout", "2")
        drv.synced()
        listed_rv = int(drv.watch()["resource_version"])
        # Changes on another node move the resourceVersion; this node's watch
        # sees them only through bookmarks.
        for i in range(3):
            api.add_pod(make_pod(f"other-{i}", "x", node="node-2"))
        target = api.rv
        drv.wait(lambda d: int(d.watch()["resource_version"]) == target,
                 what="a bookmark with the new resourceVersion")
        check(drv.watch()["bookmarks"] >= 1 and drv.watch()["events"] == 0, str(drv.watch()))
        # the server ends the watch after timeoutSeconds=2: the next one
        # starts from the bookmark's version, without a list
        ws = api.wait_for(lambda: len(api.watch_requests()) >= 2 and api.watch_requests(),
                          what="a second watch")
        check(ws[0].query["resourceVersion"] == str(listed_rv), f"first watch {ws[0].query}")
        check(ws[0].query["timeoutSeconds"] == "2", f"timeoutSeconds {ws[0].query}")
        check(ws[1].query["resourceVersion"] == str(target),
              f"second watch from {ws[1].query['resourceVersion']}, want {target}")
        check(len(api.list_requests()) == 1, "a clean watch end is not a re-list")
        check(drv.watch()["watch_drops"] == 0 and drv.watch()["reconnects"] == 0,
              f"a clean end is no failure: {drv.watch()}")
    finally:
        if drv:
            drv.stop()
        api.stop()


def _gone(as_status):
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(node="node-1").start()
    drv = None
    try:
        keep = api.add_pod(make_pod("keep", "shop"))
        gone = api.add_pod(make_pod("vanishes", "shop"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST)
        drv.synced()
        api.wait_for(api.open_watches, what="an open watch")
        # A pod deleted while the client could not see it, then compaction:
        # only a new list shows the deletion.
        api.delete_pod(gone["metadata"]["uid"], notify=False)
        api.add_pod(make_pod("arrived", "shop"))  # in history, but compacted away below
        api.expire_watches_410(as_status=as_status)
        drv.wait(lambda d: d.watch()["relists_410"] == 1 and d.watch()["lists"] == 2,
                 what="a re-list after 410")
        drv.wait(lambda d: d.pods().get("vanishes", {}).get("deleted"),
                 what="the vanished pod swept as deleted")
        pods = drv.pods()
        check(not pods["keep"]["deleted"] and "arrived" in pods, f"pods {sorted(pods)}")
        check(len(api.list_requests()) == 2, f"lists {len(api.list_requests())}")
        # and watching resumes from the new list's version
        ws = api.wait_for(lambda: [w for w in api.watch_requests()
                                   if int(w.query["resourceVersion"]) >= api._compacted],
                          what="a watch after the re-list")
        check(ws, "watch from the re-list's resourceVersion")
        if as_status:
            # the watch request that followed the end got HTTP 410
            olds = [w for w in api.watch_requests() if int(w.query["resourceVersion"]) <
                    api._compacted]
            check(len(olds) >= 2, f"a watch from the old version after the end: {len(olds)}")
        api.add_pod(make_pod("after", "shop"))
        drv.wait(lambda d: "after" in d.pods(), what="events after the re-list")
        check(drv.watch()["relists_410"] == 1, str(drv.watch()))
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_410_as_error_event_relists():
    _gone(as_status=False)


def test_410_as_http_status_relists():
    _gone(as_status=True)


def test_dropped_watch_rewatches_from_last_version():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    drv = None
    try:
        api.add_pod(make_pod("a", "shop"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"), ca="file")
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST)
        drv.synced()
        api.wait_for(api.open_watches, what="an open watch")
        api.add_pod(make_pod("b", "shop"))
        drv.wait(lambda d: "b" in d.pods(), what="pod b")
        last_rv = drv.watch()["resource_version"]
        api.drop_watches()
        # an event while the client is away: the re-watch replays it
        api.add_pod(make_pod("c", "shop"))
        drv.wait(lambda d: "c" in d.pods(), what="pod c after the re-watch")
        check(drv.watch()["watch_drops"] == 1, f"drops {drv.watch()}")
        check(drv.watch()["reconnects"] >= 1, "a drop is retried after a backoff")
        ws = api.watch_requests()
        check(len(ws) == 2 and ws[1].query["resourceVersion"] == last_rv,
              f"re-watch from {ws[-1].query.get('resourceVersion')}, want {last_rv}")
        check(len(api.list_requests()) == 1 and drv.watch()["relists_410"] == 0,
              "no re-list after a drop")
        check("watch pods dropped" in drv.watch()["last_error"], drv.watch()["last_error"])
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_server_down_at_start_backs_off_then_syncs():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    port = free_port()
    api = KubeApi(node="node-1", port=port)
    drv = None
    try:
        api.add_pod(make_pod("a", "shop"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST)
        drv.wait(lambda d: d.watch()["reconnects"] >= 4, what="retries while the server is down")
        w = drv.watch()
        check(not drv.state()["synced"], "not synced without a server")
        check(f"127.0.0.1:{port}" in w["last_error"] or f"127.0.0.1 port {port}" in w["last_error"],
              f"the error names the server: {w['last_error']}")
        check(w["last_error"].startswith("list pods:"), w["last_error"])
        # the backoff grows to its maximum (800 ms, less at most half of jitter)
        drv.wait(lambda d: d.watch()["last_backoff_ms"] >= 400, what="a longer backoff")
        times = []
        n = drv.watch()["reconnects"]
        t0 = time.time()
        drv.wait(lambda d: d.watch()["reconnects"] >= n + 3, what="three more retries")
        per = (time.time() - t0) / 3
        check(0.3 <= per <= 1.2, f"{per:.2f}s between retries at the cap (400–800 ms expected)")
        api.start()
        drv.synced(timeout=10)
        drv.wait(lambda d: "a" in d.pods(), what="pods once the server is up")
        del times
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_unauthorized_and_rotated_token_file():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    drv = None
    try:
        api.add_pod(make_pod("a", "shop"))
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write("wrong-token\n")
        cfg = api.kubeconfig(os.path.join(tmp, "config"), auth="tokenFile", token_file=token_file)
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST)
        drv.wait(lambda d: "401" in d.watch()["last_error"], what="a 401")
        err = drv.watch()["last_error"]
        check(err.startswith("unauthorized (401) by " + api.url) and "rejected" in err
              and cfg in err, f"401 message: {err}")
        check(not drv.state()["synced"], "not synced when unauthorized")
        check(api.requests[0].auth == "Bearer wrong-token", api.requests[0].auth)
        # the token file is read for every request: fixing it is enough
        with open(token_file, "w") as f:
            f.write(api.token + "\n")
        drv.synced()
        # and a rotation later is followed too
        api.set_token("rotated-token")
        with open(token_file, "w") as f:
            f.write("rotated-token")
        api.drop_watches()
        drv.wait(lambda d: api.requests[-1].auth == "Bearer rotated-token" and
                 d.watch()["watches"] >= 2, what="a re-watch with the rotated token")
        n = len(api.requests)
        api.add_pod(make_pod("b", "shop"))
        drv.wait(lambda d: "b" in d.pods(), what="events with the rotated token")
        check(all(r.auth == "Bearer rotated-token" for r in api.requests[n - 1:]),
              "only the new token after the rotation")
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_forbidden_replicaset_uses_template_hash():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(node="node-1").start()
    drv = None
    try:
        api.forbid("replicasets")
        api.add_replicaset("shop", "web-5d4f8cb9d", deployment="web")
        api.add_pod(make_pod("web-5d4f8cb9d-abcde", "shop", replicaset="web-5d4f8cb9d",
                             template_hash="5d4f8cb9d"))
        api.add_pod(make_pod("web-5d4f8cb9d-fghij", "shop", replicaset="web-5d4f8cb9d",
                             template_hash="5d4f8cb9d"))
        # a ReplicaSet whose name does not end with the pod's hash: no guess
        api.add_pod(make_pod("odd-1", "shop", replicaset="handmade", template_hash="77"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST)
        drv.synced()
        drv.wait(lambda d: len(d.pods()) == 3, what="3 pods")
        pods = drv.pods()
        check(pods["web-5d4f8cb9d-abcde"]["deployment"] == "web", str(pods["web-5d4f8cb9d-abcde"]))
        check(pods["web-5d4f8cb9d-fghij"]["deployment"] == "web", "second pod")
        check(pods["odd-1"]["deployment"] == "" and pods["odd-1"]["replicaset"] == "handmade",
              str(pods["odd-1"]))
        w = drv.watch()
        check(w["owner_fallbacks"] == 2, f"fallbacks {w['owner_fallbacks']}")
        # the failed lookup is cached: one GET per ReplicaSet, not per pod
        check(w["owner_lookups"] == 2 and w["owner_failures"] == 2, str(w))
        rs_gets = [r for r in api.requests if "/replicasets/" in r.path]
        check(len(rs_gets) == 2, f"replicaset GETs {[r.path for r in rs_gets]}")
        check("forbidden (403): RBAC does not allow get on replicasets.apps" in w["last_error"]
              and 'cannot get resource "replicasets"' in w["last_error"], w["last_error"])
        check(drv.stderr().count("taken from the pod-template-hash label") == 1,
              f"logged once: {drv.stderr()}")
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_in_cluster_https_with_service_account():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    drv = None
    try:
        serve_fixtures(api)
        sa = os.path.join(tmp, "serviceaccount")
        env = api.service_account(sa, namespace="sonde-system")
        drv = Driver("--in-cluster", "--sa-dir", sa, "--node", "node-1", *FAST, env=env)
        drv.synced()
        cfg = drv.last("config")
        check(cfg["server"] == f"https://127.0.0.1:{api.port}" and
              cfg["namespace"] == "sonde-system", f"config {cfg}")
        drv.wait(lambda d: len(d.pods()) == len(FIXTURES), what="the fixtures")
        check(all(r.auth == "Bearer " + api.token for r in api.requests), "service-account token")
        # projected tokens rotate: the new file content is used from the next request
        api.set_token("rotated-sa-token")
        with open(os.path.join(sa, "token"), "w") as f:
            f.write("rotated-sa-token")
        api.drop_watches()
        api.add_pod(make_pod("after-rotation", "shop"))
        drv.wait(lambda d: "after-rotation" in d.pods(), what="a pod after the rotation")
        check(api.requests[-1].auth == "Bearer rotated-sa-token", api.requests[-1].auth)
        # --auto picks in-cluster when KUBERNETES_SERVICE_HOST is set
        d2 = Driver("--auto", "--sa-dir", sa, "--node", "node-1", "--duration-ms", "1500",
                    *FAST, env=env)
        d2.wait(lambda d: d.state()["synced"], what="--auto in-cluster")
        d2.stop()
        check("in-cluster" in d2.last("config")["source"], str(d2.last("config")))
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_in_cluster_wrong_ca_is_refused():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    other = KubeApi(tls=True, node="node-1")  # only for its certificate
    drv = None
    try:
        sa = os.path.join(tmp, "sa")
        env = api.service_account(sa)
        with open(other.ca) as src, open(os.path.join(sa, "ca.crt"), "w") as f:
            f.write(src.read())
        drv = Driver("--in-cluster", "--sa-dir", sa, "--node", "node-1", *FAST, env=env)
        drv.wait(lambda d: d.watch()["errors"] >= 1, what="a TLS failure")
        check(not drv.state()["synced"], "a server the CA does not vouch for is not trusted")
        check("certificate" in drv.watch()["last_error"].lower(), drv.watch()["last_error"])
        check(not api.requests, "no request reached the server")
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_kubeconfig_client_certificate():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1", client_auth=True).start()
    try:
        api.add_pod(make_pod("a", "shop"))
        for auth in ("cert", "cert-data"):
            cfg = api.kubeconfig(os.path.join(tmp, f"config-{auth}"), auth=auth)
            n = len(api.requests)
            drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST)
            try:
                drv.synced()
                drv.wait(lambda d: "a" in d.pods(), what=f"pods with {auth}")
            finally:
                drv.stop()
            reqs = api.requests[n:]
            check(reqs and all(r.client_cert and r.auth == "" for r in reqs),
                  f"{auth}: requests authenticated by certificate only")
    finally:
        api.stop()


EXEC_PLUGIN = """#!/bin/sh
# A tiny exec credential plugin: counts its runs, records what it was given.
n=$(($(cat "$COUNT_FILE" 2>/dev/null || echo 0) + 1))
echo $n > "$COUNT_FILE"
echo "$KUBERNETES_EXEC_INFO|$PLUGIN_FLAVOUR|$*" > "$SEEN_FILE"
exp=$(date -u -d "@$(($(date +%s) + 2))" +%Y-%m-%dT%H:%M:%SZ)
cat <<EOF
{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},
 "status":{"expirationTimestamp":"$exp","token":"$(cat "$TOKEN_FILE")"}}
EOF
"""


def test_exec_plugin_token_and_expiry():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    drv = None
    try:
        api.add_pod(make_pod("a", "shop"))
        os.makedirs(os.path.join(tmp, "bin"))
        plugin = os.path.join(tmp, "bin", "get-token")
        with open(plugin, "w") as f:
            f.write(EXEC_PLUGIN)
        os.chmod(plugin, stat.S_IRWXU)
        count, seen, token = (os.path.join(tmp, n) for n in ("count", "seen", "token"))
        with open(token, "w") as f:
            f.write(api.token)
        # a relative command is relative to the kubeconfig's directory
        cfg = api.kubeconfig(os.path.join(tmp, "config"), auth="exec",
                             exec_command="./bin/get-token", exec_args=["--cluster", "test"],
                             exec_env={"COUNT_FILE": count, "SEEN_FILE": seen,
                                       "TOKEN_FILE": token, "PLUGIN_FLAVOUR": "eks"})
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST[:-2], "--watch-timeout", "1")
        drv.synced()
        with open(seen) as f:
            info, flavour, args = f.read().strip().split("|")
        check(json.loads(info) == {"apiVersion": "client.authentication.k8s.io/v1",
                                   "kind": "ExecCredential", "spec": {"interactive": False}},
              f"KUBERNETES_EXEC_INFO {info}")
        check(flavour == "eks" and args == "--cluster test", f"env and args: {flavour} {args}")
        check(api.requests[0].auth == "Bearer " + api.token, "the plugin's token is used")
        with open(count) as f:
            first = int(f.read())
        check(first == 1, f"one run for the list and the first watch, got {first}")
        # the credential expires after 2 s: the watches that follow (one per
        # second) run the plugin again
        time.sleep(4.5)
        with open(count) as f:
            runs = int(f.read())
        check(2 <= runs <= 4, f"plugin runs after expiry: {runs}")
        check(drv.watch()["errors"] == 0, f"no failures: {drv.watch()['last_error']}")
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_exec_plugin_failure_is_reported():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    drv = None
    try:
        plugin = os.path.join(tmp, "fail")
        with open(plugin, "w") as f:
            f.write("#!/bin/sh\necho 'An error occurred (ExpiredToken): the SSO session has "
                    "expired' >&2\nexit 255\n")
        os.chmod(plugin, stat.S_IRWXU)
        cfg = api.kubeconfig(os.path.join(tmp, "config"), auth="exec", exec_command=plugin)
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST)
        drv.wait(lambda d: d.watch()["errors"] >= 1, what="the plugin failure")
        err = drv.watch()["last_error"]
        check(f"exec plugin {plugin}: exited with status 255: An error occurred (ExpiredToken)"
              in err, err)
        check(not api.requests, "no request without a credential")
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_server_stops_answering():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(node="node-1", bookmark_interval=0.5).start()
    drv = None
    try:
        api.add_pod(make_pod("a", "shop"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", *FAST[:-4],
                     "--idle-timeout", "2", "--watch-timeout", "60")
        drv.synced()
        api.wait_for(api.open_watches, what="an open watch")
        t0 = time.time()
        api.hang()
        drv.wait(lambda d: d.watch()["watch_drops"] >= 1, timeout=10,
                 what="the silent watch noticed")
        took = time.time() - t0
        check(1.5 <= took <= 5, f"noticed after {took:.1f}s with a 2 s idle limit")
        check("silent for 2 s" in drv.watch()["last_error"], drv.watch()["last_error"])
        api.resume()
        api.add_pod(make_pod("b", "shop"))
        drv.wait(lambda d: "b" in d.pods(), what="events after the server came back")
        check(len(api.list_requests()) == 1, "a silent watch is resumed, not re-listed")
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_memory_bounded_with_few_slots():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(node="node-1").start()
    drv = None
    try:
        for i in range(600):
            api.add_pod(make_pod(f"p-{i}", "load", containers=("app", "sidecar")))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))
        drv = Driver("--kubeconfig", cfg, "--node", "node-1", "--max-pods", "50", *FAST)
        drv.synced()
        st = drv.state()["store"]
        check(st["pods"] == 50 and st["evicted"] == 550, f"store {st}")
        hwm_synced = drv.state()["hwm_kb"]
        # churn through the watch: 1500 adds and deletes
        uids = []
        for i in range(1500):
            uids.append(api.add_pod(make_pod(f"q-{i}", "load"))["metadata"]["uid"])
            if len(uids) > 20:
                api.delete_pod(uids.pop(0))
        last = api.rv
        drv.wait(lambda d: d.watch()["resource_version"] == str(last), timeout=30,
                 what="the churn applied")
        st = drv.state()["store"]
        check(st["pods"] <= 50, f"store {st}")
        check(len(drv.pods()) <= 50, "at most max_pods in a dump")
        hwm = drv.state()["hwm_kb"]
        check(hwm - hwm_synced < 8 * 1024, f"peak RSS grew {hwm - hwm_synced} kB with churn")
        check(hwm < 64 * 1024, f"peak RSS {hwm} kB")
    finally:
        if drv:
            drv.stop()
        api.stop()


def test_get_pod_for_the_cli():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    api = KubeApi(tls=True, node="node-1").start()
    try:
        serve_fixtures(api)
        cfg = api.kubeconfig(os.path.join(tmp, "config"))

        def get(name, config=cfg):
            r = subprocess.run([DRIVER, "--kubeconfig", config, "--get", name],
                               capture_output=True, text=True, timeout=30)
            lines = [json.loads(x) for x in r.stdout.splitlines()]
            return r.returncode, lines[-1]

        rc, out = get("shop/checkout-7d9f8c6b5-x2x4q")
        check(rc == 0 and out["event"] == "pod", f"{rc} {out}")
        check(out["pod"]["deployment"] == "checkout" and
              out["pod"]["containers"][0]["id"] == container_id_of_fixture(), str(out))
        rc, out = get("shop/nightly-report-28577340-kq9vd")
        check(out["pod"]["cronjob"] == "nightly-report", str(out))

        rc, out = get("shop/missing")
        check(rc == 1 and out["message"] == "pod shop/missing not found", str(out))
        rc, out = get("shop/Bad_Name")
        check(rc == 1 and "invalid pod name" in out["message"], str(out))

        api.forbid("pods")
        rc, out = get("shop/checkout-7d9f8c6b5-x2x4q")
        check(rc == 1 and out["message"].startswith(
            "forbidden (403): RBAC does not allow get on pods") and
            'cannot get resource "pods"' in out["message"], str(out))
        api.allow("pods")

        bad = api.kubeconfig(os.path.join(tmp, "bad"), auth="none")
        rc, out = get("shop/checkout-7d9f8c6b5-x2x4q", bad)
        check(rc == 1 and out["message"].startswith("unauthorized (401)"), str(out))

        port = free_port()
        down = KubeApi(tls=True, port=port)
        dcfg = down.kubeconfig(os.path.join(tmp, "down"))
        rc, out = get("shop/x", dcfg)
        check(rc == 1 and f"https://127.0.0.1:{port}" in out["message"], str(out))
        check(out["errno"] == 111, f"ECONNREFUSED, got {out['errno']}")
    finally:
        api.stop()


def container_id_of_fixture():
    with open(os.path.join(ROOT, "tests/integration/fixtures/k8s/deployment_pod.json")) as f:
        pod = json.load(f)
    return pod["status"]["containerStatuses"][0]["containerID"].split("://")[1]


def test_config_errors_are_one_line():
    tmp = tempfile.mkdtemp(prefix="sonde-k8s-")
    path = os.path.join(tmp, "config")
    with open(path, "w") as f:
        f.write("current-context: c\nclusters: [{name: k, cluster: {server: 'https://h'}}]\n"
                "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                "users: [{name: u, user: {auth-provider: {name: oidc}}}]\n")
    r = subprocess.run([DRIVER, "--kubeconfig", path, "--node", "n"], capture_output=True,
                       text=True, timeout=10)
    out = json.loads(r.stdout.splitlines()[-1])
    check(r.returncode == 1 and out["stage"] == "config", str(out))
    check(out["message"] == f"{path}: users[u].user.auth-provider (oidc) is not supported: "
          "use an exec credential plugin", out["message"])
    env = {k: v for k, v in os.environ.items()
           if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
    env["HOME"] = tmp
    r = subprocess.run([DRIVER, "--auto", "--node", "n"], capture_output=True, text=True,
                       timeout=10, env=env)
    out = json.loads(r.stdout.splitlines()[-1])
    check(out["message"].startswith("no kubernetes api configuration: KUBERNETES_SERVICE_HOST "
                                    "is not set; KUBECONFIG is not set; " + tmp),
          out["message"])
