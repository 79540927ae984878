/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL session through the protocol interface, with a sink that
 * records spans: conversations written from the protocol's message formats,
 * fed whole, split at every byte, one byte at a time, with gaps, garbage and
 * captures cut short; each gives exactly the spans a user should see, and
 * never the user name, the password or a bound value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/postgres/postgres_protocol.h"
#include "protocols/registry.h"
#include "sonde_event.h"

#define SECRET_USER  "alice_zq"
#define SECRET_PASS  "hunter2zq"
#define SECRET_VALUE "bound_zq_value"

/* ---- messages, built from the protocol's formats ---- */

struct buf {
	uint8_t b[16384];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { v >> 8, v & 0xff };

	put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

	put(b, x, 4);
}

static void putstr(struct buf *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

/* A typed message: type, length, body. */
static void msg(struct buf *b, char type, const struct buf *body)
{
	put8(b, (uint8_t)type);
	put32(b, 4 + (uint32_t)body->n);
	put(b, body->b, body->n);
}

static void empty_msg(struct buf *b, char type)
{
	struct buf e = { .n = 0 };

	msg(b, type, &e);
}

static void startup(struct buf *b, const char *database)
{
	struct buf body = { .n = 0 };

	put32(&body, 196608);
	putstr(&body, "user");
	putstr(&body, SECRET_USER);
	if (database) {
		putstr(&body, "database");
		putstr(&body, database);
	}
	putstr(&body, "application_name");
	putstr(&body, "psql");
	put8(&body, 0);
	put32(b, 4 + (uint32_t)body.n);
	put(b, body.b, body.n);
}

static void ssl_request(struct buf *b, uint32_t code)
{
	put32(b, 8);
	put32(b, code);
}

static void password(struct buf *b)
{
	struct buf body = { .n = 0 };

	putstr(&body, SECRET_PASS);
	msg(b, 'p', &body);
}

static void query(struct buf *b, const char *q)
{
	struct buf body = { .n = 0 };

	putstr(&body, q);
	msg(b, 'Q', &body);
}

static void parse(struct buf *b, const char *name, const char *q)
{
	struct buf body = { .n = 0 };

	putstr(&body, name);
	putstr(&body, q);
	put16(&body, 0);
	msg(b, 'P', &body);
}

/* Bind with one text parameter. */
static void bind(struct buf *b, const char *portal, const char *stmt, const char *value)
{
	struct buf body = { .n = 0 };

	putstr(&body, portal);
	putstr(&body, stmt);
	put16(&body, 0);
	put16(&body, value ? 1 : 0);
	if (value) {
		put32(&body, (uint32_t)strlen(value));
		put(&body, value, strlen(value));
	}
	put16(&body, 0);
	msg(b, 'B', &body);
}

static void describe(struct buf *b, char what, const char *name)
{
	struct buf body = { .n = 0 };

	put8(&body, (uint8_t)what);
	putstr(&body, name);
	msg(b, 'D', &body);
}

static void execute(struct buf *b, const char *portal, uint32_t max_rows)
{
	struct buf body = { .n = 0 };

	putstr(&body, portal);
	put32(&body, max_rows);
	msg(b, 'E', &body);
}

static void close_msg(struct buf *b, char what, const char *name)
{
	struct buf body = { .n = 0 };

	put8(&body, (uint8_t)what);
	putstr(&body, name);
	msg(b, 'C', &body);
}

static void copy_data(struct buf *b, char type_unused, const char *row)
{
	struct buf body = { .n = 0 };

	(void)type_unused;
	put(&body, row, strlen(row));
	msg(b, 'd', &body);
}

/* Backend. */
static void auth(struct buf *b, uint32_t code)
{
	struct buf body = { .n = 0 };

	put32(&body, code);
	if (code == 5)
		put32(&body, 0x01020304); /* MD5 salt */
	msg(b, 'R', &body);
}

static void param_status(struct buf *b, const char *k, const char *v)
{
	struct buf body = { .n = 0 };

	putstr(&body, k);
	putstr(&body, v);
	msg(b, 'S', &body);
}

static void key_data(struct buf *b)
{
	struct buf body = { .n = 0 };

	put32(&body, 4242);
	put32(&body, 0xdeadbeef);
	msg(b, 'K', &body);
}

static void ready(struct buf *b)
{
	struct buf body = { .n = 0 };

	put8(&body, 'I');
	msg(b, 'Z', &body);
}

static void param_desc(struct buf *b)
{
	struct buf body = { .n = 0 };

	put16(&body, 1);
	put32(&body, 25);
	msg(b, 't', &body);
}

static void row_desc(struct buf *b)
{
	struct buf body = { .n = 0 };

	put16(&body, 1);
	putstr(&body, "id");
	put32(&body, 0);
	put16(&body, 0);
	put32(&body, 23);
	put16(&body, 4);
	put32(&body, 0xffffffff);
	put16(&body, 0);
	msg(b, 'T', &body);
}

static void data_row(struct buf *b, const char *v)
{
	struct buf body = { .n = 0 };

	put16(&body, 1);
	put32(&body, (uint32_t)strlen(v));
	put(&body, v, strlen(v));
	msg(b, 'D', &body);
}

static void complete(struct buf *b, const char *tag)
{
	struct buf body = { .n = 0 };

	putstr(&body, tag);
	msg(b, 'C', &body);
}

static void error(struct buf *b, char type, const char *code)
{
	struct buf body = { .n = 0 };

	put8(&body, 'S');
	putstr(&body, type == 'E' ? "ERROR" : "NOTICE");
	put8(&body, 'V');
	putstr(&body, type == 'E' ? "ERROR" : "NOTICE");
	put8(&body, 'C');
	putstr(&body, code);
	put8(&body, 'M');
	putstr(&body, "something happened");
	put8(&body, 0);
	msg(b, type, &body);
}

static void notification(struct buf *b, const char *channel, const char *payload)
{
	struct buf body = { .n = 0 };

	put32(&body, 4242);
	putstr(&body, channel);
	putstr(&body, payload);
	msg(b, 'A', &body);
}

static void copy_response(struct buf *b, char type)
{
	struct buf body = { .n = 0 };

	put8(&body, 0);
	put16(&body, 1);
	put16(&body, 0);
	msg(b, type, &body);
}

/* ---- conversations ---- */

/* One syscall: its bytes, direction, time; captured < n for a capture cut
 * short; unseen bytes before it (lost events). */
struct chunk {
	bool ingress;
	struct buf data;
	size_t captured; /* 0: all of it */
	uint64_t unseen;
	uint64_t ts;
};

struct convo {
	struct chunk c[64];
	int n;
	uint64_t ts;
};

/* Starts a new chunk in the given direction, 10 ns after the last. */
static struct buf *w(struct convo *cv)
{
	struct chunk *c = &cv->c[cv->n++];

	assert_true(cv->n <= 64);
	memset(c, 0, sizeof(*c));
	cv->ts += 10;
	c->ts = cv->ts;
	return &c->data;
}

static struct buf *r(struct convo *cv)
{
	struct buf *b = w(cv);

	cv->c[cv->n - 1].ingress = true;
	return b;
}

static struct chunk *last(struct convo *cv)
{
	return &cv->c[cv->n - 1];
}

/* The connect and authentication every client goes through. */
static void login(struct convo *cv, const char *database)
{
	struct buf *b;

	startup(w(cv), database);
	auth(r(cv), 5);
	password(w(cv));
	b = r(cv);
	auth(b, 0);
	param_status(b, "server_version", "15.6");
	param_status(b, "client_encoding", "UTF8");
	key_data(b);
	ready(b);
}

/* ---- the sink ---- */

struct got {
	struct span spans[64];
	int n;
};

static struct got got;

static void record(void *ctx, struct span *sp)
{
	(void)ctx;
	assert_true(got.n < 64);
	got.spans[got.n++] = *sp;
}

/* The core's begin gives each span an identity; the session must hand
 * it back on the span it emits. */
static uint32_t begins;

static void begin(void *ctx, struct span *sp)
{
	(void)ctx;
	assert_int_equal(sp->kind, SPAN_CLIENT);
	begins++;
	memcpy(sp->span_id, &begins, sizeof(begins));
	sp->trace_id[0] = 0x5a;
}

static const struct span_sink sink = { .begin = begin, .emit = record };

static struct protocols protos;

/* Runs a conversation through a new session; pieces: how each chunk is fed
 * (0: whole; k: split after byte k of chunk `which`; -1: a byte at a time). */
static void run(const struct convo *cv, uint8_t role, int which, long split)
{
	const struct protocol *p = protocol_find(SONDE_PROTO_POSTGRES);
	void *session = calloc(1, p->session_size);
	struct protocol_open o = protocol_open_for(&protos, p, role);

	assert_non_null(session);
	memset(&got, 0, sizeof(got));
	p->open(session, &o);
	for (int i = 0; i < cv->n; i++) {
		const struct chunk *c = &cv->c[i];
		size_t cap = c->captured ? c->captured : c->data.n;
		struct protocol_bytes pb = { .ingress = c->ingress,
					     .data = c->data.b,
					     .captured = cap,
					     .total = c->data.n,
					     .unseen = c->unseen,
					     .ts = c->ts };

		if (split == -1 && cap == c->data.n) {
			for (size_t k = 0; k < c->data.n; k++) {
				struct protocol_bytes one = { .ingress = c->ingress,
							      .data = c->data.b + k,
							      .captured = 1,
							      .total = 1,
							      .unseen = k ? 0 : c->unseen,
							      .ts = c->ts };

				p->feed(session, &one, &sink);
			}
			continue;
		}
		if (i == which && split > 0 && (size_t)split < cap && cap == c->data.n) {
			struct protocol_bytes a = pb, b2 = pb;

			a.captured = a.total = (size_t)split;
			b2.data += split;
			b2.captured = b2.total = cap - (size_t)split;
			b2.unseen = 0;
			p->feed(session, &a, &sink);
			p->feed(session, &b2, &sink);
			continue;
		}
		p->feed(session, &pb, &sink);
	}
	p->close(session, cv->ts + 1000, &sink);
	p->free(session);
	free(session);
}

static struct postgres_stats *stats(void)
{
	return &protos.postgres.stats;
}

static void reset(void)
{
	struct protocol_settings settings = { .db_query = DB_QUERY_SANITIZED, .db_query_max = 0 };

	protocols_destroy(&protos);
	protocols_init(&protos, &settings);
}

/* One span as a line: what a user would read. */
static void describe_span(const struct span *sp, char *out, size_t len)
{
	snprintf(out, len, "%s|%s|%s|%s|%s|rows=%lld|err=%d|%llu-%llu|%s%s%s%s", sp->db.operation,
		 sp->db.collection, sp->db.query, sp->db.name_space, sp->db.status_code,
		 (long long)sp->db.returned_rows, !!(sp->flags & SPAN_F_DB_ERROR),
		 (unsigned long long)sp->start_ns, (unsigned long long)sp->end_ns,
		 sp->flags & SPAN_F_HEAD_TRUNCATED ? "T" : "",
		 sp->flags & SPAN_F_LOST_SYNC ? "L" : "", sp->flags & SPAN_F_NO_RESPONSE ? "N" : "",
		 sp->flags & SPAN_F_QUERY_TRUNCATED ? "Q" : "");
}

/* The spans recorded, each as describe_span, must be want[0..n). */
static void expect_spans(int line, const char *const *want, int n)
{
	char have[4096];

	for (int i = 0; i < got.n && i < n; i++) {
		describe_span(&got.spans[i], have, sizeof(have));
		if (strcmp(have, want[i]))
			fail_msg("line %d: span %d:\n  got  %s\n  want %s", line, i, have, want[i]);
		assert_int_equal(got.spans[i].kind, SPAN_CLIENT);
		assert_true(got.spans[i].flags & SPAN_F_DB);
		assert_int_equal(got.spans[i].db.system, SPAN_DB_POSTGRESQL);
		assert_int_equal(got.spans[i].trace_id[0], 0x5a);
		for (int k = 0; k < i; k++)
			assert_memory_not_equal(got.spans[i].span_id, got.spans[k].span_id, 8);
	}
	if (got.n != n) {
		for (int i = 0; i < got.n; i++) {
			describe_span(&got.spans[i], have, sizeof(have));
			print_message("  span %d: %s\n", i, have);
		}
		fail_msg("line %d: %d spans, want %d", line, got.n, n);
	}
}

#define EXPECT(...)                                                                     \
	do {                                                                            \
		static const char *const want_[] = { __VA_ARGS__ };                     \
		expect_spans(__LINE__, want_, (int)(sizeof(want_) / sizeof(want_[0]))); \
	} while (0)
#define EXPECT_NONE() expect_spans(__LINE__, NULL, 0)

/* No span holds a secret, in any of its bytes. */
static void assert_no_secrets(void)
{
	static const char *const secrets[] = { SECRET_USER, SECRET_PASS, SECRET_VALUE };

	for (int i = 0; i < got.n; i++)
		for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
			if (memmem(&got.spans[i], sizeof(got.spans[i]), secrets[k],
				   strlen(secrets[k])))
				fail_msg("span %d holds '%s'", i, secrets[k]);
}

/* The same spans however the conversation's chunks are cut; got and the
 * counters are left as the whole conversation makes them. */
static void run_every_split(const struct convo *cv)
{
	struct got whole;
	char a[4096], b[4096];

	run(cv, SONDE_ROLE_CLIENT, -1, 0);
	whole = got;
	for (int i = 0; i < cv->n; i++)
		for (long k = 0; k <= (long)cv->c[i].data.n; k++) {
			/* k == 0: a byte at a time, every chunk. */
			if (k == 0 && i)
				continue;
			run(cv, SONDE_ROLE_CLIENT, k ? i : -1, k ? k : -1);
			if (got.n != whole.n)
				fail_msg("chunk %d split at %ld: %d spans, want %d", i, k, got.n,
					 whole.n);
			for (int s = 0; s < got.n; s++) {
				describe_span(&got.spans[s], a, sizeof(a));
				describe_span(&whole.spans[s], b, sizeof(b));
				if (strcmp(a, b))
					fail_msg("chunk %d split at %ld: %s, want %s", i, k, a, b);
			}
		}
	memset(&protos.postgres.stats, 0, sizeof(protos.postgres.stats));
	run(cv, SONDE_ROLE_CLIENT, -1, 0);
}

/* ---- tests ---- */

static void test_simple_query(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;

	(void)state;
	reset();
	login(&cv, "shop");
	query(w(&cv), "SELECT * FROM orders WHERE id = 42");
	b = r(&cv);
	row_desc(b);
	data_row(b, "42");
	complete(b, "SELECT 1");
	ready(b);
	query(w(&cv), "BEGIN; UPDATE accounts SET b = b - 1 WHERE id = 7; COMMIT");
	b = r(&cv);
	complete(b, "BEGIN");
	complete(b, "UPDATE 1");
	complete(b, "COMMIT");
	ready(b);
	query(w(&cv), "");
	b = r(&cv);
	empty_msg(b, 'I');
	ready(b);
	run_every_split(&cv);
	EXPECT("SELECT|orders|SELECT * FROM orders WHERE id = ?|shop||rows=1|err=0|50-60|",
	       "UPDATE|accounts|BEGIN; UPDATE accounts SET b = b - ? WHERE id = ?; COMMIT|shop||"
	       "rows=-1|err=0|70-80|",
	       "|||shop||rows=-1|err=0|90-100|");
	assert_no_secrets();
	assert_int_equal(stats()->parse_errors, 0);
	assert_int_equal(stats()->replies_unpaired, 0);
}

static void test_errors_and_async_messages(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;

	(void)state;
	reset();
	login(&cv, "shop");
	query(w(&cv), "SELEC 1");
	b = r(&cv);
	error(b, 'E', "42601");
	ready(b);
	/* A statement fails in the middle of a multi-statement query. */
	query(w(&cv), "SELECT 1; SELECT 1/0; SELECT 2");
	b = r(&cv);
	row_desc(b);
	data_row(b, "1");
	complete(b, "SELECT 1");
	error(b, 'E', "22012");
	ready(b);
	/* Notices, parameter changes and notifications, between and inside replies. */
	query(w(&cv), "LISTEN jobs");
	b = r(&cv);
	error(b, 'N', "00000");
	complete(b, "LISTEN");
	notification(b, "jobs", "payload");
	param_status(b, "TimeZone", "UTC");
	ready(b);
	notification(r(&cv), "jobs", "late");
	query(w(&cv), "SELECT 3");
	b = r(&cv);
	row_desc(b);
	notification(b, "jobs", "again");
	data_row(b, "3");
	complete(b, "SELECT 1");
	ready(b);
	run_every_split(&cv);
	EXPECT("SELEC||SELEC ?|shop|42601|rows=-1|err=1|50-60|",
	       "SELECT||SELECT ?; SELECT ?/?; SELECT ?|shop|22012|rows=1|err=1|70-80|",
	       "LISTEN||LISTEN jobs|shop||rows=-1|err=0|90-100|",
	       "SELECT||SELECT ?|shop||rows=1|err=0|120-130|");
	assert_int_equal(stats()->replies_unpaired, 0);
}

static void test_extended_protocol(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;

	(void)state;
	reset();
	login(&cv, "shop");
	/* node-pg: the unnamed statement, all in one write. */
	b = w(&cv);
	parse(b, "", "SELECT name FROM items WHERE id = $1");
	bind(b, "", "", SECRET_VALUE);
	describe(b, 'P', "");
	execute(b, "", 0);
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '1');
	empty_msg(b, '2');
	row_desc(b);
	data_row(b, "a");
	data_row(b, "b");
	complete(b, "SELECT 2");
	ready(b);
	/* lib/pq: prepare (Parse, Describe, Sync), then Bind, Execute, Sync. */
	b = w(&cv);
	parse(b, "", "INSERT INTO items (name) VALUES ($1) RETURNING id");
	describe(b, 'S', "");
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '1');
	param_desc(b);
	row_desc(b);
	ready(b);
	b = w(&cv);
	bind(b, "", "", SECRET_VALUE);
	execute(b, "", 0);
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '2');
	data_row(b, "7");
	complete(b, "INSERT 0 1");
	ready(b);
	/* A named statement, prepared once and executed twice. */
	b = w(&cv);
	parse(b, "upd", "UPDATE items SET n = n + $1");
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '1');
	ready(b);
	for (int i = 0; i < 2; i++) {
		b = w(&cv);
		bind(b, "", "upd", SECRET_VALUE);
		execute(b, "", 0);
		empty_msg(b, 'S');
		b = r(&cv);
		empty_msg(b, '2');
		complete(b, "UPDATE 3");
		ready(b);
	}
	b = w(&cv);
	close_msg(b, 'S', "upd");
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '3');
	ready(b);
	run_every_split(&cv);
	EXPECT("SELECT|items|SELECT name FROM items WHERE id = $1|shop||rows=2|err=0|50-60|",
	       /* The span begins with the Parse of the unnamed statement. */
	       "INSERT|items|INSERT INTO items (name) VALUES ($1) RETURNING id|shop||rows=1|err=0|"
	       "70-100|",
	       "UPDATE|items|UPDATE items SET n = n + $1|shop||rows=-1|err=0|130-140|",
	       "UPDATE|items|UPDATE items SET n = n + $1|shop||rows=-1|err=0|150-160|");
	assert_no_secrets();
	assert_int_equal(stats()->statements_unknown, 0);
	assert_int_equal(stats()->replies_unpaired, 0);
}

