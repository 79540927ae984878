/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Redis session (RESP parser, pairing): the input
 * is cut into syscall-like chunks whose direction, uncaptured tail and
 * unseen gap come from the input itself.
 * Build: make fuzz; run: build/fuzz/fuzz_redis -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocols/redis/redis_protocol.h"
#include "sonde_event.h"

static void sink_span(void *ctx, struct span *sp)
{
	volatile size_t n = strlen(sp->db.operation) + strlen(sp->db.query) +
			    strlen(sp->db.status_code) + strlen(sp->db.name_space);

	(void)ctx;
	(void)n;
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
	while (size >= 3) {
		struct protocol_bytes b = { .ingress = data[0] & 1, .ts = ts++ };
		size_t chunk = data[1] % 200 + 1;

		b.unseen = (data[0] & 0x80) ? data[2] & 0x0f : 0;
		b.total = (data[2] & 0x80) ? (uint64_t)(data[2] & 0x70) * 11 : 0;
		data += 3;
		size -= 3;
		if (chunk > size)
			chunk = size;
		b.data = data;
		b.captured = chunk;
		b.total += chunk;
		redis_session_feed(&s, &b, &sink);
		data += chunk;
		size -= chunk;
	}
	redis_session_close(&s, ts, &sink);
	redis_session_free(&s);
	return 0;
}
