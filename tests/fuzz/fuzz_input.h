/* SPDX-License-Identifier: MIT */
/*
 * Reading a fuzzer's input as a sequence of small decisions: bytes, integers,
 * strings and syscall-like chunks. Every reader returns something (zeros,
 * empty strings) once the input runs out, so targets need no length checks.
 * Shared by the targets in tests/fuzz/.
 */
#ifndef SONDE_FUZZ_INPUT_H
#define SONDE_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_byte(struct fuzz_input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t hi = fuzz_byte(in);

	return (uint16_t)(hi << 8 | fuzz_byte(in));
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t hi = fuzz_u16(in);

	return hi << 16 | fuzz_u16(in);
}

/* Up to want bytes (fewer at the end of the input); *out points at them. */
static inline size_t fuzz_bytes(struct fuzz_input *in, size_t want, const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;

	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

/* A string of up to 255 bytes (a length byte, then the bytes) copied into
 * buf[cap] and NUL-terminated; returns its length. */
static inline size_t fuzz_str(struct fuzz_input *in, char *buf, size_t cap)
{
	const uint8_t *b;
	size_t n = fuzz_bytes(in, fuzz_byte(in), &b);

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, b, n);
	buf[n] = '\0';
	return n;
}

/*
 * One syscall's worth of a byte stream, as the HTTP targets cut their input: a
 * direction bit, a size of 1..200 bytes and, one time in two, bytes the
 * syscall moved beyond those captured (a gap). Three header bytes, then the
 * bytes. False when fewer than three bytes are left.
 */
struct fuzz_chunk {
	bool ingress;
	const uint8_t *data;
	size_t captured;
	uint64_t total;
};

static inline bool fuzz_chunk(struct fuzz_input *in, struct fuzz_chunk *c)
{
	uint8_t dir, size, extra;

	if (in->n < 3)
		return false;
	dir = fuzz_byte(in);
	size = fuzz_byte(in);
	extra = fuzz_byte(in);
	c->ingress = dir & 1;
	c->captured = fuzz_bytes(in, size % 200 + 1, &c->data);
	c->total = c->captured + ((extra & 0x80) ? (extra & 0x7f) * 37u : 0);
	return true;
}

/* Input copied to a heap block of exactly its size, so reading one byte past
 * the end is an ASan report; nul adds a terminator after it. Free with free(). */
static inline char *fuzz_copy(const uint8_t *data, size_t size, bool nul)
{
	char *p = malloc(size + nul + (size + nul == 0));

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	if (nul)
		p[size] = '\0';
	return p;
}

#endif /* SONDE_FUZZ_INPUT_H */
