/* SPDX-License-Identifier: MIT */
/*
 * MySQL/MariaDB sessions through the protocol interface: conversations
 * recorded with strace (the mariadb client; Go's go-sql-driver/mysql with
 * prepared statements; tests/unit/captures/strace_to_c.py made the C) and
 * hand-built ones from the protocol documentation (TLS, MySQL 8 without
 * EOF packets, several result sets, 16 MiB payloads, LOCAL INFILE, query
 * attributes, cursors), fed whole, split at every byte, with gaps, cut
 * captures and garbage; each gives exactly the spans a user must see, and
 * no password, user name or bound value is kept.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mysql/mysql_protocol.h"
#include "sonde_event.h"
#include "proto_driver.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct mysql_shared shared;

static void open_client(struct driver *d)
{
	memset(&shared, 0, sizeof(shared));
	driver_open(d, &mysql_protocol, &shared, SONDE_ROLE_CLIENT, NULL);
}

/* mariadb 10.11 client → MariaDB 10.11 server, user app, database shop:
 * SELECT, INSERT, an unknown column, USE information_schema (the client
 * asks SELECT DATABASE() first), SELECT 1, USE shop, DELETE, quit. */
static const struct exchange mariadb_cli[] = {
#include "captures/mariadb_cli.inc"
};

static const char mariadb_cli_spans[] =
	"SELECT coll=orders q=SELECT * FROM orders WHERE qty > ? ns=shop rows=4 t=4-5\n"
	"INSERT coll=orders q=INSERT INTO orders (item, qty) VALUES (?, ?) ns=shop t=6-7\n"
	"SELECT coll=orders q=SELECT nosuchcol FROM orders ns=shop st=1054 E t=8-9\n"
	"SELECT q=SELECT DATABASE() ns=shop rows=1 t=10-11\n"
	"USE q= ns=information_schema t=12-13\n"
	"SELECT q=SELECT ? ns=information_schema rows=1 t=14-15\n"
	"SELECT q=SELECT DATABASE() ns=information_schema rows=1 t=16-17\n"
	"USE q= ns=shop t=18-19\n"
	"DELETE coll=orders q=DELETE FROM orders WHERE item = ? ns=shop t=20-21\n";

/* Go's database/sql with go-sql-driver/mysql: a statement prepared once and
 * executed three times with bound values, closed; an Exec with arguments
 * (prepare, execute, close); a query with a syntax error. */
static const struct exchange go_prepared[] = {
#include "captures/go_mysql.inc"
};

static const char go_prepared_spans[] =
	"SELECT coll=orders q=SELECT id, item FROM orders WHERE qty > ? AND item <> ? ns=shop "
	"rows=2 t=6-7\n"
	"SELECT coll=orders q=SELECT id, item FROM orders WHERE qty > ? AND item <> ? ns=shop "
	"rows=2 t=8-9\n"
	"SELECT coll=orders q=SELECT id, item FROM orders WHERE qty > ? AND item <> ? ns=shop "
	"rows=2 t=10-11\n"
	"UPDATE coll=orders q=UPDATE orders SET qty = qty + ? WHERE item = ? ns=shop t=15-16\n"
	"SELEC q=SELEC broken ns=shop st=1064 E t=18-19\n";

static void play_checked(const struct exchange *conv, size_t n, const char *expect, size_t split,
			 size_t at, uint64_t *spans)
{
	struct driver d;

	open_client(&d);
	d.secret = "s3cret-bound-value";
	driver_play(&d, conv, n, split, at);
	driver_close(&d, 1000);
	assert_string_equal(d.text, expect);
	assert_int_equal(d.not_client, 0);
	assert_int_equal(d.unbegun, 0);
	assert_int_equal(d.leaks, 0);
	if (spans)
		*spans = shared.stats.spans;
	driver_free(&d);
}

static void test_mariadb_cli(void **state)
{
	struct driver d;

	(void)state;
	play_checked(mariadb_cli, N(mariadb_cli), mariadb_cli_spans, SIZE_MAX, 0, NULL);
	open_client(&d);
	driver_play(&d, mariadb_cli, N(mariadb_cli), SIZE_MAX, 0);
	assert_int_equal(d.last.db.system, SPAN_DB_MARIADB);
	assert_int_equal(shared.stats.lost_sync, 0);
	driver_free(&d);
}

