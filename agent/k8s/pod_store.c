/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "k8s/pod_store.h"

struct entry {
	struct k8s_pod_meta meta;
	uint64_t updated_ms; /* last upsert; eviction order */
	uint64_t deleted_ms; /* when it was deleted; valid if deleted */
	bool used;
	bool deleted;
	bool marked; /* not seen yet by the re-list in progress */
};

struct pod_store {
	pthread_mutex_t lock;
	struct entry *entries;
	unsigned max;
	unsigned tombstone_ms;
	uint64_t (*now_ms)(void *arg);
	void *now_arg;
	_Atomic uint64_t generation;
	uint64_t evicted, expired;
};

static uint64_t monotonic_ms(void *arg)
{
	(void)arg;
	return clock_mono_ms();
}

struct pod_store *pod_store_new(const struct pod_store_opts *opts)
{
	struct pod_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max = opts && opts->max_pods ? opts->max_pods : POD_STORE_DEFAULT_MAX;
	s->tombstone_ms =
		opts && opts->tombstone_ms ? opts->tombstone_ms : POD_STORE_DEFAULT_TOMBSTONE_MS;
	s->now_ms = opts && opts->now_ms ? opts->now_ms : monotonic_ms;
	s->now_arg = opts ? opts->now_arg : NULL;
	/* calloc: pages of slots never used are never touched. */
	s->entries = calloc(s->max, sizeof(*s->entries));
	if (!s->entries) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void pod_store_free(struct pod_store *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->entries);
	free(s);
}

static void changed(struct pod_store *s)
{
	atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
}

/* Drops tombstones past their time. Called under the lock by every operation,
 * so an expired pod is never found even when nothing else happens. */
static void expire(struct pod_store *s, uint64_t now)
{
	for (unsigned i = 0; i < s->max; i++) {
		struct entry *e = &s->entries[i];

		if (e->used && e->deleted && now - e->deleted_ms >= s->tombstone_ms) {
			e->used = false;
			s->expired++;
			changed(s);
		}
	}
}

static struct entry *by_uid(struct pod_store *s, const char *uid)
{
	for (unsigned i = 0; i < s->max; i++) {
		if (s->entries[i].used && !strcmp(s->entries[i].meta.uid, uid))
			return &s->entries[i];
	}
	return NULL;
}

/* A free slot, or the one to evict: a deleted pod first, the oldest update
 * otherwise. */
static struct entry *slot_for_new(struct pod_store *s)
{
	struct entry *victim = NULL;

	for (unsigned i = 0; i < s->max; i++) {
		struct entry *e = &s->entries[i];

		if (!e->used)
			return e;
		if (!victim || (e->deleted && !victim->deleted) ||
		    (e->deleted == victim->deleted && e->updated_ms < victim->updated_ms))
			victim = e;
	}
	s->evicted++;
	return victim;
}

int pod_store_upsert(struct pod_store *s, const struct k8s_pod_meta *meta)
{
	uint64_t now;
	struct entry *e;

	if (!meta->uid[0])
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	now = s->now_ms(s->now_arg);
	expire(s, now);
	e = by_uid(s, meta->uid);
	if (!e) {
		e = slot_for_new(s);
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->meta = *meta;
		changed(s);
	} else if (e->deleted || memcmp(&e->meta, meta, sizeof(*meta))) {
		e->meta = *meta;
		e->deleted = false;
		changed(s);
	}
	e->updated_ms = now;
	e->marked = false;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void tombstone(struct pod_store *s, struct entry *e, uint64_t now)
{
	e->deleted = true;
	e->deleted_ms = now;
	e->marked = false;
	changed(s);
}

int pod_store_delete(struct pod_store *s, const char *uid)
{
	struct entry *e;
	uint64_t now;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	now = s->now_ms(s->now_arg);
	expire(s, now);
	e = by_uid(s, uid);
	if (!e)
		ret = -ENOENT;
	else if (!e->deleted)
		tombstone(s, e, now);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void pod_store_mark(struct pod_store *s)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->max; i++)
		s->entries[i].marked = s->entries[i].used && !s->entries[i].deleted;
	pthread_mutex_unlock(&s->lock);
}

