/* SPDX-License-Identifier: MIT */
#include "protocols/redis/redis_protocol.h"
#include "sonde_event.h"

static void open_conn(void *session, const struct protocol_open *o)
{
	struct redis_shared *sh = o->shared;

	redis_session_init(session, o->role, o->settings, &sh->stats);
}

static void feed(void *session, const struct protocol_bytes *b, const struct span_sink *out)
{
	redis_session_feed(session, b, out);
}

static void close_conn(void *session, uint64_t ts, const struct span_sink *out)
{
	redis_session_close(session, ts, out);
}

static void free_conn(void *session)
{
	redis_session_free(session);
}

static uint32_t in_flight(const void *session)
{
	const struct redis_session *s = session;

	return s->len;
}

const struct protocol redis_protocol = {
	.name = "redis",
	.id = SONDE_PROTO_REDIS,
	.session_size = sizeof(struct redis_session),
	.open = open_conn,
	.feed = feed,
	.close = close_conn,
	.free = free_conn,
	.in_flight = in_flight,
};