static void test_pipelining_and_errors(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;

	(void)state;
	reset();
	login(&cv, "shop");
	b = w(&cv);
	parse(b, "ins", "INSERT INTO log VALUES ($1)");
	parse(b, "sel", "SELECT * FROM log");
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '1');
	empty_msg(b, '1');
	ready(b);
	/* Four Executes before one Sync; the third fails: the fourth is skipped. */
	b = w(&cv);
	bind(b, "", "ins", SECRET_VALUE);
	execute(b, "", 0);
	bind(b, "", "sel", NULL);
	describe(b, 'P', "");
	execute(b, "", 0);
	bind(b, "", "ins", SECRET_VALUE);
	execute(b, "", 0);
	bind(b, "", "sel", NULL);
	execute(b, "", 0);
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '2');
	complete(b, "INSERT 0 1");
	empty_msg(b, '2');
	error(b, 'N', "01000");
	row_desc(b);
	data_row(b, "x");
	complete(b, "SELECT 1");
	b = r(&cv); /* the rest of the replies in a later read */
	empty_msg(b, '2');
	error(b, 'E', "23505");
	ready(b);
	/* A Parse error with an Execute behind it (node-pg): one span. */
	b = w(&cv);
	parse(b, "", "SELEC 1");
	bind(b, "", "", NULL);
	describe(b, 'P', "");
	execute(b, "", 0);
	empty_msg(b, 'S');
	b = r(&cv);
	error(b, 'E', "42601");
	ready(b);
	/* A Parse error while preparing (lib/pq): the statement's span. */
	b = w(&cv);
	parse(b, "", "SELECT * FROM nosuch");
	describe(b, 'S', "");
	empty_msg(b, 'S');
	b = r(&cv);
	error(b, 'E', "42P01");
	ready(b);
	/* An error raised at Sync: the last command's. */
	b = w(&cv);
	bind(b, "", "ins", SECRET_VALUE);
	execute(b, "", 0);
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '2');
	complete(b, "INSERT 0 1");
	error(b, 'E', "23503");
	ready(b);
	run_every_split(&cv);
	EXPECT("INSERT|log|INSERT INTO log VALUES ($1)|shop||rows=-1|err=0|70-80|",
	       "SELECT|log|SELECT * FROM log|shop||rows=1|err=0|70-80|",
	       "INSERT|log|INSERT INTO log VALUES ($1)|shop|23505|rows=-1|err=1|70-90|",
	       "SELEC||SELEC ?|shop|42601|rows=-1|err=1|100-110|",
	       "SELECT|nosuch|SELECT * FROM nosuch|shop|42P01|rows=-1|err=1|120-130|",
	       "INSERT|log|INSERT INTO log VALUES ($1)|shop|23503|rows=-1|err=1|140-150|");
	assert_int_equal(stats()->executes_skipped, 1);
	assert_int_equal(stats()->replies_unpaired, 0);
	assert_no_secrets();
}

