/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "k8s/kube_config_load.h"
#include "k8s/kube_owners.h"
#include "k8s/pod_cgroups.h"
#include "k8s/trace_pod.h"
#include "util/log.h"
#include "host/mounts.h"

static int split_spec(struct trace_pod *tp, const char *spec, const char *default_ns)
{
	const char *slash = strchr(spec, '/');
	const char *ns = slash ? spec : default_ns;
	size_t ns_len = slash ? (size_t)(slash - spec) : strlen(default_ns);
	const char *name = slash ? slash + 1 : spec;

	if (!ns_len || ns_len >= sizeof(tp->ns) || !name[0] || strlen(name) >= sizeof(tp->name)) {
		log_error("invalid --pod '%s': expected NAMESPACE/NAME", spec);
		return -EINVAL;
	}
	memcpy(tp->ns, ns, ns_len);
	tp->ns[ns_len] = '\0';
	snprintf(tp->name, sizeof(tp->name), "%s", name);
	if (!kube_valid_name(tp->ns) || !kube_valid_name(tp->name)) {
		log_error("invalid --pod '%s': not a Kubernetes namespace/name", spec);
		return -EINVAL;
	}
	return 0;
}

static int pick_container(struct trace_pod *tp, const char *container)
{
	char names[512] = "";
	size_t used = 0;

	for (int i = 0; i < tp->meta.ncontainers; i++) {
		const struct k8s_container *c = &tp->meta.containers[i];

		if (strcmp(c->name, container)) {
			if (used < sizeof(names))
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
							 used ? ", " : "", c->name);
			continue;
		}
		if (!c->id[0]) {
			log_error("container '%s' of pod %s/%s is not running", container, tp->ns,
				  tp->name);
			return -ESRCH;
		}
		tp->container_ids[0] = c->id;
		tp->ncontainer_ids = 1;
		return 0;
	}
	log_error("pod %s/%s has no container '%s' (it has: %s)", tp->ns, tp->name, container,
		  names);
	return -ENOENT;
}

static bool known(const struct trace_pod *tp, uint64_t id)
{
	for (size_t i = 0; i < tp->nids; i++)
		if (tp->ids[i] == id)
			return true;
	return false;
}

size_t trace_pod_rescan(struct trace_pod *tp, uint64_t *out, size_t max)
{
	uint64_t found[TRACE_POD_MAX_CGROUPS];
	int n = pod_cgroups_find(tp->cgroup_root, tp->meta.uid, tp->container_ids,
				 tp->ncontainer_ids, found, TRACE_POD_MAX_CGROUPS);
	size_t added = 0;

	for (int i = 0; i < n && added < max; i++) {
		if (known(tp, found[i]) || tp->nids == TRACE_POD_MAX_CGROUPS)
			continue;
		tp->ids[tp->nids++] = found[i];
		out[added++] = found[i];
	}
	return added;
}

int trace_pod_resolve(struct trace_pod *tp, const char *spec, const char *container,
		      const char *kubeconfig)
{
	struct kube_config kc = { 0 };
	uint64_t ids[TRACE_POD_MAX_CGROUPS];
	char why[512], host[256] = "";
	int err;

	memset(tp, 0, sizeof(*tp));
	err = kube_config_auto(&kc, kubeconfig, KUBE_SA_DIR_DEFAULT, why, sizeof(why));
	if (err) {
		log_error("--pod needs the Kubernetes API: %s", why);
		goto out;
	}
	err = split_spec(tp, spec, kc.namespace_[0] ? kc.namespace_ : "default");
	if (err)
		goto out;
	err = kube_get_pod(&kc, tp->ns, tp->name, &tp->meta, why, sizeof(why));
	if (err) {
		log_error("%s", why);
		goto out;
	}
	if (container && (err = pick_container(tp, container)))
		goto out;
	err = mounts_cgroup2_path(tp->cgroup_root, sizeof(tp->cgroup_root));
	if (err) {
		log_error("--pod needs cgroup v2, and no cgroup2 hierarchy is mounted");
		goto out;
	}
	if (!trace_pod_rescan(tp, ids, TRACE_POD_MAX_CGROUPS)) {
		gethostname(host, sizeof(host) - 1);
		log_error("pod %s/%s (uid %s) has no cgroup under %s: it runs on node %s, this is "
			  "%s",
			  tp->ns, tp->name, tp->meta.uid, tp->cgroup_root,
			  tp->meta.node[0] ? tp->meta.node : "(not scheduled)", host);
		err = -ESRCH;
	}
out:
	kube_config_free(&kc);
	return err;
}
