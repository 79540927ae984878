/* SPDX-License-Identifier: MIT */
/*
 * HTTP/2 connections as ring buffer records → spans, through the real ingest:
 * one span per stream however they interleave, gRPC calls with their status,
 * resets, GOAWAY, the open-stream bound, an h2c upgrade, and what a connection
 * whose header tables are out of sync still gives (and never gets wrong).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sonde_event.h"
#include "core/ingest.h"
#include "spans/span_attrs.h"
#include "../h2_wire.h"

#define MAX_SPANS 1024
#define PREFACE	  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define TGID	  100
#define FD	  7
#define GEN	  1

struct collected {
	struct span spans[MAX_SPANS];
	int n;
};

static void collect(void *ctx, const struct span *sp)
{
	struct collected *c = ctx;

	if (c->n < MAX_SPANS)
		c->spans[c->n] = *sp;
	c->n++;
}

struct fixture {
	struct ingest ig;
	struct collected out;
	uint64_t pos[2]; /* next stream position per direction, as the kernel counts */
	bool lose_next;	 /* drop the next data event (ring buffer full) */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ingest_init(&f->ig, 8, NULL, collect, &f->out), 0);
	f->ig.clock.mono_to_real_ns = 0;
	f->ig.clock.measured_at_mono = UINT64_MAX / 2;
	f->pos[0] = f->pos[1] = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ingest_destroy(&f->ig);
	free(f);
	return 0;
}

static void open_conn(struct fixture *f, uint8_t role, uint8_t proto)
{
	struct sonde_conn_open ev = { 0 };

	ev.hdr = (struct sonde_event_hdr){
		.type = SONDE_EV_CONN_OPEN, .tgid = TGID, .fd = FD, .ts_ns = 1, .conn_gen = GEN
	};
	ev.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", ev.local_addr);
	inet_pton(AF_INET, "127.0.0.2", ev.remote_addr);
	ev.local_port = role == SONDE_ROLE_CLIENT ? 40000 : 50051;
	ev.remote_port = role == SONDE_ROLE_CLIENT ? 50051 : 40000;
	ev.role = role;
	ev.proto = proto;
	strcpy(ev.comm, "svc");
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
}

/* One syscall: captured bytes of total; the stream position advances by total. */
static void data(struct fixture *f, uint8_t dir, uint64_t ts, const uint8_t *bytes, size_t n,
		 uint64_t total, uint8_t proto)
{
	uint8_t *buf = calloc(1, sizeof(struct sonde_data) + n + 1);
	struct sonde_data *ev = (struct sonde_data *)buf;

	ev->hdr = (struct sonde_event_hdr){
		.type = SONDE_EV_DATA, .tgid = TGID, .fd = FD, .ts_ns = ts, .conn_gen = GEN
	};
	ev->total = (int64_t)total;
	ev->captured = (uint32_t)n;
	ev->dir = dir;
	ev->proto = proto;
	ev->stream_pos = f->pos[dir];
	f->pos[dir] += total;
	memcpy(ev + 1, bytes, n);
	if (f->lose_next)
		f->lose_next = false;
	else
		assert_int_equal(ingest_event(&f->ig, buf, sizeof(*ev) + n), 0);
	free(buf);
}

static void send_h2(struct fixture *f, uint8_t dir, uint64_t ts, const uint8_t *bytes, size_t n)
{
	data(f, dir, ts, bytes, n, n, SONDE_PROTO_HTTP2);
}

static void close_conn(struct fixture *f, uint64_t ts)
{
	struct sonde_conn_close ev = { 0 };

	ev.hdr = (struct sonde_event_hdr){
		.type = SONDE_EV_CONN_CLOSE, .tgid = TGID, .fd = FD, .ts_ns = ts, .conn_gen = GEN
	};
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
}

/* ---- building frames and header blocks ---- */

struct buf {
	uint8_t b[65536];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t stream, const void *payload,
		  size_t len)
{
	uint8_t h[H2_WIRE_HEADER_LEN];

	h2_wire_header(h, len, type, flags, stream);
	put(b, h, sizeof(h));
	if (len)
		put(b, payload, len);
}

/* HPACK representations, RFC 7541 §6 (short strings, no Huffman). */
static void hp_indexed(struct buf *b, uint8_t idx)
{
	uint8_t c = 0x80 | idx;

	assert_true(idx < 127);
	put(b, &c, 1);
}

