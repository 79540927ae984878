/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for log output (agent/logs/): the input is cut into
 * writes to two streams of two processes and fed through the whole logs
 * module: line assembly, continuation, the cap, binary detection, severity
 * parsing, UTF-8, the rate limit and the hold for pending traces. A small cap
 * makes cuts frequent. Every record must be valid UTF-8 and within the cap's
 * room, its severity a number OpenTelemetry defines.
 *
 * Input: writes one after another, each [stream][size][dt][ctx][how] then
 * the bytes:
 *   stream & 3: tgid 100 + bit 1, fd 1 + bit 0; size % 64 + 1 bytes;
 *   (dt & 0x3f) * 7 ms since the last write, by thread dt >> 6;
 *   ctx % 3: outside a request, in one, pending (its span id's first byte is
 *   ctx; odd: still pending later);
 *   how: 0xc0 bits set: 100 bytes more than captured; high nibble 3: 50
 *   bytes lost before it; 0x7f: a server span ends after it; 0x7e: the
 *   process exits after it.
 * Run: make fuzz FUZZERS_ONLY=log_lines (tests/fuzz/run.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "logs/logs.h"

#define CAP 256

static void check_record(void *ctx, const struct log_record *r)
{
	(void)ctx;
	fuzz_check_log_record(r, CAP);
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
	struct fuzz_input in = { data, size };
	struct logs_opts o = { .max_line = CAP,
			       .rate = 50,
			       .max_streams = 3,
			       .resolve = resolve,
			       .out = check_record };
	struct logs *lg = logs_new(&o);
	uint64_t pos[4] = { 1, 1, 1, 1 }, ts = 1;

	if (!lg)
		return 0;
	while (in.n >= 5) {
		unsigned stream = fuzz_byte(&in) & 3;
		size_t want = fuzz_byte(&in) % 64 + 1;
		uint8_t dt = fuzz_byte(&in), ctx = fuzz_byte(&in), how = fuzz_byte(&in);
		struct log_write w = { .tgid = 100 + (stream >> 1), .fd = 1 + (stream & 1) };
		size_t captured;

		ts += (uint64_t)(dt & 0x3f) * 7000000ull; /* up to ~0.4 s a step */
		w.writer = dt >> 6;
		w.ctx_state = (enum linker_ctx_state)(ctx % 3);
		w.ctx.span_id[0] = ctx;
		captured = fuzz_bytes(&in, want, &w.data);
		w.ts = w.time_ns = ts;
		w.captured = (uint32_t)captured;
		w.total = captured + ((how & 0xc0) == 0xc0 ? 100 : 0);	      /* not all copied */
		w.stream_pos = pos[stream] + ((how & 0xf0) == 0x30 ? 50 : 0); /* a lost write */
		pos[stream] = w.stream_pos + w.total;
		logs_write(lg, &w);
		if (how == 0x7f)
			logs_span_end(lg, w.tgid);
		if (how == 0x7e)
			logs_exit(lg, w.tgid);
		logs_tick(lg, ts, false);
	}
	logs_free(lg);
	return 0;
}
