/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/resource.h"
#include "spans/span_attrs.h"

static struct resource_attr *find(struct resource *r, const char *key)
{
	for (int i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].key, key) == 0)
			return &r->attrs[i];
	return NULL;
}

/* First writer wins: callers add attributes from the strongest source down.
 * The last two slots are kept for service.name and service.instance.id, which
 * come last as defaults: a process listing many attributes of its own must not
 * crowd out its identity. */
static struct resource_attr *add(struct resource *r, const char *key, const char *value)
{
	struct resource_attr *a = find(r, key);
	bool identity = !strcmp(key, "service.name") || !strcmp(key, "service.instance.id");
	int room = identity ? RESOURCE_MAX_ATTRS : RESOURCE_MAX_ATTRS - 2;

	if (a || r->nattrs >= room || !value || !value[0])
		return a;
	/* OTLP strings must be UTF-8, and a collector rejects the whole request
	 * over one bad byte: environments and executable names can hold any. */
	a = &r->attrs[r->nattrs++];
	utf8_sanitize(a->key, sizeof(a->key), key, strlen(key));
	utf8_sanitize(a->value, sizeof(a->value), value, strlen(value));
	return a;
}

static void add_list(struct resource *r, const struct config_kv_list *l)
{
	for (int i = 0; l && i < l->n; i++)
		add(r, l->items[i].key, l->items[i].value);
}

/* Finds NAME=value in a NUL-separated environment block. */
static const char *env_lookup(const char *env, size_t len, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < len;) {
		const char *e = env + i;
		size_t elen = strnlen(e, len - i);

		if (elen > nlen && memcmp(e, name, nlen) == 0 && e[nlen] == '=') {
			*vlen = elen - nlen - 1;
			return e + nlen + 1;
		}
		i += elen + 1;
	}
	return NULL;
}

static void env_copy(const char *env, size_t len, const char *name, char *out, size_t outlen)
{
	size_t vlen = 0;
	const char *v = env ? env_lookup(env, len, name, &vlen) : NULL;

	copy_cut(out, outlen, v ? v : "", v ? vlen : 0);
}

/* Keeps NAME=value for a later rebuild (resource_cache_resolve). */
static void keep_env(struct resource *r, const char *name, const char *value)
{
	size_t room = sizeof(r->kept_env) - r->kept_env_len;
	int n;

	if (!value[0])
		return;
	n = snprintf(r->kept_env + r->kept_env_len, room, "%s=%s", name, value);
	if (n > 0 && (size_t)n < room)
		r->kept_env_len += (size_t)n + 1;
}

static const char *container_name(const struct resource_k8s *k)
{
	for (int i = 0; k->pod && k->container->id[0] && i < k->pod->ncontainers; i++)
		if (!strcmp(k->pod->containers[i].id, k->container->id))
			return k->pod->containers[i].name;
	return "";
}

/* Facts about the pod: nothing overrides them. */
static void add_k8s_facts(struct resource *r, const struct resource_k8s *k)
{
	const struct k8s_pod_meta *pod = k->pod;

	add(r, "container.id", k->container->id);
	if (!pod) {
		/* not known yet: what the cgroup says */
		add(r, "k8s.pod.uid", k->container->pod_uid);
		if (k->container->pod_uid[0])
			add(r, "k8s.node.name", k->node_name);
		return;
	}
	add(r, "k8s.namespace.name", pod->namespace_);
	add(r, "k8s.pod.name", pod->name);
	add(r, "k8s.pod.uid", pod->uid);
	add(r, "k8s.container.name", container_name(k));
	add(r, "k8s.node.name", pod->node[0] ? pod->node : k->node_name);
	add(r, "k8s.replicaset.name", pod->replicaset);
	add(r, "k8s.deployment.name", pod->deployment);
	add(r, "k8s.statefulset.name", pod->statefulset);
	add(r, "k8s.daemonset.name", pod->daemonset);
	add(r, "k8s.job.name", pod->job);
	add(r, "k8s.cronjob.name", pod->cronjob);
}

/* What the pod says of itself, below the process's own variables: the
 * resource.opentelemetry.io/ annotations, then service.name from the
 * app.kubernetes.io/name label, the owning workload, the container. */
