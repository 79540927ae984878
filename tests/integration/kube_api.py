# SPDX-License-Identifier: MIT
"""A stand-in Kubernetes API server for tests: python3 standard library only,
HTTP or HTTPS, the real wire format.

What it serves (core/v1 and the two owner lookups sonde makes):
  GET /api/v1/pods?fieldSelector=spec.nodeName%3DN&limit=L&continue=C   PodList pages
  GET /api/v1/pods?watch=1&resourceVersion=RV&allowWatchBookmarks=true&timeoutSeconds=S
      a chunked stream, one WatchEvent JSON per line; BOOKMARKs every
      bookmark_interval seconds; ends cleanly after timeoutSeconds
  GET /api/v1/namespaces/NS/pods/NAME
  GET /apis/apps/v1/namespaces/NS/replicasets/NAME
  GET /apis/batch/v1/namespaces/NS/jobs/NAME
Errors are Status objects as the API server writes them: 401 on a missing or
wrong bearer token (unless a client certificate was verified), 403 for resources
marked forbidden, 404, 410.

Use from a test:

    from kube_api import KubeApi, make_pod
    api = KubeApi(tls=True, node="node-1").start()     # port=0: a free one
    try:
        api.add_replicaset("shop", "web-5d4f8", deployment="web")
        pod = api.add_pod(make_pod("web-5d4f8-abcde", "shop", replicaset="web-5d4f8",
                                   template_hash="5d4f8"))
        cfg = api.kubeconfig(os.path.join(tmp, "config"))          # token auth, CA data
        env = api.service_account(os.path.join(tmp, "sa"))          # in-cluster files + env
        ... run sonde with --kubeconfig cfg (or env) ...
        api.modify_pod(pod["metadata"]["uid"], lambda p: p["metadata"]["labels"].update(x="1"))
        api.delete_pod(pod["metadata"]["uid"])
        api.wait_for(lambda: api.watch_requests(), what="a watch")
    finally:
        api.stop()

Attributes and methods:
  url, token, ca (CA file, TLS only), node, rv (current resourceVersion)
  add_pod(dict) -> stored pod; modify_pod(uid, fn); delete_pod(uid, notify=True); pods()
  load_fixture(name) -> pod dict from fixtures/k8s/NAME.json, moved to this node
  add_replicaset(ns, name, deployment=None); add_job(ns, name, cronjob=None)
  forbid(resource) / allow(resource): 403 for "pods", "replicasets", "jobs"
  set_token(token): the only bearer token accepted from now on
  expire_watches_410(as_status=False): etcd compaction; open watches get an ERROR
      event with code 410 and end (or, as_status=True, end and the watch request
      that follows gets HTTP 410); any watch from an older resourceVersion too
  drop_watches(): cut every open watch mid-stream (no terminating chunk)
  end_watches(): end every open watch cleanly
  hang() / resume(): stop answering (streams go silent, requests wait) and back
  requests: every request, as Request(method, path, query, auth, client_cert, t)
  list_requests(), watch_requests(): the requests of each kind
  open_watches(): how many watch streams are open now
  stop()
"""

import base64
import copy
import http.server
import json
import os
import queue
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import namedtuple

from harness import make_cert, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "k8s")

Request = namedtuple("Request", "method path query auth client_cert t")

RESOURCES = {
    # url prefix -> (resource, group, kind)
    ("apis/apps/v1", "replicasets"): ("replicasets", "apps", "ReplicaSet"),
    ("apis/batch/v1", "jobs"): ("jobs", "batch", "Job"),
    ("api/v1", "pods"): ("pods", "", "Pod"),
}