static void test_go_prepared(void **state)
{
	(void)state;
	play_checked(go_prepared, N(go_prepared), go_prepared_spans, SIZE_MAX, 0, NULL);
	assert_int_equal(shared.stats.stmts_unknown, 0);
	assert_int_equal(shared.stats.lost_sync, 0);
}

static void test_split_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(mariadb_cli); i++)
		for (size_t at = 1; at < exchange_len(&mariadb_cli[i]); at++)
			play_checked(mariadb_cli, N(mariadb_cli), mariadb_cli_spans, i, at, NULL);
	for (size_t i = 0; i < N(go_prepared); i++)
		for (size_t at = 1; at < exchange_len(&go_prepared[i]); at++)
			play_checked(go_prepared, N(go_prepared), go_prepared_spans, i, at, NULL);
}

/* Nothing of the handshake's user name or auth response, nor of a bound
 * value, stays in the session once its message is handled. */
static void test_nothing_secret_kept(void **state)
{
	const struct mysql_session *s;
	struct driver d;

	(void)state;
	open_client(&d);
	s = d.session;
	for (size_t i = 0; i < N(go_prepared); i++) {
		const struct exchange *e = &go_prepared[i];

		driver_feed(&d, e->ingress, e->bytes, exchange_len(e), exchange_len(e), 0, i + 1);
		assert_null(memmem(s, sizeof(*s), "app", 4));
		if (s->out.buf) {
			assert_null(memmem(s->out.buf, s->out.cap, "app\0", 4));
			assert_null(memmem(s->out.buf, s->out.cap, "s3cret", 6));
		}
	}
	driver_free(&d);
}

/* ---- hand-built conversations ---- */

struct msgs {
	uint8_t b[1 << 16];
	size_t n;
};

static void put(struct msgs *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* One packet: length, sequence id, payload. */
static void packet(struct msgs *m, uint8_t seq, const void *payload, size_t n)
{
	uint8_t hdr[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), seq };

	put(m, hdr, 4);
	put(m, payload, n);
}

#define PKT(m, seq, lit) packet(m, seq, lit, sizeof(lit) - 1)

/* The messages built, written (or read) as one syscall; then forgotten. */
static void deliver(struct driver *d, struct msgs *m, bool ingress, uint64_t ts)
{
	driver_feed(d, ingress, m->b, m->n, m->n, 0, ts);
	m->n = 0;
}

#define CAPS_MYSQL8                                                                            \
	(MYSQL_CAP_MYSQL | MYSQL_CAP_CONNECT_WITH_DB | MYSQL_CAP_PROTOCOL_41 | MYSQL_CAP_SSL | \
	 MYSQL_CAP_SECURE_CONN | MYSQL_CAP_PLUGIN_AUTH | MYSQL_CAP_AUTH_LENENC |               \
	 MYSQL_CAP_SESSION_TRACK | MYSQL_CAP_DEPRECATE_EOF | MYSQL_CAP_QUERY_ATTRIBUTES)

/* A MySQL 8 server's greeting with these capabilities. */
static void greeting(struct msgs *m, uint64_t caps)
{
	uint8_t p[128];
	size_t n = 0;

	p[n++] = 10;
	memcpy(p + n, "8.0.36\0", 7);
	n += 7;
	memset(p + n, 1, 4 + 8); /* connection id, scramble */
	n += 12;
	p[n++] = 0;
	p[n++] = (uint8_t)caps;
	p[n++] = (uint8_t)(caps >> 8);
	p[n++] = 0xff; /* charset */
	p[n++] = 2;    /* status */
	p[n++] = 0;
	p[n++] = (uint8_t)(caps >> 16);
	p[n++] = (uint8_t)(caps >> 24);
	p[n++] = 21;
	memset(p + n, 0, 10);
	n += 10;
	memcpy(p + n, "abcdefghijkl\0caching_sha2_password\0", 35);
	n += 35;
	packet(m, 0, p, n);
}