/* A literal with a literal name; incremental indexing when `index`. */
static void hp_literal(struct buf *b, bool index, const char *name, const char *value)
{
	uint8_t c = index ? 0x40 : 0x00;
	uint8_t nl = (uint8_t)strlen(name), vl = (uint8_t)strlen(value);

	put(b, &c, 1);
	put(b, &nl, 1);
	put(b, name, nl);
	put(b, &vl, 1);
	put(b, value, vl);
}

/* A literal whose name is static entry idx (< 15), with incremental indexing. */
static void hp_literal_name(struct buf *b, uint8_t idx, const char *value)
{
	uint8_t c = 0x40 | idx, vl = (uint8_t)strlen(value);

	put(b, &c, 1);
	put(b, &vl, 1);
	put(b, value, vl);
}

static void settings(struct buf *b)
{
	frame(b, 4, 0, 0, NULL, 0);
}

/* A gRPC request's headers: POST (static 3), :scheme http (6), the path and
 * content-type as literals with indexing. */
static void grpc_request(struct buf *b, uint32_t stream, const char *path)
{
	struct buf blk = { 0 };

	hp_indexed(&blk, 3);
	hp_indexed(&blk, 6);
	hp_literal_name(&blk, 4, path);
	hp_literal_name(&blk, 1, "svc.local:50051");
	hp_literal(&blk, true, "content-type", "application/grpc");
	hp_literal(&blk, false, "te", "trailers");
	frame(b, 1, 0x4, stream, blk.b, blk.n);
}

/* 5-byte gRPC message prefix + body. */
static void grpc_message(struct buf *b, uint32_t stream, size_t len, bool end_stream)
{
	uint8_t msg[128] = { 0, 0, 0, 0, (uint8_t)len };

	memset(msg + 5, 'm', len);
	frame(b, 0, end_stream ? 1 : 0, stream, msg, len + 5);
}

static void response_headers(struct buf *b, uint32_t stream, bool grpc, bool end_stream)
{
	struct buf blk = { 0 };

	hp_indexed(&blk, 8); /* :status 200 */
	if (grpc)
		hp_literal(&blk, true, "content-type", "application/grpc");
	frame(b, 1, 0x4 | (end_stream ? 1 : 0), stream, blk.b, blk.n);
}

static void trailers(struct buf *b, uint32_t stream, const char *status)
{
	struct buf blk = { 0 };

	hp_literal(&blk, false, "grpc-status", status);
	hp_literal(&blk, false, "grpc-message", "msg");
	frame(b, 1, 0x5, stream, blk.b, blk.n);
}

static const struct span *only_span(struct fixture *f)
{
	assert_int_equal(f->out.n, 1);
	return &f->out.spans[0];
}

/* ---- tests ---- */

static void test_grpc_unary_server(void **state)
{
	struct fixture *f = *state;
	struct buf in = { 0 }, out = { 0 };
	const struct span *s;
	char err[32];

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP2);
	settings(&out);
	send_h2(f, SONDE_DIR_EGRESS, 10, out.b, out.n);
	put(&in, PREFACE, 24);
	settings(&in);
	grpc_request(&in, 1, "/grpc.health.v1.Health/Check");
	grpc_message(&in, 1, 7, true);
	send_h2(f, SONDE_DIR_INGRESS, 20, in.b, in.n);
	out.n = 0;
	response_headers(&out, 1, true, false);
	grpc_message(&out, 1, 2, false);
	send_h2(f, SONDE_DIR_EGRESS, 30, out.b, out.n);
	assert_int_equal(f->out.n, 0);
	out.n = 0;
	trailers(&out, 1, "0");
	send_h2(f, SONDE_DIR_EGRESS, 40, out.b, out.n);

	s = only_span(f);
	assert_int_equal(s->kind, SPAN_SERVER);
	assert_true(s->flags & SPAN_F_GRPC);
	assert_true(s->flags & SPAN_F_GRPC_STATUS);
	assert_int_equal(s->grpc_status, 0);
	assert_string_equal(s->method, "POST");
	assert_string_equal(s->target, "/grpc.health.v1.Health/Check");
	assert_string_equal(s->host, "svc.local:50051");
	assert_int_equal(s->status, 200);
	assert_int_equal(s->version_major, 2);
	assert_int_equal(s->stream_id, 1);
	assert_int_equal(s->start_ns, 20); /* request headers read */
	assert_int_equal(s->end_ns, 40);   /* trailers written */
	assert_int_equal(s->request_body_bytes, 12);
	assert_int_equal(s->response_body_bytes, 7);
	assert_false(s->flags & SPAN_F_HEAD_TRUNCATED);
	assert_false(span_is_error(s));
	span_error_type(s, err, sizeof(err));
	assert_string_equal(err, "");
	assert_int_equal(f->ig.protocols.http2.stats.conns_degraded, 0);
}

