/* SPDX-License-Identifier: MIT */
/*
 * The pods of this node, as the watcher last saw them. One writer (the
 * pod_watch thread), readers on other threads: one mutex, and finds copy a
 * struct k8s_pod_meta out so nothing points into the store after the lock.
 *
 * Bounded: at most max_pods entries. A deleted pod stays findable for a while
 * (spans of a terminating pod are read after its DELETED event); when the store
 * is full, deleted pods go first, then the least recently updated.
 *
 * Lookups are linear scans over at most max_pods entries: they run when the
 * agent meets a new process or cgroup, not per span, and a node runs at most a
 * few hundred pods.
 */
#ifndef SONDE_K8S_POD_STORE_H
#define SONDE_K8S_POD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s/pod_meta.h"

#define POD_STORE_DEFAULT_MAX	       1024
#define POD_STORE_DEFAULT_TOMBSTONE_MS 60000

struct pod_store;

struct pod_store_opts {
	unsigned max_pods;     /* 0 = POD_STORE_DEFAULT_MAX */
	unsigned tombstone_ms; /* how long a deleted pod stays; 0 = the default */
	/* Monotonic milliseconds; NULL = CLOCK_MONOTONIC. Tests pass a fake clock. */
	uint64_t (*now_ms)(void *arg);
	void *now_arg;
};

struct pod_store_stats {
	uint64_t pods;	  /* entries held now, deleted ones included */
	uint64_t deleted; /* of which deleted (tombstones) */
	uint64_t evicted; /* entries pushed out because the store was full, ever */
	uint64_t expired; /* tombstones removed after their time, ever */
};

/* One entry, for dumps (the test driver). */
struct pod_store_entry {
	struct k8s_pod_meta meta;
	bool deleted;
};

/* opts may be NULL. NULL and errno on failure. */
struct pod_store *pod_store_new(const struct pod_store_opts *opts);
void pod_store_free(struct pod_store *s);

/* Adds or replaces the pod with meta->uid; a deleted pod of that uid comes back
 * to life. Returns 0, or -EINVAL for a pod without uid. */
int pod_store_upsert(struct pod_store *s, const struct k8s_pod_meta *meta);

/* Marks the pod deleted (kept findable for tombstone_ms). -ENOENT if unknown. */
int pod_store_delete(struct pod_store *s, const char *uid);

/*
 * Re-list as mark and sweep: pod_store_mark() before the list, upserts for what
 * it returns, pod_store_sweep() after: live pods the list did not mention are
 * marked deleted. Returns how many were.
 */
void pod_store_mark(struct pod_store *s);
int pod_store_sweep(struct pod_store *s);

/* Copies the pod out; 0 when found (live or recently deleted), -ENOENT when not.
 * deleted may be NULL. */
int pod_store_find_container(struct pod_store *s, const char *container_id,
			     struct k8s_pod_meta *out, bool *deleted);
int pod_store_find_uid(struct pod_store *s, const char *uid, struct k8s_pod_meta *out,
		       bool *deleted);
int pod_store_find_name(struct pod_store *s, const char *ns, const char *name,
			struct k8s_pod_meta *out, bool *deleted);

/* Changes whenever the content changes (a pod added, changed, deleted, evicted or
 * expired). Read without the lock: compare with the value of the last look. */
uint64_t pod_store_generation(const struct pod_store *s);

void pod_store_stats(struct pod_store *s, struct pod_store_stats *out);

/* Copies up to max entries into out (live first, then deleted); returns the
 * number copied. */
size_t pod_store_snapshot(struct pod_store *s, struct pod_store_entry *out, size_t max);

#endif /* SONDE_K8S_POD_STORE_H */
