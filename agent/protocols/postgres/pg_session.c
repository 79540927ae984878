/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "protocols/postgres/pg_session.h"
#include "protocols/span_identity.h"
#include "protocols/sql/db_query.h"
#include "sonde_event.h"

/* Chunks looked at for a message boundary on a connection found open, before
 * it is given up on as not traced. */
#define PG_HUNT_MAX 16
/* Bytes at the end of a chunk searched for the end of a reply. */
#define PG_TAIL_SCAN 1024

enum pg_phase {
	PHASE_START = 0, /* nothing seen yet: a start-up, or a connection already open */
	PHASE_STARTUP,	 /* the client speaks the start-up family (untyped) */
	PHASE_TLS,	 /* SSLRequest answered 'S': the plaintext StartupMessage is due */
	PHASE_READY,	 /* typed messages both ways */
	PHASE_OFF,	 /* not traced: a server's view, encrypted, cancelled, not PostgreSQL */
};

enum op_kind {
	OP_STARTUP,  /* answered by authentication, then ReadyForQuery */
	OP_SSL,	     /* SSLRequest or GSSENCRequest: answered by one byte */
	OP_QUERY,    /* a span, ended by ReadyForQuery */
	OP_PARSE,    /* ParseComplete */
	OP_BIND,     /* BindComplete */
	OP_DESCRIBE, /* [ParameterDescription] RowDescription or NoData */
	OP_EXECUTE,  /* a span: rows, then CommandComplete (or …) */
	OP_CLOSE,    /* CloseComplete */
	OP_SYNC,     /* ReadyForQuery */
	OP_FUNCTION, /* FunctionCallResponse, ReadyForQuery */
};

struct pg_op {
	uint8_t kind;
	bool replied;  /* some reply came for it */
	bool rowset;   /* the current result returns rows (RowDescription) */
	bool copy_out; /* the current result is a COPY TO STDOUT */
	bool error;
	char code[8];	   /* SQLSTATE of the error */
	uint32_t flags;	   /* SPAN_F_* the span gets besides its statement's */
	uint64_t start;	   /* the command's first byte */
	uint64_t datarows; /* DataRows of the current result */
	int64_t rows;	   /* rows returned so far, -1 when not told */
	/* The statement: the Query's text, the Execute's, the one a Parse,
	 * Bind or Describe names (NULL when unknown). */
	struct pg_stmt *stmt;
	struct span_identity id; /* what the core gave its span when it began */
};

struct feed_ctx {
	struct pg_session *s;
	const struct span_sink *sink;
};

void pg_session_init(struct pg_session *s, uint8_t role, const struct protocol_settings *settings,
		     struct postgres_stats *stats)
{
	memset(s, 0, sizeof(*s));
	s->role = role;
	s->settings = settings;
	s->stats = stats;
}

/* ---- spans ---- */

/* The command was written: the core gives its span an identity now, while
 * the event that carried it (its thread, its request) is the current one. */
static void begin_op(struct pg_op *op, const struct span_sink *sink)
{
	struct span sp;

	if (!op)
		return;
	memset(&sp, 0, sizeof(sp));
	sp.kind = SPAN_CLIENT;
	sp.flags = SPAN_F_DB;
	sp.start_ns = op->start;
	sp.db.system = SPAN_DB_POSTGRESQL;
	span_identity_begin(&op->id, &sp, sink);
}

static struct span *make_span(struct pg_session *s, const struct pg_op *op, uint64_t end,
			      const struct span_sink *sink)
{
	struct span *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->kind = SPAN_CLIENT;
	sp->flags = SPAN_F_DB | op->flags;
	sp->start_ns = op->start;
	sp->end_ns = end > op->start ? end : op->start;
	sp->db.system = SPAN_DB_POSTGRESQL;
	sp->db.returned_rows = op->rows;
	memcpy(sp->db.name_space, s->database, sizeof(sp->db.name_space));
	if (op->stmt)
		pg_stmt_to_span(op->stmt, sp);
	if (op->error) {
		sp->flags |= SPAN_F_DB_ERROR;
		memcpy(sp->db.status_code, op->code, sizeof(op->code));
	}
	if (op->id.begun)
		span_identity_apply(sp, &op->id);
	else if (sink->begin)
		sink->begin(sink->ctx, sp); /* a statement's error: no Execute began */
	return sp;
}

static void emit(struct pg_session *s, struct span *sp, const struct span_sink *sink)
{
	if (!sp)
		return;
	s->stats->spans++;
	sink->emit(sink->ctx, sp);
	free(sp);
}

