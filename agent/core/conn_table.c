/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "core/conn_table.h"

static size_t bucket_of(const struct conn_table *t, struct conn_key key)
{
	/* Fibonacci hashing of the 64-bit key spreads sequential fds well. */
	uint64_t k = ((uint64_t)key.tgid << 32) | key.fd;

	return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & (t->nbuckets - 1);
}

int conn_table_init(struct conn_table *t, size_t max)
{
	size_t n = 64;

	*t = (struct conn_table){ 0 };
	if (max == 0)
		return -EINVAL;
	while (n < max)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = n;
	t->max = max;
	return 0;
}

static void lru_unlink(struct conn_table *t, struct conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_push_front(struct conn_table *t, struct conn *c)
{
	c->lru_prev = NULL;
	c->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = c;
	t->lru_head = c;
	if (!t->lru_tail)
		t->lru_tail = c;
}

struct conn *conn_table_get(struct conn_table *t, struct conn_key key)
{
	struct conn *c = t->buckets[bucket_of(t, key)];

	while (c && (c->key.tgid != key.tgid || c->key.fd != key.fd))
		c = c->hash_next;
	return c;
}

static void unlink_and_free(struct conn_table *t, struct conn *c, conn_release_fn release,
			    void *ctx, bool evicted)
{
	struct conn **pp = &t->buckets[bucket_of(t, c->key)];

	while (*pp && *pp != c)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = c->hash_next;
	lru_unlink(t, c);
	t->count--;
	if (release)
		release(ctx, c, evicted);
	free(c);
}

struct conn *conn_table_insert(struct conn_table *t, struct conn_key key, conn_release_fn release,
			       void *ctx)
{
	size_t b = bucket_of(t, key);
	struct conn *c;

	if (t->count >= t->max && t->lru_tail) {
		t->evicted++;
		unlink_and_free(t, t->lru_tail, release, ctx, true);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->key = key;
	c->hash_next = t->buckets[b];
	t->buckets[b] = c;
	lru_push_front(t, c);
	t->count++;
	return c;
}

void conn_table_touch(struct conn_table *t, struct conn *c)
{
	if (t->lru_head == c)
		return;
	lru_unlink(t, c);
	lru_push_front(t, c);
}

void conn_table_remove(struct conn_table *t, struct conn *c, conn_release_fn release, void *ctx)
{
	unlink_and_free(t, c, release, ctx, false);
}

void conn_table_destroy(struct conn_table *t, conn_release_fn release, void *ctx)
{
	while (t->lru_head)
		unlink_and_free(t, t->lru_head, release, ctx, false);
	free(t->buckets);
	*t = (struct conn_table){ 0 };
}
