/* SPDX-License-Identifier: MIT */
/*
 * The list-then-watch loop of a Kubernetes informer, for the pods of one node
 * (API concepts: "Efficient detection of changes", "Watch bookmarks",
 * "Retrieving large results sets in chunks", "410 Gone responses").
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "k8s/kube_client.h"
#include "k8s/kube_owners.h"
#include "k8s/pod_owners.h"
#include "k8s/pod_watch.h"
#include "util/log.h"
#include "util/url.h"

#define DEF_LIST_LIMIT	    500
#define DEF_WATCH_TIMEOUT_S 300
#define DEF_IDLE_TIMEOUT_S  150
#define DEF_BACKOFF_MIN_MS  500
#define DEF_BACKOFF_MAX_MS  30000
#define DEF_HEALTHY_WATCH_S 10
#define DEF_OWNER_CACHE	    512
#define DEF_OWNER_TTL_S	    600
#define OWNER_FAIL_TTL_MS   60000 /* a failed lookup is tried again after this */
#define LOG_INTERVAL_MS	    30000 /* a repeating warning at most this often */
#define CONTINUE_LEN	    4096

struct owner_entry {
	char kind[16]; /* "ReplicaSet" or "Job"; "" = free slot */
	char ns[K8S_LABEL_LEN];
	char name[K8S_NAME_LEN];
	char owner_kind[K8S_KIND_LEN];
	char owner[K8S_NAME_LEN];
	int result; /* 0 or the lookup's -errno */
	uint64_t at_ms;
};

struct watcher {
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_bool synced;
	pthread_mutex_t lock; /* stats, and the sleep condition */
	pthread_cond_t wake;
	struct pod_watch_stats stats;

	/* Owned by the thread. */
	struct kube_config cfg;
	struct pod_watch_opts opts;
	struct pod_store *store;
	char node_q[3 * K8S_NAME_LEN]; /* the node name, %-escaped */
	struct kube_client *api;       /* lists and owner lookups */
	struct kube_client *stream;    /* the watch, so lookups can run inside it */
	char rv[K8S_RV_LEN];
	struct owner_entry *owners;
	unsigned backoff_ms;
	uint64_t rng;
	bool fallback_logged;
	uint64_t warned_ms;
	/* per watch */
	bool gone;
	bool error_event;
	uint64_t lines;
};

static struct watcher w = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

#define STAT_ADD(field, n)                     \
	do {                                   \
		pthread_mutex_lock(&w.lock);   \
		w.stats.field += (n);          \
		pthread_mutex_unlock(&w.lock); \
	} while (0)

static void set_rv(const char *rv)
{
	if (!rv[0])
		return;
	snprintf(w.rv, sizeof(w.rv), "%s", rv);
	pthread_mutex_lock(&w.lock);
	snprintf(w.stats.resource_version, sizeof(w.stats.resource_version), "%s", rv);
	pthread_mutex_unlock(&w.lock);
}

/* Counts an error, keeps its text, and logs it unless one was logged lately:
 * an API server that is down for an hour must not fill the log. */
__attribute__((format(printf, 1, 2))) static void failed(const char *fmt, ...)
{
	char msg[sizeof(w.stats.last_error)];
	uint64_t now = clock_mono_ms();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&w.lock);
	w.stats.errors++;
	snprintf(w.stats.last_error, sizeof(w.stats.last_error), "%s", msg);
	pthread_mutex_unlock(&w.lock);
	if (!w.warned_ms || now - w.warned_ms >= LOG_INTERVAL_MS) {
		w.warned_ms = now;
		log_warn("k8s: %s", msg);
	}
}

/* Sleeps ms unless stopped first; returns false when stopped. */
static bool sleep_ms(unsigned ms)
{
	struct timespec ts = clock_mono_timespec(clock_mono_now() + ms * 1000000ull);
	bool stop;

	pthread_mutex_lock(&w.lock);
	while (!atomic_load(&w.stop) && pthread_cond_timedwait(&w.wake, &w.lock, &ts) != ETIMEDOUT)
		;
	stop = atomic_load(&w.stop);
	pthread_mutex_unlock(&w.lock);
	return !stop;
}

