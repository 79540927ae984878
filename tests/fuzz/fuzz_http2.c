/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for HTTP/2: the span builder with its frame parsers and
 * HPACK decoders, fed syscall-like chunks in both directions with gaps (as
 * fuzz_http1 does), and the HPACK decoder alone on raw header blocks.
 * Build: make fuzz; run: build/fuzz/fuzz_http2 -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocols/http2/http2_spans.h"
#include "protocols/http2/hpack.h"

static void sink_span(void *ctx, struct span *sp)
{
	/* touch every field a writer would read */
	volatile size_t n = strlen(sp->method) + strlen(sp->target) + strlen(sp->host) +
			    strlen(sp->user_agent) + strlen(sp->traceparent);

	(void)ctx;
	(void)n;
}

static void sink_field(void *ctx, const struct hpack_field *f)
{
	volatile size_t n = 0;

	(void)ctx;
	for (size_t i = 0; i < f->name_len; i++)
		n += (uint8_t)f->name[i];
	for (size_t i = 0; f->value && i < f->value_len; i++)
		n += (uint8_t)f->value[i];
}

/* Blocks of the input as header blocks for one decoder: [len][bytes]... */
static void fuzz_hpack(const uint8_t *data, size_t size)
{
	struct hpack_decoder d;
	struct hpack_result res;

	hpack_init(&d, size && (data[0] & 1));
	while (size >= 2) {
		size_t n = (size_t)data[0] << 2 | (data[1] & 3);

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		hpack_decode(&d, data, n, sink_field, NULL, &res);
		data += n;
		size -= n;
	}
	hpack_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http2_stats stats = { 0 };
	struct span_sink out = { .emit = sink_span };
	struct http2_sink sink = { .out = &out, .stats = &stats };
	struct http2_session s;
	uint64_t ts = 1;

	if (size && data[0] == 'H') {
		fuzz_hpack(data + 1, size - 1);
		return 0;
	}
	http2_session_init(&s, size ? data[0] % 3 : 0, size && (data[0] & 4));
	while (size >= 3) {
		bool ingress = data[0] & 1;
		size_t chunk = data[1] % 200 + 1;
		uint64_t extra = (data[2] & 0x80) ? (data[2] & 0x7f) * 37u : 0;

		data += 3;
		size -= 3;
		if (chunk > size)
			chunk = size;
		http2_session_feed(&s, ingress, data, chunk, chunk + extra, ts++, &sink);
		data += chunk;
		size -= chunk;
	}
	http2_session_close(&s, ts, &sink);
	http2_session_free(&s);
	return 0;
}
