/* SPDX-License-Identifier: MIT */
/*
 * The SQL sanitiser and summariser (protocols/sql/sql.h) on a corpus: every
 * literal hidden, the shape kept, the operation and the one table named, in
 * both dialects; and the span helper that applies the db.query settings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "protocols/sql/db_query.h"
#include "protocols/sql/sql.h"
#include "util/utf8.h"

#define PG SQL_POSTGRESQL
#define MY SQL_MYSQL

static bool valid_utf8(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);

		if (!k)
			return false;
		i += k;
	}
	return true;
}

static void check_sanitized(int line, enum sql_dialect d, const char *q, size_t qlen,
			    const char *want)
{
	char out[1024];
	bool cut = true;
	size_t n = sql_sanitize(d, q, qlen, out, sizeof(out), &cut);

	if (strcmp(out, want))
		fail_msg("line %d: sanitised '%s': got '%s', want '%s'", line, q, out, want);
	assert_int_equal(n, strlen(want));
	assert_false(cut);
	assert_true(valid_utf8(out));
}

#define SAN(d, q, want)	      check_sanitized(__LINE__, d, q, strlen(q), want)
#define SANN(d, q, len, want) check_sanitized(__LINE__, d, q, len, want)

static void test_strings(void **state)
{
	(void)state;
	SAN(PG, "SELECT * FROM users WHERE name = 'bob'", "SELECT * FROM users WHERE name = ?");
	SAN(PG, "SELECT 'it''s', 'x'", "SELECT ?, ?");
	/* PostgreSQL: a backslash is a character in '' (standard_conforming_strings). */
	SAN(PG, "SELECT 'C:\\' AS path, 'secret'", "SELECT ? AS path, ?");
	/* E'' strings take backslash escapes. */
	SAN(PG, "SELECT E'it\\'s secret', e'\\\\'", "SELECT ?, ?");
	SAN(PG, "SELECT U&'d\\0061t' || N'nat'", "SELECT U&? || ?");
	/* MySQL: backslash escapes, and "" is a string. */
	SAN(MY, "SELECT 'it\\'s', \"dq \\\" str\", 'a''b'", "SELECT ?, ?, ?");
	SAN(MY, "SELECT _utf8mb4'caf\xc3\xa9' COLLATE utf8mb4_bin",
	    "SELECT _utf8mb4? COLLATE utf8mb4_bin");
	/* PostgreSQL: "" is an identifier. */
	SAN(PG, "SELECT \"Name\", \"we\"\"ird\" FROM \"Sales\".\"Orders\"",
	    "SELECT \"Name\", \"we\"\"ird\" FROM \"Sales\".\"Orders\"");
	SAN(MY, "SELECT `col` FROM `db`.`t` WHERE `x` = 'v'",
	    "SELECT `col` FROM `db`.`t` WHERE `x` = ?");
	/* Casts and typed literals keep their type. */
	SAN(PG, "SELECT '2024-01-01'::date, interval '1 day', DATE '2020-02-02'",
	    "SELECT ?::date, interval ?, DATE ?");
}

static void test_dollar_quotes(void **state)
{
	(void)state;
	SAN(PG, "SELECT $$secret ' text$$", "SELECT ?");
	SAN(PG, "SELECT $tag$ has $$ inside $ and 'q' $tag$, $1", "SELECT ?, $1");
	SAN(PG, "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 42 $body$ LANGUAGE sql",
	    "CREATE FUNCTION f() RETURNS int AS ? LANGUAGE sql");
	/* $1 and $name$: a parameter, and a dollar-quote opener; a$b is one word. */
	SAN(PG, "SELECT a$b FROM t WHERE x = $12", "SELECT a$b FROM t WHERE x = $12");
	/* MySQL has no dollar quotes: $ is just a character. */
	SAN(MY, "SELECT $$ FROM t", "SELECT $$ FROM t");
}

