/* SPDX-License-Identifier: MIT */
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
};
