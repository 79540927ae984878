/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for log output: the input is cut into writes to two
 * streams of two processes (sizes, bytes not copied, lost writes, time steps
 * and request contexts taken from the input itself) and fed through the whole
 * logs module: line assembly, continuation, the cap, binary detection,
 * severity parsing, UTF-8, the rate limit and the hold for pending traces.
 * A small cap makes cuts frequent. Every record must be valid UTF-8 and
 * within the cap's room.
 * Build: make fuzz; run: build/fuzz/fuzz_log_lines -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logs/logs.h"

#define CAP 256

static void check_record(void *ctx, const struct log_record *r)
{
	const unsigned char *s = (const unsigned char *)r->body;

	(void)ctx;
	if (r->len > 3 * CAP)
		abort();
	for (size_t i = 0; i < r->len;) {
		size_t k = s[i] < 0x80 ? 1 : s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;

		if (s[i] >= 0x80 && (s[i] < 0xc2 || s[i] > 0xf4 || i + k > r->len))
			abort();
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				abort();
		i += k;
	}
	if (r->severity.number > 24)
		abort();
}

static enum linker_ctx_state resolve(void *ctx, const uint8_t span_id[8], struct linker_ctx *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	memcpy(out->span_id, span_id, 8);
	return span_id[0] & 1 ? LINKER_CTX_PENDING : LINKER_CTX_FINAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logs_opts o = { .max_line = CAP,
			       .rate = 50,
			       .max_streams = 3,
			       .resolve = resolve,
			       .out = check_record };
	struct logs *lg = logs_new(&o);
	uint64_t pos[4] = { 1, 1, 1, 1 }, ts = 1;

	if (!lg)
		return 0;
	while (size >= 5) {
		unsigned stream = data[0] & 3;
		size_t chunk = data[1] % 64 + 1;
		struct log_write w = { .tgid = 100 + (stream >> 1), .fd = 1 + (stream & 1) };
		uint8_t how;

		ts += (uint64_t)(data[2] & 0x3f) * 7000000ull; /* up to ~0.4 s a step */
		w.ctx_state = (enum linker_ctx_state)(data[3] % 3);
		w.ctx.span_id[0] = data[3];
		how = data[4];
		data += 5;
		size -= 5;
		if (chunk > size)
			chunk = size;
		w.ts = w.time_ns = ts;
		w.data = data;
		w.captured = (uint32_t)chunk;
		w.total = chunk + ((how & 0xc0) == 0xc0 ? 100 : 0);	      /* not all copied */
		w.stream_pos = pos[stream] + ((how & 0xf0) == 0x30 ? 50 : 0); /* a lost write */
		pos[stream] = w.stream_pos + w.total;
		logs_write(lg, &w);
		if (how == 0x7f)
			logs_span_end(lg, w.tgid);
		if (how == 0x7e)
			logs_exit(lg, w.tgid);
		logs_tick(lg, ts, false);
		data += chunk;
		size -= chunk;
	}
	logs_free(lg);
	return 0;
}