/* HandshakeResponse41 (or, ssl, the SSLRequest before it). */
static void handshake(struct msgs *m, uint8_t seq, uint64_t caps, const char *db, bool ssl)
{
	uint8_t p[256] = { 0 };
	size_t n = 0;

	for (int i = 0; i < 4; i++)
		p[n++] = (uint8_t)(caps >> (8 * i));
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 1; /* max packet */
	p[n++] = 0xff;
	n += 23;
	if (ssl) {
		packet(m, seq, p, n);
		return;
	}
	memcpy(p + n, "alice\0", 6);
	n += 6;
	p[n++] = 20; /* auth response */
	memcpy(p + n, "PASSWORDHASHPASSWORD", 20);
	n += 20;
	if (db) {
		memcpy(p + n, db, strlen(db) + 1);
		n += strlen(db) + 1;
	}
	memcpy(p + n, "caching_sha2_password\0", 22);
	n += 22;
	packet(m, seq, p, n);
}

/* OK: status flags; with session tracking, a new current database. */
static void ok(struct msgs *m, uint8_t seq, uint8_t header, uint16_t status, const char *schema)
{
	uint8_t p[128];
	size_t n = 0;

	p[n++] = header;
	p[n++] = 0; /* affected rows */
	p[n++] = 0; /* last insert id */
	if (schema)
		status |= MYSQL_STATUS_STATE_CHANGED;
	p[n++] = (uint8_t)status;
	p[n++] = (uint8_t)(status >> 8);
	p[n++] = 0;
	p[n++] = 0;
	if (schema) {
		size_t len = strlen(schema);

		p[n++] = 0; /* info */
		p[n++] = (uint8_t)(len + 3);
		p[n++] = 1; /* SESSION_TRACK_SCHEMA */
		p[n++] = (uint8_t)(len + 1);
		p[n++] = (uint8_t)len;
		memcpy(p + n, schema, len);
		n += len;
	}
	packet(m, seq, p, n);
}

static void eof(struct msgs *m, uint8_t seq, uint16_t status)
{
	uint8_t p[5] = { 0xfe, 0, 0, (uint8_t)status, (uint8_t)(status >> 8) };

	packet(m, seq, p, sizeof(p));
}

static void err(struct msgs *m, uint8_t seq, uint16_t code, const char *state)
{
	uint8_t p[64];

	p[0] = 0xff;
	p[1] = (uint8_t)code;
	p[2] = (uint8_t)(code >> 8);
	p[3] = '#';
	memcpy(p + 4, state, 5);
	memcpy(p + 9, "boom", 4);
	packet(m, seq, p, 13);
}

/* A text result set of rows with one column each, ended by OK (MySQL 8,
 * CLIENT_DEPRECATE_EOF) or EOF. Returns the next sequence id. */
static uint8_t result(struct msgs *m, uint8_t seq, int rows, bool deprecate_eof, uint16_t status)
{
	static const char coldef[] = "\x03"
				     "def\x04shop\x06orders\x06orders\x02id\x02id\x0c?\0\x0b\0\0\0"
				     "\x03\x03B\0\0\0";
	uint8_t one = 1;

	packet(m, seq++, &one, 1);
	packet(m, seq++, coldef, sizeof(coldef) - 1);
	if (!deprecate_eof)
		eof(m, seq++, 0);
	for (int i = 0; i < rows; i++)
		PKT(m, seq++,
		    "\x02"
		    "42");
	if (deprecate_eof)
		ok(m, seq++, 0xfe, status, NULL);
	else
		eof(m, seq++, status);
	return seq;
}

/* COM_QUERY with its text (and, with query attributes, none of them). */
static void query(struct msgs *m, const char *text, bool attributes)
{
	uint8_t p[4096];
	size_t n = 0;

	p[n++] = 0x03;
	if (attributes) {
		p[n++] = 0; /* parameters */
		p[n++] = 1; /* parameter sets */
	}
	memcpy(p + n, text, strlen(text));
	n += strlen(text);
	packet(m, 0, p, n);
}

/* A MySQL 8 client's connection up to its first command: greeting,
 * response (database shop), OK. */