static void test_portals_and_copy(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;

	(void)state;
	reset();
	login(&cv, NULL); /* no database: the server uses the user name, never shown */
	/* A portal read two rows at a time. */
	b = w(&cv);
	parse(b, "", "SELECT * FROM big");
	bind(b, "cur", "", NULL);
	execute(b, "cur", 2);
	empty_msg(b, 'H');
	b = r(&cv);
	empty_msg(b, '1');
	empty_msg(b, '2');
	data_row(b, "1");
	data_row(b, "2");
	empty_msg(b, 's');
	b = w(&cv);
	execute(b, "cur", 2);
	empty_msg(b, 'S');
	b = r(&cv);
	data_row(b, "3");
	complete(b, "SELECT 1");
	ready(b);
	/* COPY in and out. */
	query(w(&cv), "COPY items (id, name) FROM STDIN");
	copy_response(r(&cv), 'G');
	b = w(&cv);
	copy_data(b, 'd', "1\t" SECRET_VALUE "\n");
	copy_data(b, 'd', "2\tb\n");
	empty_msg(b, 'c');
	b = r(&cv);
	complete(b, "COPY 2");
	ready(b);
	query(w(&cv), "COPY items TO STDOUT");
	b = r(&cv);
	copy_response(b, 'H');
	copy_data(b, 'd', "1\ta\n");
	copy_data(b, 'd', "2\tb\n");
	empty_msg(b, 'c');
	complete(b, "COPY 2");
	ready(b);
	run_every_split(&cv);
	EXPECT("SELECT|big|SELECT * FROM big|||rows=2|err=0|50-60|",
	       "SELECT|big|SELECT * FROM big|||rows=1|err=0|70-80|",
	       "COPY|items|COPY items (id, name) FROM STDIN|||rows=-1|err=0|90-120|",
	       "COPY|items|COPY items TO STDOUT|||rows=2|err=0|130-140|");
	assert_no_secrets();
}

