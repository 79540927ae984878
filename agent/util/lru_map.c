/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/lru_map.h"

/* Links by index + 1 (0: none), so the entries stay one flat allocation. */
struct lru_entry {
	uint32_t hash_next;
	uint32_t lru_prev, lru_next;
	uint32_t hash;
	/* followed by the key, then the value, each 8-byte aligned */
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

static struct lru_entry *entry(const struct lru_map *m, uint32_t idx1)
{
	return (struct lru_entry *)(m->entries + (size_t)(idx1 - 1) * m->entry_size);
}

static uint8_t *key_of(const struct lru_map *m, struct lru_entry *e)
{
	(void)m;
	return (uint8_t *)(e + 1);
}

static uint8_t *value_of(const struct lru_map *m, struct lru_entry *e)
{
	return key_of(m, e) + ALIGN8(m->key_size);
}

/* Mixes one word into the hash: the multiply spreads low bits up, the shift
 * brings high bits back down to the bucket index. */
static uint64_t mix_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

/* Keys are a few dozen bytes at most, taken eight at a time: the linker does
 * ten to fifteen lookups per exchange, and a byte-at-a-time FNV-1a over its
 * 8- to 24-byte keys was ~1,000 of its instructions per exchange. */
static uint32_t hash_key(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = mix_word(h, w);
	}
	if (n >= 4) {
		uint32_t w32;

		memcpy(&w32, p, 4);
		h = mix_word(h, w32);
		p += 4;
		n -= 4;
	}
	for (w = 0; n; n--)
		w = w << 8 | *p++;
	return (uint32_t)mix_word(h, w);
}

int lru_map_init(struct lru_map *m, size_t key_size, size_t value_size, uint32_t cap)
{
	uint32_t nb = 16;

	memset(m, 0, sizeof(*m));
	if (!key_size || !cap || cap > (1u << 28))
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	m->key_size = key_size;
	m->value_size = value_size;
	m->entry_size = sizeof(struct lru_entry) + ALIGN8(key_size) + ALIGN8(value_size);
	m->cap = cap;
	m->nbuckets = nb;
	m->buckets = calloc(nb, sizeof(*m->buckets));
	m->entries = calloc(cap, m->entry_size);
	if (!m->buckets || !m->entries) {
		lru_map_destroy(m);
		return -ENOMEM;
	}
	/* Entries are handed out in order the first time, so init touches none
	 * of them (a fuzzer calls it for every input). */
	m->next_fresh = 1;
	return 0;
}

void lru_map_destroy(struct lru_map *m)
{
	free(m->buckets);
	free(m->entries);
	m->buckets = NULL;
	m->entries = NULL;
	m->count = 0;
}

static void lru_unlink(struct lru_map *m, uint32_t i)
{
	struct lru_entry *e = entry(m, i);

	if (e->lru_prev)
		entry(m, e->lru_prev)->lru_next = e->lru_next;
	else
		m->lru_head = e->lru_next;
	if (e->lru_next)
		entry(m, e->lru_next)->lru_prev = e->lru_prev;
	else
		m->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = 0;
}

static void lru_push_front(struct lru_map *m, uint32_t i)
{
	struct lru_entry *e = entry(m, i);

	e->lru_prev = 0;
	e->lru_next = m->lru_head;
	if (m->lru_head)
		entry(m, m->lru_head)->lru_prev = i;
	m->lru_head = i;
	if (!m->lru_tail)
		m->lru_tail = i;
}

/* Index + 1 of key's entry, or 0; *slot: the link that points at it. */
static uint32_t find(const struct lru_map *m, const void *key, uint32_t h, uint32_t **slot)
{
	uint32_t *s = &m->buckets[h & (m->nbuckets - 1)];

	while (*s) {
		struct lru_entry *e = entry(m, *s);

		if (e->hash == h && !memcmp(key_of(m, e), key, m->key_size))
			break;
		s = &e->hash_next;
	}
	if (slot)
		*slot = s;
	return *s;
}

static void remove_at(struct lru_map *m, uint32_t *slot)
{
	uint32_t i = *slot;
	struct lru_entry *e = entry(m, i);

	*slot = e->hash_next;
	lru_unlink(m, i);
	e->hash_next = m->free_head;
	m->free_head = i;
	m->count--;
}

void *lru_map_get(struct lru_map *m, const void *key, bool touch)
{
	uint32_t i = find(m, key, hash_key(key, m->key_size), NULL);

	if (!i)
		return NULL;
	if (touch && m->lru_head != i) {
		lru_unlink(m, i);
		lru_push_front(m, i);
	}
	return value_of(m, entry(m, i));
}

void *lru_map_oldest(struct lru_map *m, const void **key)
{
	struct lru_entry *e;

	if (!m->lru_tail)
		return NULL;
	e = entry(m, m->lru_tail);
	*key = key_of(m, e);
	return value_of(m, e);
}

bool lru_map_del(struct lru_map *m, const void *key)
{
	uint32_t *slot;

	if (!find(m, key, hash_key(key, m->key_size), &slot))
		return false;
	remove_at(m, slot);
	return true;
}

void *lru_map_put(struct lru_map *m, const void *key, bool *evicted)
{
	uint32_t h = hash_key(key, m->key_size);
	uint32_t i = find(m, key, h, NULL);
	struct lru_entry *e;

	if (evicted)
		*evicted = false;
	if (i) {
		if (m->lru_head != i) {
			lru_unlink(m, i);
			lru_push_front(m, i);
		}
		return value_of(m, entry(m, i));
	}
	if (!m->free_head && m->next_fresh <= m->cap) {
		m->free_head = m->next_fresh++;
		entry(m, m->free_head)->hash_next = 0;
	}
	if (!m->free_head) {
		struct lru_entry *old = entry(m, m->lru_tail);
		uint32_t *slot;

		find(m, key_of(m, old), old->hash, &slot);
		remove_at(m, slot);
		m->evicted++;
		if (evicted)
			*evicted = true;
	}
	i = m->free_head;
	e = entry(m, i);
	m->free_head = e->hash_next;
	memcpy(key_of(m, e), key, m->key_size);
	memset(value_of(m, e), 0, m->value_size);
	e->hash = h;
	e->hash_next = m->buckets[h & (m->nbuckets - 1)];
	m->buckets[h & (m->nbuckets - 1)] = i;
	lru_push_front(m, i);
	m->count++;
	return value_of(m, e);
}

void lru_map_sweep(struct lru_map *m, bool (*fn)(void *ctx, const void *key, void *value),
		   void *ctx)
{
	uint32_t i = m->lru_tail;

	while (i) {
		struct lru_entry *e = entry(m, i);
		uint32_t prev = e->lru_prev;

		if (fn(ctx, key_of(m, e), value_of(m, e))) {
			uint32_t *slot;

			find(m, key_of(m, e), e->hash, &slot);
			remove_at(m, slot);
		}
		i = prev;
	}
}
