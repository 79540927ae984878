# SPDX-License-Identifier: MIT
"""A Kubernetes node as far as sonde can tell without a kubelet: real cgroup v2
directories laid out the way the kubelet and containerd lay them out
(kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/
cri-containerd-<id>.scope), real processes moved into them, and the pod
objects the API server would return for them."""

import os
import time
import uuid

from harness import Proc


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            sep = parts.index("-")
            if parts[sep + 1] == "cgroup2":
                return parts[4]
    raise RuntimeError("no cgroup v2 hierarchy is mounted")


class FakeNode:
    """Pods as cgroups. Everything made here is removed by cleanup()."""

    def __init__(self, name="ip-10-0-1-23.ec2.internal", driver="systemd"):
        self.name = name
        self.driver = driver
        self.root = cgroup2_root()
        # our own top directory, so a test never touches a real kubepods tree
        self.top = os.path.join(self.root, f"sonde-node-{os.getpid()}")
        self.dirs = []
        self.procs = []
        self._mkdir(self.top)

    def _mkdir(self, path):
        os.makedirs(path, exist_ok=True)
        self.dirs.append(path)

    def pod_dir(self, uid, qos="burstable"):
        if self.driver == "systemd":
            u = uid.replace("-", "_")
            path = os.path.join(self.top, "kubepods.slice", f"kubepods-{qos}.slice",
                                f"kubepods-{qos}-pod{u}.slice")
        else:
            path = os.path.join(self.top, "kubepods", qos, f"pod{uid}")
        parts = os.path.relpath(path, self.top).split(os.sep)
        for i in range(1, len(parts) + 1):
            self._mkdir(os.path.join(self.top, *parts[:i]))
        return path

    def container_dir(self, uid, container_id, qos="burstable"):
        name = (f"cri-containerd-{container_id}.scope" if self.driver == "systemd"
                else container_id)
        path = os.path.join(self.pod_dir(uid, qos), name)
        self._mkdir(path)
        return path

    def run_in(self, cgroup_dir, args, **kw):
        """Starts args with the process already in cgroup_dir (it moves itself
        before exec, so not one syscall of the program runs outside)."""
        wrapped = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup_dir, *args]
        p = Proc(wrapped, **kw)
        self.procs.append(p)
        return p

    def cleanup(self):
        for p in self.procs:
            p.stop()
        time.sleep(0.2)
        for d in sorted(set(self.dirs), key=len, reverse=True):
            for _ in range(20):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def container_id():
    return uuid.uuid4().hex + uuid.uuid4().hex


def pod_object(name, namespace, uid, node, containers, owner=None, labels=None,
               annotations=None, rv="1000", phase="Running"):
    """A pod as `kubectl get pod -o json` prints it on an EKS node. containers:
    [(name, id or None)]; owner: (kind, name) of the controller."""
    meta = {
        "name": name, "namespace": namespace, "uid": uid, "resourceVersion": rv,
        "creationTimestamp": "2026-11-26T10:00:00Z",
        "labels": dict(labels or {}), "annotations": dict(annotations or {}),
    }
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                    "uid": str(uuid.uuid4()), "controller": True,
                                    "blockOwnerDeletion": True}]
    spec = {"nodeName": node, "serviceAccountName": "default", "restartPolicy": "Always",
            "containers": [{"name": c, "image": f"registry.example/{c}:1.0",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}]}
                           for c, _ in containers]}
    statuses = [{"name": c, "ready": cid is not None, "restartCount": 0,
                 "image": f"registry.example/{c}:1.0", "imageID": "",
                 "started": cid is not None,
                 **({"containerID": f"containerd://{cid}",
                     "state": {"running": {"startedAt": "2026-11-26T10:00:05Z"}}}
                    if cid else {"state": {"waiting": {"reason": "ContainerCreating"}}})}
                for c, cid in containers]
    status = {"phase": phase, "hostIP": "10.0.1.23", "podIP": "10.0.1.77",
              "qosClass": "Burstable", "containerStatuses": statuses}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
