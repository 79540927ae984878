/* SPDX-License-Identifier: MIT */
/* pid → resource, reading /proc/PID/{exe,environ} once per process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resource.h"

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
};

static uint32_t slot_of(const struct resource_cache *c, uint32_t pid)
{
	return (pid * 2654435761u) & (c->cap - 1);
}

struct resource_cache *resource_cache_new(uint32_t max_entries,
					  const struct config_kv_list *agent_attrs)
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
	if (gethostname(c->host, sizeof(c->host)) != 0)
		snprintf(c->host, sizeof(c->host), "localhost");
	c->host[sizeof(c->host) - 1] = '\0';
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
	if (best != UINT64_MAX)
		remove_at(c, oldest);
}

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

static struct resource *load(struct resource_cache *c, uint32_t pid, const char *comm)
{
	char path[64], exe[PATH_MAX], *environ = malloc(ENVIRON_MAX);
	const char *name = comm;
	ssize_t n, env_len = 0;
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
		env_len = read_file(path, environ, ENVIRON_MAX);
		if (env_len < 0)
			env_len = 0;
	}
	r = resource_new(pid, name, c->host, environ, (size_t)env_len, c->agent_attrs,
			 SONDE_VERSION);
	free(environ);
	return r;
}

struct resource *resource_cache_get(struct resource_cache *c, uint32_t pid, const char *comm)
{
	uint32_t i = slot_of(c, pid);
	struct resource *r;

	for (; c->entries[i].res; i = (i + 1) & (c->cap - 1)) {
		if (c->entries[i].pid == pid) {
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
