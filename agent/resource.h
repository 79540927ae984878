/* SPDX-License-Identifier: MIT */
/*
 * The OpenTelemetry resource of an instrumented process: service.name from the
 * process's own OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (read from
 * /proc/PID/environ), else its executable name; process and host facts; what
 * the agent's OTEL_RESOURCE_ATTRIBUTES adds. Resources are shared by spans in the
 * export queue and by metric series, so they are reference counted.
 */
#ifndef SONDE_RESOURCE_H
#define SONDE_RESOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define RESOURCE_MAX_ATTRS 40

struct resource_attr {
	char key[CONFIG_KEY_LEN];
	char value[CONFIG_VALUE_LEN];
	bool is_int; /* process.pid */
};

struct resource {
	atomic_uint refs;
	uint32_t pid;
	bool exited;
	uint64_t exited_ns;	  /* monotonic */
	const char *service_name; /* points into attrs */
	const char *instance_id;  /* points into attrs */
	struct resource_attr attrs[RESOURCE_MAX_ATTRS];
	int nattrs;
};

/*
 * Builds the attributes (pure). environ is the process's NUL-separated
 * environment (may be NULL), exe its executable's base name, host this host's
 * name. Returns a resource with one reference, or NULL when out of memory.
 */
struct resource *resource_new(uint32_t pid, const char *exe, const char *host, const char *environ,
			      size_t environ_len, const struct config_kv_list *agent_attrs,
			      const char *version);
void resource_get(struct resource *r);
void resource_put(struct resource *r);
const char *resource_attr(const struct resource *r, const char *key);

/* pid → resource, bounded, reading /proc on a miss. Main thread only. */
struct resource_cache;

struct resource_cache *resource_cache_new(uint32_t max_entries,
					  const struct config_kv_list *agent_attrs);
void resource_cache_free(struct resource_cache *c);
/* Never NULL unless out of memory: a process that is already gone gets a
 * resource named after comm. The cache keeps its own reference. */
struct resource *resource_cache_get(struct resource_cache *c, uint32_t pid, const char *comm);
/* The process exited: its resource is marked and leaves the cache. */
void resource_cache_exit(struct resource_cache *c, uint32_t pid, uint64_t now_mono);
/* The agent's own resource (service.name "sonde"), for its health metrics. */
struct resource *resource_cache_self(struct resource_cache *c);

#endif /* SONDE_RESOURCE_H */