/* The last finished Execute waits for the ReadyForQuery of its Sync: an
 * error raised at Sync is its. */
static void hold(struct pg_session *s, struct span *sp, const struct span_sink *sink)
{
	emit(s, s->held, sink);
	s->held = sp;
}

static void release_held(struct pg_session *s, const struct span_sink *sink)
{
	emit(s, s->held, sink);
	s->held = NULL;
}

/* ---- messages awaiting replies ---- */

static struct pg_op *op_at(struct pg_session *s, uint32_t i)
{
	return &s->ops[(s->op_head + i) % s->ops_cap];
}

static struct pg_op *op_first(struct pg_session *s)
{
	return s->nops ? op_at(s, 0) : NULL;
}

static bool is_command(const struct pg_op *op)
{
	return op->kind == OP_QUERY || op->kind == OP_EXECUTE;
}

/* Whether the op ends a group: the server is ready for a query after it. */
static bool ends_group(const struct pg_op *op)
{
	return op->kind == OP_SYNC || op->kind == OP_QUERY || op->kind == OP_FUNCTION ||
	       op->kind == OP_STARTUP;
}

static void op_pop(struct pg_session *s)
{
	struct pg_op *op = op_first(s);

	pg_stmt_unref(op->stmt);
	op->stmt = NULL;
	s->op_head = (s->op_head + 1) % s->ops_cap;
	s->nops--;
}

/* Commands whose replies will not be paired: dropped, counted. */
static void drop_ops(struct pg_session *s)
{
	while (s->nops) {
		if (is_command(op_first(s)))
			s->stats->commands_dropped++;
		op_pop(s);
	}
}

/* Bad state for pairing (queue full, frontend framing lost): what is queued
 * is dropped and replies are ignored until the backend shows a boundary. */
static void lose_pairing(struct pg_session *s)
{
	drop_ops(s);
	s->skipping = false;
	s->chain_start = 0;
	s->chain_keep = false;
	if (!s->be.lost)
		pg_stream_lose(&s->be);
}

static bool grow_ops(struct pg_session *s)
{
	uint32_t cap = s->ops_cap ? s->ops_cap * 2 : 32;
	struct pg_op *ops;

	if (s->ops_cap >= PG_OPS_MAX)
		return false;
	ops = calloc(cap, sizeof(*ops));
	if (!ops)
		return false;
	for (uint32_t i = 0; i < s->nops; i++)
		ops[i] = *op_at(s, i);
	free(s->ops);
	s->ops = ops;
	s->ops_cap = cap;
	s->op_head = 0;
	return true;
}

/*
 * The backend lost its framing inside a reply, and the client sends a new
 * command: a client that does not pipeline has read the replies it was
 * waiting for, so the commands whose replies had begun are over. They end
 * at the last bytes read, marked; the new command's reply can be found at
 * the start of a read (backend_boundary).
 */
static void settle_group(struct pg_session *s, uint64_t end_ts, const struct span_sink *sink)
{
	bool end = false;

	while (s->nops && !end) {
		struct pg_op *op = op_first(s);

		end = ends_group(op);
		if (is_command(op)) {
			op->flags |= SPAN_F_LOST_SYNC;
			op->rows = -1;
			hold(s, make_span(s, op, end_ts, sink), sink);
		}
		op_pop(s);
	}
	release_held(s, sink);
}

static void settle_lost_replies(struct pg_session *s, const struct span_sink *sink)
{
	while (s->nops && op_first(s)->replied)
		settle_group(s, s->last_be_ts, sink);
}

static struct pg_op *op_push(struct pg_session *s, uint8_t kind, uint64_t start,
			     struct pg_stmt *stmt)
{
	struct pg_op *op;

	if (s->nops >= s->ops_cap && !grow_ops(s)) {
		s->stats->commands_dropped += kind == OP_QUERY || kind == OP_EXECUTE;
		pg_stmt_unref(stmt);
		lose_pairing(s);
		return NULL;
	}
	op = op_at(s, s->nops++);
	*op = (struct pg_op){ .kind = kind, .start = start, .rows = -1, .stmt = stmt };
	return op;
}

/* ---- the frontend ---- */

static void chain_begin(struct pg_session *s, uint64_t ts)
{
	if (!s->chain_start)
		s->chain_start = ts;
}

static void chain_end(struct pg_session *s)
{
	s->chain_start = 0;
	s->chain_keep = false;
}

/* A name at *off: false when it was not all kept. */
static bool name_at(const struct pg_msg *m, size_t *off, const char **name, size_t *n)
{
	return pg_cstring(m->body, off, name, n);
}

