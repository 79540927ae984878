/* SPDX-License-Identifier: MIT */
/*
 * The statements a MySQL connection prepared (COM_STMT_PREPARE), by the id
 * the server gave them, so that each COM_STMT_EXECUTE's span shows the
 * statement's text. What is kept is what a span shows (operation,
 * collection, the query text as exported), never a parameter value: those
 * travel in the EXECUTE and are not read. Bounded per connection: the
 * oldest statement makes room, counted.
 */
#ifndef SONDE_MYSQL_STMT_H
#define SONDE_MYSQL_STMT_H

#include <stdbool.h>
#include <stdint.h>

#include "spans/span.h"

#define MYSQL_MAX_STMTS 256

struct mysql_stmt {
	uint32_t id;
	uint32_t flags; /* SPAN_F_QUERY_TRUNCATED when its text was cut */
	uint64_t age;	/* when it was prepared: the oldest goes first */
	char operation[SPAN_DB_OPERATION_LEN];
	char collection[SPAN_DB_COLLECTION_LEN];
	char *query; /* db.query.text */
};

struct mysql_stmts {
	struct mysql_stmt *v;
	uint32_t n, cap;
	uint64_t clock;
	uint32_t last_id; /* the last one prepared (MariaDB's id -1 names it) */
};

/* Remembers statement id as the span that prepared it describes it.
 * *evicted: an older one had to go. False without memory. */
bool mysql_stmts_add(struct mysql_stmts *t, uint32_t id, const struct span *sp, bool *evicted);
const struct mysql_stmt *mysql_stmts_find(const struct mysql_stmts *t, uint32_t id);
void mysql_stmts_remove(struct mysql_stmts *t, uint32_t id);
void mysql_stmts_clear(struct mysql_stmts *t);
/* Puts what a statement's spans show into sp. */
void mysql_stmt_to_span(const struct mysql_stmt *st, struct span *sp);

#endif /* SONDE_MYSQL_STMT_H */