static void add_k8s_wishes(struct resource *r, const struct resource_k8s *k)
{
	const struct k8s_pod_meta *pod = k->pod;

	add(r, "service.name", pod->service_annotation);
	for (int i = 0; i < pod->nextra && i < K8S_MAX_EXTRA_ATTRS; i++)
		add(r, pod->extra[i].key, pod->extra[i].value);
	add(r, "service.name", pod->app_name_label);
	add(r, "service.name", pod->deployment);
	add(r, "service.name", pod->statefulset);
	add(r, "service.name", pod->daemonset);
	add(r, "service.name", pod->cronjob);
	add(r, "service.name", pod->job);
	add(r, "service.name", pod->replicaset);
	add(r, "service.name", container_name(k));
}

struct resource *resource_new(uint32_t pid, const char *exe, const char *host, const char *environ,
			      size_t environ_len, const struct config_kv_list *agent_attrs,
			      const char *version)
{
	return resource_new_k8s(pid, exe, host, environ, environ_len, agent_attrs, version, NULL);
}

struct resource *resource_new_k8s(uint32_t pid, const char *exe, const char *host,
				  const char *environ, size_t environ_len,
				  const struct config_kv_list *agent_attrs, const char *version,
				  const struct resource_k8s *k8s)
{
	struct resource *r = aligned_alloc(_Alignof(struct resource), sizeof(*r));
	struct config_kv_list own = { 0 };
	char text[1024], pidbuf[16], instance[2 * K8S_NAME_LEN + K8S_LABEL_LEN];
	const struct k8s_pod_meta *pod = k8s ? k8s->pod : NULL;
	struct resource_attr *a;

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	atomic_init(&r->refs, 1);
	r->pid = pid;
	if (k8s && k8s->container)
		r->container = *k8s->container;

	/* Facts about the process, its pod and the host come first: nothing
	 * overrides them. */
	if (pid) {
		snprintf(pidbuf, sizeof(pidbuf), "%u", pid);
		a = add(r, "process.pid", pidbuf);
		if (a)
			a->is_int = true;
		add(r, "process.executable.name", exe);
	}
	if (k8s && k8s->container)
		add_k8s_facts(r, k8s);
	add(r, "host.name", host);
	add(r, "telemetry.sdk.name", "sonde");
	add(r, "telemetry.sdk.version", version);
	add(r, "telemetry.distro.name", "sonde");
	add(r, "telemetry.distro.version", version);

	/* Then what the process says about itself (OpenTelemetry SDK variables). */
	env_copy(environ, environ_len, "OTEL_SERVICE_NAME", text, sizeof(text));
	add(r, "service.name", text);
	keep_env(r, "OTEL_SERVICE_NAME", text);
	env_copy(environ, environ_len, "OTEL_RESOURCE_ATTRIBUTES", text, sizeof(text));
	keep_env(r, "OTEL_RESOURCE_ATTRIBUTES", text);
	if (text[0]) {
		char why[64];

		/* A malformed list in someone else's environment is not our error:
		 * what parsed before the bad entry is kept. */
		config_parse_kv_list(&own, text, why, sizeof(why));
		add_list(r, &own);
	}
	/* Then what its pod says, what the agent adds to every resource, then
	 * defaults. */
	if (pod)
		add_k8s_wishes(r, k8s);
	add_list(r, agent_attrs);
	if (pod)
		add(r, "service.namespace", pod->namespace_);
	add(r, "service.name", exe && exe[0] ? exe : "unknown_service");
	/* The semantic conventions' recommendation inside Kubernetes:
	 * namespace.pod.container, stable across the process's restarts. */
	if (pod && container_name(k8s)[0])
		snprintf(instance, sizeof(instance), "%s.%s.%s", pod->namespace_, pod->name,
			 container_name(k8s));
	else
		snprintf(instance, sizeof(instance), "%s:%u", host ? host : "", pid);
	add(r, "service.instance.id", instance);

	r->service_name = find(r, "service.name")->value;
	r->instance_id = find(r, "service.instance.id")->value;
	return r;
}

void resource_get_n(struct resource *r, unsigned n)
{
	if (r)
		atomic_fetch_add_explicit(&r->refs, n, memory_order_relaxed);
}

void resource_get(struct resource *r)
{
	resource_get_n(r, 1);
}

void resource_put_n(struct resource *r, unsigned n)
{
	if (r && n && atomic_fetch_sub_explicit(&r->refs, n, memory_order_acq_rel) == n)
		free(r);
}

void resource_put(struct resource *r)
{
	resource_put_n(r, 1);
}

const char *resource_attr(const struct resource *r, const char *key)
{
	for (int i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].key, key) == 0)
			return r->attrs[i].value;
	return NULL;
}