/* A statement from query text: as it will be exported, summarised. */
static struct pg_stmt *stmt_from_text(struct pg_session *s, const struct pg_msg *m, size_t off)
{
	struct span tmp;
	const char *q;
	size_t n;

	memset(&tmp, 0, sizeof(tmp));
	pg_cstring(m->body, &off, &q, &n);
	db_span_set_query(&tmp, s->settings, SQL_POSTGRESQL, q, n);
	if (m->cut)
		tmp.flags |= SPAN_F_HEAD_TRUNCATED;
	return pg_stmt_new(&tmp);
}

static void on_query(struct pg_session *s, const struct pg_msg *m, const struct span_sink *sink)
{
	begin_op(op_push(s, OP_QUERY, m->ts, stmt_from_text(s, m, 0)), sink);
	/* A simple Query destroys the unnamed statement and portal. */
	pg_stmts_drop(&s->stmts, "", 0, NULL);
	pg_portal_drop(&s->stmts, "", 0);
	chain_end(s);
}

static void on_parse(struct pg_session *s, const struct pg_msg *m)
{
	const char *name;
	size_t off = 0, n;
	struct pg_stmt *st = NULL;
	int evicted;

	chain_begin(s, m->ts);
	if (name_at(m, &off, &name, &n)) {
		st = stmt_from_text(s, m, off);
		evicted = st ? pg_stmts_put(&s->stmts, name, n, st) : 0;
		if (evicted > 0)
			s->stats->statements_evicted += (uint64_t)evicted;
		if (!n)
			s->chain_keep = true;
	}
	op_push(s, OP_PARSE, s->chain_start, st);
}

static void on_bind(struct pg_session *s, const struct pg_msg *m)
{
	const char *portal, *name;
	size_t off = 0, pn, n;
	struct pg_stmt *st = NULL;

	chain_begin(s, m->ts);
	/* The portal and statement names, and nothing after: the parameter
	 * values that follow are never read. */
	if (name_at(m, &off, &portal, &pn)) {
		if (name_at(m, &off, &name, &n))
			st = pg_stmts_get(&s->stmts, name, n);
		pg_portal_put(&s->stmts, portal, pn, st);
	}
	op_push(s, OP_BIND, s->chain_start, pg_stmt_ref(st));
}

static void on_describe(struct pg_session *s, const struct pg_msg *m)
{
	const char *name;
	size_t off = 1, n;
	struct pg_stmt *st = NULL;

	chain_begin(s, m->ts);
	if (m->body.n && name_at(m, &off, &name, &n))
		st = m->body.p[0] == 'S' ? pg_stmts_get(&s->stmts, name, n)
					 : pg_portal_get(&s->stmts, name, n);
	op_push(s, OP_DESCRIBE, s->chain_start, pg_stmt_ref(st));
}

static void on_execute(struct pg_session *s, const struct pg_msg *m, const struct span_sink *sink)
{
	const char *portal;
	size_t off = 0, n;
	struct pg_stmt *st = NULL;

	chain_begin(s, m->ts);
	if (name_at(m, &off, &portal, &n))
		st = pg_portal_get(&s->stmts, portal, n);
	if (!st)
		s->stats->statements_unknown++;
	begin_op(op_push(s, OP_EXECUTE, s->chain_start, pg_stmt_ref(st)), sink);
	chain_end(s);
}

static void on_close_stmt(struct pg_session *s, const struct pg_msg *m)
{
	const char *name;
	size_t off = 1, n;

	if (m->body.n && name_at(m, &off, &name, &n)) {
		if (m->body.p[0] == 'S')
			pg_stmts_drop(&s->stmts, name, n, NULL);
		else
			pg_portal_drop(&s->stmts, name, n);
	}
	op_push(s, OP_CLOSE, m->ts, NULL);
}

static void on_startup(struct pg_session *s, const struct pg_msg *m)
{
	uint32_t code = m->body.n >= 4 ? pg_be32(m->body.p) : 0;
	struct pg_body params = { m->body.p + 4, m->body.n >= 4 ? m->body.n - 4 : 0 };
	const char *db;
	size_t n;

	switch (pg_startup_kind(m->len + 4, code)) {
	case PG_STARTUP:
		if (pg_startup_database(params, &db, &n))
			db_copy_str(s->database, sizeof(s->database), db, n);
		s->phase = PHASE_READY;
		op_push(s, OP_STARTUP, m->ts, NULL);
		break;
	case PG_STARTUP_SSL:
	case PG_STARTUP_GSSENC:
		op_push(s, OP_SSL, m->ts, NULL);
		break;
	case PG_STARTUP_CANCEL:
		s->stats->cancel_requests++;
		s->phase = PHASE_OFF;
		break;
	default:
		s->stats->parse_errors++;
		s->stats->conns_not_traced++;
		s->phase = PHASE_OFF;
		break;
	}
}