static void connect_mysql8(struct driver *d, uint64_t *ts)
{
	struct msgs m = { .n = 0 };

	greeting(&m, CAPS_MYSQL8);
	deliver(d, &m, true, (*ts)++);
	handshake(&m, 1, CAPS_MYSQL8 & ~MYSQL_CAP_SSL, "shop", false);
	deliver(d, &m, false, (*ts)++);
	ok(&m, 2, 0, 2, NULL);
	deliver(d, &m, true, (*ts)++);
}

static void test_mysql8_results(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;
	uint8_t seq;

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	/* rows ended by OK packets; query attributes before the text */
	query(&m, "SELECT id FROM orders WHERE id IN (1, 2, 3)", true);
	deliver(&d, &m, false, 10);
	result(&m, 1, 3, true, 2);
	deliver(&d, &m, true, 11);
	/* a procedure: two result sets, then the OK that ends it all */
	query(&m, "CALL report(7)", true);
	deliver(&d, &m, false, 12);
	seq = result(&m, 1, 2, true, MYSQL_STATUS_MORE_RESULTS | 2);
	seq = result(&m, seq, 5, true, MYSQL_STATUS_MORE_RESULTS | 2);
	ok(&m, seq, 0, 2, NULL);
	deliver(&d, &m, true, 13);
	/* USE by a query: the OK's session state says so */
	query(&m, "use `other db`", true);
	deliver(&d, &m, false, 14);
	ok(&m, 1, 0, 2, "other db");
	deliver(&d, &m, true, 15);
	query(&m, "INSERT INTO t VALUES ('x')", true);
	deliver(&d, &m, false, 16);
	err(&m, 1, 1146, "42S02");
	deliver(&d, &m, true, 17);
	assert_string_equal(
		d.text, "SELECT coll=orders q=SELECT id FROM orders WHERE id IN (?) ns=shop rows=3 "
			"t=10-11\n"
			"CALL q=CALL report(?) ns=shop rows=7 t=12-13\n"
			"USE q=use `other db` ns=other db t=14-15\n"
			"INSERT coll=t q=INSERT INTO t VALUES (?) ns=other db st=1146 E t=16-17\n");
	assert_int_equal(d.last.db.system, SPAN_DB_MYSQL);
	driver_free(&d);
}

/* MySQL 8's query attributes: names and values before the text, stepped
 * over, never in a span. */
static void test_query_attributes(void **state)
{
	static const char attrs[] = "\x03\x03\x01"	     /* COM_QUERY, 3 attributes, 1 set */
				    "\x02\x01"		     /* NULL bitmap: the second is NULL */
				    "\xfe\x00\x05trace"	     /* VAR_STRING "trace" */
				    "\x06\x00\x04none"	     /* NULL "none" */
				    "\x08\x00\x02id"	     /* LONGLONG "id" */
				    "\x12s3cret-bound-value" /* trace's value */
				    "\x07\0\0\0\0\0\0\0"     /* id's */
				    "SELECT item FROM orders WHERE id = 4";
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;

	(void)state;
	open_client(&d);
	d.secret = "s3cret";
	connect_mysql8(&d, &ts);
	packet(&m, 0, attrs, sizeof(attrs) - 1);
	deliver(&d, &m, false, 10);
	result(&m, 1, 1, true, 2);
	deliver(&d, &m, true, 11);
	assert_string_equal(d.text, "SELECT coll=orders q=SELECT item FROM orders WHERE id = ? "
				    "ns=shop rows=1 t=10-11\n");
	assert_int_equal(d.leaks, 0);
	driver_free(&d);
}

/* TLS: the SSLRequest, the handshake's records (skipped; read as a
 * record's 5-byte header, then its body, as OpenSSL reads them), then the
 * plaintext through the TLS library: the response again (sequence id 2),
 * commands. Around the handshake, ciphertext and plaintext share the
 * kernel's byte count: the plaintext comes after a gap that is none, and
 * the ciphertext of the response is stamped after its plaintext. */
