/* SPDX-License-Identifier: MIT */
/*
 * Every protocol sonde parses, found by the id the kernel classifier gives a
 * connection (enum sonde_proto), and the state each shares across its
 * connections. Adding a protocol: its member here and its line in registry.c.
 */
#ifndef SONDE_PROTOCOL_REGISTRY_H
#define SONDE_PROTOCOL_REGISTRY_H

#include "protocols/http1/http1_protocol.h"
#include "protocols/http2/http2_protocol.h"
#include "protocols/mysql/mysql_protocol.h"
#include "protocols/postgres/postgres_protocol.h"
#include "protocols/protocol.h"
#include "protocols/redis/redis_protocol.h"
#include "sonde_event.h"

struct protocols {
	struct protocol_settings settings;
	struct http1_shared http1;
	struct http2_shared http2;
	struct postgres_shared postgres;
	struct mysql_shared mysql;
	struct redis_shared redis;
};

/* The protocol with this id, or NULL (unknown, ignored, not built). */
const struct protocol *protocol_find(uint8_t id);

/* What a new session of protocol p is told (its shared state, the settings). */
struct protocol_open protocol_open_for(struct protocols *all, const struct protocol *p,
				       uint8_t role);

/* The i-th protocol of the registry, or NULL past the last (some ids have
 * none: use it to walk them all). */
const struct protocol *protocol_at(size_t i);
#define PROTOCOLS_MAX SONDE_PROTO__COUNT

/* Protocol p's counters. */
size_t protocol_counters(const struct protocols *all, const struct protocol *p,
			 struct protocol_counter *out);

/* Parse errors of every protocol (sonde.parse.errors). */
uint64_t protocols_parse_errors(const struct protocols *all);

void protocols_init(struct protocols *all, const struct protocol_settings *settings);
/* Frees what the shared state holds (pools). */
void protocols_destroy(struct protocols *all);

#endif /* SONDE_PROTOCOL_REGISTRY_H */
