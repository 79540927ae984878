/* SPDX-License-Identifier: MIT */
/*
 * pid → resource, reading /proc/PID/{exe,environ,cgroup} once per process. A
 * process in a pod that the pod store does not know yet gets a k8s_pending
 * resource; it is rebuilt once the store changes and knows the pod.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "host/proc.h"
#include "host/resource.h"
#include "util/file.h"

#define ENVIRON_MAX (64 * 1024) /* enough for the OTEL_* variables in practice */

struct cache_entry {
	uint32_t pid;
	uint64_t last_use;
	struct resource *res;
};

struct resource_cache {
	struct cache_entry *entries; /* open addressing on pid, tombstone-free:
				      * removal re-inserts the rest of the run */
	uint32_t cap;		     /* power of two, > 2 * max_entries */
	uint32_t count;
	uint32_t max_entries;
	uint64_t clock;
	const struct config_kv_list *agent_attrs;
	char host[256];
	struct resource *self;
	const struct k8s_lookup *k8s;
	uint64_t evicted;
};

static uint32_t slot_of(const struct resource_cache *c, uint32_t pid)
{
	return (pid * 2654435761u) & (c->cap - 1);
}

struct resource_cache *resource_cache_new(uint32_t max_entries,
					  const struct config_kv_list *agent_attrs,
					  const struct k8s_lookup *k8s)
{
	struct resource_cache *c = calloc(1, sizeof(*c));
	uint32_t cap = 16;

	if (!c)
		return NULL;
	while (cap <= 2 * max_entries)
		cap *= 2;
	c->entries = calloc(cap, sizeof(*c->entries));
	if (!c->entries) {
		free(c);
		return NULL;
	}
	c->cap = cap;
	c->max_entries = max_entries;
	c->agent_attrs = agent_attrs;
	c->k8s = k8s;
	if (gethostname(c->host, sizeof(c->host)) != 0)
		snprintf(c->host, sizeof(c->host), "localhost");
	c->host[sizeof(c->host) - 1] = '\0';
	/* In a DaemonSet's pod, gethostname() is the pod's name: the node's name
	 * is the host's. */
	if (k8s && k8s->node_name && k8s->node_name[0])
		snprintf(c->host, sizeof(c->host), "%s", k8s->node_name);
	c->self = resource_new(0, "sonde", c->host, NULL, 0, agent_attrs, SONDE_VERSION);
	if (!c->self) {
		free(c->entries);
		free(c);
		return NULL;
	}
	return c;
}

void resource_cache_free(struct resource_cache *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->cap; i++)
		resource_put(c->entries[i].res);
	resource_put(c->self);
	free(c->entries);
	free(c);
}

static void remove_at(struct resource_cache *c, uint32_t i)
{
	resource_put(c->entries[i].res);
	c->entries[i] = (struct cache_entry){ 0 };
	c->count--;
	/* Re-insert the rest of the probe run so lookups never stop early. */
	for (uint32_t j = (i + 1) & (c->cap - 1); c->entries[j].res; j = (j + 1) & (c->cap - 1)) {
		struct cache_entry e = c->entries[j];
		uint32_t k = slot_of(c, e.pid);

		c->entries[j] = (struct cache_entry){ 0 };
		while (c->entries[k].res)
			k = (k + 1) & (c->cap - 1);
		c->entries[k] = e;
	}
}

static void evict_oldest(struct resource_cache *c)
{
	uint32_t oldest = 0;
	uint64_t best = UINT64_MAX;

	/* Linear, but only when a new process arrives at a full cache. */
	for (uint32_t i = 0; i < c->cap; i++)
		if (c->entries[i].res && c->entries[i].last_use < best) {
			best = c->entries[i].last_use;
			oldest = i;
		}
	if (best != UINT64_MAX) {
		remove_at(c, oldest);
		c->evicted++;
	}
}

/* Builds the resource with what the pod store knows now. */
static struct resource *build(struct resource_cache *c, uint32_t pid, const char *exe,
			      const char *host, const char *env, size_t env_len,
			      const struct container_ref *container)
{
	static struct k8s_pod_meta pod; /* large; main thread only */
	struct resource_k8s k = { .container = container };
	bool in_pod = container->id[0] || container->pod_uid[0];
	uint64_t gen = 0;
	struct resource *r;

	if (c->k8s) {
		k.node_name = c->k8s->node_name;
		gen = c->k8s->generation(c->k8s->ctx);
		if (in_pod && c->k8s->find(c->k8s->ctx, container, &pod))
			k.pod = &pod;
	}
	r = resource_new_k8s(pid, exe, host, env, env_len, c->agent_attrs, SONDE_VERSION, &k);
	if (!r)
		return NULL;
	/* Only a pod can become known later: a container outside Kubernetes
	 * (plain Docker) has nothing to wait for. */
	r->k8s_pending = c->k8s && container->pod_uid[0] && !k.pod;
	r->k8s_generation = gen;
	r->created_mono = clock_mono_now();
	return r;
}