int pod_store_sweep(struct pod_store *s)
{
	uint64_t now;
	int n = 0;

	pthread_mutex_lock(&s->lock);
	now = s->now_ms(s->now_arg);
	for (unsigned i = 0; i < s->max; i++) {
		struct entry *e = &s->entries[i];

		if (e->used && e->marked) {
			/* Gone while we were not watching: its DELETED event was lost
			 * with the watch, so it gets the same grace as one seen. */
			tombstone(s, e, now);
			n++;
		}
	}
	expire(s, now);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static int found(struct pod_store *s, const struct entry *e, struct k8s_pod_meta *out,
		 bool *deleted)
{
	if (!e) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	*out = e->meta;
	if (deleted)
		*deleted = e->deleted;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int pod_store_find_container(struct pod_store *s, const char *container_id,
			     struct k8s_pod_meta *out, bool *deleted)
{
	const struct entry *hit = NULL;

	if (!container_id || !container_id[0])
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	expire(s, s->now_ms(s->now_arg));
	for (unsigned i = 0; i < s->max; i++) {
		const struct entry *e = &s->entries[i];
		int c;

		if (!e->used)
			continue;
		for (c = 0; c < e->meta.ncontainers && c < K8S_MAX_CONTAINERS; c++) {
			if (!strcmp(e->meta.containers[c].id, container_id))
				break;
		}
		if (c == e->meta.ncontainers || c == K8S_MAX_CONTAINERS)
			continue;
		/* A live pod wins over a deleted one that held the same id (a
		 * container id moves only by a runtime bug, but be sure). */
		if (!e->deleted) {
			hit = e;
			break;
		}
		if (!hit || e->deleted_ms > hit->deleted_ms)
			hit = e;
	}
	return found(s, hit, out, deleted);
}

int pod_store_find_uid(struct pod_store *s, const char *uid, struct k8s_pod_meta *out,
		       bool *deleted)
{
	if (!uid || !uid[0])
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	expire(s, s->now_ms(s->now_arg));
	return found(s, by_uid(s, uid), out, deleted);
}

int pod_store_find_name(struct pod_store *s, const char *ns, const char *name,
			struct k8s_pod_meta *out, bool *deleted)
{
	const struct entry *hit = NULL;

	if (!ns || !name)
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	expire(s, s->now_ms(s->now_arg));
	for (unsigned i = 0; i < s->max; i++) {
		const struct entry *e = &s->entries[i];

		if (!e->used || strcmp(e->meta.name, name) || strcmp(e->meta.namespace_, ns))
			continue;
		/* A StatefulSet pod is deleted and recreated under the same name
		 * with a new uid: the live one is the answer. */
		if (!hit || (hit->deleted && !e->deleted) ||
		    (hit->deleted && e->deleted && e->deleted_ms > hit->deleted_ms))
			hit = e;
	}
	return found(s, hit, out, deleted);
}

uint64_t pod_store_generation(const struct pod_store *s)
{
	return atomic_load_explicit(&((struct pod_store *)s)->generation, memory_order_acquire);
}

void pod_store_stats(struct pod_store *s, struct pod_store_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	expire(s, s->now_ms(s->now_arg));
	for (unsigned i = 0; i < s->max; i++) {
		if (!s->entries[i].used)
			continue;
		out->pods++;
		if (s->entries[i].deleted)
			out->deleted++;
	}
	out->evicted = s->evicted;
	out->expired = s->expired;
	pthread_mutex_unlock(&s->lock);
}

size_t pod_store_snapshot(struct pod_store *s, struct pod_store_entry *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	expire(s, s->now_ms(s->now_arg));
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < s->max && n < max; i++) {
			const struct entry *e = &s->entries[i];

			if (!e->used || e->deleted != (pass == 1))
				continue;
			out[n].meta = e->meta;
			out[n].deleted = e->deleted;
			n++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}