static void test_numbers(void **state)
{
	(void)state;
	SAN(PG, "SELECT 1, 4.5, .5, 1e10, 2.5E-3, 1_000_000, 0x1F, 0o17, 0b101",
	    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?");
	SAN(PG, "UPDATE t SET x = -5, y = +3.2 WHERE z = - 1",
	    "UPDATE t SET x = ?, y = ? WHERE z = ?");
	/* After an operand the sign subtracts: it stays. */
	SAN(PG, "SELECT a-1, b - 2, (c)-3, f(x)-4", "SELECT a-?, b - ?, (c)-?, f(x)-?");
	SAN(PG, "SELECT x FROM t LIMIT 10 OFFSET 20", "SELECT x FROM t LIMIT ? OFFSET ?");
	SAN(MY, "SELECT X'4D7953514C', x'ff', B'101', 0xFF, 0b1010", "SELECT ?, ?, ?, ?, ?");
	SAN(PG, "SELECT B'1010', X'1F'", "SELECT ?, ?");
	/* Identifiers with digits are not numbers. */
	SAN(PG, "SELECT t1.c2 FROM t1", "SELECT t1.c2 FROM t1");
	/* TRUE, FALSE and NULL are kept. */
	SAN(PG, "SELECT * FROM t WHERE a IS NULL AND b = TRUE OR c = false",
	    "SELECT * FROM t WHERE a IS NULL AND b = TRUE OR c = false");
}

static void test_comments_and_space(void **state)
{
	(void)state;
	SAN(PG, "  SELECT   1 -- the answer 'x'\n  FROM\tt  ", "SELECT ? FROM t");
	SAN(PG, "SELECT /* a /* nested */ comment 'x' */ 2", "SELECT ?");
	SAN(PG, "SELECT/**/3", "SELECT ?");
	SAN(MY, "SELECT 1 # mysql comment 'x'\n, 2", "SELECT ? , ?");
	/* In PostgreSQL # is an operator. */
	SAN(PG, "SELECT 1 # 2", "SELECT ? # ?");
	/* MySQL block comments do not nest; -- needs a space after it. */
	SAN(MY, "SELECT /* a /* b */ 1", "SELECT ?");
	SAN(MY, "SELECT 5--1", "SELECT ?-?");
	/* MySQL executable comments hold SQL: kept, and sanitised. */
	SAN(MY, "/*!40101 SET NAMES 'utf8' */", "SET NAMES ?");
	SAN(MY, "SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1", "SELECT ?");
	/* An unterminated comment ends the text. */
	SAN(PG, "SELECT 1 /* never closed 'x'", "SELECT ?");
	SAN(PG, "", "");
	SAN(PG, " -- only a comment", "");
}

static void test_lists(void **state)
{
	(void)state;
	SAN(PG, "SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)");
	SAN(PG, "SELECT * FROM t WHERE id in ('a','b') AND x NOT IN (-1, 2.5)",
	    "SELECT * FROM t WHERE id in (?) AND x NOT IN (?)");
	SAN(MY, "SELECT * FROM t WHERE id IN (?, ?, ?)", "SELECT * FROM t WHERE id IN (?)");
	/* Not all literals: left as they are. */
	SAN(PG, "SELECT * FROM t WHERE id IN ($1, $2)", "SELECT * FROM t WHERE id IN ($1, $2)");
	SAN(PG, "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = 3)",
	    "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = ?)");
	SAN(PG, "SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))",
	    "SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))");
	SAN(PG, "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z') RETURNING id",
	    "INSERT INTO t (a, b) VALUES (?, ?) RETURNING id");
	SAN(MY, "INSERT INTO t VALUES (1,'x'),(2,'y')", "INSERT INTO t VALUES (?,?)");
	/* Rows that differ in width, or hold expressions, stay. */
	SAN(PG, "INSERT INTO t VALUES (1, 2), (3), (now(), 4)",
	    "INSERT INTO t VALUES (?, ?), (?), (now(), ?)");
}

static void test_utf8(void **state)
{
	char out[64];
	bool cut;

	(void)state;
	SAN(PG, "SELECT \"caf\xc3\xa9\" FROM \"\xe6\x97\xa5\xe6\x9c\xac\" WHERE n = 'na\xc3\xafve'",
	    "SELECT \"caf\xc3\xa9\" FROM \"\xe6\x97\xa5\xe6\x9c\xac\" WHERE n = ?");
	SAN(PG,
	    "SELECT \xf0\x9f\x98\x80"
	    "col FROM t",
	    "SELECT \xf0\x9f\x98\x80"
	    "col FROM t");
	/* Bad bytes in an identifier become U+FFFD; those in literals vanish. */
	SAN(PG,
	    "SELECT a\xff"
	    "b, '\xfe' FROM t",
	    "SELECT a\xef\xbf\xbd"
	    "b, ? FROM t");
	/* NUL and control bytes are whitespace. */
	SANN(PG, "SELECT\0 1\x01", 11, "SELECT ?");
	/* Cut on a character boundary: "SELECT é" where é does not fit. */
	sql_sanitize(PG, "SELECT \xc3\xa9", 9, out, 9, &cut);
	assert_string_equal(out, "SELECT ");
	assert_true(cut);
	sql_sanitize(PG, "SELECT \xe6\x97\xa5 FROM t", 16, out, 10, &cut);
	assert_string_equal(out, "SELECT ");
	assert_true(cut);
	sql_sanitize(PG, "SELECT \xe6\x97\xa5 FROM t", 16, out, 11, &cut);
	assert_string_equal(out, "SELECT \xe6\x97\xa5");
	assert_true(cut);
	sql_sanitize(PG, "SELECT 1", 8, out, 9, &cut);
	assert_string_equal(out, "SELECT ?");
	assert_false(cut);
	assert_int_equal(sql_sanitize(PG, "SELECT 1", 8, out, 0, &cut), 0);
	assert_int_equal(sql_sanitize(PG, "SELECT 1", 8, out, 1, &cut), 0);
	assert_string_equal(out, "");
	assert_true(cut);
}

/* A literal the text ends inside: nothing of it, nor of what follows. */
static void test_unterminated(void **state)
{
	(void)state;
	SAN(PG, "SELECT * FROM t WHERE pw = 'hunter2", "SELECT * FROM t WHERE pw = ?");
	SAN(PG, "SELECT E'abc\\' still inside", "SELECT ?");
	SAN(PG, "SELECT $x$ never closed $y$", "SELECT ?");
	SAN(MY, "SELECT \"abc", "SELECT ?");
	SAN(MY, "SELECT 'a\\", "SELECT ?");
	SAN(PG, "SELECT 1, 'abc' || 'de", "SELECT ?, ? || ?");
	/* An identifier cut short is still an identifier. */
	SAN(PG, "SELECT \"col", "SELECT \"col");
}

/* Every prefix of every corpus query: a valid, bounded output that never
 * shows a literal's characters. */
static void test_prefixes_never_leak(void **state)
{
	static const char *const corpus[] = {
		"SELECT * FROM t WHERE a = 'ZQXJKWVBPY' AND b = E'ZQXJK\\'WVBPY'",
		"SELECT $q$ZQXJKWVBPY$q$, 'ZQXJK''WVBPY'",
		"INSERT INTO t VALUES ('ZQXJKWVBPY', 'ZQXJKWVBPY')",
		"/* ZQXJKWVBPY */ SELECT 1 -- ZQXJKWVBPY\n",
	};
	char out[256];

	(void)state;
	for (size_t c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++)
		for (size_t n = 0; n <= strlen(corpus[c]); n++) {
			for (size_t cap = 1; cap < 80; cap += 13) {
				size_t len = sql_sanitize(PG, corpus[c], n, out, cap, NULL);

				assert_true(len < cap);
				assert_int_equal(strlen(out), len);
				assert_true(valid_utf8(out));
				/* Any run of 3 or more characters of the secret. */
				for (const char *p = "ZQXJKWVBPY"; p[2]; p++) {
					char frag[4] = { p[0], p[1], p[2], 0 };

					if (strstr(out, frag))
						fail_msg("'%.*s' leaked as '%s'", (int)n, corpus[c],
							 out);
				}
			}
		}
}

static void check_summary(int line, enum sql_dialect d, const char *q, const char *op,
			  const char *coll)
{
	struct sql_summary s;

	sql_summarize(d, q, strlen(q), &s);
	if (strcmp(s.operation, op) || strcmp(s.collection, coll))
		fail_msg("line %d: '%s': got '%s' '%s', want '%s' '%s'", line, q, s.operation,
			 s.collection, op, coll);
}

#define SUM(d, q, op, coll) check_summary(__LINE__, d, q, op, coll)

static void test_summary_operations(void **state)
{
	(void)state;
	SUM(PG, "select * from orders", "SELECT", "orders");
	SUM(PG, "  /* c */ Insert into orders (a) values (1)", "INSERT", "orders");
	SUM(PG, "UPDATE orders SET a = 1 WHERE id = 2", "UPDATE", "orders");
	SUM(PG, "DELETE FROM orders WHERE id = 2", "DELETE", "orders");
	SUM(PG, "BEGIN", "BEGIN", "");
	SUM(PG, "commit", "COMMIT", "");
	SUM(PG, "SET search_path TO public", "SET", "");
	SUM(PG, "SHOW server_version", "SHOW", "");
	SUM(PG, "SELECT 1", "SELECT", "");
	SUM(PG, "(SELECT a FROM t) UNION (SELECT a FROM t)", "SELECT", "t");
	SUM(PG, "WITH recent AS (SELECT * FROM orders WHERE ts > now()) SELECT * FROM recent",
	    "SELECT", "orders");
	SUM(PG, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
	    "SELECT", "");
	SUM(PG, "WITH a AS (SELECT 1), b AS (SELECT 2) INSERT INTO log SELECT * FROM a, b",
	    "INSERT", "log");
	SUM(PG, "WITH del AS (DELETE FROM q RETURNING *) UPDATE q SET x = 1", "UPDATE", "q");
	SUM(PG, "", "", "");
	SUM(PG, "  ;  ; ", "", "");
	SUM(PG, "EXPLAIN ANALYZE SELECT * FROM t", "EXPLAIN", "t");
	SUM(PG, "CALL do_it(1)", "CALL", "");
	SUM(PG, "SELECT nextval('s')", "SELECT", "");
	/* A verb is ASCII; a first word that is not one gives no operation. */
	SUM(PG, "caf\xc3\xa9 FROM t", "", "t");
}

static void test_summary_tables(void **state)
{
	(void)state;
	SUM(PG, "SELECT * FROM public.orders o WHERE o.id = $1", "SELECT", "public.orders");
	SUM(PG, "SELECT * FROM \"Sales\".\"Or\"\"ders\"", "SELECT", "Sales.Or\"ders");
	SUM(MY, "SELECT * FROM `shop`.`orders`", "SELECT", "shop.orders");
	SUM(PG, "SELECT * FROM a, b", "SELECT", "");
	SUM(PG, "SELECT * FROM a AS x, b AS y", "SELECT", "");
	SUM(PG, "SELECT * FROM a JOIN b ON a.id = b.id", "SELECT", "");
	SUM(PG, "SELECT * FROM a x LEFT JOIN a y ON x.p = y.id", "SELECT", "a");
	SUM(PG, "SELECT * FROM t WHERE id IN (SELECT id FROM u)", "SELECT", "");
	SUM(PG, "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM t t2 WHERE t2.a = t.a)", "SELECT",
	    "t");
	/* FROM inside a function's arguments names no table. */
	SUM(PG, "SELECT EXTRACT(YEAR FROM ts), substring(s FROM 2 FOR 3) FROM events", "SELECT",
	    "events");
	SUM(PG, "SELECT * FROM t WHERE a IS DISTINCT FROM b", "SELECT", "t");
	/* Functions are not tables. */
	SUM(PG, "SELECT * FROM generate_series(1, 10)", "SELECT", "");
	SUM(PG, "SELECT * FROM t, unnest($1) AS u", "SELECT", "t");
	SUM(PG, "SELECT * FROM (SELECT * FROM inner_t) sub", "SELECT", "inner_t");
	SUM(PG, "SELECT * FROM (a JOIN b USING (id))", "SELECT", "");
	SUM(PG, "SELECT * FROM ONLY parent", "SELECT", "parent");
	SUM(PG, "INSERT INTO t(a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b",
	    "INSERT", "t");
	SUM(PG, "INSERT INTO t SELECT * FROM u", "INSERT", "");
	SUM(MY, "INSERT IGNORE INTO t VALUES (1)", "INSERT", "t");
	SUM(MY, "INSERT t VALUES (1)", "INSERT", "t");
	SUM(MY, "REPLACE INTO t VALUES (1)", "REPLACE", "t");
	SUM(PG, "UPDATE t SET a = u.a FROM u WHERE t.id = u.id", "UPDATE", "");
	SUM(MY, "UPDATE t1, t2 SET t1.a = t2.a", "UPDATE", "");
	SUM(PG, "SELECT * FROM t FOR UPDATE", "SELECT", "t");
	SUM(PG, "DELETE FROM t USING u WHERE t.a = u.a", "DELETE", "");
	SUM(PG, "CREATE TABLE IF NOT EXISTS items (id int, name text)", "CREATE", "items");
	SUM(PG, "CREATE TABLE copy AS SELECT * FROM items", "CREATE", "");
	SUM(PG, "CREATE UNIQUE INDEX idx ON items (name)", "CREATE", "items");
	SUM(PG, "ALTER TABLE items ADD COLUMN price numeric", "ALTER", "items");
	SUM(PG, "DROP TABLE IF EXISTS a, b", "DROP", "");
	SUM(PG, "DROP TABLE IF EXISTS a", "DROP", "a");
	SUM(PG, "TRUNCATE items", "TRUNCATE", "items");
	SUM(PG, "TRUNCATE TABLE items, other", "TRUNCATE", "");
	SUM(PG, "COPY items (id, name) FROM STDIN", "COPY", "items");
	SUM(PG, "COPY (SELECT * FROM items) TO STDOUT", "COPY", "items");
	SUM(PG, "LOCK TABLE items IN ACCESS EXCLUSIVE MODE", "LOCK", "items");
	SUM(PG, "TABLE items", "TABLE", "items");
	SUM(PG, "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "MERGE", "");
	SUM(MY, "SELECT a INTO @v FROM t", "SELECT", "t");
	SUM(MY, "SELECT a FROM t INTO OUTFILE '/tmp/x'", "SELECT", "t");
	SUM(MY, "SHOW TABLES FROM shop", "SHOW", "");
	SUM(MY, "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id", "DELETE", "");
}

static void test_summary_statements(void **state)
{
	struct sql_summary s;
	const char *q = "BEGIN; UPDATE accounts SET b = b - 1 WHERE id = 1; "
			"UPDATE accounts SET b = b + 1 WHERE id = 2; COMMIT;";

	(void)state;
	sql_summarize(PG, q, strlen(q), &s);
	assert_string_equal(s.operation, "UPDATE");
	assert_string_equal(s.collection, "accounts");
	assert_int_equal(s.statements, 4);
	SUM(PG, "SELECT 1; SELECT 2", "SELECT", "");
	SUM(PG, "INSERT INTO a VALUES (1); SELECT * FROM a", "BATCH", "a");
	SUM(PG, "INSERT INTO a VALUES (1); DELETE FROM b", "BATCH", "");
	SUM(PG, "BEGIN; COMMIT", "BATCH", "");
	SUM(PG, "SELECT 1;", "SELECT", "");
	/* A ';' inside a literal or a dollar quote ends nothing. */
	SUM(PG, "SELECT ';'; ", "SELECT", "");
	SUM(PG, "CREATE FUNCTION f() RETURNS void AS $$ BEGIN; DELETE FROM x; END $$ LANGUAGE sql",
	    "CREATE", "");
}

static void set_query(struct span *sp, uint8_t mode, uint16_t max, const char *q)
{
	struct protocol_settings s = { .db_query = mode, .db_query_max = max };

	memset(sp, 0, sizeof(*sp));
	db_span_set_query(sp, &s, SQL_POSTGRESQL, q, strlen(q));
}

static void test_span_query_settings(void **state)
{
	struct span sp;
	char big[4000];

	(void)state;
	set_query(&sp, DB_QUERY_SANITIZED, 0, "SELECT * FROM orders WHERE id = 42");
	assert_string_equal(sp.db.query, "SELECT * FROM orders WHERE id = ?");
	assert_string_equal(sp.db.operation, "SELECT");
	assert_string_equal(sp.db.collection, "orders");
	assert_int_equal(sp.flags, 0);

	set_query(&sp, DB_QUERY_RAW, 0, "SELECT * FROM orders WHERE id = 42");
	assert_string_equal(sp.db.query, "SELECT * FROM orders WHERE id = 42");
	assert_string_equal(sp.db.collection, "orders");

	set_query(&sp, DB_QUERY_NONE, 0, "SELECT * FROM orders WHERE id = 42");
	assert_string_equal(sp.db.query, "");
	assert_string_equal(sp.db.operation, "SELECT");

	/* The cap, on a character boundary, flagged. */
	set_query(&sp, DB_QUERY_SANITIZED, 10, "SELECT * FROM orders");
	assert_string_equal(sp.db.query, "SELECT * F");
	assert_true(sp.flags & SPAN_F_QUERY_TRUNCATED);
	set_query(&sp, DB_QUERY_RAW, 9, "SELECT '\xc3\xa9'");
	assert_string_equal(sp.db.query, "SELECT '");
	assert_true(sp.flags & SPAN_F_QUERY_TRUNCATED);
	set_query(&sp, DB_QUERY_RAW, 0, "SELECT '\xff'");
	assert_string_equal(sp.db.query, "SELECT '\xef\xbf\xbd'");

	/* The default cap is the whole buffer: 2 KiB. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "SELECT ", 7);
	set_query(&sp, DB_QUERY_RAW, 0, big);
	assert_int_equal(strlen(sp.db.query), SPAN_DB_QUERY_LEN - 1);
	assert_true(sp.flags & SPAN_F_QUERY_TRUNCATED);
	set_query(&sp, DB_QUERY_RAW, 60000, big);
	assert_int_equal(strlen(sp.db.query), SPAN_DB_QUERY_LEN - 1);

	/* No settings: the defaults. */
	memset(&sp, 0, sizeof(sp));
	db_span_set_query(&sp, NULL, SQL_MYSQL, "SELECT \"x\"", 10);
	assert_string_equal(sp.db.query, "SELECT ?");
}

static void test_copy_str(void **state)
{
	char buf[5];

	(void)state;
	db_copy_str(buf, sizeof(buf), "shop", 4);
	assert_string_equal(buf, "shop");
	db_copy_str(buf, sizeof(buf), "sh\0op", 5);
	assert_string_equal(buf, "sh");
	db_copy_str(buf, sizeof(buf), "ab\xc3\xa9", 4);
	assert_string_equal(buf, "ab\xc3\xa9");
	db_copy_str(buf, sizeof(buf), "abc\xc3\xa9", 5);
	assert_string_equal(buf, "abc");
	db_copy_str(buf, sizeof(buf), "\xff", 1);
	assert_string_equal(buf, "\xef\xbf\xbd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_dollar_quotes),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_comments_and_space),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_prefixes_never_leak),
		cmocka_unit_test(test_summary_operations),
		cmocka_unit_test(test_summary_tables),
		cmocka_unit_test(test_summary_statements),
		cmocka_unit_test(test_span_query_settings),
		cmocka_unit_test(test_copy_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
