/* SPDX-License-Identifier: MIT */
/*
 * Who runs a pod, beyond its direct owner: the Deployment behind its ReplicaSet
 * and the CronJob behind its Job. The one resolver of `sonde run` (pod_watch.c,
 * behind a cache) and `sonde trace --pod` (kube_get_pod()); how a controller is
 * looked up is the caller's, so this part is pure.
 */
#ifndef SONDE_K8S_POD_OWNERS_H
#define SONDE_K8S_POD_OWNERS_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s/pod_json.h"
#include "k8s/pod_meta.h"

/*
 * Looks up the controller of the ReplicaSet or Job kind ns/name: its kind and
 * name into owner_kind[K8S_KIND_LEN] and owner[K8S_NAME_LEN] ("" when it has
 * none). Returns 0 or -errno (-ECANCELED when the caller is stopping), err set.
 */
typedef int (*pod_owner_lookup_fn)(void *arg, const char *kind, const char *ns, const char *name,
				   char *owner_kind, char *owner, char *err, size_t errlen);

/*
 * Fills pod->meta.deployment (when the ReplicaSet's controller is a Deployment)
 * and .cronjob (when the Job's is a CronJob), one lookup each. When the
 * ReplicaSet lookup fails (other than -ECANCELED), the Deployment is named from
 * the pod-template-hash instead if that fits (pod_owners_deployment_from_hash)
 * and *fallback says so. Returns 0, or the -errno of the first failed lookup
 * (err set).
 */
int pod_owners_resolve(struct k8s_pod *pod, pod_owner_lookup_fn lookup, void *arg, bool *fallback,
		       char *err, size_t errlen);

/* A ReplicaSet made by a Deployment is named <deployment>-<pod-template-hash>:
 * the Deployment's name when replicaset ends with "-" hash, else false. */
bool pod_owners_deployment_from_hash(const char *replicaset, const char *hash,
				     char out[K8S_NAME_LEN]);

#endif /* SONDE_K8S_POD_OWNERS_H */
