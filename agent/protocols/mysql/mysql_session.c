/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/mysql/mysql_session.h"
#include "protocols/sql/db_query.h"
#include "sonde_event.h"

enum phase {
	PHASE_GREETING = 0, /* the server speaks first */
	PHASE_HANDSHAKE,    /* the client's response, or its SSLRequest */
	PHASE_TLS,	    /* after an SSLRequest: the response again, through TLS */
	PHASE_AUTH,	    /* until the server's OK */
	PHASE_COMMAND,
	PHASE_IGNORED, /* compressed, replication, failed, or never seen starting */
};

/* Command bytes (the first byte of a command's payload). */
enum {
	COM_QUIT = 0x01,
	COM_INIT_DB = 0x02,
	COM_QUERY = 0x03,
	COM_FIELD_LIST = 0x04,
	COM_STATISTICS = 0x09,
	COM_PING = 0x0e,
	COM_CHANGE_USER = 0x11,
	COM_BINLOG_DUMP = 0x12,
	COM_REGISTER_SLAVE = 0x15,
	COM_STMT_PREPARE = 0x16,
	COM_STMT_EXECUTE = 0x17,
	COM_STMT_SEND_LONG_DATA = 0x18,
	COM_STMT_CLOSE = 0x19,
	COM_STMT_RESET = 0x1a,
	COM_STMT_FETCH = 0x1c,
	COM_BINLOG_DUMP_GTID = 0x1e,
	COM_RESET_CONNECTION = 0x1f,
	COM_STMT_BULK_EXECUTE = 0xfa, /* MariaDB */
};

/* What a command's reply looks like. */
enum expect {
	EXPECT_RESULT = 0, /* OK, ERR, EOF, LOCAL INFILE, or result sets */
	EXPECT_PREPARE,	   /* PREPARE_OK and definitions, or ERR */
	EXPECT_FIELDS,	   /* column definitions up to EOF, or ERR */
	EXPECT_ROWS,	   /* rows up to EOF (a cursor's fetch), or ERR */
	EXPECT_STATS,	   /* one packet of text */
};

/* Where the oldest command's reply is. */
enum reply_state {
	R_START = 0,
	R_COLUMNS,     /* column definitions */
	R_COLUMNS_EOF, /* the EOF after them (none with CLIENT_DEPRECATE_EOF) */
	R_ROWS,
	R_PARAMS, /* PREPARE: parameter definitions, their EOF, columns, theirs */
	R_PARAMS_EOF,
	R_PCOLUMNS,
	R_PCOLUMNS_EOF,
	R_FIELDS, /* COM_FIELD_LIST */
	R_INFILE, /* the client sends a file; then the final OK or ERR */
};

struct mysql_pending {
	uint8_t cmd;
	uint8_t expect;			    /* enum expect */
	uint8_t seq;			    /* its reply's first sequence id */
	bool span_on_error;		    /* a PREPARE: a span only when it fails */
	bool stmt_unknown;		    /* an EXECUTE of a statement never seen prepared */
	struct span *sp;		    /* NULL: no span */
	char use_db[SPAN_DB_NAMESPACE_LEN]; /* COM_INIT_DB, USE: the database it selects */
};

/* Bytes kept of each message read, and of the client's handshake. */
#define KEEP_REPLY_HEAD 256 /* an OK packet's session state; a greeting */
#define KEEP_REPLY_ROW	32  /* enough for a row's first byte, EOF, OK, ERR */
#define KEEP_HANDSHAKE	1024
#define KEEP_COMMAND	16

void mysql_session_init(struct mysql_session *s, uint8_t role,
			const struct protocol_settings *settings, struct mysql_stats *stats)
{
	memset(s, 0, sizeof(*s));
	s->role = role;
	s->settings = settings;
	s->stats = stats;
	s->system = SPAN_DB_MYSQL;
	s->reply.rows = -1;
	mysql_reader_init(&s->out, KEEP_HANDSHAKE);
	mysql_reader_init(&s->in, KEEP_REPLY_HEAD);
	if (role == SONDE_ROLE_SERVER)
		stats->server_sessions++;
}

static struct mysql_pending *pending_at(struct mysql_session *s, uint32_t i)
{
	return &s->queue[(s->head + i) % MYSQL_MAX_PENDING];
}

static void set_name(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	db_copy_str(dst, cap, (const char *)src, n);
}

/* ---- spans ---- */

static struct span *new_span(struct mysql_session *s)
{
	struct span *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->kind = SPAN_CLIENT;
	sp->flags = SPAN_F_DB;
	sp->start_ns = s->cmd_start;
	sp->exchange_kind = s->cmd_seq_kind;
	sp->exchange = s->cmd_seq;
	sp->db.system = s->system;
	sp->db.returned_rows = -1;
	return sp;
}

