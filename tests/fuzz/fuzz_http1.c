/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP/1 span builder and parser: the input is cut
 * into syscall-like chunks (direction, captured and total sizes taken from the
 * input itself), so gaps, splits and both directions are all exercised.
 * Build: make fuzz; run: build/fuzz/fuzz_http1 -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocols/http1/http1_spans.h"

static void sink_span(void *ctx, struct span *sp)
{
	/* touch every field a writer would read */
	volatile size_t n = strlen(sp->method) + strlen(sp->target) + strlen(sp->host);

	(void)ctx;
	(void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_stats stats = { 0 };
	struct span_sink out = { .emit = sink_span };
	struct http1_sink sink = { .out = &out, .stats = &stats };
	struct http1_session s;
	uint64_t ts = 1;

	http1_session_init(&s, size && (data[0] & 1));
	while (size >= 3) {
		bool ingress = data[0] & 1;
		size_t chunk = data[1] % 200 + 1;
		uint64_t extra = (data[2] & 0x80) ? (data[2] & 0x7f) * 37u : 0;

		data += 3;
		size -= 3;
		if (chunk > size)
			chunk = size;
		struct protocol_bytes b = { .ingress = ingress,
					    .data = data,
					    .captured = chunk,
					    .total = chunk + extra,
					    .ts = ts++ };

		http1_session_feed(&s, &b, &sink);
		data += chunk;
		size -= chunk;
	}
	http1_session_close(&s, ts, &sink);
	http1_session_free(&s);
	return 0;
}
