/* SPDX-License-Identifier: MIT */
/*
 * A protobuf wire-format writer into one growing buffer, for encoders that
 * write straight from their own structs instead of building a protobuf-c
 * message tree and packing it (which sizes every nested message again at each
 * level). Pure code.
 *
 * Lengths of nested messages: pb_open() writes the field's tag and reserves as
 * many bytes for the length as the caller expects it to take; pb_close()
 * writes the length there. When the guess was wrong the body is moved so that
 * the length's varint is minimal, the encoding protobuf-c and every other
 * encoder produce: with good guesses (a span is 128 bytes to 16 KiB, a batch
 * of them 16 KiB to 2 MiB) nothing ever moves. Where a message's size is cheap
 * to know up front (a KeyValue), the caller computes it and writes the length
 * directly.
 */
#ifndef SONDE_PB_WRITER_H
#define SONDE_PB_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum pb_wire {
	PB_VARINT = 0,
	PB_I64 = 1,
	PB_LEN = 2,
	PB_I32 = 5,
};

struct pb_writer {
	uint8_t *buf;
	size_t len, cap;
	bool failed;   /* out of memory: the output is incomplete, writes are dropped */
	bool borrowed; /* buf is the caller's (pb_writer_borrow), not malloc'ed */
};

/* A nested message being written. */
struct pb_mark {
	size_t body;	/* offset of its first byte */
	unsigned width; /* bytes reserved before it for its length */
};

/* Starts with cap bytes (at least 1). Returns 0 or -ENOMEM. */
int pb_writer_init(struct pb_writer *w, size_t cap);
/* Writes into the caller's buf[0..cap) until it is full, then moves to the
 * heap (buf is never freed): an encoder can write straight into where the
 * bytes are to stay, and only an overflow costs an allocation. */
void pb_writer_borrow(struct pb_writer *w, uint8_t *buf, size_t cap);
/* Frees the buffer unless it is still the borrowed one. */
void pb_writer_free(struct pb_writer *w);
/* Makes room for n more bytes; false (and w->failed set) when out of memory. */
bool pb_grow(struct pb_writer *w, size_t n);

static inline bool pb_room(struct pb_writer *w, size_t n)
{
	return w->cap - w->len >= n ? !w->failed : pb_grow(w, n);
}

static inline size_t pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint32_t pb_tag(uint32_t field, enum pb_wire wire)
{
	return field << 3 | wire;
}

/* The pb_put_* helpers write at p without checking room and return the end. */
static inline uint8_t *pb_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *pb_put_bytes(uint8_t *p, uint32_t field, const void *data, size_t n)
{
	p = pb_put_varint(p, pb_tag(field, PB_LEN));
	p = pb_put_varint(p, n);
	memcpy(p, data, n);
	return p + n;
}

static inline uint8_t *pb_put_fixed(uint8_t *p, uint64_t v, size_t width)
{
	for (size_t i = 0; i < width; i++)
		*p++ = (uint8_t)(v >> (8 * i)); /* little-endian on the wire */
	return p;
}

/* Checked field writers: each writes the field even when its value is zero or
 * empty (proto3 presence is the caller's decision). */
void pb_varint_field(struct pb_writer *w, uint32_t field, uint64_t v);
void pb_fixed64_field(struct pb_writer *w, uint32_t field, uint64_t v);
void pb_fixed32_field(struct pb_writer *w, uint32_t field, uint32_t v);
void pb_bytes_field(struct pb_writer *w, uint32_t field, const void *data, size_t n);

/* A nested message: its tag, then width bytes kept for its length. */
bool pb_open(struct pb_writer *w, uint32_t field, unsigned width, struct pb_mark *m);
void pb_close(struct pb_writer *w, const struct pb_mark *m);

#endif /* SONDE_PB_WRITER_H */