static void on_frontend(void *ctx, const struct pg_msg *m)
{
	struct feed_ctx *fc = ctx;
	struct pg_session *s = fc->s;

	if (m->type == 0) {
		on_startup(s, m);
		return;
	}
	if (s->be.lost && strchr("QPBDECSF", m->type))
		settle_lost_replies(s, fc->sink);
	/* After an error the server discards everything up to Sync. */
	if (s->skipping && m->type != PG_F_SYNC) {
		if (m->type == PG_F_EXECUTE)
			s->stats->executes_skipped++;
		return;
	}
	switch (m->type) {
	case PG_F_QUERY:
		on_query(s, m, fc->sink);
		break;
	case PG_F_PARSE:
		on_parse(s, m);
		break;
	case PG_F_BIND:
		on_bind(s, m);
		break;
	case PG_F_DESCRIBE:
		on_describe(s, m);
		break;
	case PG_F_EXECUTE:
		on_execute(s, m, fc->sink);
		break;
	case PG_F_CLOSE:
		on_close_stmt(s, m);
		break;
	case PG_F_SYNC:
		s->skipping = false;
		op_push(s, OP_SYNC, m->ts, NULL);
		if (!s->chain_keep)
			chain_end(s);
		break;
	case PG_F_FUNCTION_CALL:
		op_push(s, OP_FUNCTION, m->ts, NULL);
		chain_end(s);
		break;
	default: /* Flush, Terminate, COPY data, authentication: no reply of their own */
		break;
	}
}

static enum pg_frame frame_fe(void *ctx)
{
	struct pg_session *s = ((struct feed_ctx *)ctx)->s;

	return s->phase == PHASE_READY ? PG_FRAME_TYPED : PG_FRAME_STARTUP;
}

static uint32_t keep_fe(void *ctx, uint8_t type, uint32_t len)
{
	(void)ctx;
	switch (type) {
	case 0:
		return len;
	case PG_F_QUERY:
	case PG_F_PARSE:
		return PG_KEEP_TEXT;
	case PG_F_BIND:
	case PG_F_EXECUTE:
	case PG_F_DESCRIBE:
	case PG_F_CLOSE:
		return PG_KEEP_SMALL;
	}
	return 0; /* passwords, COPY data, function arguments: never kept */
}

static const struct pg_stream_ops fe_ops = {
	.frame = frame_fe,
	.keep = keep_fe,
	.plausible = pg_frontend_plausible,
	.message = on_frontend,
};

/* ---- the backend ---- */

/* The first error of a command is the one that counts. */
static void set_error(struct pg_op *op, const struct pg_msg *m)
{
	const char *code;
	size_t n;

	if (op->error)
		return;
	op->error = true;
	if (pg_error_code(m->body, &code, &n))
		db_copy_str(op->code, sizeof(op->code), code, n);
}

static void set_span_error(struct span *sp, const struct pg_msg *m)
{
	struct pg_op tmp = { 0 };

	if (sp->flags & SPAN_F_DB_ERROR)
		return;
	set_error(&tmp, m);
	sp->flags |= SPAN_F_DB_ERROR;
	memcpy(sp->db.status_code, tmp.code, sizeof(tmp.code));
}

/* A result ends (CommandComplete, PortalSuspended): its rows are added. */
static void end_result(struct pg_op *op, const struct pg_msg *m)
{
	char verb[16] = "";
	int64_t rows = -1, tag_rows = -1;

	if (m->type == PG_B_COMMAND_COMPLETE)
		pg_command_tag(m->body, verb, sizeof(verb), &tag_rows);
	if (tag_rows >= 0 && (!strcmp(verb, "SELECT") || !strcmp(verb, "FETCH") ||
			      (!strcmp(verb, "COPY") && op->copy_out)))
		rows = tag_rows;
	else if (op->rowset || op->datarows || m->type == PG_B_PORTAL_SUSPENDED)
		rows = (int64_t)op->datarows;
	if (rows >= 0)
		op->rows = (op->rows < 0 ? 0 : op->rows) + rows;
	op->rowset = op->copy_out = false;
	op->datarows = 0;
}

