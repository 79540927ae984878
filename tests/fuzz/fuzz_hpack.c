/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HPACK decoder alone (RFC 7541): one decoder fed a
 * sequence of header blocks, with lost blocks and table size changes between
 * them, checking after each block what the decoder promises: its table's size
 * is the sum of its entries (§4.1) and within the size followed, every field
 * delivered is readable, and a Huffman string never decodes past its bound.
 *
 * Input: a first byte (bit 0: the decoder starts partial), then blocks of
 * [length high bits][length low bits | actions][bytes]; actions: 0x04 a block
 * was lost before this one, 0x08 the protocol set the table size to
 * (byte >> 4) * 4096 first.
 * Run: make fuzz FUZZERS_ONLY=hpack (tests/fuzz/run.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "protocols/http2/hpack.h"

/* Where field bytes are read to (so ASan sees every byte read). */
static volatile uint8_t sum;

static void sink_field(void *ctx, const struct hpack_field *f)
{
	(void)ctx;
	FUZZ_CHECK(f->name || !f->name_len);
	FUZZ_CHECK(f->value || !f->value_len);
	FUZZ_CHECK(!(f->flags & HPACK_F_VALUE_UNKNOWN) || (!f->value && !f->value_len));
	for (size_t i = 0; i < f->name_len; i++)
		sum += (uint8_t)f->name[i];
	for (size_t i = 0; f->value && i < f->value_len; i++)
		sum += (uint8_t)f->value[i];
}

static void check_table(const struct hpack_decoder *d)
{
	struct hpack_field f;
	uint64_t size = 0;
	uint32_t k = 0;

	while (hpack_entry(d, k, &f)) {
		size += f.name_len + f.value_len + 32;
		k++;
	}
	FUZZ_CHECK(k == d->count);
	FUZZ_CHECK(size == d->size);
	FUZZ_CHECK(d->size <= d->max_size);
	FUZZ_CHECK(d->max_size <= HPACK_MAX_TABLE_SIZE);
}

/* The Huffman decoder into a buffer of exactly the size it documents. */
static void check_huffman(const uint8_t *b, size_t n)
{
	size_t cap = n * 8 / 5 + 1;
	char *out = malloc(cap);
	long got;

	if (!out)
		abort();
	got = hpack_huffman_decode(b, n, out);
	FUZZ_CHECK(got < 0 || (size_t)got < cap);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct hpack_decoder d;
	struct hpack_result res;

	hpack_init(&d, fuzz_byte(&in) & 1);
	while (in.n >= 2) {
		uint8_t hi = fuzz_byte(&in), lo = fuzz_byte(&in);
		const uint8_t *block;
		size_t n = fuzz_bytes(&in, (size_t)hi << 2 | (lo & 3), &block);

		if (lo & 0x04)
			hpack_lose(&d);
		if (lo & 0x08)
			hpack_set_max_size(&d, (uint32_t)(lo >> 4) * 4096);
		hpack_decode(&d, block, n, sink_field, NULL, &res);
		FUZZ_CHECK(!res.malformed || d.partial);
		check_table(&d);
		check_huffman(block, n);
	}
	hpack_free(&d);
	return 0;
}
