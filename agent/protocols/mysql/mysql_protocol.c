/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "protocols/mysql/mysql_protocol.h"
#include "sonde_event.h"

static void open_conn(void *session, const struct protocol_open *o)
{
	struct mysql_shared *sh = o->shared;

	mysql_session_init(session, o->role, o->settings, &sh->stats);
}

/* Offsets of its counters in struct mysql_shared. */
#define STAT(field) offsetof(struct mysql_shared, stats.field)

static const struct protocol_counter_def counters[] = {
	{ "sonde.mysql.spans", "spans", "MySQL and MariaDB spans built.", STAT(spans), false },
	{ "sonde.mysql.parse_errors", "parse errors",
	  "Bytes that were not MySQL protocol where a packet was expected.", STAT(parse_errors),
	  true },
	{ "sonde.mysql.framing_lost", "framing lost",
	  "MySQL packet boundaries lost: bytes that were not MySQL, in a capture gap or "
	  "not captured (a result set read in pieces larger than the capture).",
	  STAT(lost_sync), false },
	{ "sonde.mysql.framing_found", "found again",
	  "MySQL packet boundaries found again, at a command written.", STAT(resyncs), false },
	{ "sonde.mysql.replies_unmatched", "replies without command",
	  "MySQL replies with no command waiting for them.", STAT(orphan_replies), false },
	{ "sonde.mysql.commands_lost", "commands lost",
	  "MySQL commands whose framing was lost (no span).", STAT(commands_lost), false },
	{ "sonde.mysql.commands_unpaired", "commands without their reply followed",
	  "MySQL commands whose reply could not be followed (a span marked truncated, "
	  "without rows or status).",
	  STAT(unpaired), false },
	{ "sonde.mysql.commands_dropped", "commands dropped",
	  "MySQL commands beyond the per-connection bound of commands awaiting replies.",
	  STAT(pending_dropped), false },
	{ "sonde.mysql.statements_evicted", "statements evicted",
	  "Prepared statements forgotten to keep the per-connection bound.", STAT(stmts_evicted),
	  false },
	{ "sonde.mysql.statements_unknown", "executes of unknown statements",
	  "Executions of a statement not seen prepared (no query text).", STAT(stmts_unknown),
	  false },
	{ "sonde.mysql.local_infile", "LOCAL INFILE requests",
	  "LOAD DATA LOCAL INFILE requests (the file sent is not read).", STAT(local_infile),
	  false },
	{ "sonde.mysql.conns_compressed", "compressed",
	  "MySQL connections with protocol compression (not followed).", STAT(compressed), false },
	{ "sonde.mysql.tls_records_skipped", "TLS records skipped",
	  "TLS handshake records skipped after an SSLRequest.", STAT(tls_skipped), false },
	{ "sonde.mysql.conns_not_traced", "not traced",
	  "MySQL connections seen without their greeting (not followed).", STAT(not_traced),
	  false },
	{ "sonde.mysql.conns_server", "server side",
	  "MySQL connections seen from the server's end (no span).", STAT(server_sessions), false },
};

const struct protocol mysql_protocol = {
	.name = "mysql",
	.id = SONDE_PROTO_MYSQL,
	.session_size = sizeof(struct mysql_session),
	.open = open_conn,
	.feed = mysql_session_feed,
	.close = mysql_session_close,
	.free = mysql_session_free,
	.in_flight = mysql_session_in_flight,
	.counters = counters,
	.ncounters = sizeof(counters) / sizeof(counters[0]),
};