/* xorshift64: jitter only, no need for anything better. */
static uint64_t rnd(void)
{
	w.rng ^= w.rng << 13;
	w.rng ^= w.rng >> 7;
	w.rng ^= w.rng << 17;
	return w.rng;
}

/* Exponential backoff with jitter: the delay doubles per failure up to the
 * maximum and a random half of it is taken off, so agents on every node of a
 * cluster do not hammer a recovering API server in step. */
static bool backoff(void)
{
	unsigned delay;

	if (!w.backoff_ms)
		w.backoff_ms = w.opts.backoff_min_ms;
	else if (w.backoff_ms < w.opts.backoff_max_ms / 2)
		w.backoff_ms *= 2;
	else
		w.backoff_ms = w.opts.backoff_max_ms;
	delay = w.backoff_ms / 2 + (unsigned)(rnd() % (w.backoff_ms / 2 + 1));
	pthread_mutex_lock(&w.lock);
	w.stats.reconnects++;
	w.stats.last_backoff_ms = delay;
	pthread_mutex_unlock(&w.lock);
	return sleep_ms(delay);
}

/* pod_owners_resolve()'s lookup of a ReplicaSet's or Job's controller, through
 * the cache; failures are counted and logged here. */
static int owner_lookup(void *arg, const char *kind, const char *ns, const char *name,
			char *owner_kind, char *owner, char *errout, size_t errlen)
{
	struct owner_entry *e, *slot = NULL;
	uint64_t now = clock_mono_ms();
	char err[KUBE_CLIENT_ERR_LEN];
	int ret;

	(void)arg;

	for (unsigned i = 0; i < w.opts.owner_cache_size; i++) {
		e = &w.owners[i];
		if (!e->kind[0]) {
			if (!slot || slot->kind[0])
				slot = e;
			continue;
		}
		if (!strcmp(e->kind, kind) && !strcmp(e->ns, ns) && !strcmp(e->name, name)) {
			uint64_t ttl = e->result ? OWNER_FAIL_TTL_MS : w.opts.owner_ttl_s * 1000ull;

			if (now - e->at_ms < ttl) {
				strcpy(owner_kind, e->owner_kind);
				strcpy(owner, e->owner);
				return e->result;
			}
			slot = e;
			break;
		}
		if (!slot || (slot->kind[0] && e->at_ms < slot->at_ms))
			slot = e; /* the oldest goes when the cache is full */
	}
	STAT_ADD(owner_lookups, 1);
	ret = kube_get_controller(w.api, kind, ns, name, owner_kind, K8S_KIND_LEN, owner,
				  K8S_NAME_LEN, err, sizeof(err));
	if (ret == -ECANCELED)
		return ret;
	if (ret) {
		STAT_ADD(owner_failures, 1);
		failed("owner of %s %s/%s: %s", kind, ns, name, err);
		if (errout && errlen)
			snprintf(errout, errlen, "%s", err);
	}
	if (slot) {
		memset(slot, 0, sizeof(*slot));
		snprintf(slot->kind, sizeof(slot->kind), "%s", kind);
		snprintf(slot->ns, sizeof(slot->ns), "%s", ns);
		snprintf(slot->name, sizeof(slot->name), "%s", name);
		snprintf(slot->owner_kind, sizeof(slot->owner_kind), "%s", owner_kind);
		snprintf(slot->owner, sizeof(slot->owner), "%s", owner);
		slot->result = ret;
		slot->at_ms = now;
	}
	return ret;
}

static void resolve_owners(struct k8s_pod *pod)
{
	bool fallback;

	pod_owners_resolve(pod, owner_lookup, NULL, &fallback, NULL, 0);
	if (!fallback)
		return;
	STAT_ADD(owner_fallbacks, 1);
	if (!w.fallback_logged) {
		w.fallback_logged = true;
		log_warn("k8s: cannot read replicaset %s/%s: deployment names are taken from the "
			 "pod-template-hash label instead",
			 pod->meta.namespace_, pod->meta.replicaset);
	}
}

