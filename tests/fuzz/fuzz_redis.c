/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Redis session (RESP parser, pairing): the input
 * is cut into syscall-like chunks (fuzz_chunks.h).
 * Build: make fuzz; run: build/fuzz/fuzz_redis -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocols/redis/redis_protocol.h"
#include "sonde_event.h"
#include "fuzz_chunks.h"

static void sink_span(void *ctx, struct span *sp)
{
	volatile size_t n = strlen(sp->db.operation) + strlen(sp->db.query) +
			    strlen(sp->db.status_code) + strlen(sp->db.name_space);

	(void)ctx;
	(void)n;
}

static void feed(void *ctx, const struct protocol_bytes *b)
{
	static const struct span_sink sink = { .emit = sink_span };

	redis_session_feed(ctx, b, &sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct redis_shared shared;
	struct protocol_settings settings = { .db_query_max = 64 };
	struct span_sink sink = { .emit = sink_span };
	struct redis_session s;
	uint64_t ts = 1;

	redis_session_init(&s, size && (data[0] & 1) ? SONDE_ROLE_UNKNOWN : SONDE_ROLE_CLIENT,
			   &settings, &shared.stats);
	fuzz_chunks(data, size, &ts, feed, &s);
	redis_session_close(&s, ts, &sink);
	redis_session_free(&s);
	return 0;
}
