/* SPDX-License-Identifier: MIT */
/*
 * A pod's cgroups on this node: the kubelet's pod cgroup (named after the pod
 * uid) and the container cgroups under it, found by walking the cgroup v2
 * hierarchy. Their ids feed the BPF cgroup filter of `sonde trace --pod`.
 */
#ifndef SONDE_K8S_POD_CGROUPS_H
#define SONDE_K8S_POD_CGROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "k8s/pod_meta.h"

/*
 * Collects the ids of the pod cgroup of pod_uid and of every cgroup below it
 * (or, with container_ids, only of the cgroups named after those containers
 * and below them). root is the cgroup v2 mount. Returns the number of ids
 * written (at most max), 0 when the pod has no cgroup here, or -errno.
 */
int pod_cgroups_find(const char *root, const char *pod_uid, const char *const *container_ids,
		     int ncontainer_ids, uint64_t *ids, size_t max);

#endif /* SONDE_K8S_POD_CGROUPS_H */
