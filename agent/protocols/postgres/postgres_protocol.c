/* SPDX-License-Identifier: MIT */
#include "protocols/postgres/postgres_protocol.h"
#include "sonde_event.h"

static void open_conn(void *session, const struct protocol_open *o)
{
	struct postgres_shared *sh = o->shared;

	pg_session_init(session, o->role, o->settings, &sh->stats);
}

static void feed(void *session, const struct protocol_bytes *b, const struct span_sink *out)
{
	pg_session_feed(session, b, out);
}

static void close_conn(void *session, uint64_t ts, const struct span_sink *out)
{
	pg_session_close(session, ts, out);
}

static void free_conn(void *session)
{
	pg_session_free(session);
}

static uint32_t in_flight(const void *session)
{
	return pg_session_in_flight(session);
}

const struct protocol postgres_protocol = {
	.name = "postgres",
	.id = SONDE_PROTO_POSTGRES,
	.session_size = sizeof(struct pg_session),
	.open = open_conn,
	.feed = feed,
	.close = close_conn,
	.free = free_conn,
	.in_flight = in_flight,
};
