/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the PostgreSQL session: the input is cut into
 * syscall-like chunks (direction, captured and total sizes, bytes unseen
 * before, all taken from the input itself), so splits, captures cut short,
 * gaps and both directions are all exercised, from a start-up or mid-stream.
 * Every span must hold NUL-terminated fields.
 * Build: make fuzz; run: build/fuzz/fuzz_postgres -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/postgres/pg_session.h"
#include "sonde_event.h"

static void sink_span(void *ctx, struct span *sp)
{
	(void)ctx;
	if (!memchr(sp->db.query, 0, sizeof(sp->db.query)) ||
	    !memchr(sp->db.operation, 0, sizeof(sp->db.operation)) ||
	    !memchr(sp->db.collection, 0, sizeof(sp->db.collection)) ||
	    !memchr(sp->db.name_space, 0, sizeof(sp->db.name_space)) ||
	    !memchr(sp->db.status_code, 0, sizeof(sp->db.status_code)) || sp->end_ns < sp->start_ns)
		abort();
}

/* A start-up and its answer, so that inputs start past authentication. */
static const uint8_t startup[] = { 0,	0,   0,	  21,  0,   3, 0,   0,	 'd', 'a', 't',
				   'a', 'b', 'a', 's', 'e', 0, 'd', 'b', 0,   0 };
static const uint8_t ready[] = { 'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I' };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct protocol_settings settings = { .db_query = DB_QUERY_SANITIZED };
	struct postgres_stats stats = { 0 };
	struct span_sink sink = { .emit = sink_span };
	struct pg_session s;
	uint64_t ts = 1;

	if (size < 1)
		return 0;
	settings.db_query = data[0] % 3;
	settings.db_query_max = data[0] & 0x80 ? 40 : 0;
	pg_session_init(&s, data[0] & 4 ? SONDE_ROLE_UNKNOWN : SONDE_ROLE_CLIENT, &settings,
			&stats);
	if (data[0] & 8) {
		struct protocol_bytes up = { .data = startup,
					     .captured = sizeof(startup),
					     .total = sizeof(startup),
					     .ts = ts++ };
		struct protocol_bytes down = { .ingress = true,
					       .data = ready,
					       .captured = sizeof(ready),
					       .total = sizeof(ready),
					       .ts = ts++ };

		pg_session_feed(&s, &up, &sink);
		pg_session_feed(&s, &down, &sink);
	}
	data++;
	size--;
	while (size >= 3) {
		size_t chunk = data[1] % 200 + 1;
		struct protocol_bytes b = {
			.ingress = data[0] & 1,
			.unseen = (data[0] & 2) ? data[2] % 16 : 0,
			.ts = ts++,
		};
		uint64_t extra = (data[2] & 0x80) ? (data[2] & 0x7f) * 37u : 0;

		data += 3;
		size -= 3;
		if (chunk > size)
			chunk = size;
		b.data = chunk ? data : NULL;
		b.captured = chunk;
		b.total = chunk + extra;
		pg_session_feed(&s, &b, &sink);
		data += chunk;
		size -= chunk;
	}
	pg_session_close(&s, ts, &sink);
	pg_session_free(&s);
	return 0;
}