/* Which statuses are errors depends on the side (semantic conventions). */
static void test_grpc_status_errors(void **state)
{
	struct fixture *f = *state;
	struct buf in = { 0 }, out = { 0 };
	const char *codes[] = { "5", "13", "0" };
	char err[32];

	open_conn(f, SONDE_ROLE_CLIENT, SONDE_PROTO_HTTP2);
	put(&out, PREFACE, 24);
	settings(&out);
	for (uint32_t i = 0; i < 3; i++)
		grpc_request(&out, 1 + 2 * i, "/pkg.Svc/Get");
	for (uint32_t i = 0; i < 3; i++)
		grpc_message(&out, 1 + 2 * i, 3, true);
	send_h2(f, SONDE_DIR_EGRESS, 10, out.b, out.n);
	settings(&in);
	for (uint32_t i = 0; i < 3; i++) {
		response_headers(&in, 1 + 2 * i, true, false);
		trailers(&in, 1 + 2 * i, codes[i]);
	}
	send_h2(f, SONDE_DIR_INGRESS, 20, in.b, in.n);
	assert_int_equal(f->out.n, 3);
	for (int i = 0; i < 3; i++) {
		struct span s = f->out.spans[i];

		assert_int_equal(s.kind, SPAN_CLIENT);
		assert_int_equal(s.grpc_status, atoi(codes[i]));
		/* A client errs on any code but OK... */
		assert_int_equal(span_is_error(&s), i < 2);
		/* ...a server only on the codes that say it failed. */
		s.kind = SPAN_SERVER;
		assert_int_equal(span_is_error(&s), i == 1);
	}
	span_error_type(&f->out.spans[1], err, sizeof(err));
	assert_string_equal(err, "INTERNAL");
}

/* Hundreds of streams interleaved on one connection: one span each, with its
 * own path, status and sizes. */
static void test_many_multiplexed_streams(void **state)
{
	struct fixture *f = *state;
	static struct buf in, out;
	enum { N = 300 };
	char path[64];
	int seen[N] = { 0 };

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP2);
	in.n = out.n = 0;
	put(&in, PREFACE, 24);
	settings(&in);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/pkg.Svc/M%d", i);
		grpc_request(&in, 1 + 2 * i, path);
	}
	for (int i = N - 1; i >= 0; i--)
		grpc_message(&in, 1 + 2 * i, (size_t)i % 50, true);
	/* Captured in pieces as the kernel would send a large read. */
	for (size_t off = 0; off < in.n; off += 8192) {
		size_t n = in.n - off < 8192 ? in.n - off : 8192;

		send_h2(f, SONDE_DIR_INGRESS, 100, in.b + off, n);
	}
	settings(&out);
	for (int i = 0; i < N; i++)
		response_headers(&out, 1 + 2 * i, true, false);
	for (int i = 0; i < N; i += 2)
		trailers(&out, 1 + 2 * i, "0");
	for (int i = 1; i < N; i += 2)
		trailers(&out, 1 + 2 * i, "14");
	send_h2(f, SONDE_DIR_EGRESS, 200, out.b, out.n);

	assert_int_equal(f->out.n, N);
	for (int k = 0; k < N; k++) {
		const struct span *s = &f->out.spans[k];
		int i = ((int)s->stream_id - 1) / 2;

		snprintf(path, sizeof(path), "/pkg.Svc/M%d", i);
		assert_string_equal(s->target, path);
		assert_int_equal(s->grpc_status, i % 2 ? 14 : 0);
		assert_int_equal(s->request_body_bytes, (size_t)i % 50 + 5);
		assert_false(s->flags & SPAN_F_HEAD_TRUNCATED);
		seen[i]++;
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(f->ig.protocols.http2.stats.streams_dropped, 0);
}