/* Row data, COPY and errors of a Query's or an Execute's reply. */
static void result_message(struct pg_op *op, const struct pg_msg *m)
{
	switch (m->type) {
	case PG_B_ROW_DESCRIPTION:
		op->rowset = true;
		break;
	case PG_B_DATA_ROW:
		op->datarows++;
		break;
	case PG_B_COPY_OUT:
		op->copy_out = true;
		break;
	case PG_B_COMMAND_COMPLETE:
	case PG_B_PORTAL_SUSPENDED:
		end_result(op, m);
		break;
	case PG_B_ERROR:
		set_error(op, m);
		break;
	}
}

/* The Execute a Parse, Bind or Describe was building towards, before the
 * Sync: its index in the queue, or 0 when there is none. */
static uint32_t next_execute(struct pg_session *s)
{
	for (uint32_t i = 1; i < s->nops; i++) {
		struct pg_op *op = op_at(s, i);

		if (ends_group(op))
			break;
		if (op->kind == OP_EXECUTE)
			return i;
	}
	return 0;
}

/* An ErrorResponse in the extended protocol: the span of the command that
 * failed, then everything up to Sync is skipped by the server. */
static void extended_error(struct pg_session *s, const struct pg_msg *m,
			   const struct span_sink *sink)
{
	struct pg_op *op = op_first(s);
	uint32_t exec = op->kind == OP_EXECUTE ? 0 : next_execute(s);
	struct pg_op *cmd = exec ? op_at(s, exec) : op;

	set_error(cmd, m);
	if (cmd != op)
		cmd->start = op->start < cmd->start ? op->start : cmd->start;
	hold(s, make_span(s, cmd, m->ts, sink), sink);
	if (op->kind == OP_PARSE && op->stmt) {
		pg_stmts_forget(&s->stmts, op->stmt); /* never created */
		if (s->chain_start == op->start)
			chain_end(s);
	}
	for (uint32_t i = 0; s->nops && op_first(s)->kind != OP_SYNC; i++) {
		if (op_first(s)->kind == OP_EXECUTE && i != exec)
			s->stats->executes_skipped++;
		op_pop(s);
	}
	if (!s->nops)
		s->skipping = true; /* the Sync is still to come */
}

/* ReadyForQuery where the first command did not expect it: the replies of
 * the commands before the one it ends were lost or never came. */
static void unexpected_ready(struct pg_session *s, const struct span_sink *sink)
{
	s->stats->replies_unpaired++;
	while (s->nops) {
		bool end = ends_group(op_first(s));

		if (is_command(op_first(s)))
			s->stats->commands_dropped++;
		op_pop(s);
		if (end)
			break;
	}
	release_held(s, sink);
}

/* A one-byte answer to SSLRequest or GSSENCRequest. */
static void ssl_answer(struct pg_session *s, uint8_t answer)
{
	op_pop(s);
	if (answer == 'S') {
		s->phase = PHASE_TLS;
		pg_stream_lose(&s->fe); /* the plaintext StartupMessage resyncs it */
		pg_stream_lose(&s->be);
	} else if (answer == 'N') {
		s->phase = PHASE_STARTUP;
	} else {
		/* 'G': GSSAPI encryption, which sonde cannot see through. */
		s->stats->conns_not_traced++;
		s->phase = PHASE_OFF;
	}
}

static bool is_async(uint8_t type)
{
	return type == PG_B_NOTICE || type == PG_B_PARAMETER_STATUS || type == PG_B_NOTIFICATION;
}

/* Replies to Parse, Bind, Describe, Close: whether this one ends the op. */
static bool step_reply(struct pg_session *s, struct pg_op *op, const struct pg_msg *m)
{
	if (op->kind == OP_DESCRIBE && m->type == PG_B_ROW_DESCRIPTION) {
		uint32_t exec = next_execute(s);

		if (exec)
			op_at(s, exec)->rowset = true;
	}
	if ((op->kind == OP_PARSE && m->type == PG_B_PARSE_COMPLETE) ||
	    (op->kind == OP_BIND && m->type == PG_B_BIND_COMPLETE) ||
	    (op->kind == OP_CLOSE && m->type == PG_B_CLOSE_COMPLETE) ||
	    (op->kind == OP_DESCRIBE &&
	     (m->type == PG_B_ROW_DESCRIPTION || m->type == PG_B_NO_DATA)))
		return true;
	if (!(op->kind == OP_DESCRIBE && m->type == PG_B_PARAMETER_DESCRIPTION))
		s->stats->replies_unpaired++;
	return false;
}

