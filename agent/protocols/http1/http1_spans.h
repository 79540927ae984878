/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x span builder for one connection: a request parser and a response
 * parser, and the queue that pairs each response with the request it answers
 * (pipelined requests are answered in order, RFC 9112 §9.3.2).
 */
#ifndef SONDE_HTTP1_SPANS_H
#define SONDE_HTTP1_SPANS_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/http1/http1.h"
#include "protocols/protocol.h"
#include "spans/span.h"

/* Requests waiting for their response, per connection. */
#define HTTP1_MAX_PENDING 64

struct http1_stats {
	uint64_t spans;
	uint64_t parse_errors;	   /* bytes that were not HTTP/1 */
	uint64_t orphan_responses; /* responses with no request seen */
	uint64_t pending_dropped;  /* requests dropped: too many awaiting a response */
	uint64_t lost_sync;	   /* messages whose framing was lost in a capture gap */
};

struct http1_pending;

/* Finished requests kept for the next ones: a calloc and a free of a
 * 1.2 KB span per request were ~650 of the main thread's ~7,000
 * instructions per span. Bounded, so that it holds at most
 * HTTP1_POOL_MAX × 1.2 KB whatever the number of connections. */
#define HTTP1_POOL_MAX 64

struct http1_pool {
	struct http1_pending *free;
	uint32_t n;
};

/* Frees what the pool holds. */
void http1_pool_drain(struct http1_pool *pool);

struct http1_session {
	bool server; /* requests are read (server) or written (client) */
	bool upgraded;
	struct http1_parser requests;
	struct http1_parser responses;
	struct http1_pending *head; /* oldest request awaiting its response */
	struct http1_pending *tail;
	struct http1_pending *reading; /* request whose body is still arriving */
	uint32_t npending;
	/* response currently being parsed: its request, or NULL to ignore it */
	struct http1_pending *answering;
	bool answering_interim;
	/* After a 101 to h2c: the request that asked for it, whose response comes
	 * over HTTP/2 on stream 1 (the caller takes it and frees it), and where the
	 * HTTP/2 bytes begin in the feed that carried the 101. */
	struct span *h2c_request;
	size_t h2c_offset;
};

struct http1_sink {
	const struct span_sink *out;
	struct http1_stats *stats;
	struct http1_pool *pool; /* optional */
};

void http1_session_init(struct http1_session *s, bool server);
void http1_session_free(struct http1_session *s);

/* One syscall's bytes (unseen ones are not announced: HTTP/1 finds its way
 * back at the next message head). */
void http1_session_feed(struct http1_session *s, const struct protocol_bytes *b,
			const struct http1_sink *sink);

/* The connection closed (or its process exited): ends close-delimited
 * responses, and reports requests that never got a response. */
void http1_session_close(struct http1_session *s, uint64_t ts, const struct http1_sink *sink);

#endif /* SONDE_HTTP1_SPANS_H */
