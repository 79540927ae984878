/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes API JSON → what sonde keeps of a pod. Pure code (json-c, no I/O,
 * no globals): a pod object, a PodList page, one line of a watch stream, and
 * the controller owner of any object (ReplicaSet → Deployment, Job → CronJob).
 *
 * Strings that do not fit their field are cut at a UTF-8 character boundary;
 * malformed or hostile JSON gives -EINVAL and a one-line reason, never a crash.
 */
#ifndef SONDE_K8S_POD_JSON_H
#define SONDE_K8S_POD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s/pod_meta.h"

/* resourceVersion is an opaque string; etcd revisions are decimal uint64. */
#define K8S_RV_LEN    64
#define K8S_PHASE_LEN 16
#define K8S_KIND_LEN  64

/* A pod as one API object says it: the metadata the rest of sonde uses, and what
 * the watcher needs to keep it current and to resolve its owners. */
struct k8s_pod {
	struct k8s_pod_meta meta; /* deployment and cronjob are left "" here */
	char resource_version[K8S_RV_LEN];
	char phase[K8S_PHASE_LEN]; /* Pending, Running, Succeeded, Failed, Unknown */
	bool deleting;		   /* metadata.deletionTimestamp is set */
	/* The ownerReference with controller: true (the first one when none says
	 * so), as given; meta.replicaset/statefulset/daemonset/job are filled from it. */
	char owner_kind[K8S_KIND_LEN];
	char owner_name[K8S_NAME_LEN];
	char template_hash[K8S_LABEL_LEN]; /* label pod-template-hash */
};

enum k8s_event_type {
	K8S_EVENT_ADDED = 0,
	K8S_EVENT_MODIFIED,
	K8S_EVENT_DELETED,
	K8S_EVENT_BOOKMARK,
	K8S_EVENT_ERROR,
};

/* One line of a watch stream. */
struct k8s_watch_event {
	enum k8s_event_type type;
	/* ADDED, MODIFIED, DELETED: the pod; BOOKMARK: only pod.resource_version. */
	struct k8s_pod pod;
	/* ERROR: the Status object (code 410 reason Expired/Gone = re-list). */
	int code;
	char reason[K8S_KIND_LEN];
	char message[256];
};

/* A pod object (`kubectl get pod -o json`, a watch event's object, a list item).
 * Needs metadata.uid, .name and .namespace. */
int pod_json_parse(const char *text, size_t len, struct k8s_pod *out, char *err, size_t errlen);

/*
 * A PodList page: calls fn for each item that is a valid pod (items that are not
 * are skipped and counted in *skipped when it is not NULL); fn returning nonzero
 * stops the walk and is returned. Sets rv (metadata.resourceVersion, the version
 * to watch from) and cont (metadata.continue, "" on the last page).
 */
typedef int (*pod_json_item_fn)(const struct k8s_pod *pod, void *arg);
int pod_json_parse_list(const char *text, size_t len, pod_json_item_fn fn, void *arg, char *rv,
			size_t rvlen, char *cont, size_t contlen, int *skipped, char *err,
			size_t errlen);

/* One watch-event line ({"type":…,"object":…}). */
int pod_json_parse_event(const char *line, size_t len, struct k8s_watch_event *ev, char *err,
			 size_t errlen);

/* The controller owner of any object (a ReplicaSet, a Job): kind and name, both
 * "" when it has none. */
int pod_json_controller(const char *text, size_t len, char *kind, size_t kindlen, char *name,
			size_t namelen, char *err, size_t errlen);

/* A Status object (an error body): code, reason and message; -EINVAL when text
 * is not one. */
int pod_json_status(const char *text, size_t len, int *code, char *reason, size_t reasonlen,
		    char *message, size_t messagelen);

/* "containerd://<64 hex>", "cri-o://…", "docker://…" → the bare lowercase id;
 * false (and "") for anything else. */
bool pod_json_container_id(const char *runtime_id, char id[K8S_CONTAINER_ID_LEN]);

/* Copies src[0..len) into dst[size], cut at a UTF-8 boundary; returns true when
 * it all fit. */
bool k8s_copy_str(char *dst, size_t size, const char *src, size_t len);

/* Writes a one-line message into err (when given; control characters in it
 * become '?') and returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int k8s_fail(char *err, size_t errlen, const char *fmt, ...);

#endif /* SONDE_K8S_POD_JSON_H */