static void emit(struct mysql_session *s, struct span *sp, uint64_t end,
		 const struct span_sink *sink)
{
	sp->end_ns = end > sp->start_ns ? end : sp->start_ns;
	memcpy(sp->db.name_space, s->db, sizeof(sp->db.name_space));
	s->stats->spans++;
	sink->emit(sink->ctx, sp);
	free(sp);
}

/* ---- the queue of commands awaiting replies ---- */

static void reply_starts(struct mysql_session *s)
{
	memset(&s->reply, 0, sizeof(s->reply));
	s->reply.rows = -1;
	if (s->len)
		s->reply.seq = pending_at(s, 0)->seq;
}

static struct mysql_pending pop(struct mysql_session *s)
{
	struct mysql_pending p = *pending_at(s, 0);

	s->head = (s->head + 1) % MYSQL_MAX_PENDING;
	s->len--;
	reply_starts(s);
	return p;
}

/* Every command waiting ends now, at end, flagged; those that would make a
 * span only on error make none. */
static void end_pending(struct mysql_session *s, uint64_t end, uint32_t flags,
			const struct span_sink *sink)
{
	while (s->len) {
		struct mysql_pending p = pop(s);

		if (!p.sp)
			continue;
		if (p.span_on_error) {
			free(p.sp);
			continue;
		}
		p.sp->flags |= flags;
		emit(s, p.sp, end, sink);
	}
}

static void push(struct mysql_session *s, const struct mysql_pending *p)
{
	if (!s->queue) {
		s->queue = calloc(MYSQL_MAX_PENDING, sizeof(*s->queue));
		if (!s->queue) {
			s->stats->pending_dropped++;
			free(p->sp);
			s->in_lost = true;
			return;
		}
	}
	if (s->len == MYSQL_MAX_PENDING) {
		/* Its reply's shape unknown, the replies can no longer be followed. */
		s->stats->pending_dropped++;
		free(p->sp);
		s->in_lost = true;
		return;
	}
	*pending_at(s, s->len++) = *p;
	if (s->len == 1)
		reply_starts(s);
}

/* ---- losing and finding the framing ---- */

/* parse_error: bytes that were not MySQL (else: bytes not captured). */
static void out_framing_lost(struct mysql_session *s, bool parse_error)
{
	s->stats->lost_sync++;
	s->stats->parse_errors += parse_error;
	if (!mysql_reader_at_boundary(&s->out))
		s->stats->commands_lost++;
	mysql_reader_reset(&s->out);
	s->out_lost = true;
	/* A command may have been lost: its reply would be taken for another's. */
	s->in_lost = true;
}

static void in_framing_lost(struct mysql_session *s, bool parse_error)
{
	if (!s->in_lost) {
		s->stats->lost_sync++;
		s->stats->parse_errors += parse_error;
	}
	mysql_reader_reset(&s->in);
	s->in_lost = true;
}

/* A known command byte. */
static bool command_byte(uint8_t c)
{
	return (c >= COM_QUIT && c <= COM_RESET_CONNECTION) || c == COM_STMT_BULK_EXECUTE;
}

/* A write that starts with a whole command's header: sequence id 0, a
 * command byte, a length that fits the write. */
static bool starts_command(const struct protocol_bytes *b)
{
	uint32_t len;

	if (b->captured < 5)
		return false;
	len = b->data[0] | (uint32_t)b->data[1] << 8 | (uint32_t)b->data[2] << 16;
	return len && b->data[3] == 0 && command_byte(b->data[4]) && len + 4 <= b->total;
}

/* The client writes a new command: every reply owed has been read (the
 * protocol answers before the next command), so what waits ends at the last
 * read, and replies are followed again from the next read. */
static void resync(struct mysql_session *s, const struct span_sink *sink)
{
	s->stats->unpaired += s->len;
	s->stats->resyncs++;
	end_pending(s, s->last_in, SPAN_F_LOST_SYNC, sink);
	mysql_reader_reset(&s->out);
	mysql_reader_reset(&s->in);
	s->out_lost = false;
	s->in_lost = false;
}

/*
 * After an SSLRequest, until the TLS library hands over the plaintext, the
 * handshake's records come through the socket too: skipped record by record
 * (a library may read a record's header and its body apart). Returns how
 * many of b's bytes they take from its start.
 */
static uint64_t tls_records(struct mysql_session *s, const struct protocol_bytes *b,
			    const struct mysql_reader *r, uint32_t *left)
{
	uint64_t off = 0;

	if (!s->tls || (s->phase != PHASE_TLS && s->phase != PHASE_AUTH) ||
	    !mysql_reader_at_boundary(r))
		return 0;
	while (off < b->total) {
		const uint8_t *p = b->data + off;

		if (*left) {
			uint64_t n = b->total - off < *left ? b->total - off : *left;

			off += n;
			*left -= (uint32_t)n;
			continue;
		}
		if (off + 5 > b->captured || p[0] < 20 || p[0] > 24 || p[1] != 3 || p[2] > 4)
			break;
		*left = 5 + ((uint32_t)p[3] << 8 | p[4]);
		s->stats->tls_skipped++;
	}
	return off;
}