static int store_pod(const struct k8s_pod *parsed, void *arg)
{
	struct k8s_pod pod = *parsed;

	(void)arg;
	resolve_owners(&pod);
	pod_store_upsert(w.store, &pod.meta);
	return atomic_load(&w.stop) ? -ECANCELED : 0;
}

/* One complete list into the store (mark and sweep). Returns 0, -ESTALE for 410
 * (a continue token expired), or another -errno. */
static int list_once(void)
{
	char path[1024 + CONTINUE_LEN * 3], cont[CONTINUE_LEN], contq[CONTINUE_LEN * 3];
	char rv[K8S_RV_LEN], err[KUBE_CLIENT_ERR_LEN];
	char *body = NULL;
	long status;
	int ret, skipped, pages = 0;

	cont[0] = '\0';
	pod_store_mark(w.store);
	do {
		url_query_escape(contq, sizeof(contq), cont);
		snprintf(path, sizeof(path),
			 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&limit=%u%s%s", w.node_q,
			 w.opts.list_limit, cont[0] ? "&continue=" : "", contq);
		STAT_ADD(list_pages, 1);
		ret = kube_get_json(w.api, path, &body, &status, err, sizeof(err));
		if (ret) {
			if (ret != -ECANCELED)
				failed("list pods: %s", err);
			return ret;
		}
		if (status == 410) {
			free(body);
			failed("list pods: continue token expired (410), listing again");
			return -ESTALE;
		}
		if (status != 200) {
			kube_status_message(w.api, status, body, "list", "pods", err, sizeof(err));
			free(body);
			failed("%s", err);
			return status == 401 || status == 403 ? -EACCES : -EIO;
		}
		ret = pod_json_parse_list(body, strlen(body), store_pod, NULL, rv, sizeof(rv), cont,
					  sizeof(cont), &skipped, err, sizeof(err));
		free(body);
		if (ret == -ECANCELED)
			return ret;
		if (ret) {
			failed("list pods: %s", err);
			return -EIO;
		}
		if (skipped) {
			pthread_mutex_lock(&w.lock);
			w.stats.bad_events += (uint64_t)skipped;
			pthread_mutex_unlock(&w.lock);
		}
		pages++;
	} while (cont[0]);
	/* The resourceVersion of a paginated list is that of its first page's
	 * snapshot, carried by every page: the last one is as good. */
	set_rv(rv);
	pod_store_sweep(w.store);
	STAT_ADD(lists, 1);
	log_debug("k8s: listed the pods of the node in %d page(s), resourceVersion %s", pages, rv);
	return 0;
}

static int on_line(const char *line, size_t len, void *arg)
{
	struct k8s_watch_event *ev = arg;
	char err[256];

	w.lines++;
	if (pod_json_parse_event(line, len, ev, err, sizeof(err))) {
		STAT_ADD(bad_events, 1);
		failed("watch event: %s", err);
		return atomic_load(&w.stop);
	}
	switch (ev->type) {
	case K8S_EVENT_ADDED:
	case K8S_EVENT_MODIFIED:
		store_pod(&ev->pod, NULL);
		STAT_ADD(events, 1);
		break;
	case K8S_EVENT_DELETED:
		pod_store_delete(w.store, ev->pod.meta.uid);
		STAT_ADD(events, 1);
		break;
	case K8S_EVENT_BOOKMARK:
		STAT_ADD(bookmarks, 1);
		break;
	case K8S_EVENT_ERROR:
		/* 410: the resourceVersion we watch from is older than what etcd
		 * keeps; only a new list can catch up. The server ends the stream
		 * after an ERROR anyway. */
		if (ev->code == 410)
			w.gone = true;
		else
			failed("watch pods: ERROR event %d %s: %s", ev->code, ev->reason,
			       ev->message);
		w.error_event = true;
		return 1;
	}
	set_rv(ev->pod.resource_version);
	return atomic_load(&w.stop);
}

