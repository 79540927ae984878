/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "protocols/postgres/postgres_protocol.h"
#include "sonde_event.h"

static void open_conn(void *session, const struct protocol_open *o)
{
	struct postgres_shared *sh = o->shared;

	pg_session_init(session, o->role, o->settings, &sh->stats);
}

/* Offsets of its counters in struct postgres_shared. */
#define STAT(field) offsetof(struct postgres_shared, stats.field)

static const struct protocol_counter_def counters[] = {
	{ "sonde.postgres.spans", "spans", "PostgreSQL spans built.", STAT(spans), false },
	{ "sonde.postgres.parse_errors", "parse errors",
	  "Bytes that were not PostgreSQL where a message was expected.", STAT(parse_errors),
	  true },
	{ "sonde.postgres.framing_lost", "framing lost",
	  "PostgreSQL message boundaries lost in a capture gap or in bytes not captured.",
	  STAT(lost_sync), false },
	{ "sonde.postgres.framing_found", "found again",
	  "PostgreSQL message boundaries found again after they were lost.", STAT(resyncs), false },
	{ "sonde.postgres.replies_unmatched", "replies without command",
	  "PostgreSQL replies with no command waiting for them.", STAT(replies_unpaired), false },
	{ "sonde.postgres.commands_dropped", "commands dropped",
	  "PostgreSQL commands whose replies could not be paired (no span).",
	  STAT(commands_dropped), false },
	{ "sonde.postgres.executes_skipped", "executes skipped after an error",
	  "Executes the PostgreSQL server skipped after an error, up to Sync (no span).",
	  STAT(executes_skipped), false },
	{ "sonde.postgres.statements_evicted", "statements evicted",
	  "Prepared statements forgotten to keep the per-connection bound.",
	  STAT(statements_evicted), false },
	{ "sonde.postgres.statements_unknown", "executes of unknown statements",
	  "Executes of a statement not seen prepared (no query text).", STAT(statements_unknown),
	  false },
	{ "sonde.postgres.conns_late", "connections picked up open",
	  "PostgreSQL connections found already open and picked up mid-stream.", STAT(conns_late),
	  false },
	{ "sonde.postgres.conns_not_traced", "not traced",
	  "PostgreSQL connections never in step: encrypted without plaintext, no boundary.",
	  STAT(conns_not_traced), false },
	{ "sonde.postgres.conns_server", "server side",
	  "PostgreSQL connections seen from the server's end (no span).", STAT(conns_server),
	  false },
	{ "sonde.postgres.cancel_requests", "cancel requests",
	  "PostgreSQL CancelRequest connections (no span).", STAT(cancel_requests), false },
};

const struct protocol postgres_protocol = {
	.name = "postgres",
	.id = SONDE_PROTO_POSTGRES,
	.session_size = sizeof(struct pg_session),
	.open = open_conn,
	.feed = pg_session_feed,
	.close = pg_session_close,
	.free = pg_session_free,
	.in_flight = pg_session_in_flight,
	.counters = counters,
	.ncounters = sizeof(counters) / sizeof(counters[0]),
};