static void test_tls_and_startup_variants(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;
	static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 };
	static const uint8_t server_hello[] = { 0x16, 0x03, 0x03, 0x00, 0x02, 9, 9 };

	(void)state;
	/* SSLRequest refused: the start-up follows in plaintext. */
	reset();
	ssl_request(w(&cv), 80877103);
	put8(r(&cv), 'N');
	login(&cv, "plain");
	query(w(&cv), "SELECT 1");
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	run_every_split(&cv);
	EXPECT("SELECT||SELECT ?|plain||rows=0|err=0|70-80|");

	/* SSLRequest accepted: TLS records (when no uprobe hides them), then
	 * the plaintext from the TLS library. */
	reset();
	cv.n = 0;
	cv.ts = 0;
	ssl_request(w(&cv), 80877103);
	put8(r(&cv), 'S');
	put(w(&cv), client_hello, sizeof(client_hello));
	put(r(&cv), server_hello, sizeof(server_hello));
	login(&cv, "secure");
	query(w(&cv), "SELECT 1");
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT("SELECT||SELECT ?|secure||rows=0|err=0|90-100|");
	assert_no_secrets();

	/* GSSAPI encryption accepted: nothing can be read. */
	reset();
	cv.n = 0;
	ssl_request(w(&cv), 80877104);
	put8(r(&cv), 'G');
	put(w(&cv), client_hello, sizeof(client_hello));
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT_NONE();
	assert_int_equal(stats()->conns_not_traced, 1);

	/* A CancelRequest connection. */
	reset();
	cv.n = 0;
	b = w(&cv);
	put32(b, 16);
	put32(b, 80877102);
	put32(b, 4242);
	put32(b, 0xdeadbeef);
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT_NONE();
	assert_int_equal(stats()->cancel_requests, 1);

	/* The role learnt from who writes the start-up. */
	reset();
	cv.n = 0;
	login(&cv, "shop");
	query(w(&cv), "SELECT 1");
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	run(&cv, SONDE_ROLE_UNKNOWN, -1, 0);
	assert_int_equal(got.n, 1);
}