static void test_tls(void **state)
{
	static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 };
	static const uint8_t server_hello[] = { 0x16, 0x03, 0x03, 0x00, 0x04, 9,    9, 9,
						9,    0x14, 0x03, 0x03, 0x00, 0x01, 1 };
	static const uint8_t ticket_head[] = { 0x17, 0x03, 0x03, 0x00, 0x07 };
	static const uint8_t ticket_body[] = { 0x02, 0, 0, 0x76, 0x03, 0, 0 };
	static const uint8_t app_data[] = { 0x17, 0x03, 0x03, 0x00, 0x03, 7, 7, 7 };
	struct driver d;
	struct msgs m = { .n = 0 };

	(void)state;
	open_client(&d);
	greeting(&m, CAPS_MYSQL8);
	deliver(&d, &m, true, 1);
	handshake(&m, 1, CAPS_MYSQL8, NULL, true);
	deliver(&d, &m, false, 2);
	driver_write(&d, 3, client_hello, sizeof(client_hello));
	driver_read(&d, 4, server_hello, sizeof(server_hello));
	driver_read(&d, 5, ticket_head, sizeof(ticket_head));
	driver_read(&d, 6, ticket_body, sizeof(ticket_body));
	m.n = 0;
	handshake(&m, 2, CAPS_MYSQL8, "secure", false);
	driver_feed(&d, false, m.b, m.n, m.n, sizeof(app_data), 7);
	/* its ciphertext, stamped after the plaintext */
	driver_write(&d, 8, app_data, sizeof(app_data));
	m.n = 0;
	PKT(&m, 3, "\x01\x03"); /* caching_sha2: fast auth */
	ok(&m, 4, 0, 2, NULL);
	deliver(&d, &m, true, 9);
	query(&m, "SELECT 1", true);
	driver_feed(&d, false, m.b, m.n, m.n, 90, 10);
	m.n = 0;
	result(&m, 1, 1, true, 2);
	deliver(&d, &m, true, 11);
	assert_string_equal(d.text, "SELECT q=SELECT ? ns=secure rows=1 t=10-11\n");
	assert_int_equal(shared.stats.tls_skipped, 5);
	assert_int_equal(shared.stats.lost_sync, 0);
	driver_free(&d);
}

/* A result set larger than what each read captured: its framing is lost,
 * the span ends at the last read before the next command. */
static void test_result_larger_than_capture(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	query(&m, "SELECT id FROM orders", true);
	deliver(&d, &m, false, 10);
	result(&m, 1, 2000, true, 2);
	/* reads of 4096 bytes of which 1024 were captured */
	for (size_t off = 0, i = 0; off < m.n; off += 4096, i++) {
		size_t total = m.n - off < 4096 ? m.n - off : 4096;

		driver_feed(&d, true, m.b + off, total < 1024 ? total : 1024, total, 0, 11 + i);
	}
	m.n = 0;
	query(&m, "SELECT 2", true);
	deliver(&d, &m, false, 30);
	result(&m, 1, 1, true, 2);
	deliver(&d, &m, true, 31);
	assert_string_equal(d.text, "SELECT coll=orders q=SELECT id FROM orders ns=shop L t=10-14\n"
				    "SELECT q=SELECT ? ns=shop rows=1 t=30-31\n");
	assert_int_equal(shared.stats.unpaired, 1);
	driver_free(&d);
}

/* Payloads of 16 MiB and more come in several packets. */
static void test_large_payloads(void **state)
{
	static uint8_t big[4 + 1024];
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	/* an INSERT of 16 MiB + 10 bytes: a full packet, then 10 bytes */
	big[0] = big[1] = big[2] = 0xff;
	big[3] = 0;
	memcpy(big + 4, "\x03\0\x01INSERT INTO blobs VALUES ('", 30);
	memset(big + 34, 'x', sizeof(big) - 34);
	driver_feed(&d, false, big, sizeof(big), 4 + MYSQL_MAX_PACKET, 0, 10);
	PKT(&m, 1, "xxxxxxx');");
	deliver(&d, &m, false, 11);
	ok(&m, 2, 0, 2, NULL);
	deliver(&d, &m, true, 12);
	/* a row of 16 MiB: one row, not two */
	query(&m, "SELECT b FROM blobs", true);
	deliver(&d, &m, false, 13);
	PKT(&m, 1, "\x01");
	PKT(&m, 2,
	    "\x03"
	    "def\0\0\0\x01"
	    "b\0\x0c?\0\xff\xff\xff\xff\xfc\x90\0\0\0\0");
	deliver(&d, &m, true, 14);
	big[3] = 3;
	big[4] = 0xfe; /* a string longer than 16 MiB */
	driver_feed(&d, true, big, 64, 4 + MYSQL_MAX_PACKET, 0, 15);
	m.n = 0;
	PKT(&m, 4, "tail");
	ok(&m, 5, 0xfe, 2, NULL);
	deliver(&d, &m, true, 16);
	assert_string_equal(d.text,
			    "INSERT coll=blobs q=INSERT INTO blobs VALUES (? ns=shop T t=10-12\n"
			    "SELECT coll=blobs q=SELECT b FROM blobs ns=shop rows=1 t=13-16\n");
	assert_int_equal(shared.stats.lost_sync, 0);
	driver_free(&d);
}

