/* SPDX-License-Identifier: MIT */
/* A bump allocator for building one protobuf-c message tree, freed at once. */
#ifndef SONDE_ARENA_H
#define SONDE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	int failed; /* an allocation failed: the message is incomplete */
};

/* Zeroed memory, or NULL (and a->failed set). */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

#endif /* SONDE_ARENA_H */