/* A traced PostgreSQL server gives no span, whatever it reads. */
static void test_server_side(void **state)
{
	struct convo cv = { .n = 0 }, flipped;
	struct buf *b;

	(void)state;
	reset();
	login(&cv, "shop");
	query(w(&cv), "SELECT 1");
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	flipped = cv;
	for (int i = 0; i < flipped.n; i++)
		flipped.c[i].ingress = !flipped.c[i].ingress;
	run(&flipped, SONDE_ROLE_SERVER, -1, 0);
	EXPECT_NONE();
	run(&flipped, SONDE_ROLE_UNKNOWN, -1, 0);
	EXPECT_NONE();
	assert_int_equal(stats()->conns_server, 2);
}

/* A connection found open: picked up at a message boundary. */
static void test_already_open(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;
	static const uint8_t mid[] = "rest of some row data \x00\x01\x02 and more";

	(void)state;
	reset();
	/* The tail of an earlier reply, and the middle of a long write. */
	data_row(r(&cv), "old");
	put(w(&cv), mid, sizeof(mid));
	ready(r(&cv));
	query(w(&cv), "SELECT * FROM t");
	b = r(&cv);
	row_desc(b);
	data_row(b, "1");
	complete(b, "SELECT 1");
	ready(b);
	b = w(&cv);
	bind(b, "", "known_elsewhere", SECRET_VALUE);
	execute(b, "", 0);
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '2');
	complete(b, "DELETE 4");
	ready(b);
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT("SELECT|t|SELECT * FROM t|||rows=1|err=0|40-50|",
	       /* A statement prepared before sonde: no text to show. */
	       "|||||rows=-1|err=0|60-70|");
	assert_int_equal(stats()->conns_late, 1);
	assert_int_equal(stats()->statements_unknown, 1);
	assert_no_secrets();

	/* Garbage only: given up on, counted. */
	reset();
	cv.n = 0;
	for (int i = 0; i < 20; i++)
		put(w(&cv), mid, sizeof(mid));
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT_NONE();
	assert_int_equal(stats()->conns_not_traced, 1);
}

