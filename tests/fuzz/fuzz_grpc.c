/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for gRPC as sonde reads it (protocols/http2/grpc.c): a call
 * over HTTP/2 whose header values come from the input (path, content types,
 * :status, grpc-status, the messages, the reset code), ended by trailers, a
 * trailers-only response, RST_STREAM or GOAWAY, seen from the server's or the
 * client's side. Checks what a user would see on the span: one span per call,
 * a grpc-status the trailers gave is the span's, statuses stay in 0..16, the
 * rpc.service and rpc.method parts lie inside the path. The grpc_* functions
 * are also called on the raw values.
 *
 * Input: an options byte (see enum), then length-prefixed strings: path,
 * request content-type, :status, response content-type, grpc-status,
 * grpc-message, message bytes; then the reset code (4 bytes).
 * Run: make fuzz FUZZERS_ONLY=grpc (tests/fuzz/run.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "sonde_event.h"
#include "protocols/http2/grpc.h"
#include "protocols/http2/http2.h"
#include "protocols/http2/http2_spans.h"
#include "../h2_wire.h"

enum {
	OPT_CLIENT = 1 << 0,	    /* seen from the client (else the server) */
	OPT_TRAILERS_ONLY = 1 << 1, /* status and grpc-status in one block */
	OPT_RESET = 1 << 2,	    /* RST_STREAM instead of trailers */
	OPT_GOAWAY = 1 << 3,	    /* GOAWAY (stream unprocessed) instead of trailers */
	OPT_NO_MESSAGE = 1 << 4,    /* request headers end the stream */
	OPT_SPLIT = 1 << 5,	    /* every frame in a syscall of its own */
};

struct out {
	uint8_t buf[4096];
	size_t len;
};

/* RFC 7541 §5.1 integer with an n-bit prefix, first byte's other bits in top. */
static void put_int(struct out *o, uint8_t top, unsigned n, size_t v)
{
	size_t max = (1u << n) - 1;

	if (v < max) {
		o->buf[o->len++] = (uint8_t)(top | v);
		return;
	}
	o->buf[o->len++] = (uint8_t)(top | max);
	for (v -= max; v >= 128; v >>= 7)
		o->buf[o->len++] = (uint8_t)(v % 128 + 128);
	o->buf[o->len++] = (uint8_t)v;
}

/* §6.2.2: a literal field without indexing, new name, no Huffman. */
static void put_field(struct out *o, const char *name, const char *value, size_t value_len)
{
	size_t n = strlen(name);

	o->buf[o->len++] = 0;
	put_int(o, 0, 7, n);
	memcpy(o->buf + o->len, name, n);
	o->len += n;
	put_int(o, 0, 7, value_len);
	memcpy(o->buf + o->len, value, value_len);
	o->len += value_len;
}

/* A frame header for len bytes that the caller then appends. */
static void put_frame(struct out *o, size_t len, uint8_t type, uint8_t flags, uint32_t stream)
{
	uint8_t h[H2_WIRE_HEADER_LEN];

	h2_wire_header(h, len, type, flags, stream);
	memcpy(o->buf + o->len, h, sizeof(h));
	o->len += sizeof(h);
}

static void put_block(struct out *o, const struct out *block, uint8_t flags)
{
	put_frame(o, block->len, H2_HEADERS, H2_F_END_HEADERS | flags, 1);
	memcpy(o->buf + o->len, block->buf, block->len);
	o->len += block->len;
}

/* A gRPC message: compressed flag, 4-byte length, bytes (PROTOCOL-HTTP2.md). */
static void put_message(struct out *o, const char *msg, size_t len, uint8_t flags)
{
	put_frame(o, len + 5, H2_DATA, flags, 1);
	o->buf[o->len++] = 0;
	for (int i = 3; i >= 0; i--)
		o->buf[o->len++] = (uint8_t)(len >> (8 * i));
	memcpy(o->buf + o->len, msg, len);
	o->len += len;
}

struct call {
	char path[256], req_type[256], status[256], resp_type[256], grpc_status[256], message[256],
		body[256];
	size_t path_len, req_type_len, status_len, resp_type_len, grpc_status_len, message_len,
		body_len;
	uint32_t reset_code;
	uint8_t opts;
};

struct seen {
	int spans;
	struct span last;
};

static void sink_span(void *ctx, struct span *sp)
{
	struct seen *seen = ctx;
	const char *service, *method;
	size_t service_len, method_len;

	seen->spans++;
	seen->last = *sp;
	fuzz_check_span(sp);
	FUZZ_CHECK(!(sp->flags & SPAN_F_GRPC_STATUS) || sp->grpc_status <= GRPC_STATUS_MAX);
	if (span_rpc_parts(sp, &service, &service_len, &method, &method_len)) {
		size_t len = strlen(sp->target);

		FUZZ_CHECK(service_len && method_len);
		FUZZ_CHECK(service > sp->target && method + method_len == sp->target + len);
		FUZZ_CHECK(!memchr(service, '/', service_len) && !memchr(method, '/', method_len));
	}
	(void)span_is_error(sp);
}

/* The grpc_* functions on the raw values. */
static void check_functions(const struct call *c)
{
	const char *service, *method;
	size_t service_len, method_len;
	int code = grpc_parse_status(c->grpc_status, c->grpc_status_len);

	FUZZ_CHECK(code >= -1 && code <= GRPC_STATUS_MAX);
	FUZZ_CHECK(grpc_status_name(code) != NULL);
	FUZZ_CHECK(grpc_status_from_h2_error(c->reset_code) <= GRPC_STATUS_MAX);
	FUZZ_CHECK(grpc_status_from_http((unsigned)c->reset_code) <= GRPC_STATUS_MAX);
	(void)grpc_is_content_type(c->req_type, c->req_type_len);
	if (grpc_split_path(c->path, c->path_len, &service, &service_len, &method, &method_len)) {
		FUZZ_CHECK(service == c->path + 1 && service_len && method_len);
		FUZZ_CHECK(service + service_len + 1 == method);
		FUZZ_CHECK(method + method_len == c->path + c->path_len);
	}
}

static void feed(struct http2_session *s, bool ingress, const struct out *o, bool split,
		 uint64_t *ts, struct seen *seen)
{
	struct http2_stats stats = { 0 };
	struct span_sink out = { .emit = sink_span, .ctx = seen };
	struct http2_sink sink = { .out = &out, .stats = &stats };
	size_t pos = 0;

	while (pos < o->len) {
		size_t n = o->len - pos;

		/* A frame at a time: the 9-byte header says how long it is. */
		if (split && pos >= 24 && n >= 9)
			n = 9 +
			    ((size_t)o->buf[pos] << 16 | o->buf[pos + 1] << 8 | o->buf[pos + 2]);
		else if (split && pos < 24 && !memcmp(o->buf, "PRI ", 4))
			n = 24;
		if (n > o->len - pos)
			n = o->len - pos;
		http2_session_feed(s, ingress, o->buf + pos, n, n, (*ts)++, &sink);
		pos += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct http2_stats stats = { 0 };
	struct seen seen = { 0 };
	struct span_sink out = { .emit = sink_span, .ctx = &seen };
	struct http2_sink sink = { .out = &out, .stats = &stats };
	struct out req = { 0 }, resp = { 0 }, block = { 0 };
	struct http2_session s;
	struct call c;
	bool client, trailers;
	uint64_t ts = 1;
	int expect;

	c.opts = fuzz_byte(&in);
	c.path_len = fuzz_str(&in, c.path, sizeof(c.path));
	c.req_type_len = fuzz_str(&in, c.req_type, sizeof(c.req_type));
	c.status_len = fuzz_str(&in, c.status, sizeof(c.status));
	c.resp_type_len = fuzz_str(&in, c.resp_type, sizeof(c.resp_type));
	c.grpc_status_len = fuzz_str(&in, c.grpc_status, sizeof(c.grpc_status));
	c.message_len = fuzz_str(&in, c.message, sizeof(c.message));
	c.body_len = fuzz_str(&in, c.body, sizeof(c.body));
	c.reset_code = fuzz_u32(&in);
	check_functions(&c);
	client = c.opts & OPT_CLIENT;
	trailers = !(c.opts & (OPT_RESET | OPT_GOAWAY));

	/* The client's side: preface, SETTINGS, the call's headers and message. */
	memcpy(req.buf, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	req.len = 24;
	put_frame(&req, 0, H2_SETTINGS, 0, 0);
	put_field(&block, ":method", "POST", 4);
	put_field(&block, ":scheme", "http", 4);
	put_field(&block, ":path", c.path, c.path_len);
	put_field(&block, "content-type", c.req_type, c.req_type_len);
	put_field(&block, "te", "trailers", 8);
	put_block(&req, &block, (c.opts & OPT_NO_MESSAGE) ? H2_F_END_STREAM : 0);
	if (!(c.opts & OPT_NO_MESSAGE))
		put_message(&req, c.body, c.body_len, H2_F_END_STREAM);

	/* The server's side: SETTINGS, then the answer. */
	put_frame(&resp, 0, H2_SETTINGS, 0, 0);
	block.len = 0;
	put_field(&block, ":status", c.status, c.status_len);
	put_field(&block, "content-type", c.resp_type, c.resp_type_len);
	if (trailers && (c.opts & OPT_TRAILERS_ONLY)) {
		put_field(&block, "grpc-status", c.grpc_status, c.grpc_status_len);
		put_block(&resp, &block, H2_F_END_STREAM);
	} else {
		put_block(&resp, &block, 0);
		put_message(&resp, c.body, c.body_len, 0);
		if (trailers) {
			block.len = 0;
			put_field(&block, "grpc-status", c.grpc_status, c.grpc_status_len);
			put_field(&block, "grpc-message", c.message, c.message_len);
			put_block(&resp, &block, H2_F_END_STREAM);
		} else if (c.opts & OPT_RESET) {
			put_frame(&resp, 4, H2_RST_STREAM, 0, 1);
			for (int i = 3; i >= 0; i--)
				resp.buf[resp.len++] = (uint8_t)(c.reset_code >> (8 * i));
		} else {
			/* Last stream 0: stream 1 was never processed. */
			put_frame(&resp, 8, H2_GOAWAY, 0, 0);
			memset(resp.buf + resp.len, 0, 4);
			for (int i = 3; i >= 0; i--)
				resp.buf[resp.len + 4 + 3 - i] = (uint8_t)(c.reset_code >> (8 * i));
			resp.len += 8;
		}
	}

	http2_session_init(&s, client ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER, true);
	/* The request is read by a server and written by a client. */
	feed(&s, !client, &req, c.opts & OPT_SPLIT, &ts, &seen);
	feed(&s, client, &resp, c.opts & OPT_SPLIT, &ts, &seen);
	http2_session_close(&s, ts, &sink);
	http2_session_free(&s);

	FUZZ_CHECK(seen.spans == 1);
	/* A grpc-status the server sent at the end is the call's status. */
	expect = grpc_parse_status(c.grpc_status, c.grpc_status_len);
	if (trailers && expect >= 0) {
		FUZZ_CHECK(seen.last.flags & SPAN_F_GRPC_STATUS);
		FUZZ_CHECK(seen.last.grpc_status == expect);
	}
	return 0;
}
