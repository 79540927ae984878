/* SPDX-License-Identifier: MIT */
/*
 * A connection's prepared statements (extended query protocol): what each
 * statement name stands for, ready to go into the spans of its executions
 * (the query text as exported, operation, table), and the portals bound to
 * them. Bounded: at most PG_STMT_MAX statements and PG_STMT_BYTES of their
 * text per connection; the least recently used goes first, counted.
 * Bound parameter values never come here. Pure code.
 */
#ifndef SONDE_PG_STMT_H
#define SONDE_PG_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spans/span.h"

#define PG_STMT_MAX   256
#define PG_STMT_BYTES (64 * 1024)
#define PG_PORTAL_MAX 8
#define PG_NAME_MAX   64

/* A statement as its executions' spans show it. Shared by reference: a
 * portal keeps its statement after the name is closed or evicted. */
struct pg_stmt {
	uint32_t refs;
	uint32_t flags; /* SPAN_F_HEAD_TRUNCATED (text not all captured), SPAN_F_QUERY_TRUNCATED */
	char operation[SPAN_DB_OPERATION_LEN];
	char collection[SPAN_DB_COLLECTION_LEN];
	size_t query_len;
	char query[]; /* db.query.text as exported, NUL-terminated */
};

/* Makes a statement from a span whose db fields and flags are filled. */
struct pg_stmt *pg_stmt_new(const struct span *sp);
struct pg_stmt *pg_stmt_ref(struct pg_stmt *st);
void pg_stmt_unref(struct pg_stmt *st);
/* Copies the statement into a span's db fields and flags. */
void pg_stmt_to_span(const struct pg_stmt *st, struct span *sp);

/* A name, by its full length and hash and its first bytes: names longer
 * than PG_NAME_MAX - 1 (pgx's are ~50, the server allows any) stay apart. */
struct pg_named {
	char name[PG_NAME_MAX];
	uint32_t len;
	uint64_t hash;
	uint64_t used; /* for least-recently-used eviction */
	struct pg_stmt *stmt;
};

struct pg_stmts {
	struct pg_named *named; /* PG_STMT_MAX slots, allocated on first use */
	uint32_t n;
	size_t bytes;
	uint64_t clock;
	struct pg_stmt *unnamed;
	struct pg_named portals[PG_PORTAL_MAX]; /* named portals */
	struct pg_stmt *unnamed_portal;
};

/* name[0..n) is the statement's name; "" the unnamed one. Returns the number
 * of statements evicted to make room (0 or more), or -1 when out of memory. */
int pg_stmts_put(struct pg_stmts *t, const char *name, size_t n, struct pg_stmt *st);
/* The statement, or NULL when unknown (never prepared here, or evicted). */
struct pg_stmt *pg_stmts_get(struct pg_stmts *t, const char *name, size_t n);
/* Close: forgets the name; if st is given, only while it still names st. */
void pg_stmts_drop(struct pg_stmts *t, const char *name, size_t n, const struct pg_stmt *st);

/* Forgets every name of st (a Parse that failed). */
void pg_stmts_forget(struct pg_stmts *t, const struct pg_stmt *st);

/* Portals: Bind makes one from a statement (NULL: unknown statement). */
void pg_portal_put(struct pg_stmts *t, const char *name, size_t n, struct pg_stmt *st);
struct pg_stmt *pg_portal_get(struct pg_stmts *t, const char *name, size_t n);
void pg_portal_drop(struct pg_stmts *t, const char *name, size_t n);

void pg_stmts_free(struct pg_stmts *t);

#endif /* SONDE_PG_STMT_H */
