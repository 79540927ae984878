/* SPDX-License-Identifier: MIT */
/*
 * One MySQL/MariaDB connection seen from its client: the greeting (which
 * server), the handshake (which database, which capabilities; TLS asked
 * for), then each command the client writes paired with the reply it reads,
 * in order. COM_QUERY, COM_STMT_EXECUTE (with the text of the statement
 * COM_STMT_PREPARE gave that id), COM_INIT_DB and COM_PING are spans; a
 * COM_STMT_PREPARE is one only when it fails. Result sets of any size are
 * followed packet by packet to count their rows.
 *
 * Where bytes went missing inside a payload, its length carries on; where
 * they hid packet headers (a read larger than the capture in the middle of a
 * result set), the reply is followed no more: the command waiting ends at
 * the last read before the client's next command (the classic protocol
 * answers a command before the client writes the next), its rows unknown,
 * marked lost sync, and the next command written at the start of a write
 * starts the pairing again.
 */
#ifndef SONDE_MYSQL_SESSION_H
#define SONDE_MYSQL_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/mysql/mysql_stmt.h"
#include "protocols/mysql/mysql_wire.h"
#include "protocols/protocol.h"

/* Commands awaiting replies per connection (clients wait for each reply;
 * a few pipeline). More are counted, and the pairing starts again. */
#define MYSQL_MAX_PENDING 16
/* Bytes of a query's text kept for its span (the text shown is cut at the
 * db.query.text cap; the summariser sees this much). */
#define MYSQL_QUERY_KEEP 4096

struct mysql_stats {
	uint64_t spans;
	uint64_t parse_errors;	  /* bytes that were not MySQL where a message was expected */
	uint64_t lost_sync;	  /* times a direction's framing was lost */
	uint64_t resyncs;	  /* times it was found again */
	uint64_t commands_lost;	  /* commands whose framing was lost: no span */
	uint64_t unpaired;	  /* spans whose reply could not be followed */
	uint64_t orphan_replies;  /* replies with no command waiting */
	uint64_t pending_dropped; /* commands beyond MYSQL_MAX_PENDING */
	uint64_t stmts_evicted;	  /* prepared statements forgotten to make room */
	uint64_t stmts_unknown;	  /* executions of a statement not seen prepared */
	uint64_t local_infile;	  /* LOAD DATA LOCAL INFILE requests */
	uint64_t compressed;	  /* connections with protocol compression: not followed */
	uint64_t tls_skipped;	  /* TLS handshake records skipped after an SSLRequest */
	uint64_t not_traced;	  /* connections seen without their greeting */
	uint64_t server_sessions; /* connections of a traced server: no spans made */
};

struct mysql_pending;

struct mysql_reply {
	uint8_t state;
	uint8_t seq;	/* sequence id the next reply packet must have */
	uint16_t pcols; /* PREPARE: column definitions after the parameters' */
	uint64_t left;	/* definitions left */
	int64_t rows;	/* rows of its result sets, -1 until one starts */
	bool error;
	uint16_t code; /* the error number */
};

struct mysql_session {
	uint8_t role;	      /* enum sonde_role */
	uint8_t phase;	      /* internal */
	uint8_t system;	      /* SPAN_DB_MYSQL or SPAN_DB_MARIADB */
	bool tls;	      /* the client asked for TLS */
	bool out_lost;	      /* command framing lost: wait for a command at a write's start */
	bool in_lost;	      /* reply framing (or pairing) lost: replies skipped */
	bool commanded;	      /* a command was seen */
	uint32_t tls_left[2]; /* bytes of the TLS record being skipped: read, written */
	uint64_t server_caps;
	uint64_t caps;	  /* what both sides agreed */
	uint64_t last_in; /* ts of the last read */
	uint64_t cmd_start;
	uint32_t cmd_seq;
	uint8_t cmd_seq_kind;
	struct mysql_reader out; /* written: the client's messages */
	struct mysql_reader in;	 /* read: the server's */
	struct mysql_pending *queue;
	uint32_t head, len;
	struct mysql_reply reply; /* the oldest command's reply, as far as read */
	struct mysql_stmts stmts;
	char db[SPAN_DB_NAMESPACE_LEN];
	char next_db[SPAN_DB_NAMESPACE_LEN]; /* COM_CHANGE_USER's, once accepted */
	const struct protocol_settings *settings;
	struct mysql_stats *stats;
};

void mysql_session_init(struct mysql_session *s, uint8_t role,
			const struct protocol_settings *settings, struct mysql_stats *stats);
void mysql_session_feed(void *session, const struct protocol_bytes *b,
			const struct span_sink *sink);
/* The connection ended: commands still waiting are reported without reply. */
void mysql_session_close(void *session, uint64_t ts, const struct span_sink *sink);
void mysql_session_free(void *session);
/* Commands awaiting their reply. */
uint32_t mysql_session_in_flight(const void *session);

#endif /* SONDE_MYSQL_SESSION_H */