def status_body(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def container_id(seed):
    """A 64-hex container id derived from seed."""
    return uuid.uuid5(uuid.NAMESPACE_URL, seed).hex + uuid.uuid5(uuid.NAMESPACE_DNS, seed).hex


def make_pod(name, namespace="default", node=None, replicaset=None, template_hash=None,
             statefulset=None, daemonset=None, job=None, containers=("main",), runtime="containerd",
             labels=None, annotations=None, phase="Running"):
    """A pod as `kubectl get pod -o json` shows one (the fields sonde reads and
    their usual neighbours). Container ids are derived from namespace/name/container."""
    labels = dict(labels or {})
    if template_hash:
        labels["pod-template-hash"] = template_hash
    meta = {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
            "creationTimestamp": "2024-05-02T08:13:58Z", "labels": labels}
    if annotations:
        meta["annotations"] = dict(annotations)
    for kind, owner, api in (("ReplicaSet", replicaset, "apps/v1"),
                             ("StatefulSet", statefulset, "apps/v1"),
                             ("DaemonSet", daemonset, "apps/v1"), ("Job", job, "batch/v1")):
        if owner:
            meta["ownerReferences"] = [{"apiVersion": api, "kind": kind, "name": owner,
                                        "uid": str(uuid.uuid4()), "controller": True,
                                        "blockOwnerDeletion": True}]
            meta["generateName"] = owner + "-"
    spec = {"containers": [{"name": c, "image": f"registry.example/{c}:1",
                            "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"} for c in containers],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
            "schedulerName": "default-scheduler", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30}
    if node:
        spec["nodeName"] = node
    statuses = []
    for c in containers:
        st = {"name": c, "image": f"registry.example/{c}:1", "imageID": "", "ready": phase == "Running",
              "restartCount": 0, "started": phase == "Running", "lastState": {},
              "state": {"running": {"startedAt": "2024-05-02T08:14:02Z"}}}
        if phase != "Pending":
            st["containerID"] = f"{runtime}://{container_id(namespace + '/' + name + '/' + c)}"
        else:
            st["state"] = {"waiting": {"reason": "ContainerCreating"}}
        statuses.append(st)
    status = {"phase": phase, "containerStatuses": statuses, "hostIP": "192.168.42.17",
              "podIP": "192.168.51.203", "qosClass": "BestEffort"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


class _Watch:
    def __init__(self, node, bookmarks):
        self.node = node
        self.bookmarks = bookmarks
        self.q = queue.Queue()


class KubeApi:
    def __init__(self, tls=False, node="node-1", port=0, token=None, client_auth=False,
                 bookmark_interval=1.0, directory=None):
        self.tls = tls
        self.node = node
        self.token = token or "sonde-test-token-" + uuid.uuid4().hex[:12]
        self._tokens = {self.token}
        self.bookmark_interval = bookmark_interval
        self.dir = directory or tempfile.mkdtemp(prefix="sonde-kubeapi-")
        self.lock = threading.Condition()
        self.rv = 1000
        self._pods = {}  # uid -> pod
        self._history = []  # (rv, type, pod)
        self._compacted = 0  # watches from an rv below this get 410
        self.gone_as_status = False
        self._watches = []
        self._objects = {}  # (resource, ns, name) -> object
        self._forbidden = set()
        self._snapshots = {}  # continue token -> (rv, items)
        self._hung = threading.Event()
        self._stopping = threading.Event()
        self.requests = []
        self.ca = self.cert = self.key = None
        self.client_cert = self.client_key = None
        self._port = port
        self.port = port
        # Known before start() when the port is given: a client can be pointed
        # at a server that is not up yet.
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}" if port else None
        self._server = None
        self._thread = None
        self._ctx = None
        if tls:
            self.cert, self.key = make_cert(self.dir)
            self.ca = self.cert
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ctx.load_cert_chain(self.cert, self.key)
            if client_auth:
                # A self-signed client certificate is its own CA.
                self.client_cert = os.path.join(self.dir, "client.crt")
                self.client_key = os.path.join(self.dir, "client.key")
                subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                "-keyout", self.client_key, "-out", self.client_cert, "-days",
                                "2", "-subj", "/CN=sonde-agent/O=system:nodes"],
                               check=True, capture_output=True)
                self._ctx.verify_mode = ssl.CERT_OPTIONAL
                self._ctx.load_verify_locations(self.client_cert)

    # ---- lifecycle ----

    def start(self):
        api = self

        class Handler(_Handler):
            pass
        Handler.api = api
        self._server = _Server(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._hung.clear()
        self.end_watches()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ---- pods ----

    def _event(self, etype, pod):
        """Under the lock: a new resourceVersion, history, and open watches."""
        self.rv += 1
        pod["metadata"]["resourceVersion"] = str(self.rv)
        snap = copy.deepcopy(pod)
        self._history.append((self.rv, etype, snap))
        for w in self._watches:
            if w.node is None or snap["spec"].get("nodeName") == w.node:
                w.q.put(("event", etype, snap))
        self.lock.notify_all()

    def add_pod(self, pod):
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("namespace", "default")
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        spec = pod.setdefault("spec", {})
        if not spec.get("nodeName"):
            spec["nodeName"] = self.node
        with self.lock:
            self._pods[meta["uid"]] = pod
            self._event("ADDED", pod)
            return copy.deepcopy(pod)

    def modify_pod(self, uid, fn):
        with self.lock:
            pod = self._pods[uid]
            fn(pod)
            self._event("MODIFIED", pod)
            return copy.deepcopy(pod)

    def delete_pod(self, uid, notify=True):
        """notify=False: the pod vanishes without a DELETED event, as one
        deleted while a client was not watching (only a re-list shows it)."""
        with self.lock:
            pod = self._pods.pop(uid)
            if notify:
                self._event("DELETED", pod)
            else:
                self.rv += 1
            return copy.deepcopy(pod)

    def pods(self):
        with self.lock:
            return [copy.deepcopy(p) for p in self._pods.values()]

    def load_fixture(self, name):
        with open(os.path.join(FIXTURES, name if name.endswith(".json") else name + ".json")) as f:
            pod = json.load(f)
        pod["spec"]["nodeName"] = self.node
        return pod

    # ---- owners ----

    def _add_object(self, resource, api_version, kind, ns, name, owner_kind, owner):
        obj = {"apiVersion": api_version, "kind": kind,
               "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                            "resourceVersion": str(self.rv)}}
        if owner:
            obj["metadata"]["ownerReferences"] = [
                {"apiVersion": "apps/v1" if owner_kind == "Deployment" else "batch/v1",
                 "kind": owner_kind, "name": owner, "uid": str(uuid.uuid4()),
                 "controller": True, "blockOwnerDeletion": True}]
        with self.lock:
            self._objects[(resource, ns, name)] = obj

    def add_replicaset(self, ns, name, deployment=None):
        self._add_object("replicasets", "apps/v1", "ReplicaSet", ns, name, "Deployment",
                         deployment)

    def add_job(self, ns, name, cronjob=None):
        self._add_object("jobs", "batch/v1", "Job", ns, name, "CronJob", cronjob)

    def forbid(self, resource):
        with self.lock:
            self._forbidden.add(resource)

    def allow(self, resource):
        with self.lock:
            self._forbidden.discard(resource)

    def set_token(self, token):
        with self.lock:
            self.token = token
            self._tokens = {token}

    # ---- faults ----

    def expire_watches_410(self, as_status=False):
        with self.lock:
            self.rv += 1
            self._compacted = self.rv
            self.gone_as_status = as_status
            for w in self._watches:
                w.q.put(("end",) if as_status else ("gone",))

    def drop_watches(self):
        with self.lock:
            for w in self._watches:
                w.q.put(("drop",))

    def end_watches(self):
        with self.lock:
            for w in self._watches:
                w.q.put(("end",))

    def hang(self):
        self._hung.set()

    def resume(self):
        self._hung.clear()

    # ---- what happened ----

    def list_requests(self):
        return [r for r in list(self.requests)
                if r.path == "/api/v1/pods" and r.query.get("watch") not in ("1", "true")]

    def watch_requests(self):
        return [r for r in list(self.requests)
                if r.path == "/api/v1/pods" and r.query.get("watch") in ("1", "true")]

    def open_watches(self):
        with self.lock:
            return len(self._watches)

    def wait_for(self, pred, timeout=10.0, what="condition"):
        return wait_for(pred, timeout, "kube_api: " + what, interval=0.05)

    # ---- configuration files for the client ----

    def kubeconfig(self, path, auth="token", ca="data", context="test", token_file=None,
                   exec_command=None, exec_args=(), exec_env=None,
                   exec_api="client.authentication.k8s.io/v1", insecure=False):
        """Writes a kubeconfig for this server. auth: token | tokenFile | cert |
        cert-data | exec | none; ca: data | file | none."""
        q = json.dumps  # a JSON string is a YAML double-quoted scalar
        cluster = [f"    server: {q(self.url)}"]
        if self.tls and ca == "data":
            with open(self.ca, "rb") as f:
                cluster.append("    certificate-authority-data: "
                               + base64.b64encode(f.read()).decode())
        elif self.tls and ca == "file":
            cluster.append(f"    certificate-authority: {q(self.ca)}")
        if insecure:
            cluster.append("    insecure-skip-tls-verify: true")
        user = []
        if auth == "token":
            user.append(f"    token: {q(self.token)}")
        elif auth == "tokenFile":
            user.append(f"    tokenFile: {q(token_file)}")
        elif auth == "cert":
            user += [f"    client-certificate: {q(self.client_cert)}",
                     f"    client-key: {q(self.client_key)}"]
        elif auth == "cert-data":
            for key, p in (("client-certificate-data", self.client_cert),
                           ("client-key-data", self.client_key)):
                with open(p, "rb") as f:
                    user.append(f"    {key}: " + base64.b64encode(f.read()).decode())
        elif auth == "exec":
            user += ["    exec:", f"      apiVersion: {q(exec_api)}",
                     f"      command: {q(exec_command)}"]
            if exec_args:
                user.append("      args:")
                user += [f"      - {q(a)}" for a in exec_args]
            if exec_env:
                user.append("      env:")
                for k, v in exec_env.items():
                    user += [f"      - name: {q(k)}", f"        value: {q(v)}"]
            user.append("      interactiveMode: Never")
        text = "\n".join([
            "apiVersion: v1", "kind: Config", f"current-context: {q(context)}", "preferences: {}",
            "clusters:", "- name: test-cluster", "  cluster:", *cluster,
            "contexts:", f"- name: {q(context)}", "  context:", "    cluster: test-cluster",
            "    user: test-user", "    namespace: default",
            "users:", "- name: test-user", "  user:" + ("" if user else " {}"), *user, ""])
        with open(path, "w") as f:
            f.write(text)
        return path

    def service_account(self, directory, namespace="sonde"):
        """In-cluster files (token, ca.crt, namespace) in directory; returns the
        environment a pod would have (KUBERNETES_SERVICE_HOST/PORT)."""
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "token"), "w") as f:
            f.write(self.token)
        with open(os.path.join(directory, "namespace"), "w") as f:
            f.write(namespace)
        if self.ca:
            with open(self.ca) as src, open(os.path.join(directory, "ca.crt"), "w") as f:
                f.write(src.read())
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(self.port)}


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients that go away mid-stream or fail the TLS handshake are what
        # the tests provoke: no tracebacks for them.
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api = None  # set per server
    timeout = 30

    def log_message(self, *args):
        pass

    def setup(self):
        api = self.api
        self.client_verified = False
        if api.tls:
            # The handshake in this thread: a slow client cannot hold the
            # accept loop.
            self.request.settimeout(10)
            self.request = api._ctx.wrap_socket(self.request, server_side=True)
            self.request.settimeout(None)
            self.client_verified = bool(self.request.getpeercert())
        super().setup()

    # ---- responses ----

    def _send_json(self, code, body):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, obj):
        data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):  # noqa: N802 - http.server's name
        api = self.api
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        auth = self.headers.get("Authorization", "")
        api.requests.append(Request("GET", url.path, query, auth, self.client_verified,
                                    time.time()))
        # A server that stopped answering: nothing until resume (or stop).
        while api._hung.is_set() and not api._stopping.is_set():
            time.sleep(0.05)
        if api._stopping.is_set():
            self.close_connection = True
            return
        with api.lock:
            tokens = set(api._tokens)
            forbidden = set(api._forbidden)
        if not self.client_verified and (not auth.startswith("Bearer ")
                                         or auth[7:] not in tokens):
            self._send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        parts = url.path.strip("/").split("/")
        # /api/v1/pods
        if parts == ["api", "v1", "pods"]:
            if "pods" in forbidden:
                return self._forbidden("list", "pods", "", None, None)
            if query.get("watch") in ("1", "true"):
                return self._watch(query)
            return self._list(query)
        # /api/v1/namespaces/NS/pods/NAME, /apis/G/V/namespaces/NS/R/NAME
        if len(parts) >= 6 and parts[-4] == "namespaces":
            prefix = "/".join(parts[:-4])
            ns, resource, name = parts[-3], parts[-2], parts[-1]
            if (prefix, resource) in RESOURCES:
                res, group, kind = RESOURCES[(prefix, resource)]
                if res in forbidden:
                    return self._forbidden("get", res, group, ns, name)
                with api.lock:
                    if res == "pods":
                        obj = next((copy.deepcopy(p) for p in api._pods.values()
                                    if p["metadata"]["namespace"] == ns
                                    and p["metadata"]["name"] == name), None)
                    else:
                        obj = copy.deepcopy(api._objects.get((res, ns, name)))
                if obj is None:
                    full = f"{res}.{group}" if group else res
                    return self._send_json(404, status_body(
                        404, "NotFound", f'{full} "{name}" not found',
                        {"name": name, "group": group, "kind": res}))
                return self._send_json(200, obj)
        self._send_json(404, status_body(404, "NotFound",
                                         "the server could not find the requested resource"))

    def _forbidden(self, verb, resource, group, ns, name):
        full = f"{resource}.{group}" if group else resource
        who = 'User "system:serviceaccount:sonde:sonde"'
        scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
        msg = (f'{full}{" " + json.dumps(name) if name else ""} is forbidden: {who} cannot '
               f'{verb} resource "{resource}" in API group "{group}" {scope}')
        self._send_json(403, status_body(403, "Forbidden", msg,
                                         {"name": name or "", "group": group, "kind": resource}))

    def _node_filter(self, query):
        sel = query.get("fieldSelector", "")
        for term in sel.split(","):
            if term.startswith("spec.nodeName="):
                return term[len("spec.nodeName="):]
        return None

    def _list(self, query):
        api = self.api
        node = self._node_filter(query)
        limit = int(query.get("limit", "0") or 0)
        cont = query.get("continue", "")
        with api.lock:
            if cont:
                snap = api._snapshots.get(cont)
                if snap is None or snap[0] < api._compacted:
                    return self._send_json(410, status_body(
                        410, "Expired", "The provided continue parameter is too old to display "
                        "a consistent list result. You can start a new list without the continue "
                        "parameter."))
                rv, items = snap
            else:
                rv = api.rv
                items = sorted((copy.deepcopy(p) for p in api._pods.values()
                                if node is None or p["spec"].get("nodeName") == node),
                               key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
            page, rest = (items[:limit], items[limit:]) if limit else (items, [])
            meta = {"resourceVersion": str(rv)}
            if rest:
                token = base64.b64encode(json.dumps(
                    {"v": "meta.k8s.io/v1", "rv": rv, "start": uuid.uuid4().hex}).encode()
                ).decode()
                api._snapshots[token] = (rv, rest)
                meta["continue"] = token
                meta["remainingItemCount"] = len(rest)
        # Items of a list carry no kind/apiVersion, as the real server's.
        for p in page:
            p.pop("kind", None)
            p.pop("apiVersion", None)
        self._send_json(200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta,
                              "items": page})

    def _watch(self, query):
        api = self.api
        node = self._node_filter(query)
        try:
            start_rv = int(query.get("resourceVersion", "0") or 0)
        except ValueError:
            start_rv = 0
        timeout = float(query.get("timeoutSeconds", "1800") or 1800)
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        w = _Watch(node, bookmarks)
        with api.lock:
            gone = start_rv and start_rv < api._compacted
            if gone and api.gone_as_status:
                pass
            else:
                backlog = [(t, p) for rv, t, p in api._history if rv > start_rv
                           and (node is None or p["spec"].get("nodeName") == node)]
                api._watches.append(w)
            current = api.rv
        if gone and api.gone_as_status:
            return self._send_json(410, status_body(
                410, "Expired", f"too old resource version: {start_rv} ({current})"))
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self.wfile.flush()
            if gone:
                self._chunk({"type": "ERROR", "object": status_body(
                    410, "Expired", f"too old resource version: {start_rv} ({current})")})
                self._end()
                return
            for t, p in backlog:
                self._chunk({"type": t, "object": p})
            deadline = time.time() + timeout
            last_bookmark = time.time()
            while True:
                now = time.time()
                if api._hung.is_set():
                    # Silent: no events, not even bookmarks; they wait in
                    # the queue.
                    if api._stopping.is_set():
                        return self._drop()
                    time.sleep(0.05)
                    continue
                if now >= deadline:
                    if bookmarks:
                        self._bookmark()
                    return self._end()
                if bookmarks and now - last_bookmark >= api.bookmark_interval:
                    self._bookmark()
                    last_bookmark = now
                try:
                    item = w.q.get(timeout=0.05)
                except queue.Empty:
                    continue
                if item[0] == "event":
                    self._chunk({"type": item[1], "object": item[2]})
                elif item[0] == "gone":
                    with api.lock:
                        current = api.rv
                    self._chunk({"type": "ERROR", "object": status_body(
                        410, "Expired", f"too old resource version: {start_rv} ({current})")})
                    return self._end()
                elif item[0] == "end":
                    return self._end()
                elif item[0] == "drop":
                    return self._drop()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            with api.lock:
                if w in api._watches:
                    api._watches.remove(w)

    def _bookmark(self):
        with self.api.lock:
            rv = self.api.rv
        self._chunk({"type": "BOOKMARK", "object": {
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"resourceVersion": str(rv), "creationTimestamp": None},
            "spec": {"containers": None}, "status": {}}})

    def _end(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self):
        """Cut the connection mid-stream: no terminating chunk."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