/* b without its first n bytes. */
static struct protocol_bytes bytes_after(const struct protocol_bytes *b, uint64_t n)
{
	struct protocol_bytes rest = *b;
	size_t cut = n < b->captured ? (size_t)n : b->captured;

	rest.data = b->data ? b->data + cut : NULL;
	rest.captured = b->captured - cut;
	rest.total = b->total - n;
	rest.unseen = 0;
	rest.seq = b->seq + (uint32_t)n;
	return rest;
}

/* ---- the client's messages ---- */

static void handshake(struct mysql_session *s)
{
	struct mysql_handshake h;

	if (mysql_parse_handshake(s->out.buf, s->out.have, !s->out.gap && s->out.have == s->out.len,
				  &h)) {
		s->caps = h.caps & s->server_caps;
		if (h.ssl_request) {
			s->tls = true;
			s->phase = PHASE_TLS;
			return;
		}
		if (h.db)
			set_name(s->db, sizeof(s->db), h.db, h.db_len);
	}
	s->phase = PHASE_AUTH;
	s->out.keep = 0; /* auth data: never kept */
}

/* The database a COM_CHANGE_USER asks for: after the user name and the
 * auth response, both stepped over. */
static void change_user(struct mysql_session *s, const uint8_t *p, size_t n)
{
	struct mysql_buf b = { .p = p, .len = n, .off = 1 };
	const uint8_t *db;
	size_t len = 0;

	s->next_db[0] = '\0';
	mysql_get_cstr(&b, &len);
	if (s->caps & MYSQL_CAP_SECURE_CONN)
		mysql_skip_bytes(&b, mysql_get_int(&b, 1));
	else
		mysql_get_cstr(&b, &len);
	db = mysql_get_cstr(&b, &len);
	if (db)
		set_name(s->next_db, sizeof(s->next_db), db, len);
	s->phase = PHASE_AUTH;
	mysql_stmts_clear(&s->stmts);
}

/* A binary protocol value of this type (query attributes), stepped over. */
static void skip_value(struct mysql_buf *b, uint16_t type)
{
	switch (type & 0xff) {
	case 0x06: /* NULL */
		return;
	case 0x01: /* TINY */
		mysql_skip_bytes(b, 1);
		return;
	case 0x02: /* SHORT */
	case 0x0d: /* YEAR */
		mysql_skip_bytes(b, 2);
		return;
	case 0x03: /* LONG */
	case 0x04: /* FLOAT */
	case 0x09: /* INT24 */
		mysql_skip_bytes(b, 4);
		return;
	case 0x05: /* DOUBLE */
	case 0x08: /* LONGLONG */
		mysql_skip_bytes(b, 8);
		return;
	case 0x07: /* TIMESTAMP */
	case 0x0a: /* DATE */
	case 0x0b: /* TIME */
	case 0x0c: /* DATETIME */
		mysql_skip_bytes(b, mysql_get_int(b, 1));
		return;
	}
	mysql_skip_bytes(b, mysql_get_lenenc(b)); /* strings, decimals, blobs, JSON */
}

/* Where a COM_QUERY's text starts: after its query attributes (names and
 * values stepped over) when both sides speak them. -1 when it cannot tell. */
static long query_offset(const struct mysql_session *s, const uint8_t *p, size_t n)
{
	struct mysql_buf b = { .p = p, .len = n, .off = 1 }, types;
	uint64_t count;
	size_t bitmap;

	if (!(s->caps & MYSQL_CAP_QUERY_ATTRIBUTES))
		return 1;
	count = mysql_get_lenenc(&b);
	mysql_get_lenenc(&b); /* parameter sets: 1 */
	if (!count || b.bad)
		return b.bad ? -1 : (long)b.off;
	bitmap = b.off;
	mysql_skip_bytes(&b, (count + 7) / 8);
	if (mysql_get_int(&b, 1) != 1 || count > 4096)
		return -1;
	/* The types (each with the attribute's name), then the values: a
	 * cursor on each, in step. */
	types = b;
	for (uint64_t i = 0; i < count && !b.bad; i++) {
		mysql_skip_bytes(&b, 2);
		mysql_skip_bytes(&b, mysql_get_lenenc(&b));
	}
	for (uint64_t i = 0; i < count && !b.bad && !types.bad; i++) {
		uint16_t type = (uint16_t)mysql_get_int(&types, 2);

		mysql_skip_bytes(&types, mysql_get_lenenc(&types));
		if (!(p[bitmap + i / 8] & (1u << (i % 8)))) /* NULL: no value */
			skip_value(&b, type);
	}
	return b.bad || types.bad ? -1 : (long)b.off;
}

