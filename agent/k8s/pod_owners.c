/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "k8s/pod_owners.h"

bool pod_owners_deployment_from_hash(const char *replicaset, const char *hash,
				     char out[K8S_NAME_LEN])
{
	size_t rl = strlen(replicaset), hl = hash ? strlen(hash) : 0;

	out[0] = '\0';
	if (!hl || rl < hl + 2 || replicaset[rl - hl - 1] != '-' ||
	    strcmp(replicaset + rl - hl, hash))
		return false;
	snprintf(out, K8S_NAME_LEN, "%.*s", (int)(rl - hl - 1), replicaset);
	return true;
}

int pod_owners_resolve(struct k8s_pod *pod, pod_owner_lookup_fn lookup, void *arg, bool *fallback,
		       char *err, size_t errlen)
{
	struct k8s_pod_meta *m = &pod->meta;
	char kind[K8S_KIND_LEN], name[K8S_NAME_LEN];
	int ret, first = 0;

	*fallback = false;
	if (m->replicaset[0]) {
		ret = lookup(arg, "ReplicaSet", m->namespace_, m->replicaset, kind, name, err,
			     errlen);
		if (!ret && !strcmp(kind, "Deployment"))
			snprintf(m->deployment, sizeof(m->deployment), "%s", name);
		/* RBAC without replicasets (or an API hiccup): a Deployment names its
		 * ReplicaSets <deployment>-<pod-template-hash>, which the pod's label
		 * confirms. */
		else if (ret && ret != -ECANCELED &&
			 pod_owners_deployment_from_hash(m->replicaset, pod->template_hash,
							 m->deployment))
			*fallback = true;
		first = ret;
	}
	if (m->job[0]) {
		ret = lookup(arg, "Job", m->namespace_, m->job, kind, name, first ? NULL : err,
			     first ? 0 : errlen);
		if (!ret && !strcmp(kind, "CronJob"))
			snprintf(m->cronjob, sizeof(m->cronjob), "%s", name);
		if (!first)
			first = ret;
	}
	return first;
}
