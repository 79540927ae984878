/* SPDX-License-Identifier: MIT */
/*
 * Reads a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) from its mapped pages. The
 * layout is the kernel's: a consumer page the reader writes its position to,
 * a producer page, then the data area mapped twice in a row so a record that
 * wraps reads as one. Each record starts with an 8-byte header (length with
 * a busy and a discard bit, page offset) and takes a multiple of 8 bytes.
 *
 * libbpf's reader publishes its position after every record. Every such
 * store takes the position's cache line away from the core that produces:
 * each BPF program reads that line when it reserves room, and again when it
 * asks how much is waiting. Here the position is published once per
 * RING_READER_RELEASE_BYTES of records and at the end of a pass. Pure: the
 * mapping is the caller's.
 */
#ifndef SONDE_RING_READER_H
#define SONDE_RING_READER_H

#include <stddef.h>
#include <stdint.h>

/* Consumed bytes after which the position is published mid-pass, so that a
 * long pass frees room for the producers as it goes. */
#define RING_READER_RELEASE_BYTES (64 * 1024)

struct ring_reader {
	uint64_t *consumer_pos;	      /* the consumer page */
	const uint64_t *producer_pos; /* the producer page */
	const uint8_t *data;	      /* the data area, mapped twice */
	uint64_t mask;		      /* its size - 1 (a power of two) */
};

/* fn's non-zero return stops the pass after that record (it is consumed). */
typedef int (*ring_record_fn)(void *ctx, void *data, size_t size);

/*
 * Hands each committed record to fn in ring order, skipping discarded ones,
 * until the ring is empty, a record is still being written, budget records
 * were handed, or fn returns non-zero. Returns the number handed, or fn's
 * negative return.
 */
int ring_reader_consume(struct ring_reader *r, int budget, ring_record_fn fn, void *ctx);

/* Bytes committed or being written that the reader has not consumed. */
uint64_t ring_reader_backlog(const struct ring_reader *r);

#endif /* SONDE_RING_READER_H */