static void test_local_infile(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	query(&m, "LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE t", true);
	deliver(&d, &m, false, 10);
	PKT(&m, 1, "\xfb/tmp/x.csv");
	deliver(&d, &m, true, 11);
	PKT(&m, 2, "1,a\n2,b\n");
	PKT(&m, 3, "3,c\n");
	packet(&m, 4, "", 0);
	deliver(&d, &m, false, 12);
	ok(&m, 5, 0, 2, NULL);
	deliver(&d, &m, true, 13);
	PKT(&m, 0, "\x0e");
	deliver(&d, &m, false, 14);
	ok(&m, 1, 0, 2, NULL);
	deliver(&d, &m, true, 15);
	assert_string_equal(d.text, "LOAD coll=t q=LOAD DATA LOCAL INFILE ? INTO TABLE t ns=shop "
				    "t=10-13\n"
				    "PING q= ns=shop t=14-15\n");
	assert_int_equal(shared.stats.local_infile, 1);
	driver_free(&d);
}

/* Statements prepared, executed, closed; a failed PREPARE is a span; the
 * table of statements is bounded. */
static void test_prepared_statements(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;
	char text[64];

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	PKT(&m, 0, "\x16SELEC oops");
	deliver(&d, &m, false, 10);
	err(&m, 1, 1064, "42000");
	deliver(&d, &m, true, 11);
	for (uint32_t i = 1; i <= MYSQL_MAX_STMTS + 10; i++) {
		uint8_t prep_ok[12] = {
			0, (uint8_t)i, (uint8_t)(i >> 8), 0, 0, 0, 0, 0, 0, 0, 0, 0
		};

		m.n = 0;
		snprintf(text, sizeof(text), "\x16UPDATE t%u SET a = 1", i);
		packet(&m, 0, text, strlen(text));
		deliver(&d, &m, false, 100 + 2 * i);
		packet(&m, 1, prep_ok, sizeof(prep_ok));
		deliver(&d, &m, true, 101 + 2 * i);
	}
	assert_int_equal(shared.stats.stmts_evicted, 10);
	/* statement 300: known; statement 1: forgotten */
	m.n = 0;
	PKT(&m, 0, "\x17\x0a\x01\0\0\0\x01\0\0\0");
	deliver(&d, &m, false, 1000);
	ok(&m, 1, 0, 2, NULL);
	deliver(&d, &m, true, 1001);
	PKT(&m, 0, "\x17\x01\0\0\0\0\x01\0\0\0");
	deliver(&d, &m, false, 1002);
	ok(&m, 1, 0, 2, NULL);
	deliver(&d, &m, true, 1003);
	assert_string_equal(d.text, "SELEC q=SELEC oops ns=shop st=1064 E t=10-11\n"
				    "UPDATE coll=t266 q=UPDATE t266 SET a = ? ns=shop t=1000-1001\n"
				    "EXECUTE q= ns=shop t=1002-1003\n");
	assert_int_equal(shared.stats.stmts_unknown, 1);
	driver_free(&d);
}

/* MariaDB's progress reports are no reply; COM_CHANGE_USER changes the
 * database; compression is not followed. */