/* Captures cut short: skipped by length, the cut marked. */
static void test_truncated_captures(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;
	char big[3000];

	(void)state;
	reset();
	login(&cv, "shop");
	/* A query longer than the capture: its start, sanitised, marked. */
	memset(big, 0, sizeof(big));
	strcpy(big, "SELECT * FROM orders WHERE note = '");
	memset(big + strlen(big), 'x', 2000);
	strcat(big, "'");
	query(w(&cv), big);
	last(&cv)->captured = 100;
	b = r(&cv);
	row_desc(b);
	complete(b, "SELECT 0");
	ready(b);
	/* A reply longer than the capture, and its last bytes (the kernel
	 * sends a syscall's tail as a piece of its own). */
	query(w(&cv), "SELECT * FROM orders");
	b = r(&cv);
	row_desc(b);
	for (int i = 0; i < 200; i++)
		data_row(b, "some row data");
	last(&cv)->captured = 100;
	b = r(&cv);
	for (int i = 0; i < 3; i++)
		data_row(b, "some row data");
	complete(b, "SELECT 203");
	ready(b);
	/* The tail begins inside a DataRow. */
	memmove(b->b, b->b + 7, b->n - 7);
	b->n -= 7;
	query(w(&cv), "SELECT 1");
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT("SELECT|orders|SELECT * FROM orders WHERE note = ?|shop||rows=0|err=0|50-60|T",
	       "SELECT|orders|SELECT * FROM orders|shop||rows=203|err=0|70-90|",
	       "SELECT||SELECT ?|shop||rows=0|err=0|100-110|");
	assert_int_equal(stats()->resyncs, 1);
}

