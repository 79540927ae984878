/* SPDX-License-Identifier: MIT */
/*
 * `sonde trace --pod NAMESPACE/NAME [--container C]`: asks the API server for
 * the pod (its uid and container ids), then finds its cgroups on this node so
 * the BPF cgroup filter follows exactly that pod.
 */
#ifndef SONDE_K8S_TRACE_POD_H
#define SONDE_K8S_TRACE_POD_H

#include <stddef.h>
#include <stdint.h>

#include "k8s/pod_meta.h"

#define TRACE_POD_MAX_CGROUPS 256

struct trace_pod {
	char ns[K8S_LABEL_LEN];
	char name[K8S_NAME_LEN];
	struct k8s_pod_meta meta;
	char cgroup_root[256];
	const char *container_ids[1]; /* --container: its id */
	int ncontainer_ids;
	uint64_t ids[TRACE_POD_MAX_CGROUPS]; /* cgroup ids followed so far */
	size_t nids;
};

/* Resolves the pod and its cgroups; logs one line and returns -errno when
 * the pod cannot be traced from here. */
int trace_pod_resolve(struct trace_pod *tp, const char *spec, const char *container,
		      const char *kubeconfig);

/* Looks again for cgroups of the pod (containers restarted or added since);
 * writes the ids not seen before into out and returns how many. */
size_t trace_pod_rescan(struct trace_pod *tp, uint64_t *out, size_t max);

#endif /* SONDE_K8S_TRACE_POD_H */
