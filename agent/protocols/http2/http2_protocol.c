/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "protocols/http2/http2_protocol.h"
#include "sonde_event.h"

struct http2_conn {
	struct http2_session session;
	struct http2_shared *shared;
};

static struct http2_sink sink_of(struct http2_conn *c, const struct span_sink *out)
{
	return (struct http2_sink){ .out = out, .stats = &c->shared->stats };
}

static void open_conn(void *session, const struct protocol_open *o)
{
	struct http2_conn *c = session;

	c->shared = o->shared;
	http2_session_init(&c->session, o->role, true);
}

/*
 * Header decompression needs every header block, so bytes that went unseen
 * are announced to the parser first: it then knows its tables may be out of
 * sync and where the next frame could start.
 */
static void feed(void *session, const struct protocol_bytes *b, const struct span_sink *out)
{
	struct http2_conn *c = session;
	struct http2_sink sink = sink_of(c, out);

	if (b->unseen) {
		c->shared->stats.bytes_unseen += b->unseen;
		http2_session_feed(&c->session, b->ingress, NULL, 0, b->unseen, b->ts, &sink);
	}
	c->shared->stats.bytes_unseen += b->total - b->captured;
	http2_session_feed(&c->session, b->ingress, b->data, b->captured, b->total, b->ts, &sink);
}

static void close_conn(void *session, uint64_t ts, const struct span_sink *out)
{
	struct http2_conn *c = session;
	struct http2_sink sink = sink_of(c, out);

	http2_session_close(&c->session, ts, &sink);
}

static void free_conn(void *session)
{
	struct http2_conn *c = session;

	http2_session_free(&c->session);
}

static uint32_t in_flight(const void *session)
{
	const struct http2_conn *c = session;

	return c->session.nstreams;
}

/* After an HTTP/1.1 upgrade (h2c): stream 1 is the request that asked for it. */
static void adopt(void *session, const struct protocol_switch *sw)
{
	struct http2_conn *c = session;

	if (sw->request)
		http2_session_upgraded(&c->session, sw->request);
}

/* Offsets of its counters in struct http2_shared. */
#define STAT(field) offsetof(struct http2_shared, stats.field)

static const struct protocol_counter_def counters[] = {
	{ "sonde.http2.spans", "spans", "HTTP/2 and gRPC spans built.", STAT(spans), false },
	{ "sonde.http2.header_blocks", "header blocks", "HTTP/2 header blocks decoded.",
	  STAT(blocks), false },
	{ "sonde.http2.header_blocks_cut", "not fully captured",
	  "HTTP/2 header blocks with bytes missed.", STAT(blocks_lost), false },
	{ "sonde.http2.hpack_desyncs", "header tables out of sync",
	  "HPACK header tables found out of step.", STAT(hpack_desyncs), true },
	{ "sonde.http2.hpack_resyncs", "back in sync", "HPACK header tables proved whole again.",
	  STAT(hpack_resyncs), false },
	{ "sonde.http2.fields_unknown", "fields not decodable",
	  "Header fields left out: they name table entries sonde never saw.", STAT(fields_unknown),
	  false },
	{ "sonde.http2.frame_sync_lost", "frame boundaries lost",
	  "Bytes missed across HTTP/2 frames, so frames had to be found again.",
	  STAT(frame_sync_lost), true },
	{ "sonde.http2.connections.degraded", "degraded connections",
	  "HTTP/2 connections whose header decompression lost sync.", STAT(conns_degraded), false },
	{ "sonde.http2.streams.dropped", "streams dropped (too many open)",
	  "HTTP/2 streams dropped: too many open at once.", STAT(streams_dropped), false },
	{ "sonde.http2.responses_unmatched", "responses without request",
	  "HTTP/2 responses for a stream whose request was not seen.", STAT(orphan_responses),
	  false },
	{ "sonde.http2.requests_malformed", "malformed requests",
	  "HTTP/2 requests whose :method is no token: not spans.", STAT(malformed), true },
	{ "sonde.http2.bytes_unseen", "bytes not captured",
	  "HTTP/2 bytes moved that never reached the agent.", STAT(bytes_unseen), false },
};

const struct protocol http2_protocol = {
	.name = "http2",
	.id = SONDE_PROTO_HTTP2,
	.session_size = sizeof(struct http2_conn),
	.open = open_conn,
	.feed = feed,
	.close = close_conn,
	.free = free_conn,
	.in_flight = in_flight,
	.adopt = adopt,
	.counters = counters,
	.ncounters = sizeof(counters) / sizeof(counters[0]),
};