/* Events lost (ring buffer full): replies never mispaired. */
static void test_gaps(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;

	(void)state;
	reset();
	login(&cv, "shop");
	/* The end of a reply is lost: the next command settles it. */
	query(w(&cv), "SELECT * FROM a");
	b = r(&cv);
	row_desc(b);
	data_row(b, "1");
	query(w(&cv), "SELECT * FROM b");
	last(&cv)->unseen = 0;
	b = r(&cv);
	row_desc(b);
	complete(b, "SELECT 0");
	ready(b);
	last(&cv)->unseen = 40; /* the rest of a's reply */
	/* A whole command is lost: its reply pairs with nothing. */
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	query(w(&cv), "SELECT * FROM d");
	last(&cv)->unseen = 21; /* the Query that reply answered */
	b = r(&cv);
	row_desc(b);
	complete(b, "SELECT 0");
	ready(b);
	query(w(&cv), "SELECT * FROM e");
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT("SELECT|a|SELECT * FROM a|shop||rows=-1|err=0|50-60|L",
	       "SELECT|b|SELECT * FROM b|shop||rows=0|err=0|70-80|",
	       "SELECT|d|SELECT * FROM d|shop||rows=0|err=0|100-110|",
	       "SELECT|e|SELECT * FROM e|shop||rows=0|err=0|120-130|");
	assert_int_equal(stats()->lost_sync, 2);
	assert_int_equal(stats()->replies_unpaired, 2);
}

