/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for HTTP/2: the span builder with its frame parsers and
 * HPACK decoders, fed syscall-like chunks in both directions with gaps (as
 * fuzz_http1 does). The first byte also picks the role and whether the
 * connection's start is seen. HPACK alone is fuzz_hpack.
 * Run: make fuzz FUZZERS_ONLY=http2 (tests/fuzz/run.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "protocols/http2/grpc.h"
#include "protocols/http2/http2_spans.h"

static void sink_span(void *ctx, struct span *sp)
{
	(void)ctx;
	fuzz_check_span(sp);
	FUZZ_CHECK(!(sp->flags & SPAN_F_GRPC_STATUS) || sp->grpc_status <= GRPC_STATUS_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct http2_stats stats = { 0 };
	struct span_sink out = { .emit = sink_span };
	struct http2_sink sink = { .out = &out, .stats = &stats };
	struct http2_session s;
	struct fuzz_chunk c;
	uint64_t ts = 1;

	http2_session_init(&s, size ? data[0] % 3 : 0, size && (data[0] & 4));
	while (fuzz_chunk(&in, &c))
		http2_session_feed(&s, c.ingress, c.data, c.captured, c.total, ts++, &sink);
	http2_session_close(&s, ts, &sink);
	http2_session_free(&s);
	return 0;
}