static struct resource *load(struct resource_cache *c, uint32_t pid, const char *comm)
{
	char path[64], exe[PATH_MAX], cgroup[4096], *environ = malloc(ENVIRON_MAX);
	const char *name = comm;
	ssize_t n, env_len = 0;
	struct container_ref container;
	struct resource *r;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* A replaced binary reads "/usr/sbin/nginx (deleted)". */
		char *deleted = strstr(exe, " (deleted)");

		if (deleted)
			*deleted = '\0';
		name = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	}
	if (environ) {
		snprintf(path, sizeof(path), "/proc/%u/environ", pid);
		env_len = file_read_upto(path, environ, ENVIRON_MAX);
		if (env_len < 0)
			env_len = 0;
	}
	n = proc_read_cgroup(pid, cgroup, sizeof(cgroup));
	cgroup_container_parse(cgroup, n > 0 ? (size_t)n : 0, &container);
	r = build(c, pid, name, c->host, environ, (size_t)env_len, &container);
	free(environ);
	return r;
}

/* The same process again, with the pod store's current knowledge. */
static struct resource *rebuild(struct resource_cache *c, const struct resource *old)
{
	const char *exe = resource_attr(old, "process.executable.name");

	return build(c, old->pid, exe ? exe : "", c->host, old->kept_env, old->kept_env_len,
		     &old->container);
}

/* A pending resource whose pod may have arrived: rebuilt when the store has
 * changed since, NULL when that changes nothing. */
static struct resource *retry_pending(struct resource_cache *c, struct resource *r)
{
	uint64_t gen;
	struct resource *fresh;

	if (!r->k8s_pending)
		return NULL;
	gen = c->k8s->generation(c->k8s->ctx);
	if (gen == r->k8s_generation)
		return NULL;
	r->k8s_generation = gen; /* ask the store once per change */
	fresh = rebuild(c, r);
	if (fresh && fresh->k8s_pending) {
		resource_put(fresh);
		return NULL;
	}
	return fresh;
}

struct resource *resource_cache_get(struct resource_cache *c, uint32_t pid, const char *comm)
{
	uint32_t i = slot_of(c, pid);
	struct resource *r;

	for (; c->entries[i].res; i = (i + 1) & (c->cap - 1)) {
		if (c->entries[i].pid == pid) {
			struct resource *fresh = retry_pending(c, c->entries[i].res);

			if (fresh) {
				resource_put(c->entries[i].res);
				c->entries[i].res = fresh;
			}
			c->entries[i].last_use = ++c->clock;
			return c->entries[i].res;
		}
	}
	r = load(c, pid, comm);
	if (!r)
		return NULL;
	if (c->count >= c->max_entries) {
		evict_oldest(c);
		i = slot_of(c, pid);
		while (c->entries[i].res)
			i = (i + 1) & (c->cap - 1);
	}
	c->entries[i] = (struct cache_entry){ .pid = pid, .last_use = ++c->clock, .res = r };
	c->count++;
	return r;
}

void resource_cache_exit(struct resource_cache *c, uint32_t pid, uint64_t now_mono)
{
	for (uint32_t i = slot_of(c, pid); c->entries[i].res; i = (i + 1) & (c->cap - 1)) {
		if (c->entries[i].pid == pid) {
			c->entries[i].res->exited = true;
			c->entries[i].res->exited_ns = now_mono;
			remove_at(c, i);
			return;
		}
	}
}

struct resource *resource_cache_self(struct resource_cache *c)
{
	return c->self;
}

struct resource *resource_cache_resolve(struct resource_cache *c, struct resource *pending)
{
	struct resource *r;

	if (!pending->k8s_pending)
		return NULL;
	for (uint32_t i = slot_of(c, pending->pid); c->entries[i].res; i = (i + 1) & (c->cap - 1)) {
		if (c->entries[i].pid != pending->pid)
			continue;
		r = resource_cache_get(c, pending->pid, "");
		if (r->k8s_pending)
			return NULL;
		resource_get(r);
		return r;
	}
	/* The process is gone from the cache (exited): rebuild from what the
	 * pending resource kept. */
	r = retry_pending(c, pending);
	if (r) {
		r->exited = pending->exited;
		r->exited_ns = pending->exited_ns;
	}
	return r;
}

uint64_t resource_cache_evicted(const struct resource_cache *c)
{
	return c->evicted;
}