/* Plain HTTP/2: the span has the HTTP attributes with version 2. */
static void test_plain_http2_client(void **state)
{
	struct fixture *f = *state;
	struct buf in = { 0 }, out = { 0 }, blk = { 0 };
	const struct span *s;

	open_conn(f, SONDE_ROLE_CLIENT, SONDE_PROTO_HTTP2);
	put(&out, PREFACE, 24);
	settings(&out);
	hp_indexed(&blk, 2); /* GET */
	hp_indexed(&blk, 6);
	hp_literal_name(&blk, 4, "/items/7?x=1");
	hp_literal_name(&blk, 1, "shop.example");
	hp_literal(&blk, false, "user-agent", "test/2");
	frame(&out, 1, 0x5, 1, blk.b, blk.n);
	send_h2(f, SONDE_DIR_EGRESS, 10, out.b, out.n);
	settings(&in);
	blk.n = 0;
	hp_indexed(&blk, 13); /* :status 404 */
	frame(&in, 1, 0x4, 1, blk.b, blk.n);
	frame(&in, 0, 0x1, 1, "not found", 9);
	send_h2(f, SONDE_DIR_INGRESS, 25, in.b, in.n);

	s = only_span(f);
	assert_false(s->flags & SPAN_F_GRPC);
	assert_string_equal(s->method, "GET");
	assert_string_equal(s->target, "/items/7?x=1");
	assert_string_equal(s->user_agent, "test/2");
	assert_int_equal(s->status, 404);
	assert_int_equal(s->response_body_bytes, 9);
	assert_int_equal(s->end_ns - s->start_ns, 15);
	assert_true(span_is_error(s)); /* 4xx on a client */
}

/* A cancelled call (RST_STREAM CANCEL) and a GOAWAY that leaves streams
 * unprocessed. */
static void test_reset_and_goaway(void **state)
{
	struct fixture *f = *state;
	struct buf in = { 0 }, out = { 0 };
	static const uint8_t cancel[4] = { 0, 0, 0, 8 };
	static const uint8_t goaway[8] = { 0, 0, 0, 3, 0, 0, 0, 0 }; /* last stream 3 */
	char err[32];

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP2);
	put(&in, PREFACE, 24);
	settings(&in);
	grpc_request(&in, 1, "/pkg.Svc/Watch");
	grpc_message(&in, 1, 1, true);
	grpc_request(&in, 3, "/pkg.Svc/Slow");
	grpc_request(&in, 5, "/pkg.Svc/Late");
	send_h2(f, SONDE_DIR_INGRESS, 10, in.b, in.n);
	settings(&out);
	response_headers(&out, 1, true, false);
	grpc_message(&out, 1, 4, false);
	send_h2(f, SONDE_DIR_EGRESS, 20, out.b, out.n);
	in.n = 0;
	frame(&in, 3, 0, 1, cancel, 4);
	send_h2(f, SONDE_DIR_INGRESS, 30, in.b, in.n);
	assert_int_equal(f->out.n, 1);
	assert_string_equal(f->out.spans[0].target, "/pkg.Svc/Watch");
	assert_true(f->out.spans[0].flags & SPAN_F_RESET);
	assert_int_equal(f->out.spans[0].grpc_status, 1); /* CANCELLED */
	assert_false(span_is_error(&f->out.spans[0]));	  /* not the server's failure */
	assert_int_equal(f->out.spans[0].end_ns, 30);

	out.n = 0;
	frame(&out, 7, 0, 0, goaway, 8);
	send_h2(f, SONDE_DIR_EGRESS, 40, out.b, out.n);
	assert_int_equal(f->out.n, 2);
	assert_string_equal(f->out.spans[1].target, "/pkg.Svc/Late");
	assert_true(f->out.spans[1].flags & SPAN_F_NO_RESPONSE);
	assert_int_equal(f->out.spans[1].grpc_status, 14); /* UNAVAILABLE: never processed */
	assert_true(span_is_error(&f->out.spans[1]));
	span_error_type(&f->out.spans[1], err, sizeof(err));
	assert_string_equal(err, "UNAVAILABLE");
	/* Stream 3 ends with the connection, unanswered. */
	close_conn(f, 50);
	assert_int_equal(f->out.n, 3);
	assert_string_equal(f->out.spans[2].target, "/pkg.Svc/Slow");
	assert_true(f->out.spans[2].flags & SPAN_F_NO_RESPONSE);
	assert_int_equal(f->out.spans[2].end_ns, 50);
}

