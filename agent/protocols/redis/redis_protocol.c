/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "protocols/redis/redis_protocol.h"
#include "sonde_event.h"

static void open_conn(void *session, const struct protocol_open *o)
{
	struct redis_shared *sh = o->shared;

	redis_session_init(session, o->role, o->settings, &sh->stats);
}

/* Offsets of its counters in struct redis_shared. */
#define STAT(field) offsetof(struct redis_shared, stats.field)

static const struct protocol_counter_def counters[] = {
	{ "sonde.redis.spans", "spans", "Redis spans built.", STAT(spans), false },
	{ "sonde.redis.parse_errors", "parse errors",
	  "Bytes that were not RESP where a Redis command or reply was expected.",
	  STAT(parse_errors), true },
	{ "sonde.redis.framing_lost", "framing lost",
	  "Redis frame boundaries lost: bytes that were not RESP, in a capture gap or not "
	  "captured.",
	  STAT(lost_sync), false },
	{ "sonde.redis.framing_found", "found again",
	  "Redis commands and replies paired again after they were lost.", STAT(resyncs), false },
	{ "sonde.redis.replies_unmatched", "replies without command",
	  "Redis replies with no command waiting for them.", STAT(orphan_replies), false },
	{ "sonde.redis.commands_lost", "commands lost",
	  "Redis commands whose bytes were partly lost (no span).", STAT(commands_lost), false },
	{ "sonde.redis.commands_unpaired", "commands without their reply",
	  "Redis commands whose reply could not be followed (a span marked truncated).",
	  STAT(unpaired), false },
	{ "sonde.redis.commands_dropped", "commands dropped",
	  "Redis commands beyond the per-connection bound of commands awaiting replies "
	  "(no span).",
	  STAT(pending_dropped), false },
	{ "sonde.redis.pushes", "pushes skipped",
	  "Redis out-of-band frames skipped: pub/sub messages, RESP3 pushes.", STAT(pushes),
	  false },
	{ "sonde.redis.conns_server", "server side",
	  "Redis connections seen from the server's end (no span).", STAT(server_sessions), false },
};

const struct protocol redis_protocol = {
	.name = "redis",
	.id = SONDE_PROTO_REDIS,
	.session_size = sizeof(struct redis_session),
	.open = open_conn,
	.feed = redis_session_feed,
	.close = redis_session_close,
	.free = redis_session_free,
	.in_flight = redis_session_in_flight,
	.counters = counters,
	.ncounters = sizeof(counters) / sizeof(counters[0]),
};
