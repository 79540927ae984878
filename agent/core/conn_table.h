/* SPDX-License-Identifier: MIT */
/*
 * Followed connections, keyed by (tgid, fd). Bounded: when full, the least
 * recently active connection is evicted (and counted) to make room.
 */
#ifndef SONDE_CONN_TABLE_H
#define SONDE_CONN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/protocol.h"
#include "spans/span.h"

struct conn_key {
	uint32_t tgid;
	uint32_t fd;
};

struct conn {
	struct conn_key key;
	uint64_t gen;  /* kernel generation: a different one is a different connection */
	uint8_t role;  /* enum sonde_role */
	uint8_t proto; /* enum sonde_proto */
	bool tls;      /* its payloads are plaintext from a TLS library */
	char comm[SPAN_COMM_LEN];
	struct span_endpoint local;
	struct span_endpoint peer;
	uint64_t last_active_ns;
	const struct protocol *protocol; /* NULL: not one sonde parses */
	void *session;			 /* the protocol's state for this connection */
	uint64_t next_pos[2];		 /* stream_pos the next event of each direction should
			       * have; 0 until known */
	/* table links */
	struct conn *hash_next;
	struct conn *lru_prev; /* towards most recently used */
	struct conn *lru_next; /* towards least recently used */
};

struct conn_table {
	struct conn **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	size_t max;
	struct conn *lru_head; /* most recently used */
	struct conn *lru_tail; /* least recently used: evicted first */
	uint64_t evicted;
};

/* Called for a connection leaving the table (evicted, removed), before it is freed. */
typedef void (*conn_release_fn)(void *ctx, struct conn *c, bool evicted);

int conn_table_init(struct conn_table *t, size_t max);
/* Releases every connection through release (may be NULL). */
void conn_table_destroy(struct conn_table *t, conn_release_fn release, void *ctx);

struct conn *conn_table_get(struct conn_table *t, struct conn_key key);
/* Inserts a zeroed connection for key (which must be absent), evicting the least
 * recently used one through release when full. NULL and errno on allocation failure. */
struct conn *conn_table_insert(struct conn_table *t, struct conn_key key, conn_release_fn release,
			       void *ctx);
/* Marks c most recently used. */
void conn_table_touch(struct conn_table *t, struct conn *c);
void conn_table_remove(struct conn_table *t, struct conn *c, conn_release_fn release, void *ctx);

#endif /* SONDE_CONN_TABLE_H */