enum watch_end {
	WATCH_AGAIN,  /* ended cleanly: watch again now */
	WATCH_FAILED, /* back off, then watch again from the same rv */
	WATCH_RELIST, /* 410: list again */
	WATCH_STOPPED,
};

static enum watch_end watch_once(void)
{
	char path[2048], rvq[3 * K8S_RV_LEN], err[KUBE_CLIENT_ERR_LEN];
	struct k8s_watch_event *ev = malloc(sizeof(*ev));
	unsigned timeout = w.opts.watch_timeout_s;
	uint64_t started = clock_mono_ms(), lasted;
	char *body = NULL;
	long status = 0;
	int ret;

	if (!ev) {
		failed("watch pods: out of memory");
		return WATCH_FAILED;
	}
	/* ±10%: watches of many agents started together do not all end together. */
	if (timeout >= 10)
		timeout = timeout - timeout / 10 + (unsigned)(rnd() % (timeout / 5 + 1));
	url_query_escape(rvq, sizeof(rvq), w.rv);
	snprintf(path, sizeof(path),
		 "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=%s"
		 "&timeoutSeconds=%u&fieldSelector=spec.nodeName%%3D%s",
		 rvq, timeout, w.node_q);
	w.gone = w.error_event = false;
	w.lines = 0;
	STAT_ADD(watches, 1);
	ret = kube_watch(w.stream, path, w.opts.idle_timeout_s, timeout + w.opts.idle_timeout_s,
			 on_line, ev, &status, &body, err, sizeof(err));
	free(ev);
	lasted = clock_mono_ms() - started;
	if (atomic_load(&w.stop) || ret == -ECANCELED) {
		free(body);
		return WATCH_STOPPED;
	}
	if (!ret && status == 410) {
		free(body);
		return WATCH_RELIST;
	}
	if (!ret && status != 200) {
		kube_status_message(w.stream, status, body, "watch", "pods", err, sizeof(err));
		free(body);
		failed("%s", err);
		return WATCH_FAILED;
	}
	free(body);
	if (w.gone)
		return WATCH_RELIST;
	if (w.error_event)
		return WATCH_FAILED;
	if (ret) {
		STAT_ADD(watch_drops, 1);
		failed("watch pods dropped after %llu ms: %s", (unsigned long long)lasted, err);
		if (lasted >= w.opts.healthy_watch_s * 1000ull)
			w.backoff_ms = 0;
		return WATCH_FAILED;
	}
	/* A clean end: the server's timeoutSeconds. One that came at once and
	 * empty is a server in trouble, not a healthy watch. */
	if (lasted < 1000 && !w.lines) {
		STAT_ADD(watch_drops, 1);
		failed("watch pods ended at once without an event");
		return WATCH_FAILED;
	}
	w.backoff_ms = 0;
	return WATCH_AGAIN;
}

static void *run(void *arg)
{
	bool need_list = true;
	int ret;

	(void)arg;
	while (!atomic_load(&w.stop)) {
		if (need_list) {
			ret = list_once();
			if (ret == -ESTALE)
				ret = list_once(); /* once more from the start */
			if (ret == -ECANCELED)
				break;
			if (ret) {
				if (!backoff())
					break;
				continue;
			}
			need_list = false;
			if (!atomic_exchange(&w.synced, true)) {
				struct pod_store_stats st;

				pod_store_stats(w.store, &st);
				log_info("k8s: %llu pod(s) on this node, watching from "
					 "resourceVersion %s",
					 (unsigned long long)(st.pods - st.deleted), w.rv);
			}
		}
		switch (watch_once()) {
		case WATCH_AGAIN:
			break;
		case WATCH_RELIST:
			STAT_ADD(relists_410, 1);
			log_info("k8s: resourceVersion %s is too old (410 Gone), listing again",
				 w.rv);
			need_list = true;
			break;
		case WATCH_FAILED:
			if (!backoff())
				goto out;
			break;
		case WATCH_STOPPED:
			goto out;
		}
	}
out:
	return NULL;
}