/* More streams open than the bound: the oldest are dropped and counted. */
static void test_open_stream_bound(void **state)
{
	struct fixture *f = *state;
	static struct buf in;
	char path[32];

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP2);
	in.n = 0;
	put(&in, PREFACE, 24);
	for (int i = 0; i < H2_MAX_STREAMS + 10; i++) {
		snprintf(path, sizeof(path), "/s/%d", i);
		grpc_request(&in, 1 + 2 * (uint32_t)i, path);
	}
	for (size_t off = 0; off < in.n; off += 8192)
		send_h2(f, SONDE_DIR_INGRESS, 10, in.b + off,
			in.n - off < 8192 ? in.n - off : 8192);
	assert_int_equal(f->ig.protocols.http2.stats.streams_dropped, 10);
	close_conn(f, 20);
	assert_int_equal(f->out.n, H2_MAX_STREAMS);
	assert_string_equal(f->out.spans[0].target, "/s/10");
}

/* A connection sonde sees from the middle: no preface, and header blocks that
 * use table entries made before it started. Spans still come, with what the
 * static table and literals give; the path from an unknown entry is left
 * empty, not guessed. */
static void test_connection_seen_midway(void **state)
{
	struct fixture *f = *state;
	struct buf in = { 0 }, out = { 0 }, blk = { 0 };
	const struct span *s;

	open_conn(f, SONDE_ROLE_UNKNOWN, SONDE_PROTO_HTTP2);
	hp_indexed(&blk, 3);  /* POST */
	hp_indexed(&blk, 64); /* :path, inserted before sonde started */
	hp_indexed(&blk, 63); /* content-type */
	frame(&in, 1, 0x4, 41, blk.b, blk.n);
	frame(&in, 0, 0x1, 41, "12345", 5);
	send_h2(f, SONDE_DIR_INGRESS, 10, in.b, in.n);
	blk.n = 0;
	hp_indexed(&blk, 8);  /* :status 200 */
	hp_indexed(&blk, 70); /* unknown */
	frame(&out, 1, 0x5, 41, blk.b, blk.n);
	send_h2(f, SONDE_DIR_EGRESS, 20, out.b, out.n);

	s = only_span(f);
	assert_int_equal(s->kind, SPAN_SERVER); /* :method was read: a server */
	assert_string_equal(s->method, "POST");
	assert_string_equal(s->target, "");
	assert_int_equal(s->status, 200);
	assert_int_equal(s->stream_id, 41);
	assert_int_equal(s->request_body_bytes, 5);
	assert_true(s->flags & SPAN_F_HEAD_TRUNCATED);
	assert_int_equal(f->ig.protocols.http2.stats.conns_degraded, 1);
	assert_true(f->ig.protocols.http2.stats.fields_unknown >= 3);
}

/* Events lost in the ring buffer: the position jump tells the parser how much
 * it missed; the header block inside is lost, and the entries it added are
 * unknown rather than confused with others. */
static void test_lost_event_desyncs_then_spans_continue(void **state)
{
	struct fixture *f = *state;
	struct buf in = { 0 }, out = { 0 }, blk = { 0 };
	size_t lost;

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP2);
	put(&in, PREFACE, 24);
	settings(&in);
	send_h2(f, SONDE_DIR_INGRESS, 10, in.b, in.n);
	settings(&out);
	send_h2(f, SONDE_DIR_EGRESS, 11, out.b, out.n);

	/* Stream 1's request inserts /a into the table; its event is lost. */
	in.n = 0;
	grpc_request(&in, 1, "/pkg.Svc/A");
	lost = in.n;
	f->lose_next = true;
	send_h2(f, SONDE_DIR_INGRESS, 20, in.b, in.n);
	/* Stream 3 refers to it by index (62 + 2 = path of stream 1's block). */
	in.n = 0;
	blk.n = 0;
	hp_indexed(&blk, 3);
	hp_indexed(&blk, 64);
	hp_indexed(&blk, 62);
	frame(&in, 1, 0x5, 3, blk.b, blk.n);
	send_h2(f, SONDE_DIR_INGRESS, 30, in.b, in.n);
	out.n = 0;
	response_headers(&out, 3, false, true);
	send_h2(f, SONDE_DIR_EGRESS, 40, out.b, out.n);

	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].stream_id, 3);
	assert_string_equal(f->out.spans[0].method, "POST");
	assert_string_equal(f->out.spans[0].target, ""); /* not a wrong path */
	assert_true(f->out.spans[0].flags & SPAN_F_HEAD_TRUNCATED);
	assert_int_equal(f->out.spans[0].status, 200);
	assert_int_equal(f->ig.protocols.http2.stats.bytes_unseen, lost);
	assert_int_equal(f->ig.protocols.http2.stats.frame_sync_lost, 1);
	assert_int_equal(f->ig.protocols.http2.stats.hpack_desyncs, 1);
	assert_int_equal(f->ig.protocols.http2.stats.conns_degraded, 1);
}

