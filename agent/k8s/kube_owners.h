/* SPDX-License-Identifier: MIT */
/*
 * The API lookups behind pod metadata: the controller of a ReplicaSet or a Job
 * (for pod_owners_resolve()), and one pod with its owners resolved for
 * `sonde trace --pod NS/NAME`.
 */
#ifndef SONDE_K8S_KUBE_OWNERS_H
#define SONDE_K8S_KUBE_OWNERS_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s/kube_client.h"
#include "k8s/pod_meta.h"

/*
 * The controller of a ReplicaSet (apps/v1) or a Job (batch/v1): GET it and read
 * its ownerReferences. kind_out/name_out are "" when it has none. Returns 0,
 * -ENOENT (404), -EACCES (401/403), or the -errno of kube_get_json; err set.
 */
int kube_get_controller(struct kube_client *c, const char *kind, const char *ns, const char *name,
			char *kind_out, size_t kindlen, char *name_out, size_t namelen, char *err,
			size_t errlen);

/*
 * For the CLI (`sonde trace --pod NS/NAME`): one GET of the pod, owners resolved
 * (uncached; a failed owner lookup leaves them unresolved, or named from the
 * pod-template-hash). -ENOENT "pod NS/NAME not found", -EACCES (401/403, saying
 * which), -EINVAL for a name that is not one, or a connection error naming the
 * server.
 */
int kube_get_pod(const struct kube_config *cfg, const char *ns, const char *name,
		 struct k8s_pod_meta *out, char *err, size_t errlen);

/* Does s look like a Kubernetes object name (DNS subdomain characters only)? */
bool kube_valid_name(const char *s);

#endif /* SONDE_K8S_KUBE_OWNERS_H */
