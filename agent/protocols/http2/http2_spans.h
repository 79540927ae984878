/* SPDX-License-Identifier: MIT */
/*
 * HTTP/2 span builder for one connection: a frame parser and an HPACK decoder
 * per direction, and the open streams. Every stream is one span: it starts with
 * the request's HEADERS and ends with the response's END_STREAM, a RST_STREAM,
 * a GOAWAY that leaves it unprocessed, or the connection's end. gRPC calls are
 * recognised by their content-type and take their status from the trailers.
 *
 * When header decompression is out of sync (a block went unseen, or the
 * connection was open before sonde started), streams still become spans with
 * what can be decoded — stream id, times, sizes, static-table fields such as
 * :method and common :status codes, literals — marked truncated; fields that
 * name unknown table entries are left out rather than guessed.
 */
#ifndef SONDE_HTTP2_SPANS_H
#define SONDE_HTTP2_SPANS_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/http2/hpack.h"
#include "protocols/http2/http2.h"
#include "protocols/protocol.h"
#include "spans/span.h"

/* Open streams kept per connection; past it the oldest is dropped (counted). */
#define H2_MAX_STREAMS 512
#define H2_BUCKETS     64

struct http2_stats {
	uint64_t spans;
	uint64_t streams_dropped;  /* open-stream bound reached: the oldest was dropped */
	uint64_t orphan_responses; /* response headers for a stream whose request went unseen */
	uint64_t malformed;	   /* requests whose :method is no token: not spans */
	uint64_t blocks;	   /* header blocks decoded */
	uint64_t blocks_lost;	   /* header blocks not fully captured */
	uint64_t fields_unknown;   /* header fields skipped: they name unknown table entries */
	uint64_t hpack_desyncs;	   /* header tables found out of sync */
	uint64_t hpack_resyncs;	   /* header tables proved whole again */
	uint64_t frame_sync_lost;  /* frame boundaries lost (bytes unseen across frames) */
	uint64_t conns_degraded;   /* connections that had a direction out of sync */
	uint64_t bytes_unseen;	   /* bytes the kernel moved that never reached the agent */
};

struct http2_sink {
	const struct span_sink *out;
	struct http2_stats *stats;
};

struct h2_stream;

struct http2_session {
	uint8_t role; /* enum sonde_role; inferred from the traffic when unknown */
	bool degraded;
	struct h2_parser parser[2]; /* [0] bytes read by the traced process, [1] written */
	struct hpack_decoder hpack[2];
	bool hpack_started[2];
	struct h2_stream *buckets[H2_BUCKETS];
	struct h2_stream *oldest, *newest; /* open streams in the order they opened */
	uint32_t nstreams;
	uint32_t last_opened; /* highest client stream id that opened a span */
};

/* from_start: the session sees both directions from their first byte. */
void http2_session_init(struct http2_session *s, uint8_t role, bool from_start);
void http2_session_free(struct http2_session *s);

/* One syscall's bytes (or a piece of one); ingress is true for bytes the
 * traced process read. */
void http2_session_feed(struct http2_session *s, bool ingress, const uint8_t *data, size_t captured,
			uint64_t total, uint64_t ts, const struct http2_sink *sink);

/* The connection upgraded from HTTP/1.1 (h2c, RFC 7540 §3.2): the request that
 * asked for it is stream 1, and its response comes over HTTP/2. */
void http2_session_upgraded(struct http2_session *s, const struct span *request);

/* The connection closed: open streams become spans (without a response when
 * none came). */
void http2_session_close(struct http2_session *s, uint64_t ts, const struct http2_sink *sink);

#endif /* SONDE_HTTP2_SPANS_H */
