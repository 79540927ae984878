/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/kube_owners.h"
#include "k8s/pod_json.h"
#include "k8s/pod_owners.h"

bool kube_valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n >= K8S_NAME_LEN)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

int kube_get_controller(struct kube_client *c, const char *kind, const char *ns, const char *name,
			char *kind_out, size_t kindlen, char *name_out, size_t namelen, char *err,
			size_t errlen)
{
	const char *api, *plural, *resource;
	char path[2 * K8S_NAME_LEN + 128];
	char *body = NULL;
	long status;
	int ret;

	kind_out[0] = name_out[0] = '\0';
	if (!strcmp(kind, "ReplicaSet")) {
		api = "/apis/apps/v1";
		plural = "replicasets";
		resource = "replicasets.apps";
	} else if (!strcmp(kind, "Job")) {
		api = "/apis/batch/v1";
		plural = "jobs";
		resource = "jobs.batch";
	} else {
		kube_err(err, errlen, "no owner lookup for kind %s", kind);
		return -EINVAL;
	}
	if (!kube_valid_name(ns) || !kube_valid_name(name)) {
		kube_err(err, errlen, "invalid %s name %s/%s", kind, ns, name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/namespaces/%s/%s/%s", api, ns, plural, name);
	ret = kube_get_json(c, path, &body, &status, err, errlen);
	if (ret)
		return ret;
	if (status == 200) {
		char why[128];

		ret = pod_json_controller(body, strlen(body), kind_out, kindlen, name_out, namelen,
					  why, sizeof(why));
		if (ret)
			kube_err(err, errlen, "%s %s/%s: %s", kind, ns, name, why);
	} else if (status == 404) {
		kube_err(err, errlen, "%s %s/%s not found", kind, ns, name);
		ret = -ENOENT;
	} else {
		kube_status_message(c, status, body, "get", resource, err, errlen);
		ret = status == 401 || status == 403 ? -EACCES : -EIO;
	}
	free(body);
	return ret;
}

/* pod_owners_resolve()'s lookup, straight to the API server. */
static int api_lookup(void *arg, const char *kind, const char *ns, const char *name,
		      char *owner_kind, char *owner, char *err, size_t errlen)
{
	return kube_get_controller(arg, kind, ns, name, owner_kind, K8S_KIND_LEN, owner,
				   K8S_NAME_LEN, err, errlen);
}

int kube_get_pod(const struct kube_config *cfg, const char *ns, const char *name,
		 struct k8s_pod_meta *out, char *err, size_t errlen)
{
	struct kube_client *c;
	struct k8s_pod pod;
	char path[2 * K8S_NAME_LEN + 64], why[KUBE_CLIENT_ERR_LEN];
	char *body = NULL;
	long status;
	bool fallback;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!kube_valid_name(ns) || !kube_valid_name(name)) {
		kube_err(err, errlen, "invalid pod name %s/%s", ns ? ns : "", name ? name : "");
		return -EINVAL;
	}
	c = kube_client_new(cfg);
	if (!c) {
		ret = -errno;
		kube_err(err, errlen, "cannot create a kubernetes client: %s", strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	ret = kube_get_json(c, path, &body, &status, err, errlen);
	if (ret)
		goto out;
	if (status == 404) {
		kube_err(err, errlen, "pod %s/%s not found", ns, name);
		ret = -ENOENT;
	} else if (status != 200) {
		kube_status_message(c, status, body, "get", "pods", err, errlen);
		ret = status == 401 || status == 403 ? -EACCES : -EIO;
	} else if (pod_json_parse(body, strlen(body), &pod, why, sizeof(why))) {
		kube_err(err, errlen, "pod %s/%s: %s", ns, name, why);
		ret = -EINVAL;
	} else {
		/* Owners are a nicety for the CLI: a failed lookup leaves the
		 * fallback's answer (or none) rather than failing the pod. */
		pod_owners_resolve(&pod, api_lookup, c, &fallback, why, sizeof(why));
		*out = pod.meta;
	}
out:
	free(body);
	kube_client_free(c);
	return ret;
}
