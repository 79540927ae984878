/* SPDX-License-Identifier: MIT */
/*
 * A PostgreSQL connection seen from its client: every command the client
 * sends becomes a CLIENT span, from the first byte of the command written to
 * the last byte of its reply read. Pure code: no I/O, no globals, no clock.
 *
 * Commands: a simple Query (one span, however many statements it holds,
 * ended by ReadyForQuery), or in the extended protocol each Execute (its
 * Parse, Bind and Describe before it are part of it; it ends with its
 * CommandComplete, EmptyQueryResponse, PortalSuspended or ErrorResponse;
 * the last one before a Sync is handed out at the ReadyForQuery that ends
 * it, so that an error raised at Sync still reaches it). Replies pair with
 * commands in order; an error makes the server skip to Sync, and the
 * Executes it skipped give no span (counted). An error in Parse, Bind or
 * Describe is the span of the Execute that would have followed, or of the
 * statement alone when none was sent. NoticeResponse, ParameterStatus and
 * NotificationResponse may come at any time and pair with nothing.
 *
 * Not exported, never kept beyond a message: the user name, passwords and
 * authentication exchanges, bound parameter values (Bind's body is read up
 * to the statement name only), row data, COPY data.
 *
 * A server-side view (a traced PostgreSQL server process) gives no span.
 * A connection found already open is picked up at a message boundary
 * (a chain of plausible headers ending where the syscall does), or not at
 * all. Encrypted connections give spans only through TLS plaintext (the
 * same session sees the StartupMessage after SSLRequest and 'S'); GSSAPI
 * encryption is not traced.
 */
#ifndef SONDE_PG_SESSION_H
#define SONDE_PG_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/postgres/pg_stmt.h"
#include "protocols/postgres/pg_stream.h"
#include "protocols/protocol.h"

/* Messages awaiting their reply per connection (pipelining: a batch of
 * Bind, Describe, Execute per command before one Sync). The queue grows as
 * needed up to this; it holds no span, only what makes one. */
#define PG_OPS_MAX 4096
/* Bytes kept of a Query's or Parse's body: the text sanitised. */
#define PG_KEEP_TEXT 8192
/* Bytes kept of the few other messages read (names, tags, error fields). */
#define PG_KEEP_SMALL 256

struct postgres_stats {
	uint64_t spans;
	uint64_t parse_errors;	     /* bytes that were not PostgreSQL where a message was due */
	uint64_t lost_sync;	     /* framing lost in a capture gap or uncaptured bytes */
	uint64_t resyncs;	     /* framing found again */
	uint64_t replies_unpaired;   /* replies with no command waiting for them */
	uint64_t commands_dropped;   /* commands whose replies could not be paired */
	uint64_t executes_skipped;   /* Executes the server skipped after an error */
	uint64_t statements_evicted; /* prepared statements forgotten to stay bounded */
	uint64_t statements_unknown; /* Executes of a statement not seen prepared */
	uint64_t conns_late;	     /* connections picked up already open */
	uint64_t conns_not_traced;   /* never in sync, encrypted without plaintext, … */
	uint64_t conns_server;	     /* server-side views, given no span */
	uint64_t cancel_requests;    /* CancelRequest connections (no span) */
};

struct pg_op;

struct pg_session {
	uint8_t role;		 /* enum sonde_role, learnt if unknown */
	uint8_t phase;		 /* enum pg_phase (pg_session.c) */
	struct pg_stream fe, be; /* frontend (client to server), backend */
	struct pg_op *ops;	 /* a ring of ops_cap, grown up to PG_OPS_MAX */
	uint32_t ops_cap, op_head, nops;
	struct span *held;    /* the last finished Execute, until its Sync's end */
	uint64_t chain_start; /* first byte of the extended command being built */
	bool chain_keep;      /* the chain Parsed the unnamed statement: it spans a Sync */
	bool skipping;	      /* the server skips to Sync after an error */
	uint32_t hunted;      /* chunks looked at for a boundary, picking up mid-stream */
	uint64_t last_be_ts;  /* when the backend's last bytes were read */
	char database[SPAN_DB_NAMESPACE_LEN];
	struct pg_stmts stmts;
	const struct protocol_settings *settings;
	struct postgres_stats *stats;
};

/* role: enum sonde_role; settings and stats outlive the session. */
void pg_session_init(struct pg_session *s, uint8_t role, const struct protocol_settings *settings,
		     struct postgres_stats *stats);
void pg_session_feed(void *session, const struct protocol_bytes *b, const struct span_sink *sink);
/* The connection ended: finished spans go out, unanswered commands too
 * (SPAN_F_NO_RESPONSE). */
void pg_session_close(void *session, uint64_t ts, const struct span_sink *sink);
void pg_session_free(void *session);
/* Commands that would be lost if the session ended now. */
uint32_t pg_session_in_flight(const void *session);

#endif /* SONDE_PG_SESSION_H */
