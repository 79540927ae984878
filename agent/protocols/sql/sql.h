/* SPDX-License-Identifier: MIT */
/*
 * SQL query text made fit to export, for every SQL protocol (PostgreSQL,
 * MySQL/MariaDB). Pure code: no I/O, no globals, no allocation.
 *
 * The sanitiser keeps a query's shape and drops its values:
 *   - every literal becomes '?': strings ('…' with '' and, where the dialect
 *     has them, backslash escapes; E'…', N'…', MySQL "…"), dollar-quoted
 *     strings ($$…$$, $tag$…$tag$), numbers (42, -4.2e-1, .5, 1_000, 0x1F,
 *     0b101), bit and hex strings (B'…', X'…'); a sign in front of a number
 *     goes with it where it cannot be a subtraction (`x = -5` → `x = ?`);
 *   - a literal the text ends inside (a capture cut short, a malformed query)
 *     becomes '?' and ends the output: nothing of it is shown;
 *   - TRUE, FALSE and NULL stay: keywords, not values a user could leak;
 *   - a list of literals is collapsed: `IN (?, ?, ?)` → `IN (?)`, and rows
 *     of literals after VALUES to the first: `VALUES (?, ?), (?, ?)` →
 *     `VALUES (?, ?)`, so a query's text does not vary with its arity;
 *   - comments are dropped (`--`, `/ * * /` nested in PostgreSQL, MySQL's `#`),
 *     except that the SQL inside MySQL's executable comments is kept;
 *   - runs of whitespace and comments become one space; none at either end;
 *   - identifiers ("Name", MySQL `name`), keywords, operators and
 *     placeholders ($1, ?, :name, @var) are kept as written;
 *   - the output is valid UTF-8 (bad bytes become U+FFFD) without NUL bytes,
 *     and is cut on a character boundary when it does not fit.
 * Dialect differences: PostgreSQL strings take no backslash escapes (its
 * default, standard_conforming_strings) except E'…', and "…" is an
 * identifier; MySQL strings take backslash escapes, "…" is a string (its
 * default, without ANSI_QUOTES), `--` is a comment only before a space.
 *
 * The summariser names what a query does, for db.operation.name and
 * db.collection.name:
 *   - the operation is the statement's first keyword, upper-cased (SELECT,
 *     INSERT, BEGIN, CREATE …); for WITH … the main statement's verb;
 *   - the collection is the table the query touches when it touches exactly
 *     one (FROM, JOIN, INTO, UPDATE, TABLE, USING, COPY, TRUNCATE, CREATE
 *     INDEX … ON, in subqueries too; a self-join is one table; CTE names and
 *     functions are not tables); schema-qualified names as written, quotes
 *     removed (`"Sales".orders` → `Sales.orders`); "" otherwise;
 *   - a text of several statements: their common operation, leaving out
 *     transaction control (BEGIN; UPDATE t …; COMMIT → UPDATE), or "BATCH"
 *     when they differ; the collection as for one statement, over all.
 */
#ifndef SONDE_SQL_H
#define SONDE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "spans/span.h"

enum sql_dialect {
	SQL_POSTGRESQL = 0,
	SQL_MYSQL, /* MySQL and MariaDB */
};

/*
 * Writes the sanitised q[0..n) to out (cap bytes, NUL-terminated when cap > 0)
 * and returns its length (< cap). *truncated (may be NULL) tells whether it
 * was cut to fit.
 */
size_t sql_sanitize(enum sql_dialect d, const char *q, size_t n, char *out, size_t cap,
		    bool *truncated);

struct sql_summary {
	char operation[SPAN_DB_OPERATION_LEN];	 /* "" when there is none */
	char collection[SPAN_DB_COLLECTION_LEN]; /* "" unless exactly one table */
	unsigned int statements;		 /* non-empty statements in the text */
};

void sql_summarize(enum sql_dialect d, const char *q, size_t n, struct sql_summary *out);

#endif /* SONDE_SQL_H */
