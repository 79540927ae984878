/* SPDX-License-Identifier: MIT */
/*
 * What a protocol provides to the core: one session per connection, fed the
 * bytes each syscall moved in either direction, emitting a span for every
 * finished exchange. The core (core/ingest.c) names no protocol: it finds a
 * connection's protocol in the registry (protocols/registry.c) by the id the
 * kernel classifier gave it. See docs/ARCHITECTURE.md, "How to add a protocol".
 *
 * Sessions are pure: no I/O, no globals, no clock. Timestamps are the
 * kernel's monotonic nanoseconds; the core turns them into wall-clock time and
 * fills in what the connection knows (process, addresses, TLS) on emission.
 */
#ifndef SONDE_PROTOCOL_H
#define SONDE_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spans/span.h"

/*
 * Where spans go. begin: an exchange began — a server's request head has been
 * read, a client's written — with sp->kind and, when the protocol knows it,
 * sp->exchange_kind/exchange set (where the request starts, so that the other
 * end of the connection finds it); the core gives it its span id and decides
 * its parent, and the protocol keeps that span until it emits it. emit: the
 * exchange is finished. start_ns/end_ns are still kernel monotonic.
 */
struct span_sink {
	void (*begin)(void *ctx, struct span *sp);
	void (*emit)(void *ctx, struct span *sp);
	void *ctx;
};

/* One syscall's bytes (or a piece of one) in one direction. */
struct protocol_bytes {
	bool ingress;	     /* read by the traced process (else written) */
	const uint8_t *data; /* the captured prefix; NULL when captured is 0 */
	size_t captured;
	uint64_t total;	 /* bytes the syscall moved: captured plus those not copied */
	uint64_t unseen; /* bytes of this direction that never reached the agent just
			  * before these (events lost when the ring buffer was full) */
	uint64_t ts;	 /* kernel monotonic ns */
	/* Where data[0] sits in the TCP stream (enum span_exchange_kind:
	 * TCP_SEQ or TLS_RECORD; NONE when unknown): a protocol adds the
	 * offset of a request's first byte to make its span's exchange. */
	uint32_t seq;
	uint8_t seq_kind;
};

/* db.query.text export (config: db.query). */
enum db_query_mode {
	DB_QUERY_SANITIZED = 0, /* every literal becomes '?' */
	DB_QUERY_RAW,		/* as sent (bound parameter values are never read) */
	DB_QUERY_NONE,		/* not exported */
};

/* Settings every session of every protocol reads; fixed while tracing. */
struct protocol_settings {
	uint8_t db_query;      /* enum db_query_mode */
	uint16_t db_query_max; /* bytes of db.query.text kept, < SPAN_DB_QUERY_LEN */
};

/* What a new session is told. */
struct protocol_open {
	uint8_t role; /* enum sonde_role: server, client, or unknown (learn it) */
	/* The protocol's state shared by all its sessions (counters, pools):
	 * its member of struct protocols (protocols/registry.h). */
	void *shared;
	const struct protocol_settings *settings;
};

/* A connection that turns into another protocol mid-stream (HTTP/1.1's 101
 * to h2c): the core closes the old session and opens the new one with this. */
struct protocol_switch {
	uint8_t to;    /* enum sonde_proto */
	size_t offset; /* the new protocol's bytes start here in the last bytes fed */
	/* A request the new protocol answers (h2c: stream 1), or NULL. Borrowed
	 * from the old session: valid until it is closed. */
	const struct span *request;
};

/* One of a protocol's counters, as `sonde trace --stats` prints it and
 * `sonde run` exports it. */
struct protocol_counter {
	const char *metric; /* sonde run's health metric: "sonde.<protocol>.<what>" */
	const char *text;   /* --stats: "responses without request" */
	const char *description;
	uint64_t value;
	bool parse_error; /* counts in sonde.parse.errors and the closing line */
};

#define PROTOCOL_COUNTERS_MAX 16

/* How a protocol declares one counter: a uint64_t in its shared state, at
 * offset (offsetof(struct <name>_shared, stats.<field>)). */
struct protocol_counter_def {
	const char *metric;
	const char *text;
	const char *description;
	size_t offset;
	bool parse_error;
};

struct protocol {
	const char *name;
	uint8_t id;	      /* enum sonde_proto */
	uint32_t switches_to; /* 1u << each enum sonde_proto the kernel may turn it into */
	size_t session_size;  /* the core allocates it zeroed */
	void (*open)(void *session, const struct protocol_open *o);
	void (*feed)(void *session, const struct protocol_bytes *b, const struct span_sink *sink);
	/* The connection ended (closed, process exited, replaced): finish what
	 * can be finished, report requests that never got an answer. */
	void (*close)(void *session, uint64_t ts, const struct span_sink *sink);
	/* Frees what the session holds (not the session itself). */
	void (*free)(void *session);
	/* Requests in flight: lost if the connection is evicted now. */
	uint32_t (*in_flight)(const void *session);
	/* Optional: after feed, whether the connection switched protocol. */
	bool (*switched)(void *session, struct protocol_switch *sw);
	/* Optional: a session opened by a switch takes over from the old one. */
	void (*adopt)(void *session, const struct protocol_switch *sw);
	/* Optional: frees what the protocol's shared state holds (pools). */
	void (*shared_free)(void *shared);
	/* Its counters (at most PROTOCOL_COUNTERS_MAX), read from its shared state. */
	const struct protocol_counter_def *counters;
	size_t ncounters;
};

#endif /* SONDE_PROTOCOL_H */