static void on_backend(void *ctx, const struct pg_msg *m)
{
	struct feed_ctx *fc = ctx;
	struct pg_session *s = fc->s;
	struct pg_op *op = op_first(s);
	bool done = false;

	if (op && op->kind == OP_SSL) {
		ssl_answer(s, m->type);
		return;
	}
	if (is_async(m->type))
		return;
	if (!op) {
		s->stats->replies_unpaired++;
		return;
	}
	op->replied = true;
	if (m->type == PG_B_READY && !ends_group(op)) {
		unexpected_ready(s, fc->sink);
		return;
	}
	if (m->type == PG_B_ERROR && !ends_group(op)) {
		extended_error(s, m, fc->sink);
		return;
	}
	switch (op->kind) {
	case OP_STARTUP: /* authentication failed: an error, then the end */
		done = m->type == PG_B_READY || m->type == PG_B_ERROR;
		break;
	case OP_FUNCTION:
		done = m->type == PG_B_READY;
		break;
	case OP_QUERY:
		result_message(op, m);
		if (m->type == PG_B_READY) {
			emit(s, make_span(s, op, m->ts, fc->sink), fc->sink);
			done = true;
		}
		break;
	case OP_EXECUTE:
		result_message(op, m);
		if (m->type == PG_B_COMMAND_COMPLETE || m->type == PG_B_EMPTY_QUERY ||
		    m->type == PG_B_PORTAL_SUSPENDED) {
			hold(s, make_span(s, op, m->ts, fc->sink), fc->sink);
			done = true;
		}
		break;
	case OP_SYNC:
		if (m->type == PG_B_ERROR && s->held) {
			/* Raised at Sync (a deferred constraint at commit): the
			 * last command's. */
			set_span_error(s->held, m);
		} else if (m->type == PG_B_READY) {
			release_held(s, fc->sink);
			done = true;
		} else {
			s->stats->replies_unpaired++;
		}
		break;
	default:
		done = step_reply(s, op, m);
		break;
	}
	if (done)
		op_pop(s);
}

static enum pg_frame frame_be(void *ctx)
{
	struct pg_session *s = ((struct feed_ctx *)ctx)->s;
	struct pg_op *op = op_first(s);

	return op && op->kind == OP_SSL ? PG_FRAME_BYTE : PG_FRAME_TYPED;
}

static uint32_t keep_be(void *ctx, uint8_t type, uint32_t len)
{
	(void)ctx;
	(void)len;
	return type == PG_B_ERROR || type == PG_B_COMMAND_COMPLETE ? PG_KEEP_SMALL : 0;
}

static const struct pg_stream_ops be_ops = {
	.frame = frame_be,
	.keep = keep_be,
	.plausible = pg_backend_plausible,
	.message = on_backend,
};

/* ---- finding message boundaries ---- */

/* A CommandComplete's tag: upper-case words, digits and spaces. */
static bool tag_plausible(const uint8_t *p, uint32_t n)
{
	if (!n || p[n - 1] != '\0')
		return false;
	for (uint32_t i = 0; i + 1 < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == ' '))
			return false;
	return true;
}

/* Backend messages from p to exactly p + n, the last a ReadyForQuery.
 * *complete: the one before it ends a result (CommandComplete, an error…). */
static bool ready_chain(const uint8_t *p, size_t n, bool *complete)
{
	size_t off = 0;
	uint8_t before = 0;

	while (off + 5 <= n) {
		uint8_t type = p[off];
		uint32_t len = pg_be32(p + off + 1);

		if (!pg_backend_plausible(type, len) || (uint64_t)off + 1 + len > n)
			return false;
		if (type == PG_B_COMMAND_COMPLETE && !tag_plausible(p + off + 5, len - 4))
			return false;
		if (off + 1 + len == n) {
			*complete = before == PG_B_COMMAND_COMPLETE || before == PG_B_ERROR ||
				    before == PG_B_EMPTY_QUERY || before == PG_B_PORTAL_SUSPENDED;
			return type == PG_B_READY;
		}
		if (!is_async(type))
			before = type;
		off += 1 + len;
	}
	return false;
}

/*
 * The backend lost its framing inside the replies of the first group of
 * commands (up to its Sync or Query), and a chunk shows how that group
 * ends. What the group's commands still wait for will not come: they end
 * here, marked, except the last Execute when the chunk holds its end.
 * Returns false when no group is waiting.
 */
