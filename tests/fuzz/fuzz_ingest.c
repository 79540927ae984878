/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the event ingest (core/ingest.c): ring buffer records
 * as the kernel side writes them (include/sonde_event.h) in any order and any
 * mix: connection opens and closes, data of any protocol id (every protocol in
 * the registry, and ids none has) with gaps and jumps in its byte positions,
 * process exits, unknown types, records cut short or with sizes that lie. A
 * small connection table makes evictions and replaced connections common.
 *
 * Input: records one after another, each [op][conn][time] then its fields:
 *   op & 7: 0 raw bytes, 1 open, 2/6/7 data, 3 close, 4 exit, 5 exec;
 *   op & 0x20 with data: output to fd 1 or 2 (SONDE_EV_LOG, conn bit 1),
 *   made into log records by the logs module with the linker's contexts;
 *   op & 0x40: the record lies about its size; op & 0x80: time goes back.
 *   conn: tgid 100 + bit 0, fd 3 + bits 1-2, generation bits 3-4.
 * Run: make fuzz FUZZERS_ONLY=ingest (tests/fuzz/run.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "sonde_event.h"
#include "core/ingest.h"
#include "logs/logs.h"

#define MAX_CONNS   4
#define MAX_PAYLOAD 2048
#define LOG_CAP	    256

/* Records are 8-byte aligned in the ring buffer. */
static uint64_t record[(sizeof(struct sonde_data) + MAX_PAYLOAD) / 8 + 1];

struct state {
	uint64_t ts;
	uint64_t pos[2][4][2]; /* next stream_pos by tgid, fd, direction */
	int spans;
};

static void on_span(void *ctx, const struct span *sp)
{
	struct state *st = ctx;
	char addr[64];
	const char *a, *b;
	size_t alen, blen;

	st->spans++;
	fuzz_check_span(sp);
	if (!(sp->flags & SPAN_F_DB)) {
		(void)span_query(sp);
		(void)span_rpc_parts(sp, &a, &alen, &b, &blen);
	}
	(void)span_is_error(sp);
	span_endpoint_addr(&sp->local, addr, sizeof(addr));
	span_endpoint_addr(&sp->peer, addr, sizeof(addr));
}

static void on_exit_(void *ctx, uint32_t tgid, uint64_t ts)
{
	(void)ctx;
	(void)tgid;
	(void)ts;
}

static void on_log(void *ctx, const struct log_record *r)
{
	(void)ctx;
	fuzz_check_log_record(r, LOG_CAP);
}

static enum linker_ctx_state resolve(void *ctx, const uint8_t span_id[8], struct linker_ctx *out)
{
	return linker_context_of(ctx, span_id, out);
}

static void header(struct sonde_event_hdr *h, uint32_t type, uint8_t conn, uint64_t ts)
{
	h->type = type;
	h->tgid = 100 + (conn & 1);
	h->tid = h->tgid;
	h->fd = 3 + ((conn >> 1) & 3);
	h->ts_ns = ts;
	h->conn_gen = (conn >> 3) & 3;
}

static size_t make_open(struct fuzz_input *in, uint8_t conn, uint64_t ts)
{
	static const uint16_t families[4] = { AF_INET, AF_INET6, 0, 0xffff };
	struct sonde_conn_open *ev = (struct sonde_conn_open *)record;
	char comm[SONDE_COMM_LEN];

	memset(ev, 0, sizeof(*ev));
	header(&ev->hdr, SONDE_EV_CONN_OPEN, conn, ts);
	ev->role = fuzz_byte(in);
	ev->proto = fuzz_byte(in);
	ev->family = families[fuzz_byte(in) & 3];
	ev->local_addr[15] = fuzz_byte(in);
	ev->remote_addr[15] = fuzz_byte(in);
	ev->local_port = fuzz_u16(in);
	ev->remote_port = fuzz_u16(in);
	fuzz_str(in, comm, sizeof(comm));
	/* All 16 bytes, unterminated when the name fills them. */
	memcpy(ev->comm, comm, sizeof(ev->comm));
	return sizeof(*ev);
}

static size_t make_data(struct fuzz_input *in, struct state *st, uint8_t op, uint8_t conn,
			uint64_t ts)
{
	struct sonde_data *ev = (struct sonde_data *)record;
	uint8_t flags = fuzz_byte(in), extra;
	uint64_t *next;
	const uint8_t *payload;
	size_t captured;

	memset(ev, 0, sizeof(*ev));
	header(&ev->hdr, (op & 0x20) ? SONDE_EV_LOG : SONDE_EV_DATA, conn, ts);
	if (op & 0x20)
		ev->hdr.fd = 1 + ((conn >> 1) & 1);
	ev->dir = flags & 1;
	ev->syscall = (flags >> 1) & 15;
	ev->role = fuzz_byte(in);
	ev->proto = fuzz_byte(in);
	extra = fuzz_byte(in);
	captured = fuzz_bytes(in, fuzz_u16(in) % MAX_PAYLOAD, &payload);
	memcpy(ev + 1, payload, captured);
	ev->captured = (uint32_t)captured;
	ev->total = (int64_t)captured + (extra & 0x7f) * 37;
	if (op & 0x40) /* sizes that lie: more captured than moved, or a failed call */
		ev->total = (extra & 0x80) ? -11 : (int64_t)captured - 1;
	next = &st->pos[conn & 1][(conn >> 1) & 3][ev->dir];
	switch ((flags >> 5) & 3) {
	case 0: /* not counted */
		break;
	case 1: /* in order */
		ev->stream_pos = *next ? *next : 1;
		break;
	case 2: /* events lost before this one */
		ev->stream_pos = (*next ? *next : 1) + fuzz_u16(in);
		break;
	case 3:
		ev->stream_pos = fuzz_u32(in);
		break;
	}
	if (ev->stream_pos && ev->total >= 0)
		*next = ev->stream_pos + (uint64_t)ev->total;
	return sizeof(*ev) + captured;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct state st = { .ts = 1000000 };
	struct logs_opts lo = { .max_line = LOG_CAP, .rate = 50, .max_streams = 3, .out = on_log };
	struct logs *lg;
	struct ingest ig;

	if (ingest_init(&ig, MAX_CONNS, NULL, on_span, &st))
		return 0;
	lo.resolve = resolve;
	lo.resolve_ctx = &ig.linker;
	lg = logs_new(&lo);
	if (!lg) {
		ingest_destroy(&ig);
		return 0;
	}
	ig.exit_out = on_exit_;
	ig.logs = (struct ingest_logs){
		.write = logs_write, .span_end = logs_span_end, .exit = logs_exit, .ctx = lg
	};
	while (in.n) {
		uint8_t op = fuzz_byte(&in), conn = fuzz_byte(&in), dt = fuzz_byte(&in);
		struct sonde_event_hdr *h = (struct sonde_event_hdr *)record;
		size_t len = sizeof(*h);
		const uint8_t *raw;

		if ((op & 0x80) && st.ts > dt * 1000u)
			st.ts -= dt * 1000u;
		else
			st.ts += dt * 1000u;
		memset(h, 0, sizeof(*h));
		switch (op & 7) {
		case 0:
			len = fuzz_bytes(&in, fuzz_byte(&in), &raw);
			memcpy(record, raw, len);
			break;
		case 1:
			len = make_open(&in, conn, st.ts);
			break;
		case 3:
			header(h, SONDE_EV_CONN_CLOSE, conn, st.ts);
			break;
		case 4:
			header(h, SONDE_EV_PROC_EXIT, conn, st.ts);
			break;
		case 5:
			header(h, SONDE_EV_PROC_EXEC, conn, st.ts);
			break;
		default:
			len = make_data(&in, &st, op, conn, st.ts);
			break;
		}
		/* A record shorter than its type needs. */
		if ((op & 0x40) && (op & 7) != 2 && len)
			len -= 1 + dt % len;
		ingest_event(&ig, record, len);
		logs_tick(lg, st.ts, false);
	}
	/* The records still pending resolve against the linker: free them first. */
	logs_free(lg);
	ig.logs = (struct ingest_logs){ 0 };
	ingest_destroy(&ig);
	return 0;
}
