/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mysql/mysql_stmt.h"

static struct mysql_stmt *find(const struct mysql_stmts *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return &t->v[i];
	return NULL;
}

static void drop(struct mysql_stmts *t, struct mysql_stmt *st)
{
	free(st->query);
	*st = t->v[--t->n];
}

/* Room for one more: a larger array, or the oldest statement's place. */
static struct mysql_stmt *room(struct mysql_stmts *t, bool *evicted)
{
	struct mysql_stmt *oldest;

	if (t->n < t->cap)
		return &t->v[t->n++];
	if (t->cap < MYSQL_MAX_STMTS) {
		uint32_t cap = t->cap ? t->cap * 2 : 8;
		struct mysql_stmt *v = realloc(t->v, cap * sizeof(*v));

		if (v) {
			t->v = v;
			t->cap = cap;
			return &t->v[t->n++];
		}
	}
	if (!t->n)
		return NULL;
	oldest = &t->v[0];
	for (uint32_t i = 1; i < t->n; i++)
		if (t->v[i].age < oldest->age)
			oldest = &t->v[i];
	free(oldest->query);
	*evicted = true;
	return oldest;
}

bool mysql_stmts_add(struct mysql_stmts *t, uint32_t id, const struct span *sp, bool *evicted)
{
	struct mysql_stmt *st = find(t, id);
	char *query = strdup(sp->db.query);

	*evicted = false;
	if (!query)
		return false;
	if (st)
		free(st->query);
	else
		st = room(t, evicted);
	if (!st) {
		free(query);
		return false;
	}
	st->id = id;
	st->flags = sp->flags & SPAN_F_QUERY_TRUNCATED;
	st->age = ++t->clock;
	memcpy(st->operation, sp->db.operation, sizeof(st->operation));
	memcpy(st->collection, sp->db.collection, sizeof(st->collection));
	st->query = query;
	t->last_id = id;
	return true;
}

const struct mysql_stmt *mysql_stmts_find(const struct mysql_stmts *t, uint32_t id)
{
	return find(t, id == UINT32_MAX ? t->last_id : id);
}

void mysql_stmts_remove(struct mysql_stmts *t, uint32_t id)
{
	struct mysql_stmt *st = find(t, id);

	if (st)
		drop(t, st);
}

void mysql_stmts_clear(struct mysql_stmts *t)
{
	while (t->n)
		drop(t, &t->v[t->n - 1]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void mysql_stmt_to_span(const struct mysql_stmt *st, struct span *sp)
{
	memcpy(sp->db.operation, st->operation, sizeof(sp->db.operation));
	memcpy(sp->db.collection, st->collection, sizeof(sp->db.collection));
	snprintf(sp->db.query, sizeof(sp->db.query), "%s", st->query);
	sp->flags |= st->flags;
}