/* Large DATA the kernel did not copy costs nothing. */
static void test_uncaptured_data_is_counted(void **state)
{
	struct fixture *f = *state;
	struct buf in = { 0 }, out = { 0 };
	static uint8_t frame_head[9] = { 0x01, 0x00, 0x00, 0, 0x1, 0, 0, 0, 1 }; /* 65536 */

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP2);
	put(&in, PREFACE, 24);
	grpc_request(&in, 1, "/pkg.Svc/Upload");
	send_h2(f, SONDE_DIR_INGRESS, 10, in.b, in.n);
	data(f, SONDE_DIR_INGRESS, 11, frame_head, 9, 9 + 65536, SONDE_PROTO_HTTP2);
	settings(&out);
	response_headers(&out, 1, true, false);
	trailers(&out, 1, "0");
	send_h2(f, SONDE_DIR_EGRESS, 20, out.b, out.n);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].request_body_bytes, 65536);
	assert_false(f->out.spans[0].flags & SPAN_F_HEAD_TRUNCATED);
	assert_int_equal(f->ig.protocols.http2.stats.conns_degraded, 0);
}

/* h2c by upgrade: the HTTP/1.1 request that asks for it is stream 1, and its
 * response comes over HTTP/2; no 101 span. */
static void test_h2c_upgrade(void **state)
{
	struct fixture *f = *state;
	const char *req =
		"GET /up HTTP/1.1\r\nHost: h:8080\r\nConnection: Upgrade, HTTP2-Settings\r\n"
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
	const char *resp = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
			   "Upgrade: h2c\r\n\r\n";
	struct buf out = { 0 }, in = { 0 }, blk = { 0 };
	const struct span *s;

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP1);
	data(f, SONDE_DIR_INGRESS, 10, (const uint8_t *)req, strlen(req), strlen(req),
	     SONDE_PROTO_HTTP1);
	/* The 101 and the server's first frames in one write. */
	put(&out, resp, strlen(resp));
	settings(&out);
	data(f, SONDE_DIR_EGRESS, 20, out.b, out.n, out.n, SONDE_PROTO_HTTP1);
	assert_int_equal(f->out.n, 0);
	put(&in, PREFACE, 24);
	settings(&in);
	send_h2(f, SONDE_DIR_INGRESS, 30, in.b, in.n);
	out.n = 0;
	hp_indexed(&blk, 8);
	frame(&out, 1, 0x4, 1, blk.b, blk.n);
	frame(&out, 0, 0x1, 1, "hi", 2);
	send_h2(f, SONDE_DIR_EGRESS, 40, out.b, out.n);

	s = only_span(f);
	assert_string_equal(s->method, "GET");
	assert_string_equal(s->target, "/up");
	assert_string_equal(s->host, "h:8080");
	assert_int_equal(s->status, 200);
	assert_int_equal(s->version_major, 2);
	assert_int_equal(s->stream_id, 1);
	assert_int_equal(s->response_body_bytes, 2);
	assert_int_equal(s->start_ns, 10);
	assert_int_equal(s->end_ns, 40);
	assert_int_equal(f->ig.protocols.http1.stats.spans, 0);
}

/* A WebSocket upgrade stays what it was: a 101 span. */
static void test_websocket_upgrade_is_not_http2(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\n\r\n";
	const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

	open_conn(f, SONDE_ROLE_SERVER, SONDE_PROTO_HTTP1);
	data(f, SONDE_DIR_INGRESS, 10, (const uint8_t *)req, strlen(req), strlen(req),
	     SONDE_PROTO_HTTP1);
	data(f, SONDE_DIR_EGRESS, 20, (const uint8_t *)resp, strlen(resp), strlen(resp),
	     SONDE_PROTO_HTTP1);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].status, 101);
	assert_int_equal(f->out.spans[0].version_major, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grpc_unary_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grpc_status_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_multiplexed_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_http2_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_goaway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_stream_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_seen_midway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_event_desyncs_then_spans_continue, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uncaptured_data_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_h2c_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_websocket_upgrade_is_not_http2, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