static void test_progress_change_user_compression(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	query(&m, "ALTER TABLE t ADD c INT", true);
	deliver(&d, &m, false, 10);
	PKT(&m, 1, "\xff\xff\xff\x01\x01\x02\x10\x27\0\0\x05stage");
	deliver(&d, &m, true, 11);
	ok(&m, 2, 0, 2, NULL);
	deliver(&d, &m, true, 12);
	PKT(&m, 0,
	    "\x11"
	    "bob\0\x14PASSWORDHASHPASSWORDnewdb\0");
	deliver(&d, &m, false, 13);
	ok(&m, 1, 0, 2, NULL);
	deliver(&d, &m, true, 14);
	PKT(&m, 0, "\x0e");
	deliver(&d, &m, false, 15);
	ok(&m, 1, 0, 2, NULL);
	deliver(&d, &m, true, 16);
	assert_string_equal(d.text, "ALTER coll=t q=ALTER TABLE t ADD c INT ns=shop t=10-12\n"
				    "PING q= ns=newdb t=15-16\n");
	driver_free(&d);

	open_client(&d);
	m.n = 0;
	greeting(&m, CAPS_MYSQL8 | MYSQL_CAP_COMPRESS);
	deliver(&d, &m, true, 1);
	handshake(&m, 1, (CAPS_MYSQL8 | MYSQL_CAP_COMPRESS) & ~MYSQL_CAP_SSL, "shop", false);
	deliver(&d, &m, false, 2);
	ok(&m, 2, 0, 2, NULL);
	deliver(&d, &m, true, 3);
	driver_write(&d, 4, "\x0b\0\0\0\x0b\0\0\x03SELECT 1", 15);
	assert_int_equal(d.spans, 0);
	assert_int_equal(shared.stats.compressed, 1);
	driver_free(&d);
}

/* A cursor: EXECUTE answers with the columns only, FETCH brings rows. */
static void test_cursor(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	PKT(&m, 0, "\x16SELECT a FROM t");
	deliver(&d, &m, false, 10);
	PKT(&m, 1, "\0\x07\0\0\0\x01\0\0\0\0\0\0");
	PKT(&m, 2,
	    "\x03"
	    "def\0\0\0\x01"
	    "a\0\x0c?\0\x0b\0\0\0\x03\0\0\0\0");
	deliver(&d, &m, true, 11);
	PKT(&m, 0, "\x17\x07\0\0\0\x01\x01\0\0\0");
	deliver(&d, &m, false, 12);
	PKT(&m, 1, "\x01");
	PKT(&m, 2,
	    "\x03"
	    "def\0\0\0\x01"
	    "a\0\x0c?\0\x0b\0\0\0\x03\0\0\0\0");
	/* with CLIENT_DEPRECATE_EOF the columns still end with an EOF here */
	eof(&m, 3, 0x0042);
	deliver(&d, &m, true, 13);
	PKT(&m, 0, "\x1c\x07\0\0\0\x0a\0\0\0");
	deliver(&d, &m, false, 14);
	PKT(&m, 1, "\0\0\x01\0\0\0");
	ok(&m, 2, 0xfe, 0x0082, NULL);
	deliver(&d, &m, true, 15);
	PKT(&m, 0, "\x0e");
	deliver(&d, &m, false, 16);
	ok(&m, 1, 0, 2, NULL);
	deliver(&d, &m, true, 17);
	assert_string_equal(d.text, "SELECT coll=t q=SELECT a FROM t ns=shop rows=0 t=12-13\n"
				    "PING q= ns=shop t=16-17\n");
	assert_int_equal(shared.stats.lost_sync, 0);
	driver_free(&d);
}

/* Replies that do not follow, commands that are cut, garbage: no wrong
 * pair; the next command written pairs again. */
static void test_garbage_and_gaps(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;
	uint8_t noise[300];

	(void)state;
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)(i * 37 + 11);
	open_client(&d);
	connect_mysql8(&d, &ts);
	query(&m, "SELECT 1", true);
	deliver(&d, &m, false, 10);
	driver_read(&d, 11, noise, sizeof(noise));
	m.n = 0;
	query(&m, "SELECT 2", true);
	/* lost bytes before it, but a write that starts with a command */
	driver_feed(&d, false, m.b, m.n, m.n, 7, 12);
	m.n = 0;
	result(&m, 1, 1, true, 2);
	deliver(&d, &m, true, 13);
	query(&m, "SELECT 3", true);
	deliver(&d, &m, false, 14);
	result(&m, 1, 1, true, 2);
	deliver(&d, &m, true, 15);
	driver_write(&d, 16, noise, sizeof(noise));
	m.n = 0;
	query(&m, "SELECT 4", true);
	deliver(&d, &m, false, 17);
	result(&m, 1, 1, true, 2);
	deliver(&d, &m, true, 18);
	assert_string_equal(d.text, "SELECT q=SELECT ? ns=shop L t=10-11\n"
				    "SELECT q=SELECT ? ns=shop rows=1 t=12-13\n"
				    "SELECT q=SELECT ? ns=shop rows=1 t=14-15\n"
				    "SELECT q=SELECT ? ns=shop rows=1 t=17-18\n");
	driver_free(&d);
}

