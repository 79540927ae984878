/* SPDX-License-Identifier: MIT */
/*
 * What sonde knows of one pod: identity, the workload that owns it and its
 * containers. Filled from the Kubernetes API (pod_json.c, pod_watch.c), kept in
 * pod_store.c, turned into resource attributes by resource.c. Plain data with
 * fixed sizes so it can be copied out of the store under its lock.
 */
#ifndef SONDE_K8S_POD_META_H
#define SONDE_K8S_POD_META_H

#include <stdbool.h>
#include <stdint.h>

#define K8S_NAME_LEN	     254 /* DNS subdomain (RFC 1123): 253 + NUL */
#define K8S_LABEL_LEN	     64	 /* label values and container names: 63 + NUL */
#define K8S_UID_LEN	     37	 /* 8-4-4-4-12 + NUL */
#define K8S_CONTAINER_ID_LEN 65	 /* 64 hex digits + NUL, runtime prefix removed */
#define K8S_MAX_CONTAINERS   16	 /* init, regular and ephemeral together */
#define K8S_MAX_EXTRA_ATTRS  8	 /* resource.opentelemetry.io/<key> annotations */
#define K8S_ATTR_VALUE_LEN   256

struct k8s_container {
	char name[K8S_LABEL_LEN];
	char id[K8S_CONTAINER_ID_LEN]; /* "" until the runtime has started it */
};

struct k8s_attr {
	char key[K8S_NAME_LEN]; /* without the resource.opentelemetry.io/ prefix */
	char value[K8S_ATTR_VALUE_LEN];
};

struct k8s_pod_meta {
	char uid[K8S_UID_LEN];
	char namespace_[K8S_LABEL_LEN];
	char name[K8S_NAME_LEN];
	char node[K8S_NAME_LEN];
	/* annotation resource.opentelemetry.io/service.name, label
	 * app.kubernetes.io/name: the service.name candidates from the pod */
	char service_annotation[K8S_ATTR_VALUE_LEN];
	char app_name_label[K8S_LABEL_LEN];
	/* Owners, resolved through ReplicaSet → Deployment and Job → CronJob;
	 * "" when the pod has no such owner. */
	char replicaset[K8S_NAME_LEN];
	char deployment[K8S_NAME_LEN];
	char statefulset[K8S_NAME_LEN];
	char daemonset[K8S_NAME_LEN];
	char job[K8S_NAME_LEN];
	char cronjob[K8S_NAME_LEN];
	struct k8s_container containers[K8S_MAX_CONTAINERS];
	int ncontainers;
	/* Other resource.opentelemetry.io/<key> annotations, as resource
	 * attributes <key>=value. */
	struct k8s_attr extra[K8S_MAX_EXTRA_ATTRS];
	int nextra;
};

#endif /* SONDE_K8S_POD_META_H */