static void cleanup(void)
{
	kube_client_free(w.api);
	kube_client_free(w.stream);
	w.api = w.stream = NULL;
	kube_config_free(&w.cfg);
	free(w.owners);
	w.owners = NULL;
}

int pod_watch_start(const struct kube_config *cfg, const char *node_name, struct pod_store *store)
{
	return pod_watch_start_opts(cfg, node_name, store, NULL);
}

int pod_watch_start_opts(const struct kube_config *cfg, const char *node_name,
			 struct pod_store *store, const struct pod_watch_opts *opts)
{
	pthread_condattr_t ca;
	int ret;

	if (w.running)
		return -EBUSY;
	if (!cfg || !store || !node_name || !*node_name || strlen(node_name) >= K8S_NAME_LEN)
		return -EINVAL;
	memset(&w.stats, 0, sizeof(w.stats));
	atomic_store(&w.stop, false);
	atomic_store(&w.synced, false);
	w.store = store;
	w.opts = opts ? *opts : (struct pod_watch_opts){ 0 };
#define DEF(f, v)      \
	if (!w.opts.f) \
		w.opts.f = v;
	DEF(list_limit, DEF_LIST_LIMIT);
	DEF(watch_timeout_s, DEF_WATCH_TIMEOUT_S);
	DEF(idle_timeout_s, DEF_IDLE_TIMEOUT_S);
	DEF(backoff_min_ms, DEF_BACKOFF_MIN_MS);
	DEF(backoff_max_ms, DEF_BACKOFF_MAX_MS);
	DEF(healthy_watch_s, DEF_HEALTHY_WATCH_S);
	DEF(owner_cache_size, DEF_OWNER_CACHE);
	DEF(owner_ttl_s, DEF_OWNER_TTL_S);
	DEF(request_timeout_ms, KUBE_TIMEOUT_MS);
#undef DEF
	if (w.opts.backoff_max_ms < w.opts.backoff_min_ms)
		w.opts.backoff_max_ms = w.opts.backoff_min_ms;
	url_query_escape(w.node_q, sizeof(w.node_q), node_name);
	w.rv[0] = '\0';
	w.backoff_ms = 0;
	w.fallback_logged = false;
	w.warned_ms = 0;
	w.rng = (uint64_t)time(NULL) ^ ((uint64_t)clock_mono_ms() << 20) ^ (uintptr_t)&w;
	if (!w.rng)
		w.rng = 1;

	ret = kube_config_copy(&w.cfg, cfg);
	if (ret)
		return ret;
	w.owners = calloc(w.opts.owner_cache_size, sizeof(*w.owners));
	w.api = kube_client_new(&w.cfg);
	w.stream = kube_client_new(&w.cfg);
	if (!w.owners || !w.api || !w.stream) {
		cleanup();
		return -ENOMEM;
	}
	kube_client_share_credentials(w.stream, w.api);
	kube_client_set_stop(w.api, &w.stop);
	kube_client_set_stop(w.stream, &w.stop);
	kube_client_set_timeout(w.api, w.opts.request_timeout_ms);

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.wake, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&w.thread, NULL, run, NULL);
	if (ret) {
		pthread_cond_destroy(&w.wake);
		cleanup();
		return -ret;
	}
	w.running = true;
	return 0;
}

void pod_watch_stop(void)
{
	if (!w.running)
		return;
	pthread_mutex_lock(&w.lock);
	atomic_store(&w.stop, true);
	pthread_cond_broadcast(&w.wake);
	pthread_mutex_unlock(&w.lock);
	pthread_join(w.thread, NULL);
	pthread_cond_destroy(&w.wake);
	cleanup();
	w.running = false;
}

bool pod_watch_synced(void)
{
	return atomic_load(&w.synced);
}

void pod_watch_stats(struct pod_watch_stats *out)
{
	pthread_mutex_lock(&w.lock);
	*out = w.stats;
	pthread_mutex_unlock(&w.lock);
}