/* "USE name" (COM_QUERY): the database, once the server says OK. */
static void use_target(struct mysql_pending *p, const uint8_t *q, size_t n)
{
	size_t i = 0, start;

	while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r'))
		i++;
	if (n - i < 4 || strncasecmp((const char *)q + i, "USE", 3) ||
	    (q[i + 3] != ' ' && q[i + 3] != '\t' && q[i + 3] != '\n'))
		return;
	for (i += 3; i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n'); i++)
		;
	if (i < n && q[i] == '`') {
		start = ++i;
		while (i < n && q[i] != '`')
			i++;
	} else {
		start = i;
		while (i < n && q[i] != ' ' && q[i] != ';' && q[i] != '\t' && q[i] != '\n')
			i++;
	}
	if (i > start)
		set_name(p->use_db, sizeof(p->use_db), q + start, i - start);
}

/* A span from a query's text (COM_QUERY, COM_STMT_PREPARE). */
static struct span *query_span(struct mysql_session *s, struct mysql_pending *p)
{
	const struct mysql_reader *r = &s->out;
	struct span *sp = new_span(s);
	long off = p->cmd == COM_QUERY ? query_offset(s, r->buf, r->have) : 1;

	if (!sp)
		return NULL;
	if (off < 0 || (size_t)off > r->have) {
		snprintf(sp->db.operation, sizeof(sp->db.operation), "QUERY");
		return sp;
	}
	db_span_set_query(sp, s->settings, SQL_MYSQL, (const char *)r->buf + off,
			  r->have - (size_t)off);
	/* The capture ended before the text did. */
	if (r->gap || r->have < r->len)
		sp->flags |= SPAN_F_QUERY_TRUNCATED;
	if (!sp->db.operation[0])
		snprintf(sp->db.operation, sizeof(sp->db.operation), "QUERY");
	if (p->cmd == COM_QUERY && !strcmp(sp->db.operation, "USE"))
		use_target(p, r->buf + off, r->have - (size_t)off);
	return sp;
}

static struct span *named_span(struct mysql_session *s, const char *operation)
{
	struct span *sp = new_span(s);

	if (sp)
		snprintf(sp->db.operation, sizeof(sp->db.operation), "%s", operation);
	return sp;
}

static struct span *execute_span(struct mysql_session *s, struct mysql_pending *p)
{
	const struct mysql_reader *r = &s->out;
	const struct mysql_stmt *st = NULL;
	struct span *sp;

	if (r->have >= 5)
		st = mysql_stmts_find(&s->stmts, r->buf[1] | (uint32_t)r->buf[2] << 8 |
							 (uint32_t)r->buf[3] << 16 |
							 (uint32_t)r->buf[4] << 24);
	if (!st) {
		s->stats->stmts_unknown++;
		p->stmt_unknown = true;
		return named_span(s, "EXECUTE");
	}
	sp = new_span(s);
	if (sp)
		mysql_stmt_to_span(st, sp);
	return sp;
}

static uint32_t stmt_id(const struct mysql_reader *r)
{
	if (r->have < 5)
		return 0;
	return r->buf[1] | (uint32_t)r->buf[2] << 8 | (uint32_t)r->buf[3] << 16 |
	       (uint32_t)r->buf[4] << 24;
}

/* What to keep of a command, from its first byte: a query's text, a
 * statement's id, never a parameter value. */
static size_t keep_for(uint8_t cmd)
{
	switch (cmd) {
	case COM_QUERY:
	case COM_STMT_PREPARE:
		return MYSQL_QUERY_KEEP;
	case COM_INIT_DB:
		return 1 + SPAN_DB_NAMESPACE_LEN;
	case COM_CHANGE_USER:
		return KEEP_HANDSHAKE;
	case COM_STMT_EXECUTE:
	case COM_STMT_BULK_EXECUTE:
	case COM_STMT_CLOSE:
	case COM_STMT_RESET:
	case COM_STMT_FETCH:
		return 5;
	case COM_STMT_SEND_LONG_DATA:
		return 1;
	}
	return KEEP_COMMAND;
}

static void command(struct mysql_session *s, const struct span_sink *sink)
{
	const struct mysql_reader *r = &s->out;
	struct mysql_pending p = { .cmd = r->buf[0], .seq = (uint8_t)(r->last_seq + 1) };

	switch (p.cmd) {
	case COM_QUIT:
	case COM_STMT_SEND_LONG_DATA:
		return; /* no reply */
	case COM_STMT_CLOSE:
		mysql_stmts_remove(&s->stmts, stmt_id(r));
		return;
	case COM_BINLOG_DUMP:
	case COM_BINLOG_DUMP_GTID:
	case COM_REGISTER_SLAVE:
		s->phase = PHASE_IGNORED; /* replication: a stream, not replies */
		return;
	case COM_CHANGE_USER:
		change_user(s, r->buf, r->have);
		return;
	case COM_QUERY:
		p.sp = query_span(s, &p);
		break;
	case COM_STMT_PREPARE:
		p.sp = query_span(s, &p);
		p.expect = EXPECT_PREPARE;
		p.span_on_error = true;
		break;
	case COM_STMT_EXECUTE:
	case COM_STMT_BULK_EXECUTE:
		p.sp = execute_span(s, &p);
		break;
	case COM_INIT_DB:
		p.sp = named_span(s, "USE");
		set_name(p.use_db, sizeof(p.use_db), r->buf + 1, r->have - 1);
		break;
	case COM_PING:
		p.sp = named_span(s, "PING");
		break;
	case COM_FIELD_LIST:
		p.expect = EXPECT_FIELDS;
		break;
	case COM_STATISTICS:
		p.expect = EXPECT_STATS;
		break;
	case COM_STMT_FETCH:
		p.expect = EXPECT_ROWS;
		break;
	}
	if (p.sp && !p.span_on_error && sink->begin)
		sink->begin(sink->ctx, p.sp);
	s->commanded = true;
	push(s, &p);
}

static void out_message(struct mysql_session *s, const struct span_sink *sink)
{
	struct mysql_reader *r = &s->out;

	switch (s->phase) {
	case PHASE_HANDSHAKE:
	case PHASE_TLS:
		handshake(s);
		break;
	case PHASE_COMMAND:
		if (r->first_seq != 0) {
			/* A file sent for LOAD DATA LOCAL INFILE, or no command. */
			if (s->len && s->reply.state == R_INFILE)
				break;
			mysql_reader_wipe(r);
			out_framing_lost(s, true);
			return;
		}
		if (r->have)
			command(s, sink);
		r->keep = KEEP_COMMAND;
		break;
	}
	/* Nothing of a client's message outlives its handling. */
	mysql_reader_wipe(r);
}

/* ---- the server's messages ---- */

static void greeting(struct mysql_session *s)
{
	struct mysql_greeting g;

	if (!mysql_parse_greeting(s->in.buf, s->in.have, &g)) {
		s->phase = PHASE_IGNORED; /* an ERR (too many connections), or no MySQL */
		return;
	}
	s->system = g.mariadb ? SPAN_DB_MARIADB : SPAN_DB_MYSQL;
	s->server_caps = g.caps;
	s->phase = PHASE_HANDSHAKE;
}

/* An OK packet's session state may say the current database changed. */
static void ok_schema(struct mysql_session *s, const struct mysql_ok *ok)
{
	if (ok->schema)
		set_name(s->db, sizeof(s->db), ok->schema, ok->schema_len);
}

static void auth_reply(struct mysql_session *s)
{
	const uint8_t *p = s->in.buf;
	struct mysql_ok ok;

	if (!s->in.have)
		return;
	if (p[0] == 0xff) {
		s->phase = PHASE_IGNORED; /* refused: the server closes */
		return;
	}
	if (p[0] != 0x00)
		return; /* auth switch, more data */
	if (s->next_db[0]) {
		memcpy(s->db, s->next_db, sizeof(s->db));
		s->next_db[0] = '\0';
	}
	if (mysql_parse_ok(p, s->in.have, s->caps, &ok))
		ok_schema(s, &ok);
	if (s->caps & (MYSQL_CAP_COMPRESS | MYSQL_CAP_ZSTD)) {
		s->stats->compressed++;
		s->phase = PHASE_IGNORED;
		return;
	}
	s->phase = PHASE_COMMAND;
	s->out.keep = KEEP_COMMAND;
	s->out.ask_first = true;
}

/* The oldest command's reply is complete. */
static void finish(struct mysql_session *s, uint64_t ts, const struct span_sink *sink)
{
	struct mysql_reply reply = s->reply;
	struct mysql_pending p = pop(s);

	if (!reply.error) {
		if (p.use_db[0])
			memcpy(s->db, p.use_db, sizeof(s->db));
		if (p.cmd == COM_RESET_CONNECTION)
			mysql_stmts_clear(&s->stmts);
	}
	if (!p.sp)
		return;
	if (p.span_on_error && !reply.error) {
		free(p.sp);
		return;
	}
	if (reply.error) {
		p.sp->flags |= SPAN_F_DB_ERROR;
		snprintf(p.sp->db.status_code, sizeof(p.sp->db.status_code), "%u", reply.code);
	}
	p.sp->db.returned_rows = reply.rows;
	if (p.span_on_error && sink->begin)
		sink->begin(sink->ctx, p.sp); /* a failed PREPARE: no EXECUTE began */
	emit(s, p.sp, ts, sink);
}

/* PREPARE_OK: the statement's id, and how many definitions follow. */
static void prepare_ok(struct mysql_session *s, const uint8_t *p, size_t n)
{
	struct mysql_pending *head = pending_at(s, 0);
	uint32_t id = p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
	uint16_t cols = p[5] | (uint16_t)p[6] << 8, params = p[7] | (uint16_t)p[8] << 8;
	bool evicted = false;

	if (head->sp && mysql_stmts_add(&s->stmts, id, head->sp, &evicted) && evicted)
		s->stats->stmts_evicted++;
	/* With optional metadata the definitions may be left out. */
	if ((s->caps & MYSQL_CAP_OPTIONAL_META) && n >= 13 && !p[12])
		cols = params = 0;
	s->reply.pcols = cols;
	if (params) {
		s->reply.state = R_PARAMS;
		s->reply.left = params;
	} else if (cols) {
		s->reply.state = R_PCOLUMNS;
		s->reply.left = cols;
	}
}

/* A result set's first packet: its column count (and whether the column
 * definitions follow). */
static bool result_set(struct mysql_session *s, const uint8_t *p, size_t n)
{
	struct mysql_buf b = { .p = p, .len = n };
	uint64_t cols = mysql_get_lenenc(&b);
	bool meta = true;

	if (b.bad || !cols)
		return false;
	if ((s->caps & (MYSQL_CAP_OPTIONAL_META | MARIADB_CAP_CACHE_META)) && b.off < n)
		meta = p[b.off] != 0;
	if (s->reply.rows < 0)
		s->reply.rows = 0;
	s->reply.left = cols;
	if (meta)
		s->reply.state = R_COLUMNS;
	else
		s->reply.state = s->caps & MYSQL_CAP_DEPRECATE_EOF ? R_ROWS : R_COLUMNS_EOF;
	return true;
}

/* The end of a result set (EOF, or OK with CLIENT_DEPRECATE_EOF): more may
 * follow. */
static void result_end(struct mysql_session *s, uint64_t ts, const struct span_sink *sink)
{
	const uint8_t *p = s->in.buf;
	uint16_t status = 0;
	struct mysql_ok ok;

	if (s->caps & MYSQL_CAP_DEPRECATE_EOF) {
		if (mysql_parse_ok(p, s->in.have, s->caps, &ok)) {
			status = ok.status;
			ok_schema(s, &ok);
		}
	} else {
		mysql_parse_eof(p, s->in.have, &status);
	}
	if (status & MYSQL_STATUS_MORE_RESULTS)
		s->reply.state = R_START;
	else
		finish(s, ts, sink);
}

/* The first packet of a reply (or of the next result of several). */
static void reply_start(struct mysql_session *s, uint8_t expect, uint64_t ts,
			const struct span_sink *sink)
{
	const uint8_t *p = s->in.buf;
	size_t n = s->in.have;
	struct mysql_ok ok;

	if (expect == EXPECT_STATS) {
		finish(s, ts, sink);
	} else if (expect == EXPECT_PREPARE) {
		if (p[0] != 0x00 || n < 9) {
			in_framing_lost(s, true);
			return;
		}
		prepare_ok(s, p, n);
		if (s->reply.state == R_START)
			finish(s, ts, sink);
	} else if (expect == EXPECT_ROWS) {
		s->reply.state = R_ROWS;
		if (mysql_is_eof(p, n, s->in.len))
			result_end(s, ts, sink);
	} else if (expect == EXPECT_FIELDS) {
		s->reply.state = R_FIELDS;
		if (mysql_is_eof(p, n, s->in.len))
			finish(s, ts, sink);
	} else if (p[0] == 0x00 && s->in.len >= 7) {
		if (!mysql_parse_ok(p, n, s->caps, &ok)) {
			in_framing_lost(s, true);
			return;
		}
		ok_schema(s, &ok);
		if (!(ok.status & MYSQL_STATUS_MORE_RESULTS))
			finish(s, ts, sink);
	} else if (mysql_is_eof(p, n, s->in.len)) {
		finish(s, ts, sink); /* COM_SET_OPTION, COM_DEBUG */
	} else if (p[0] == 0xfb) {
		s->stats->local_infile++;
		s->reply.state = R_INFILE;
	} else if (!result_set(s, p, n)) {
		in_framing_lost(s, true);
	}
}

static void reply_message(struct mysql_session *s, uint64_t ts, const struct span_sink *sink)
{
	const uint8_t *p = s->in.buf;
	struct mysql_reply *rp = &s->reply;
	struct mysql_pending *head;
	struct mysql_err err;
	bool eof;

	if (!s->len) {
		s->stats->orphan_replies++;
		return;
	}
	if (!s->in.have) {
		in_framing_lost(s, true);
		return;
	}
	if (rp->state != R_INFILE && s->in.first_seq != rp->seq) {
		in_framing_lost(s, true);
		return;
	}
	rp->seq = (uint8_t)(s->in.last_seq + 1);
	/* MariaDB's progress reports look like errors, and are no reply. */
	if (p[0] == 0xff && mysql_parse_err(p, s->in.have, &err) && err.code == 0xffff)
		return;
	head = pending_at(s, 0);
	if (p[0] == 0xff && rp->state != R_COLUMNS && rp->state != R_PARAMS &&
	    rp->state != R_PCOLUMNS) {
		mysql_parse_err(p, s->in.have, &err);
		rp->error = true;
		rp->code = err.code;
		finish(s, ts, sink);
		return;
	}
	eof = mysql_is_eof(p, s->in.have, s->in.len);
	switch (rp->state) {
	case R_START:
	case R_INFILE:
		reply_start(s, head->expect, ts, sink);
		return;
	case R_COLUMNS:
		if (!--rp->left)
			rp->state = s->caps & MYSQL_CAP_DEPRECATE_EOF ? R_ROWS : R_COLUMNS_EOF;
		return;
	case R_COLUMNS_EOF:
		if (eof) {
			uint16_t status = 0;

			mysql_parse_eof(p, s->in.have, &status);
			rp->state = R_ROWS;
			/* A cursor: the rows come with COM_STMT_FETCH. */
			if (status & MYSQL_STATUS_CURSOR_EXISTS)
				finish(s, ts, sink);
			return;
		}
		rp->state = R_ROWS; /* no EOF: metadata left out */
				    /* fall through */
	case R_ROWS:
		if (eof)
			result_end(s, ts, sink);
		else
			rp->rows++;
		return;
	case R_PARAMS:
		if (!--rp->left && !(s->caps & MYSQL_CAP_DEPRECATE_EOF))
			rp->state = R_PARAMS_EOF;
		else if (!rp->left)
			goto params_done;
		return;
	case R_PARAMS_EOF:
	params_done:
		if (!rp->pcols) {
			finish(s, ts, sink);
			return;
		}
		rp->state = R_PCOLUMNS;
		rp->left = rp->pcols;
		return;
	case R_PCOLUMNS:
		if (--rp->left)
			return;
		if (!(s->caps & MYSQL_CAP_DEPRECATE_EOF)) {
			rp->state = R_PCOLUMNS_EOF;
			return;
		}
		finish(s, ts, sink);
		return;
	case R_PCOLUMNS_EOF:
		finish(s, ts, sink);
		return;
	case R_FIELDS:
		if (eof)
			finish(s, ts, sink);
		return;
	}
}

static void in_message(struct mysql_session *s, uint64_t ts, const struct span_sink *sink)
{
	switch (s->phase) {
	case PHASE_GREETING:
		greeting(s);
		break;
	case PHASE_AUTH:
		auth_reply(s);
		break;
	case PHASE_COMMAND:
		reply_message(s, ts, sink);
		break;
	}
	/* Rows need a few bytes each; an OK's session state more. */
	s->in.keep = s->reply.state == R_START || s->reply.state == R_INFILE ? KEEP_REPLY_HEAD
									     : KEEP_REPLY_ROW;
}

/* ---- feeding ---- */

/* The sequence id the next message of each direction must start with, so
 * that bytes which are no reply (or no command) are not followed for the
 * length their first bytes seem to give. */
static void expect_seq(struct mysql_session *s)
{
	bool infile = s->len && s->reply.state == R_INFILE;

	s->in.check_seq = s->phase == PHASE_COMMAND && s->len && !infile;
	s->in.want_seq = s->reply.seq;
	s->out.check_seq = s->phase == PHASE_COMMAND && !infile;
	s->out.want_seq = 0;
}

/* gap: r says what bytes not captured did. */
static void in_result(struct mysql_session *s, enum mysql_read r, bool gap, uint64_t ts,
		      const struct span_sink *sink)
{
	if (r == MYSQL_BAD && s->phase < PHASE_COMMAND)
		mysql_reader_reset(&s->in); /* the next read starts afresh */
	else if (r == MYSQL_BAD)
		in_framing_lost(s, !gap);
	else if (r == MYSQL_MESSAGE)
		in_message(s, ts, sink);
}

/*
 * Bytes not seen before these: before the command phase they are ignored
 * (around a TLS handshake, ciphertext and plaintext share the byte count,
 * so a gap shows that is none), and so they are for the first command after
 * it.
 */
static bool gap_counts(const struct mysql_session *s)
{
	return s->phase == PHASE_COMMAND && !(s->tls && !s->commanded);
}

static void feed_in(struct mysql_session *s, const struct protocol_bytes *b,
		    const struct span_sink *sink)
{
	uint64_t tls = tls_records(s, b, &s->in, &s->tls_left[0]);
	struct protocol_bytes rest;
	size_t off = 0;

	s->last_in = b->ts;
	if (tls) {
		if (tls == b->total)
			return;
		rest = bytes_after(b, tls);
		b = &rest;
	}
	if (s->in_lost)
		return;
	expect_seq(s);
	if (b->unseen && gap_counts(s))
		in_result(s, mysql_skip(&s->in, b->unseen), true, b->ts, sink);
	while (off < b->captured && !s->in_lost && s->phase != PHASE_IGNORED) {
		size_t used = 0;
		enum mysql_read r = mysql_read(&s->in, b->data + off, b->captured - off, &used);

		off += used;
		in_result(s, r, false, b->ts, sink);
		expect_seq(s);
	}
	if (!s->in_lost && s->phase != PHASE_IGNORED)
		in_result(s, mysql_skip(&s->in, b->total - b->captured), true, b->ts, sink);
}

static void out_result(struct mysql_session *s, enum mysql_read r, bool gap,
		       const struct span_sink *sink)
{
	if (r == MYSQL_BAD && s->phase < PHASE_COMMAND)
		mysql_reader_reset(&s->out);
	else if (r == MYSQL_BAD)
		out_framing_lost(s, !gap);
	else if (r == MYSQL_FIRST && s->phase == PHASE_COMMAND && s->out.first_seq == 0 &&
		 !command_byte(s->out.buf[0]))
		out_framing_lost(s, true);
	else if (r == MYSQL_FIRST)
		s->out.keep = keep_for(s->out.buf[0]);
	else if (r == MYSQL_MESSAGE)
		out_message(s, sink);
}

static void feed_out(struct mysql_session *s, const struct protocol_bytes *b,
		     const struct span_sink *sink)
{
	uint64_t tls = tls_records(s, b, &s->out, &s->tls_left[1]);
	struct protocol_bytes rest;
	size_t off = 0;

	if (tls) {
		if (tls == b->total)
			return;
		rest = bytes_after(b, tls);
		b = &rest;
	}
	expect_seq(s);
	if (b->unseen && !s->out_lost && gap_counts(s))
		out_result(s, mysql_skip(&s->out, b->unseen), true, sink);
	/* Only a write that starts with a command finds the way back. */
	if (s->phase == PHASE_COMMAND && s->out_lost) {
		if (!starts_command(b))
			return;
		resync(s, sink);
	} else if (s->phase == PHASE_COMMAND && s->in_lost && mysql_reader_at_boundary(&s->out) &&
		   starts_command(b)) {
		resync(s, sink);
	}
	while (off < b->captured && !s->out_lost && s->phase != PHASE_IGNORED) {
		size_t used = 0;
		enum mysql_read r;

		if (mysql_reader_at_boundary(&s->out)) {
			s->cmd_start = b->ts;
			s->cmd_seq = b->seq + (uint32_t)off;
			s->cmd_seq_kind = b->seq_kind;
			expect_seq(s);
		}
		r = mysql_read(&s->out, b->data + off, b->captured - off, &used);
		off += used;
		out_result(s, r, false, sink);
	}
	if (!s->out_lost && s->phase != PHASE_IGNORED)
		out_result(s, mysql_skip(&s->out, b->total - b->captured), true, sink);
}

/* A connection whose role the kernel could not tell: the greeting shows it. */
static void learn_role(struct mysql_session *s, const struct protocol_bytes *b)
{
	struct mysql_greeting g;

	if (b->captured > 4 && b->data[3] == 0 &&
	    mysql_parse_greeting(b->data + 4, b->captured - 4, &g)) {
		s->role = b->ingress ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER;
		if (s->role == SONDE_ROLE_SERVER)
			s->stats->server_sessions++;
		return;
	}
	s->role = SONDE_ROLE_CLIENT;
	s->phase = PHASE_IGNORED;
	s->stats->not_traced++;
}

void mysql_session_feed(void *session, const struct protocol_bytes *b, const struct span_sink *sink)
{
	struct mysql_session *s = session;

	if (s->role == SONDE_ROLE_UNKNOWN)
		learn_role(s, b);
	/* A traced database server: its clients' spans are theirs to make. */
	if (s->role == SONDE_ROLE_SERVER || s->phase == PHASE_IGNORED)
		return;
	if (s->phase == PHASE_GREETING && !b->ingress) {
		/* The client spoke first: not a connection seen from its start. */
		s->phase = PHASE_IGNORED;
		s->stats->not_traced++;
		return;
	}
	if (b->ingress)
		feed_in(s, b, sink);
	else
		feed_out(s, b, sink);
}

void mysql_session_close(void *session, uint64_t ts, const struct span_sink *sink)
{
	struct mysql_session *s = session;

	end_pending(s, ts, SPAN_F_NO_RESPONSE, sink);
}

void mysql_session_free(void *session)
{
	struct mysql_session *s = session;

	while (s->len) {
		struct mysql_pending p = pop(s);

		free(p.sp);
	}
	free(s->queue);
	s->queue = NULL;
	mysql_stmts_clear(&s->stmts);
	mysql_reader_free(&s->out);
	mysql_reader_free(&s->in);
}

uint32_t mysql_session_in_flight(const void *session)
{
	const struct mysql_session *s = session;

	return s->len;
}