static void test_unanswered_at_close(void **state)
{
	struct convo cv = { .n = 0 };

	(void)state;
	reset();
	login(&cv, "shop");
	query(w(&cv), "SELECT pg_sleep(100)");
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT("SELECT||SELECT pg_sleep(?)|shop||rows=-1|err=0|50-1050|N");
}

/* Many statements: the oldest are forgotten, counted. */
static void test_statement_bound(void **state)
{
	struct convo cv = { .n = 0 };
	struct buf *b;
	char name[32];

	(void)state;
	reset();
	login(&cv, "shop");
	b = w(&cv);
	for (int i = 0; i < PG_STMT_MAX + 10; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		parse(b, name, "SELECT 1");
	}
	empty_msg(b, 'S');
	b = r(&cv);
	for (int i = 0; i < PG_STMT_MAX + 10; i++)
		empty_msg(b, '1');
	ready(b);
	b = w(&cv);
	bind(b, "", "s0", NULL);
	execute(b, "", 0);
	bind(b, "", "s265", NULL);
	execute(b, "", 0);
	empty_msg(b, 'S');
	b = r(&cv);
	empty_msg(b, '2');
	complete(b, "SELECT 1");
	empty_msg(b, '2');
	complete(b, "SELECT 1");
	ready(b);
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.spans[0].db.query, "");
	assert_string_equal(got.spans[1].db.query, "SELECT ?");
	assert_int_equal(stats()->statements_evicted, 10);
	assert_int_equal(stats()->statements_unknown, 1);
}

/* The query settings apply: raw text, no text, a cap. */
static void test_query_settings(void **state)
{
	struct convo cv = { .n = 0 };
	struct protocol_settings raw = { .db_query = DB_QUERY_RAW, .db_query_max = 12 };
	struct buf *b;

	(void)state;
	protocols_destroy(&protos);
	protocols_init(&protos, &raw);
	login(&cv, "shop");
	query(w(&cv), "SELECT 'abc' FROM t");
	b = r(&cv);
	complete(b, "SELECT 0");
	ready(b);
	run(&cv, SONDE_ROLE_CLIENT, -1, 0);
	EXPECT("SELECT|t|SELECT 'abc'|shop||rows=0|err=0|50-60|Q");
}

static void check_tag(const char *tag, const char *verb, int64_t rows)
{
	char v[16];
	int64_t n;
	struct pg_body b = { (const uint8_t *)tag, strlen(tag) + 1 };

	pg_command_tag(b, v, sizeof(v), &n);
	assert_string_equal(v, verb);
	assert_int_equal(n, rows);
}

/* CommandComplete tags, and the SQLSTATE of error fields. */
static void test_wire_fields(void **state)
{
	static const uint8_t err[] = "SERROR\0VERROR\0C23505\0Mduplicate\0";
	static const uint8_t no_code[] = "SERROR\0Mno code\0";
	const char *code;
	size_t n;

	(void)state;
	check_tag("SELECT 5", "SELECT", 5);
	check_tag("INSERT 0 12", "INSERT", 12);
	check_tag("UPDATE 0", "UPDATE", 0);
	check_tag("CREATE TABLE", "CREATE", -1);
	check_tag("FETCH 100", "FETCH", 100);
	check_tag("BEGIN", "BEGIN", -1);
	check_tag("SELECT 99999999999999999999", "SELECT", -1);
	assert_true(pg_error_code((struct pg_body){ err, sizeof(err) }, &code, &n));
	assert_int_equal(n, 5);
	assert_memory_equal(code, "23505", 5);
	assert_false(pg_error_code((struct pg_body){ no_code, sizeof(no_code) }, &code, &n));
	/* Cut short: no code rather than a wrong one. */
	assert_false(pg_error_code((struct pg_body){ err, 18 }, &code, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_query),
		cmocka_unit_test(test_errors_and_async_messages),
		cmocka_unit_test(test_extended_protocol),
		cmocka_unit_test(test_pipelining_and_errors),
		cmocka_unit_test(test_portals_and_copy),
		cmocka_unit_test(test_tls_and_startup_variants),
		cmocka_unit_test(test_server_side),
		cmocka_unit_test(test_already_open),
		cmocka_unit_test(test_truncated_captures),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_unanswered_at_close),
		cmocka_unit_test(test_statement_bound),
		cmocka_unit_test(test_query_settings),
		cmocka_unit_test(test_wire_fields),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	protocols_destroy(&protos);
	return rc;
}
