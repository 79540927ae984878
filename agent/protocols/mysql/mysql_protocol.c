/* SPDX-License-Identifier: MIT */
#include "protocols/mysql/mysql_protocol.h"
#include "sonde_event.h"

static void open_conn(void *session, const struct protocol_open *o)
{
	struct mysql_shared *sh = o->shared;

	mysql_session_init(session, o->role, o->settings, &sh->stats);
}

static void feed(void *session, const struct protocol_bytes *b, const struct span_sink *out)
{
	mysql_session_feed(session, b, out);
}

static void close_conn(void *session, uint64_t ts, const struct span_sink *out)
{
	mysql_session_close(session, ts, out);
}

static void free_conn(void *session)
{
	mysql_session_free(session);
}

static uint32_t in_flight(const void *session)
{
	const struct mysql_session *s = session;

	return s->len;
}

const struct protocol mysql_protocol = {
	.name = "mysql",
	.id = SONDE_PROTO_MYSQL,
	.session_size = sizeof(struct mysql_session),
	.open = open_conn,
	.feed = feed,
	.close = close_conn,
	.free = free_conn,
	.in_flight = in_flight,
};
