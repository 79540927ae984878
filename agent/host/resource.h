/* SPDX-License-Identifier: MIT */
/*
 * The OpenTelemetry resource of an instrumented process: process and host
 * facts; its container and pod (k8s.*) when it runs in one; service.name from
 * the process's own OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (read from
 * /proc/PID/environ), else from its pod (annotation, app.kubernetes.io/name
 * label, owner, container), else its executable name; what the agent's
 * OTEL_RESOURCE_ATTRIBUTES adds. Resources are shared by spans in the export
 * queue and by metric series, so they are reference counted.
 */
#ifndef SONDE_RESOURCE_H
#define SONDE_RESOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "k8s/cgroup_path.h"
#include "k8s/pod_meta.h"

#define RESOURCE_MAX_ATTRS 48
/* The process's OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, kept so the
 * resource can be rebuilt when its pod becomes known after the process ended. */
#define RESOURCE_KEPT_ENV 2200

struct resource_attr {
	char key[CONFIG_KEY_LEN];
	char value[CONFIG_VALUE_LEN];
	bool is_int; /* process.pid */
};

struct resource {
	/* refs alone in its cache line (the struct is allocated 64-aligned):
	 * the main thread takes a reference per exported span while the
	 * exporter thread reads the fields below. */
	_Alignas(64) atomic_uint refs;
	char refs_line[64 - sizeof(atomic_uint)];
	uint32_t pid;
	bool exited;
	uint64_t exited_ns;	  /* monotonic */
	const char *service_name; /* points into attrs */
	const char *instance_id;  /* points into attrs */
	struct resource_attr attrs[RESOURCE_MAX_ATTRS];
	int nattrs;

	struct container_ref container; /* from /proc/PID/cgroup */
	bool k8s_pending;		/* in a pod whose metadata is not known yet */
	uint64_t k8s_generation;	/* of the pod store when built */
	uint64_t created_mono;
	char kept_env[RESOURCE_KEPT_ENV];
	size_t kept_env_len;
};

/* What Kubernetes says about a process; any part may be missing. */
struct resource_k8s {
	const struct container_ref *container;
	const struct k8s_pod_meta *pod; /* NULL: not known (yet) */
	const char *node_name;
};

/*
 * Builds the attributes (pure). environ is the process's NUL-separated
 * environment (may be NULL), exe its executable's base name, host this host's
 * name. Returns a resource with one reference, or NULL when out of memory.
 */
struct resource *resource_new(uint32_t pid, const char *exe, const char *host, const char *environ,
			      size_t environ_len, const struct config_kv_list *agent_attrs,
			      const char *version);
/* The same, for a process in a container or pod (k8s may be NULL). */
struct resource *resource_new_k8s(uint32_t pid, const char *exe, const char *host,
				  const char *environ, size_t environ_len,
				  const struct config_kv_list *agent_attrs, const char *version,
				  const struct resource_k8s *k8s);
void resource_get(struct resource *r);
void resource_put(struct resource *r);
/* Takes n references at once. */
void resource_get_n(struct resource *r, unsigned n);
/* Drops n references at once (one atomic operation for a run of spans). */
void resource_put_n(struct resource *r, unsigned n);
const char *resource_attr(const struct resource *r, const char *key);

/* pid → resource, bounded, reading /proc on a miss. Main thread only. */
struct resource_cache;

/* Where the cache finds pods (pod_store.c behind it in the agent). */
struct k8s_lookup {
	/* Copies the pod of this container (by container id, else by pod uid)
	 * into *out; false when it is not known. */
	bool (*find)(void *ctx, const struct container_ref *c, struct k8s_pod_meta *out);
	/* Changes whenever what find() can answer changes. */
	uint64_t (*generation)(void *ctx);
	void *ctx;
	const char *node_name;
};

/* k8s may be NULL (no Kubernetes); it must outlive the cache. */
struct resource_cache *resource_cache_new(uint32_t max_entries,
					  const struct config_kv_list *agent_attrs,
					  const struct k8s_lookup *k8s);
void resource_cache_free(struct resource_cache *c);
/* Never NULL unless out of memory: a process that is already gone gets a
 * resource named after comm. The cache keeps its own reference. */
struct resource *resource_cache_get(struct resource_cache *c, uint32_t pid, const char *comm);
/* The process exited: its resource is marked and leaves the cache. */
void resource_cache_exit(struct resource_cache *c, uint32_t pid, uint64_t now_mono);
/* The agent's own resource (service.name "sonde"), for its health metrics. */
struct resource *resource_cache_self(struct resource_cache *c);
/* For a resource that was k8s_pending: the resource of the same process with
 * its pod known, with a reference for the caller, or NULL while the pod is
 * still unknown. Works after the process has exited. */
struct resource *resource_cache_resolve(struct resource_cache *c, struct resource *pending);
/* Processes dropped from a full cache (their series restart if seen again). */
uint64_t resource_cache_evicted(const struct resource_cache *c);

#endif /* SONDE_RESOURCE_H */
