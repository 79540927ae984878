/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <string.h>

#include "protocols/registry.h"
#include "sonde_event.h"

/* One line per protocol: its interface and where its shared state lives. */
static const struct {
	const struct protocol *protocol;
	size_t shared_at; /* offset of its member in struct protocols */
} registry[SONDE_PROTO__COUNT] = {
	[SONDE_PROTO_HTTP1] = { &http1_protocol, offsetof(struct protocols, http1) },
	[SONDE_PROTO_HTTP2] = { &http2_protocol, offsetof(struct protocols, http2) },
	[SONDE_PROTO_POSTGRES] = { &postgres_protocol, offsetof(struct protocols, postgres) },
	[SONDE_PROTO_MYSQL] = { &mysql_protocol, offsetof(struct protocols, mysql) },
	[SONDE_PROTO_REDIS] = { &redis_protocol, offsetof(struct protocols, redis) },
};

const struct protocol *protocol_find(uint8_t id)
{
	return id < SONDE_PROTO__COUNT ? registry[id].protocol : NULL;
}

struct protocol_open protocol_open_for(struct protocols *all, const struct protocol *p,
				       uint8_t role)
{
	return (struct protocol_open){ .role = role,
				       .shared = (char *)all + registry[p->id].shared_at,
				       .settings = &all->settings };
}

const struct protocol *protocol_at(size_t i)
{
	return i < SONDE_PROTO__COUNT ? registry[i].protocol : NULL;
}

size_t protocol_counters(const struct protocols *all, const struct protocol *p,
			 struct protocol_counter *out)
{
	const char *shared = (const char *)all + registry[p->id].shared_at;
	size_t n = p->ncounters < PROTOCOL_COUNTERS_MAX ? p->ncounters : PROTOCOL_COUNTERS_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct protocol_counter_def *d = &p->counters[i];
		uint64_t v;

		memcpy(&v, shared + d->offset, sizeof(v));
		out[i] = (struct protocol_counter){ .metric = d->metric,
						    .text = d->text,
						    .description = d->description,
						    .value = v,
						    .parse_error = d->parse_error };
	}
	return n;
}

uint64_t protocols_parse_errors(const struct protocols *all)
{
	struct protocol_counter c[PROTOCOL_COUNTERS_MAX];
	uint64_t sum = 0;

	for (size_t i = 0; i < SONDE_PROTO__COUNT; i++) {
		const struct protocol *p = registry[i].protocol;
		size_t n = p ? protocol_counters(all, p, c) : 0;

		for (size_t j = 0; j < n; j++)
			if (c[j].parse_error)
				sum += c[j].value;
	}
	return sum;
}

void protocols_init(struct protocols *all, const struct protocol_settings *settings)
{
	memset(all, 0, sizeof(*all));
	if (settings)
		all->settings = *settings;
}

void protocols_destroy(struct protocols *all)
{
	for (size_t i = 0; i < SONDE_PROTO__COUNT; i++) {
		const struct protocol *p = registry[i].protocol;

		if (p && p->shared_free)
			p->shared_free((char *)all + registry[i].shared_at);
	}
}
