# SPDX-License-Identifier: MIT
"""A Kubernetes node as far as sonde can tell without a kubelet: real cgroup v2
directories laid out the way the kubelet and containerd lay them out
(kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/
cri-containerd-<id>.scope) and real processes moved into them. The pods
themselves come from kube_api.make_pod."""

import os
import time



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

    def cleanup(self):
        """Removes the directories; the processes in them must be stopped first."""
        for d in sorted(set(self.dirs), key=len, reverse=True):
            for _ in range(20):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def ids_of(pod):
    """{container name: container id} from a pod's containerStatuses."""
    return {st["name"]: st["containerID"].split("://", 1)[1]
            for st in pod["status"]["containerStatuses"] if st.get("containerID")}