static bool end_group_here(struct pg_session *s, bool complete, uint64_t ts,
			   const struct span_sink *sink)
{
	uint32_t g, last_exec = UINT32_MAX;

	for (g = 0; g < s->nops && !ends_group(op_at(s, g)); g++)
		if (op_at(s, g)->kind == OP_EXECUTE)
			last_exec = g;
	if (g == s->nops)
		return false;
	if (!complete)
		op_at(s, g)->flags |= SPAN_F_LOST_SYNC; /* a Query: its end is here */
	else if (last_exec != UINT32_MAX)
		g = last_exec; /* it takes the chunk's CommandComplete or error */
	while (g--) {
		struct pg_op *op = op_first(s);

		if (is_command(op)) {
			op->flags |= SPAN_F_LOST_SYNC;
			op->rows = -1;
			hold(s, make_span(s, op, ts, sink), sink);
		}
		op_pop(s);
	}
	/* Its rows are known only from a tag that counts them. */
	op_first(s)->datarows = 0;
	op_first(s)->rowset = false;
	return true;
}

/* Where in this chunk the backend stream may go on, or -1 to drop it. */
static long backend_boundary(struct pg_session *s, const struct protocol_bytes *b,
			     const struct span_sink *sink)
{
	size_t end;
	bool complete = false;

	if (s->phase == PHASE_START || s->phase == PHASE_TLS)
		return -1; /* replies to nothing seen, or TLS records */
	if (!s->be.lost)
		return 0;
	if (s->phase != PHASE_READY || !b->captured)
		return -1;
	/* The reply to a command that has had none yet starts here. */
	if (s->nops && !op_first(s)->replied &&
	    pg_chain_plausible(b->data, b->captured, pg_backend_plausible, &end)) {
		pg_stream_resync(&s->be);
		s->stats->resyncs++;
		return 0;
	}
	/* The chunk ends a reply: the chain before its ReadyForQuery. */
	if (b->captured != b->total || b->captured < 6 || b->data[b->captured - 6] != PG_B_READY)
		return -1;
	/* Only the chunk's last bytes: a reply's end is a few short messages,
	 * and a longer walk over row data would only cost. */
	for (size_t i = b->captured > PG_TAIL_SCAN ? b->captured - PG_TAIL_SCAN : 0;
	     i + 6 <= b->captured; i++) {
		if (!ready_chain(b->data + i, b->captured - i, &complete))
			continue;
		pg_stream_resync(&s->be);
		s->stats->resyncs++;
		if (!end_group_here(s, complete, b->ts, sink))
			return (long)b->captured; /* nothing waits: in step from the next chunk */
		return (long)i;
	}
	return -1;
}

/* Whether the frontend stream may take this chunk: it must start at a
 * message boundary when the stream is lost or not started. */
static bool frontend_boundary(struct pg_session *s, const struct protocol_bytes *b)
{
	size_t end;

	if (!s->fe.lost && s->phase != PHASE_START)
		return true;
	if (!b->captured)
		return false;
	/* A first chunk starting with a zero byte is a start-up length (no
	 * message type is 0): framed as one, and checked once whole. */
	if (s->phase == PHASE_START && b->data[0] == 0) {
		s->phase = PHASE_STARTUP;
		pg_stream_resync(&s->fe);
		return true;
	}
	/* After 'S' only the plaintext StartupMessage: TLS records are dropped. */
	if (s->phase == PHASE_TLS && b->captured >= 8 &&
	    pg_startup_kind(pg_be32(b->data), pg_be32(b->data + 4)) == PG_STARTUP) {
		s->phase = PHASE_STARTUP;
		pg_stream_resync(&s->fe);
		pg_stream_resync(&s->be);
		return true;
	}
	if (s->phase == PHASE_TLS)
		return false;
	if (pg_chain_plausible(b->data, b->captured, pg_frontend_plausible, &end)) {
		if (s->phase == PHASE_START) {
			/* Found already open: replies pair from the first command on. */
			s->stats->conns_late++;
			s->phase = PHASE_READY;
			pg_stream_lose(&s->be);
		} else {
			s->stats->resyncs++;
		}
		pg_stream_resync(&s->fe);
		return true;
	}
	if (s->phase == PHASE_START && ++s->hunted >= PG_HUNT_MAX) {
		s->stats->conns_not_traced++;
		s->phase = PHASE_OFF;
	}
	return false;
}

/* ---- feeding ---- */

/* After bytes went into a stream: framing lost there is counted, and a lost
 * frontend breaks the pairing. */
static void after_feed(struct pg_session *s, struct pg_stream *st, bool was_lost)
{
	if (was_lost || !st->lost || s->phase == PHASE_OFF || s->phase == PHASE_TLS)
		return;
	if (st->garbage)
		s->stats->parse_errors++;
	else
		s->stats->lost_sync++;
	if (s->phase != PHASE_READY) {
		/* Lost before the start-up was through: nothing to pair with. */
		s->stats->conns_not_traced++;
		s->phase = PHASE_OFF;
		return;
	}
	if (st == &s->fe)
		lose_pairing(s);
}

