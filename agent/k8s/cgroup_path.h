/* SPDX-License-Identifier: MIT */
/*
 * Which container (and which pod) a process is in, from the text of
 * /proc/PID/cgroup. Pure code: the caller reads the file.
 *
 * Container runtimes name a container's cgroup after its id; the kubelet puts
 * it under a pod cgroup named after the pod's uid. Layouts seen in the wild:
 *   systemd driver (EKS AL2023, Bottlerocket, GKE):
 *     /kubepods.slice/kubepods-burstable.slice/
 *       kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope
 *   cgroupfs driver:   /kubepods/burstable/pod<uid>/<id>
 *   CRI-O:             …/crio-<id>.scope, Docker: …/docker-<id>.scope,
 *   Podman:            …/libpod-<id>.scope, plain Docker: /docker/<id>
 * cgroup v1 lists one line per hierarchy ("4:memory:/kubepods/…"), v2 one line
 * ("0::/…"). Inside a cgroup namespace the path is relative and may start with
 * "/../..": only the last components matter here.
 */
#ifndef SONDE_K8S_CGROUP_PATH_H
#define SONDE_K8S_CGROUP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s/pod_meta.h"

struct container_ref {
	char id[K8S_CONTAINER_ID_LEN]; /* 64 hex digits, "" if not in a container */
	char pod_uid[K8S_UID_LEN];     /* with dashes, "" if not under kubepods */
	const char *runtime;	       /* "containerd", "cri-o", "docker", "podman" or "" */
};

/* Fills ref from the file's text (len bytes, need not be NUL-terminated).
 * Returns true when a container id or a pod uid was found. */
bool cgroup_container_parse(const char *text, size_t len, struct container_ref *ref);

/* The path on the cgroup v2 line ("0::/system.slice/x.service" on cgroup v2
 * and hybrid systems) into *path (not NUL-terminated) and *path_len; false
 * when the text has no such line (cgroup v1 only). */
bool cgroup_v2_path(const char *text, size_t len, const char **path, size_t *path_len);

/* Finds the pod uid in one cgroup directory name ("pod<uid>",
 * "kubepods-besteffort-pod<uid_with_underscores>.slice"); writes it with
 * dashes. For walking /sys/fs/cgroup. */
bool cgroup_name_pod_uid(const char *name, size_t len, char uid[K8S_UID_LEN]);

/* The container id in one cgroup directory name, or false. */
bool cgroup_name_container_id(const char *name, size_t len, char id[K8S_CONTAINER_ID_LEN],
			      const char **runtime);

#endif /* SONDE_K8S_CGROUP_PATH_H */
