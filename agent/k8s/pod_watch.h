/* SPDX-License-Identifier: MIT */
/*
 * Keeps a pod_store in step with the pods of one node: list (paginated), then
 * watch from the list's resourceVersion with bookmarks; a watch that ends or
 * drops is resumed from the newest resourceVersion seen, 410 Gone (as the HTTP
 * status or as an ERROR event) starts over with a list, failures back off
 * exponentially with jitter. Owners are resolved through the API (ReplicaSet →
 * Deployment, Job → CronJob) behind a small cache.
 *
 * One watcher per process, on its own thread.
 */
#ifndef SONDE_K8S_POD_WATCH_H
#define SONDE_K8S_POD_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "k8s/kube_config.h"
#include "k8s/pod_json.h"
#include "k8s/pod_store.h"

/* Tunables; zero fields take the defaults in brackets. */
struct pod_watch_opts {
	unsigned list_limit;	  /* pods per list page [500] */
	unsigned watch_timeout_s; /* timeoutSeconds asked of the server [300, ±10% jitter] */
	/* No byte at all for this long = a dead connection. The API server sends a
	 * bookmark about every minute, so the default leaves room for two. [150] */
	unsigned idle_timeout_s;
	unsigned backoff_min_ms;     /* first retry delay [500] */
	unsigned backoff_max_ms;     /* longest retry delay [30000] */
	unsigned healthy_watch_s;    /* a watch that lasted this long resets the backoff [10] */
	unsigned owner_cache_size;   /* owner lookups remembered [512] */
	unsigned owner_ttl_s;	     /* how long one is [600] */
	unsigned request_timeout_ms; /* one list page or owner GET [30000] */
};

struct pod_watch_stats {
	uint64_t lists;			   /* complete lists (initial and re-lists) */
	uint64_t list_pages;		   /* GETs of list pages */
	uint64_t relists_410;		   /* lists started because of 410 Gone */
	uint64_t watches;		   /* watch requests started */
	uint64_t watch_drops;		   /* watches that broke (not a clean end) */
	uint64_t reconnects;		   /* retries after a failure (each backed off) */
	uint64_t errors;		   /* failures of any request */
	uint64_t events;		   /* ADDED/MODIFIED/DELETED applied */
	uint64_t bookmarks;		   /* BOOKMARK events */
	uint64_t bad_events;		   /* lines that could not be parsed */
	uint64_t owner_lookups;		   /* owner GETs sent (cache misses) */
	uint64_t owner_failures;	   /* of which failed */
	uint64_t owner_fallbacks;	   /* deployments named from pod-template-hash instead */
	uint64_t last_backoff_ms;	   /* the latest retry delay */
	char resource_version[K8S_RV_LEN]; /* newest seen */
	char last_error[256];
};

/* Starts the watcher thread. cfg is copied; store must outlive pod_watch_stop().
 * -EBUSY when one is running. */
int pod_watch_start(const struct kube_config *cfg, const char *node_name, struct pod_store *store);
int pod_watch_start_opts(const struct kube_config *cfg, const char *node_name,
			 struct pod_store *store, const struct pod_watch_opts *opts);

/* Stops and joins the thread; returns within about a second even in the middle
 * of a watch, a list or a backoff. Safe to call when not running. */
void pod_watch_stop(void);

/* Has the first complete list been stored? */
bool pod_watch_synced(void);

void pod_watch_stats(struct pod_watch_stats *out);

#endif /* SONDE_K8S_POD_WATCH_H */
