/* SPDX-License-Identifier: MIT */
/*
 * `sonde run`'s Kubernetes side: decides from the settings whether to watch
 * the API, starts the pod watcher for this node, and answers the resource
 * cache's lookups (container id or pod uid → pod) from the pod store.
 */
#ifndef SONDE_K8S_META_H
#define SONDE_K8S_META_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "host/resource.h"

struct k8s_meta;

struct k8s_meta_health {
	uint64_t pods;	      /* in the store, recently deleted ones included */
	uint64_t evicted;     /* pods pushed out of a full store */
	uint64_t relists;     /* lists after 410 Gone */
	uint64_t watch_drops; /* watches that broke */
	uint64_t errors;      /* API requests that failed */
	bool synced;	      /* the first list is in */
};

/*
 * Starts watching when k8s.enabled says so (auto: inside a cluster, or with
 * k8s.kubeconfig). *out stays NULL when Kubernetes is off. Returns 0, or
 * -errno after logging one line when k8s.enabled=true and it cannot start;
 * in auto mode a failure is a warning and sonde runs without pod metadata.
 */
int k8s_meta_start(const struct sonde_config *cfg, struct k8s_meta **out);
void k8s_meta_stop(struct k8s_meta *m);
const struct k8s_lookup *k8s_meta_lookup(struct k8s_meta *m);
const char *k8s_meta_node(const struct k8s_meta *m);
void k8s_meta_health(struct k8s_meta *m, struct k8s_meta_health *out);

#endif /* SONDE_K8S_META_H */
