/* SPDX-License-Identifier: MIT */
#include <string.h>

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

static size_t counters(const void *shared, struct protocol_counter *out)
{
	const struct redis_stats *st = &((const struct redis_shared *)shared)->stats;
	const struct protocol_counter c[] = {
		{ "sonde.redis.spans", "spans", "Redis spans built.", st->spans, false },
		{ "sonde.redis.parse_errors", "parse errors",
		  "Bytes that were not RESP where a Redis command or reply was expected.",
		  st->parse_errors, true },
		{ "sonde.redis.framing_lost", "framing lost",
		  "Redis frame boundaries lost: bytes that were not RESP, in a capture gap or not "
		  "captured.",
		  st->lost_sync, false },
		{ "sonde.redis.framing_found", "found again",
		  "Redis commands and replies paired again after they were lost.", st->resyncs,
		  false },
		{ "sonde.redis.replies_unmatched", "replies without command",
		  "Redis replies with no command waiting for them.", st->orphan_replies, false },
		{ "sonde.redis.commands_lost", "commands lost",
		  "Redis commands whose bytes were partly lost (no span).", st->commands_lost,
		  false },
		{ "sonde.redis.commands_unpaired", "commands without their reply",
		  "Redis commands whose reply could not be followed (a span marked truncated).",
		  st->unpaired, false },
		{ "sonde.redis.commands_dropped", "commands dropped",
		  "Redis commands beyond the per-connection bound of commands awaiting replies "
		  "(no span).",
		  st->pending_dropped, false },
		{ "sonde.redis.pushes", "pushes skipped",
		  "Redis out-of-band frames skipped: pub/sub messages, RESP3 pushes.", st->pushes,
		  false },
		{ "sonde.redis.conns_server", "server side",
		  "Redis connections seen from the server's end (no span).", st->server_sessions,
		  false },
	};

	_Static_assert(sizeof(c) / sizeof(c[0]) <= PROTOCOL_COUNTERS_MAX, "too many counters");
	memcpy(out, c, sizeof(c));
	return sizeof(c) / sizeof(c[0]);
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
	.counters = counters,
};
