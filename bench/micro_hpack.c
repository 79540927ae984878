/* SPDX-License-Identifier: MIT */
/*
 * ns per HPACK header block decoded: the three Huffman-coded requests of
 * RFC 7541 Appendix C.4 on one connection, over and over (the third inserts and
 * so evicts, as a long-lived connection does). Median of 31 batches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "protocols/http2/hpack.h"

static const uint8_t block1[] = { 0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5,
				  0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff };
static const uint8_t block2[] = { 0x82, 0x86, 0x84, 0xbe, 0x58, 0x86,
				  0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf };
static const uint8_t block3[] = { 0x82, 0x87, 0x85, 0xbf, 0x40, 0x88, 0x25, 0xa8,
				  0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f, 0x89, 0x25,
				  0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf };

static size_t fields_seen;

static void on_field(void *ctx, const struct hpack_field *f)
{
	(void)ctx;
	fields_seen += f->name_len > 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_hpack_ns(int quick)
{
	struct hpack_decoder d;
	struct hpack_result res;
	double batches[31];
	size_t iters = quick ? 2000 : 10000;

	hpack_init(&d, false);
	hpack_decode(&d, block1, sizeof(block1), on_field, NULL, &res);
	for (int b = 0; b < 31; b++) {
		double t0 = now_ns();

		for (size_t i = 0; i < iters; i++) {
			hpack_decode(&d, block2, sizeof(block2), on_field, NULL, &res);
			hpack_decode(&d, block3, sizeof(block3), on_field, NULL, &res);
		}
		batches[b] = (now_ns() - t0) / (2.0 * iters);
	}
	hpack_free(&d);
	qsort(batches, 31, sizeof(batches[0]), cmp_double);
	return fields_seen ? batches[15] : -1;
}
