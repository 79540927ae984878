/* SPDX-License-Identifier: MIT */
#include <string.h>

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

static size_t counters(const void *shared, struct protocol_counter *out)
{
	const struct mysql_stats *st = &((const struct mysql_shared *)shared)->stats;
	const struct protocol_counter c[] = {
		{ "sonde.mysql.spans", "spans", "MySQL and MariaDB spans built.", st->spans,
		  false },
		{ "sonde.mysql.parse_errors", "parse errors",
		  "Bytes that were not MySQL protocol where a packet was expected.",
		  st->parse_errors, true },
		{ "sonde.mysql.framing_lost", "framing lost",
		  "MySQL packet boundaries lost: bytes that were not MySQL, in a capture gap or "
		  "not captured (a result set read in pieces larger than the capture).",
		  st->lost_sync, false },
		{ "sonde.mysql.framing_found", "found again",
		  "MySQL packet boundaries found again, at a command written.", st->resyncs,
		  false },
		{ "sonde.mysql.replies_unmatched", "replies without command",
		  "MySQL replies with no command waiting for them.", st->orphan_replies, false },
		{ "sonde.mysql.commands_lost", "commands lost",
		  "MySQL commands whose framing was lost (no span).", st->commands_lost, false },
		{ "sonde.mysql.commands_unpaired", "commands without their reply followed",
		  "MySQL commands whose reply could not be followed (a span marked truncated, "
		  "without rows or status).",
		  st->unpaired, false },
		{ "sonde.mysql.commands_dropped", "commands dropped",
		  "MySQL commands beyond the per-connection bound of commands awaiting replies.",
		  st->pending_dropped, false },
		{ "sonde.mysql.statements_evicted", "statements evicted",
		  "Prepared statements forgotten to keep the per-connection bound.",
		  st->stmts_evicted, false },
		{ "sonde.mysql.statements_unknown", "executes of unknown statements",
		  "Executions of a statement not seen prepared (no query text).", st->stmts_unknown,
		  false },
		{ "sonde.mysql.local_infile", "LOCAL INFILE requests",
		  "LOAD DATA LOCAL INFILE requests (the file sent is not read).", st->local_infile,
		  false },
		{ "sonde.mysql.conns_compressed", "compressed",
		  "MySQL connections with protocol compression (not followed).", st->compressed,
		  false },
		{ "sonde.mysql.tls_records_skipped", "TLS records skipped",
		  "TLS handshake records skipped after an SSLRequest.", st->tls_skipped, false },
		{ "sonde.mysql.conns_not_traced", "not traced",
		  "MySQL connections seen without their greeting (not followed).", st->not_traced,
		  false },
		{ "sonde.mysql.conns_server", "server side",
		  "MySQL connections seen from the server's end (no span).", st->server_sessions,
		  false },
	};

	_Static_assert(sizeof(c) / sizeof(c[0]) <= PROTOCOL_COUNTERS_MAX, "too many counters");
	memcpy(out, c, sizeof(c));
	return sizeof(c) / sizeof(c[0]);
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
	.counters = counters,
};
