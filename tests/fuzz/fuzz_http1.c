/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP/1 span builder and parser: the input is cut
 * into syscall-like chunks (direction, captured and total sizes taken from the
 * input itself), so gaps, splits and both directions are all exercised.
 * Run: make fuzz FUZZERS_ONLY=http1 (tests/fuzz/run.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "protocols/http1/http1_spans.h"

static void sink_span(void *ctx, struct span *sp)
{
	(void)ctx;
	fuzz_check_span(sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct http1_stats stats = { 0 };
	struct span_sink out = { .emit = sink_span };
	struct http1_sink sink = { .out = &out, .stats = &stats };
	struct http1_session s;
	struct fuzz_chunk c;
	uint64_t ts = 1;

	http1_session_init(&s, size && (data[0] & 1));
	while (fuzz_chunk(&in, &c)) {
		struct protocol_bytes b = { .ingress = c.ingress,
					    .data = c.data,
					    .captured = c.captured,
					    .total = c.total,
					    .ts = ts++ };

		http1_session_feed(&s, &b, &sink);
	}
	http1_session_close(&s, ts, &sink);
	http1_session_free(&s);
	return 0;
}
