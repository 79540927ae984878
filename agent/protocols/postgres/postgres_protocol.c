/* SPDX-License-Identifier: MIT */
#include <string.h>

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

static size_t counters(const void *shared, struct protocol_counter *out)
{
	const struct postgres_stats *st = &((const struct postgres_shared *)shared)->stats;
	const struct protocol_counter c[] = {
		{ "sonde.postgres.spans", "spans", "PostgreSQL spans built.", st->spans, false },
		{ "sonde.postgres.parse_errors", "parse errors",
		  "Bytes that were not PostgreSQL where a message was expected.", st->parse_errors,
		  true },
		{ "sonde.postgres.framing_lost", "framing lost",
		  "PostgreSQL message boundaries lost in a capture gap or in bytes not captured.",
		  st->lost_sync, false },
		{ "sonde.postgres.framing_found", "found again",
		  "PostgreSQL message boundaries found again after they were lost.", st->resyncs,
		  false },
		{ "sonde.postgres.replies_unmatched", "replies without command",
		  "PostgreSQL replies with no command waiting for them.", st->replies_unpaired,
		  false },
		{ "sonde.postgres.commands_dropped", "commands dropped",
		  "PostgreSQL commands whose replies could not be paired (no span).",
		  st->commands_dropped, false },
		{ "sonde.postgres.executes_skipped", "executes skipped after an error",
		  "Executes the PostgreSQL server skipped after an error, up to Sync (no span).",
		  st->executes_skipped, false },
		{ "sonde.postgres.statements_evicted", "statements evicted",
		  "Prepared statements forgotten to keep the per-connection bound.",
		  st->statements_evicted, false },
		{ "sonde.postgres.statements_unknown", "executes of unknown statements",
		  "Executes of a statement not seen prepared (no query text).",
		  st->statements_unknown, false },
		{ "sonde.postgres.conns_late", "connections picked up open",
		  "PostgreSQL connections found already open and picked up mid-stream.",
		  st->conns_late, false },
		{ "sonde.postgres.conns_not_traced", "not traced",
		  "PostgreSQL connections never in step: encrypted without plaintext, no boundary.",
		  st->conns_not_traced, false },
		{ "sonde.postgres.conns_server", "server side",
		  "PostgreSQL connections seen from the server's end (no span).", st->conns_server,
		  false },
		{ "sonde.postgres.cancel_requests", "cancel requests",
		  "PostgreSQL CancelRequest connections (no span).", st->cancel_requests, false },
	};

	_Static_assert(sizeof(c) / sizeof(c[0]) <= PROTOCOL_COUNTERS_MAX, "too many counters");
	memcpy(out, c, sizeof(c));
	return sizeof(c) / sizeof(c[0]);
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
	.counters = counters,
};
