/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "protocols/postgres/pg_stmt.h"

#define STMT_FLAGS (SPAN_F_HEAD_TRUNCATED | SPAN_F_QUERY_TRUNCATED)

struct pg_stmt *pg_stmt_new(const struct span *sp)
{
	size_t n = strlen(sp->db.query);
	struct pg_stmt *st = malloc(sizeof(*st) + n + 1);

	if (!st)
		return NULL;
	st->refs = 1;
	st->flags = sp->flags & STMT_FLAGS;
	memcpy(st->operation, sp->db.operation, sizeof(st->operation));
	memcpy(st->collection, sp->db.collection, sizeof(st->collection));
	st->query_len = n;
	memcpy(st->query, sp->db.query, n + 1);
	return st;
}

struct pg_stmt *pg_stmt_ref(struct pg_stmt *st)
{
	if (st)
		st->refs++;
	return st;
}

void pg_stmt_unref(struct pg_stmt *st)
{
	if (st && !--st->refs)
		free(st);
}

void pg_stmt_to_span(const struct pg_stmt *st, struct span *sp)
{
	sp->flags |= st->flags;
	memcpy(sp->db.operation, st->operation, sizeof(sp->db.operation));
	memcpy(sp->db.collection, st->collection, sizeof(sp->db.collection));
	memcpy(sp->db.query, st->query, st->query_len + 1);
}

/* FNV-1a, 64 bits. */
static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

static void name_set(struct pg_named *e, const char *name, size_t n)
{
	size_t k = n < PG_NAME_MAX - 1 ? n : PG_NAME_MAX - 1;

	memcpy(e->name, name, k);
	e->name[k] = '\0';
	e->len = (uint32_t)n;
	e->hash = name_hash(name, n);
}

static bool name_is(const struct pg_named *e, const char *name, size_t n, uint64_t hash)
{
	size_t k = n < PG_NAME_MAX - 1 ? n : PG_NAME_MAX - 1;

	return e->stmt && e->len == n && e->hash == hash && !memcmp(e->name, name, k);
}

static size_t cost(const struct pg_stmt *st)
{
	return sizeof(*st) + st->query_len;
}

static struct pg_named *find(struct pg_stmts *t, const char *name, size_t n)
{
	uint64_t h = name_hash(name, n);

	for (uint32_t i = 0; i < t->n; i++)
		if (name_is(&t->named[i], name, n, h))
			return &t->named[i];
	return NULL;
}

static void remove_at(struct pg_stmts *t, uint32_t i)
{
	t->bytes -= cost(t->named[i].stmt);
	pg_stmt_unref(t->named[i].stmt);
	t->named[i] = t->named[--t->n];
}

static void evict_oldest(struct pg_stmts *t)
{
	uint32_t oldest = 0;

	for (uint32_t i = 1; i < t->n; i++)
		if (t->named[i].used < t->named[oldest].used)
			oldest = i;
	remove_at(t, oldest);
}

int pg_stmts_put(struct pg_stmts *t, const char *name, size_t n, struct pg_stmt *st)
{
	struct pg_named *e;
	int evicted = 0;

	if (!n) {
		pg_stmt_unref(t->unnamed);
		t->unnamed = pg_stmt_ref(st);
		return 0;
	}
	if (!t->named) {
		t->named = calloc(PG_STMT_MAX, sizeof(*t->named));
		if (!t->named)
			return -1;
	}
	e = find(t, name, n);
	if (e)
		remove_at(t, (uint32_t)(e - t->named));
	while (t->n && (t->n >= PG_STMT_MAX || t->bytes + cost(st) > PG_STMT_BYTES)) {
		evict_oldest(t);
		evicted++;
	}
	e = &t->named[t->n++];
	name_set(e, name, n);
	e->used = ++t->clock;
	e->stmt = pg_stmt_ref(st);
	t->bytes += cost(st);
	return evicted;
}

struct pg_stmt *pg_stmts_get(struct pg_stmts *t, const char *name, size_t n)
{
	struct pg_named *e;

	if (!n)
		return t->unnamed;
	e = t->named ? find(t, name, n) : NULL;
	if (!e)
		return NULL;
	e->used = ++t->clock;
	return e->stmt;
}

void pg_stmts_drop(struct pg_stmts *t, const char *name, size_t n, const struct pg_stmt *st)
{
	struct pg_named *e;

	if (!n) {
		if (!st || t->unnamed == st) {
			pg_stmt_unref(t->unnamed);
			t->unnamed = NULL;
		}
		return;
	}
	e = t->named ? find(t, name, n) : NULL;
	if (e && (!st || e->stmt == st))
		remove_at(t, (uint32_t)(e - t->named));
}

void pg_stmts_forget(struct pg_stmts *t, const struct pg_stmt *st)
{
	if (t->unnamed == st)
		pg_stmts_drop(t, "", 0, st);
	for (uint32_t i = 0; i < t->n;)
		if (t->named[i].stmt == st)
			remove_at(t, i);
		else
			i++;
}

static struct pg_named *find_portal(struct pg_stmts *t, const char *name, size_t n)
{
	uint64_t h = name_hash(name, n);

	for (int i = 0; i < PG_PORTAL_MAX; i++)
		if (name_is(&t->portals[i], name, n, h))
			return &t->portals[i];
	return NULL;
}

void pg_portal_put(struct pg_stmts *t, const char *name, size_t n, struct pg_stmt *st)
{
	struct pg_named *e;

	if (!n) {
		pg_stmt_unref(t->unnamed_portal);
		t->unnamed_portal = pg_stmt_ref(st);
		return;
	}
	pg_portal_drop(t, name, n);
	if (!st)
		return;
	/* A free slot, else the least recently used. */
	e = &t->portals[0];
	for (int i = 0; i < PG_PORTAL_MAX && e->stmt; i++)
		if (!t->portals[i].stmt || t->portals[i].used < e->used)
			e = &t->portals[i];
	pg_stmt_unref(e->stmt);
	name_set(e, name, n);
	e->used = ++t->clock;
	e->stmt = pg_stmt_ref(st);
}

struct pg_stmt *pg_portal_get(struct pg_stmts *t, const char *name, size_t n)
{
	struct pg_named *e;

	if (!n)
		return t->unnamed_portal;
	e = find_portal(t, name, n);
	if (!e)
		return NULL;
	e->used = ++t->clock;
	return e->stmt;
}

void pg_portal_drop(struct pg_stmts *t, const char *name, size_t n)
{
	struct pg_named *e;

	if (!n) {
		pg_stmt_unref(t->unnamed_portal);
		t->unnamed_portal = NULL;
		return;
	}
	e = find_portal(t, name, n);
	if (e) {
		pg_stmt_unref(e->stmt);
		e->stmt = NULL;
	}
}

void pg_stmts_free(struct pg_stmts *t)
{
	while (t->n)
		remove_at(t, t->n - 1);
	free(t->named);
	pg_stmt_unref(t->unnamed);
	pg_stmt_unref(t->unnamed_portal);
	for (int i = 0; i < PG_PORTAL_MAX; i++)
		pg_stmt_unref(t->portals[i].stmt);
	memset(t, 0, sizeof(*t));
}
