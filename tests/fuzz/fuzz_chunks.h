/* SPDX-License-Identifier: MIT */
/*
 * A fuzzer's input cut into syscall-like chunks for a protocol session: each
 * chunk is 3 bytes of header — direction (bit 0), a gap of unseen bytes
 * before it (bit 7, then the low bits of the third byte), its length, bytes
 * the capture missed at its end (third byte, bit 7) — then its payload.
 */
#ifndef SONDE_FUZZ_CHUNKS_H
#define SONDE_FUZZ_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/protocol.h"

typedef void (*fuzz_feed_fn)(void *ctx, const struct protocol_bytes *b);

static void fuzz_chunks(const uint8_t *data, size_t size, uint64_t *ts, fuzz_feed_fn feed,
			void *ctx)
{
	while (size >= 3) {
		struct protocol_bytes b = { .ingress = data[0] & 1, .ts = (*ts)++ };
		size_t chunk = data[1] % 250 + 1;

		b.unseen = (data[0] & 0x80) ? data[2] & 0x0f : 0;
		b.total = (data[2] & 0x80) ? (uint64_t)(data[2] & 0x70) * 13 : 0;
		data += 3;
		size -= 3;
		if (chunk > size)
			chunk = size;
		b.data = data;
		b.captured = chunk;
		b.total += chunk;
		feed(ctx, &b);
		data += chunk;
		size -= chunk;
	}
}

#endif /* SONDE_FUZZ_CHUNKS_H */
