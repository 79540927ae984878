/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the MySQL session (packets, handshake, replies,
 * prepared statements): a real start (greeting, handshake, OK) when the
 * first byte says so, then syscall-like chunks (fuzz_chunks.h).
 * Build: make fuzz; run: build/fuzz/fuzz_mysql -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocols/mysql/mysql_protocol.h"
#include "sonde_event.h"
#include "fuzz_chunks.h"

static void sink_span(void *ctx, struct span *sp)
{
	volatile size_t n = strlen(sp->db.operation) + strlen(sp->db.query) +
			    strlen(sp->db.collection) + strlen(sp->db.name_space);

	(void)ctx;
	(void)n;
}

/* MariaDB 10.11's greeting, a response with database "shop", its OK. */
static const uint8_t start[][64] = {
	{ 0x3c, 0,   0,	   0,	 10,  '1', '0', '.',  '1',  '1', '.', '6', '-', 'M', 'a', 'r',
	  'i',	'a', 'D',  'B',	 0,   1,   0,	0,    0,    'a', 'b', 'c', 'd', 'e', 'f', 'g',
	  'h',	0,   0xfe, 0xf7, 8,   2,   0,	0xff, 0x81, 21,	 0,   0,   0,	0,   0,	  0,
	  0x1d, 0,   0,	   0,	 'i', 'j', 'k', 'l',  'm',  'n', 'o', 'p', 'q', 'r', 0,	  0 },
	{ 0x2f, 0, 0,	1,   0x8d, 0xa2, 0x0a, 0,   0,	 0,   0,   1, 8,   0, 0, 0,    0,
	  0,	0, 0,	0,   0,	   0,	 0,    0,   0,	 0,   0,   0, 0,   0, 0, 0x1d, 0,
	  0,	0, 'a', 'p', 'p',  0,	 0,    's', 'h', 'o', 'p', 0, 'x', 0, 0 },
	{ 7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0 },
};
static const size_t start_len[] = { 64, 51, 11 };

static void feed(void *ctx, const struct protocol_bytes *b)
{
	static const struct span_sink sink = { .emit = sink_span };

	mysql_session_feed(ctx, b, &sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mysql_shared shared;
	struct protocol_settings settings = { .db_query_max = 128 };
	struct span_sink sink = { .emit = sink_span };
	struct mysql_session s;
	uint64_t ts = 1;

	mysql_session_init(&s, size && (data[0] & 2) ? SONDE_ROLE_UNKNOWN : SONDE_ROLE_CLIENT,
			   &settings, &shared.stats);
	if (size && (data[0] & 1)) {
		for (size_t i = 0; i < 3; i++) {
			struct protocol_bytes b = { .ingress = i != 1,
						    .data = start[i],
						    .captured = start_len[i],
						    .total = start_len[i],
						    .ts = ts++ };

			mysql_session_feed(&s, &b, &sink);
		}
	}
	fuzz_chunks(data, size, &ts, feed, &s);
	mysql_session_close(&s, ts, &sink);
	mysql_session_free(&s);
	return 0;
}