/* The side that writes the start-up family, or a chain of frontend
 * messages, is the client. */
static void learn_role(struct pg_session *s, const struct protocol_bytes *b)
{
	size_t end;

	if (b->captured >= 8 &&
	    pg_startup_kind(pg_be32(b->data), pg_be32(b->data + 4)) != PG_STARTUP_NONE)
		s->role = b->ingress ? SONDE_ROLE_SERVER : SONDE_ROLE_CLIENT;
	else if (b->captured &&
		 pg_chain_plausible(b->data, b->captured, pg_frontend_plausible, &end) &&
		 !pg_chain_plausible(b->data, b->captured, pg_backend_plausible, &end))
		s->role = b->ingress ? SONDE_ROLE_SERVER : SONDE_ROLE_CLIENT;
}

/*
 * Bytes of the backend went unseen after a read at `before`: if the client
 * had sent a next group of commands after that read, it had (not
 * pipelining) read all of the first group's replies, which were among the
 * bytes lost.
 */
static void settle_unseen(struct pg_session *s, uint64_t before, const struct span_sink *sink)
{
	for (;;) {
		uint32_t g = 0;

		while (g < s->nops && !ends_group(op_at(s, g)))
			g++;
		if (!s->nops || !op_first(s)->replied || g + 1 >= s->nops ||
		    op_at(s, g + 1)->start < before)
			return;
		settle_group(s, before, sink);
	}
}

void pg_session_feed(void *session, const struct protocol_bytes *b, const struct span_sink *sink)
{
	struct pg_session *s = session;
	struct feed_ctx fc = { .s = s, .sink = sink };
	const struct pg_stream_ops *ops;
	struct pg_stream *st;
	uint64_t before = s->last_be_ts;
	bool frontend, was_lost;
	long off = 0;

	if (s->phase == PHASE_OFF)
		return;
	if (s->role == SONDE_ROLE_UNKNOWN)
		learn_role(s, b);
	if (s->role == SONDE_ROLE_SERVER) {
		/* The server's side: database spans come from clients. */
		s->stats->conns_server++;
		s->phase = PHASE_OFF;
		return;
	}
	if (s->role != SONDE_ROLE_CLIENT)
		return;
	frontend = !b->ingress;
	st = frontend ? &s->fe : &s->be;
	ops = frontend ? &fe_ops : &be_ops;
	if (!frontend)
		s->last_be_ts = b->ts;
	was_lost = st->lost;
	if (b->unseen && s->phase != PHASE_START) {
		pg_stream_skip(st, ops, &fc, b->unseen);
		if (!frontend && !was_lost && st->lost)
			settle_unseen(s, before, sink);
		after_feed(s, st, was_lost);
		was_lost = st->lost;
	}
	if (frontend && !frontend_boundary(s, b))
		return;
	if (!frontend && (off = backend_boundary(s, b, sink)) < 0)
		return;
	was_lost = false;
	pg_stream_bytes(st, ops, &fc, b->data ? b->data + off : NULL, b->captured - (size_t)off,
			b->ts);
	if (s->phase == PHASE_OFF)
		return;
	if (b->total > b->captured)
		pg_stream_skip(st, ops, &fc, b->total - b->captured);
	after_feed(s, st, was_lost);
}

void pg_session_close(void *session, uint64_t ts, const struct span_sink *sink)
{
	struct pg_session *s = session;

	/* TLS without its plaintext (the TLS hooks off, or a library not hooked). */
	if (s->phase == PHASE_TLS)
		s->stats->conns_not_traced++;
	release_held(s, sink);
	while (s->nops) {
		struct pg_op *op = op_first(s);

		if (is_command(op)) {
			op->flags |= SPAN_F_NO_RESPONSE;
			emit(s, make_span(s, op, ts, sink), sink);
		}
		op_pop(s);
	}
}

void pg_session_free(void *session)
{
	struct pg_session *s = session;

	while (s->nops)
		op_pop(s);
	free(s->ops);
	free(s->held);
	pg_stmts_free(&s->stmts);
	pg_stream_free(&s->fe);
	pg_stream_free(&s->be);
	s->ops = NULL;
	s->ops_cap = 0;
	s->held = NULL;
}

uint32_t pg_session_in_flight(const void *session)
{
	const struct pg_session *s = session;
	uint32_t n = s->held != NULL;

	for (uint32_t i = 0; i < s->nops; i++) {
		const struct pg_op *op = &s->ops[(s->op_head + i) % s->ops_cap];

		n += is_command(op);
	}
	return n;
}