/* A traced server makes no spans; a connection seen without its greeting
 * is not followed. */
static void test_roles(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };

	(void)state;
	memset(&shared, 0, sizeof(shared));
	for (int role = SONDE_ROLE_UNKNOWN; role <= SONDE_ROLE_SERVER; role++) {
		driver_open(&d, &mysql_protocol, &shared, (uint8_t)role, NULL);
		m.n = 0;
		greeting(&m, CAPS_MYSQL8);
		deliver(&d, &m, false, 1);
		query(&m, "SELECT 1", false);
		deliver(&d, &m, true, 2);
		result(&m, 1, 1, false, 2);
		deliver(&d, &m, false, 3);
		driver_close(&d, 4);
		assert_int_equal(d.spans, 0);
		driver_free(&d);
	}
	assert_int_equal(shared.stats.server_sessions, 2);
	open_client(&d);
	m.n = 0;
	query(&m, "SELECT 1", false);
	deliver(&d, &m, false, 1);
	result(&m, 1, 1, false, 2);
	deliver(&d, &m, true, 2);
	assert_int_equal(d.spans, 0);
	assert_int_equal(shared.stats.not_traced, 1);
	driver_free(&d);
}

/* A command whose reply never came. */
static void test_close_without_reply(void **state)
{
	struct driver d;
	struct msgs m = { .n = 0 };
	uint64_t ts = 1;

	(void)state;
	open_client(&d);
	connect_mysql8(&d, &ts);
	query(&m, "SELECT SLEEP(100)", true);
	deliver(&d, &m, false, 10);
	assert_int_equal(d.p->in_flight(d.session), 1);
	driver_close(&d, 20);
	assert_string_equal(d.text, "SELECT q=SELECT SLEEP(?) ns=shop N t=10-20\n");
	driver_free(&d);
}

/* Random bytes in random pieces, after a real start: no crash, no hang,
 * only database client spans. */
static void test_random_input(void **state)
{
	struct driver d;
	uint32_t seed = 7;
	uint8_t buf[512];

	(void)state;
	for (int round = 0; round < 300; round++) {
		open_client(&d);
		for (size_t i = 0; i < 6; i++) {
			const struct exchange *e = &go_prepared[i];

			driver_feed(&d, e->ingress, e->bytes, exchange_len(e), exchange_len(e), 0,
				    i + 1);
		}
		for (int chunk = 0; chunk < 30; chunk++) {
			size_t len;

			seed = seed * 1103515245 + 12345;
			len = (seed >> 16) % sizeof(buf);
			for (size_t k = 0; k < len; k++) {
				seed = seed * 1103515245 + 12345;
				buf[k] = (uint8_t)(seed >> 16);
				if ((seed >> 28) == 0)
					buf[k] = 0; /* short lengths, sequence id 0 */
			}
			driver_feed(&d, (seed >> 20) & 1, buf, len, len + ((seed >> 21) & 7),
				    (seed >> 24) & 1, 100 + (uint64_t)chunk);
		}
		driver_close(&d, 999);
		assert_int_equal(d.not_client, 0);
		driver_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mariadb_cli),
		cmocka_unit_test(test_go_prepared),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_nothing_secret_kept),
		cmocka_unit_test(test_mysql8_results),
		cmocka_unit_test(test_query_attributes),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_result_larger_than_capture),
		cmocka_unit_test(test_large_payloads),
		cmocka_unit_test(test_local_infile),
		cmocka_unit_test(test_prepared_statements),
		cmocka_unit_test(test_progress_change_user_compression),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_garbage_and_gaps),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_close_without_reply),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
