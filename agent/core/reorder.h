/* SPDX-License-Identifier: MIT */
/*
 * Puts ring buffer events back in timestamp order. The ring holds events in
 * the order their programs reached it, not the order they were stamped: a BPF
 * program can be preempted between the two (uprobe programs run preemptible),
 * so a request written by one thread can reach the agent after the response
 * another thread read. Events are held until they are older than a cutoff,
 * then handed out sorted. Pure: no BPF, no I/O.
 */
#ifndef SONDE_REORDER_H
#define SONDE_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reorder_ent;

struct reorder {
	uint8_t *buf; /* the events' bytes, back to back */
	size_t len, cap;
	struct reorder_ent *ents;
	size_t n, nmax;
	size_t ordered; /* of the n, events that must be ordered */
	uint64_t seq;
};

typedef int (*reorder_fn)(void *ctx, const void *data, size_t size);

/* Copies one event (it starts with struct sonde_event_hdr). 0 or -ENOMEM. */
int reorder_push(struct reorder *r, const void *data, size_t size);
/* Hands the events stamped before cutoff to fn in timestamp order (equal
 * stamps: arrival order) and keeps the rest. Returns how many were handed. */
size_t reorder_flush(struct reorder *r, uint64_t cutoff, reorder_fn fn, void *ctx);
size_t reorder_pending(const struct reorder *r);
/*
 * Events that must come out in timestamp order: TLS payloads (stamped at a
 * call's entry, they can reach the ring late), connection and process events.
 * A syscall's payload needs no holding of its own: TLS payloads never belong
 * to a connection whose syscalls carry payloads (a TLS socket's syscalls move
 * ciphertext, which the kernel drops), and a connection's open reaches the
 * ring before its first payload. It only waits behind a held event that must
 * be ordered, so as not to pass it.
 *
 * reorder_can_skip: whether an event can be handed on at once, a syscall's
 * payload with nothing held.
 */
bool reorder_can_skip(const struct reorder *r, const void *data, size_t size);
/* Held events that must be ordered. While there are none, the held syscall
 * payloads can all be handed on (reorder_flush with UINT64_MAX). */
size_t reorder_waiting(const struct reorder *r);
void reorder_free(struct reorder *r);

#endif /* SONDE_REORDER_H */
