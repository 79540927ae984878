/* SPDX-License-Identifier: MIT */
/*
 * A bounded hash map of fixed-size keys and values, all allocated at init:
 * when full, inserting evicts the least recently used entry (counted). Keys
 * are compared as bytes, so callers zero their padding. Pure code.
 */
#ifndef SONDE_LRU_MAP_H
#define SONDE_LRU_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lru_map {
	size_t key_size, value_size, entry_size;
	uint32_t cap, count;
	uint32_t nbuckets;	     /* power of two */
	uint32_t *buckets;	     /* entry index + 1; 0 is empty */
	uint8_t *entries;	     /* cap entries: header, key, value */
	uint32_t free_head;	     /* entries given back, index + 1 */
	uint32_t next_fresh;	     /* the first entry never handed out, index + 1 */
	uint32_t lru_head, lru_tail; /* index + 1; head is the most recent */
	uint64_t evicted;
};

/* Returns 0, or -EINVAL / -ENOMEM. */
int lru_map_init(struct lru_map *m, size_t key_size, size_t value_size, uint32_t cap);
void lru_map_destroy(struct lru_map *m);

/* The value stored for key, or NULL. touch: mark it most recently used. */
void *lru_map_get(struct lru_map *m, const void *key, bool touch);

/* The value for key, inserted zeroed when absent (evicting the least recent
 * entry when full; *evicted_key, when not NULL, receives whether one was).
 * Never NULL once the map is initialised. */
void *lru_map_put(struct lru_map *m, const void *key, bool *evicted);

/* The least recently used entry's value (its key in *key), or NULL when the
 * map is empty: for callers that must let go of what an entry holds before
 * it is evicted. */
void *lru_map_oldest(struct lru_map *m, const void **key);

/* Removes key; returns whether it was there. */
bool lru_map_del(struct lru_map *m, const void *key);

/* Calls fn for every entry, oldest first; fn returns true to remove it. */
void lru_map_sweep(struct lru_map *m, bool (*fn)(void *ctx, const void *key, void *value),
		   void *ctx);

#endif /* SONDE_LRU_MAP_H */
