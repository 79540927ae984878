/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "protocols/http1/http1_protocol.h"
#include "sonde_event.h"

struct http1_conn {
	struct http1_session session;
	struct http1_shared *shared;
};

static struct http1_sink sink_of(struct http1_conn *c, const struct span_sink *out)
{
	return (struct http1_sink){ .out = out,
				    .stats = &c->shared->stats,
				    .pool = &c->shared->pool };
}

static void open_conn(void *session, const struct protocol_open *o)
{
	struct http1_conn *c = session;

	c->shared = o->shared;
	http1_session_init(&c->session, o->role != SONDE_ROLE_CLIENT);
}

static void feed(void *session, const struct protocol_bytes *b, const struct span_sink *out)
{
	struct http1_conn *c = session;
	struct http1_sink sink = sink_of(c, out);

	http1_session_feed(&c->session, b, &sink);
}

static void close_conn(void *session, uint64_t ts, const struct span_sink *out)
{
	struct http1_conn *c = session;
	struct http1_sink sink = sink_of(c, out);

	http1_session_close(&c->session, ts, &sink);
}

static void free_conn(void *session)
{
	struct http1_conn *c = session;

	http1_session_free(&c->session);
}

static uint32_t in_flight(const void *session)
{
	const struct http1_conn *c = session;

	return c->session.npending;
}

/* A 101 to h2c: the request that asked for it is answered over HTTP/2. */
static bool switched(void *session, struct protocol_switch *sw)
{
	struct http1_conn *c = session;

	if (!c->session.h2c_request)
		return false;
	sw->to = SONDE_PROTO_HTTP2;
	sw->offset = c->session.h2c_offset;
	sw->request = c->session.h2c_request;
	return true;
}

static void shared_free(void *shared)
{
	struct http1_shared *sh = shared;

	http1_pool_drain(&sh->pool);
}

/* Offsets of its counters in struct http1_shared. */
#define STAT(field) offsetof(struct http1_shared, stats.field)

static const struct protocol_counter_def counters[] = {
	{ "sonde.http1.spans", "spans", "HTTP/1 spans built.", STAT(spans), false },
	{ "sonde.http1.parse_errors", "parse errors",
	  "Bytes that were not HTTP/1 where a message was expected.", STAT(parse_errors), true },
	{ "sonde.http1.responses_unmatched", "responses without request",
	  "HTTP/1 responses whose request was not seen (lost, or not captured).",
	  STAT(orphan_responses), false },
	{ "sonde.http1.requests_dropped", "requests dropped (queue full)",
	  "HTTP/1 requests dropped: too many awaiting a response on one connection.",
	  STAT(pending_dropped), false },
	{ "sonde.http1.framing_lost", "framing lost",
	  "HTTP/1 messages whose body framing was lost in a capture gap.", STAT(lost_sync), false },
};

const struct protocol http1_protocol = {
	.name = "http1",
	.id = SONDE_PROTO_HTTP1,
	.switches_to = 1u << SONDE_PROTO_HTTP2,
	.session_size = sizeof(struct http1_conn),
	.open = open_conn,
	.feed = feed,
	.close = close_conn,
	.free = free_conn,
	.in_flight = in_flight,
	.switched = switched,
	.shared_free = shared_free,
	.counters = counters,
	.ncounters = sizeof(counters) / sizeof(counters[0]),
};
