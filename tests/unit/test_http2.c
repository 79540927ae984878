/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/2 frame parser on its own: a conversation with every frame type,
 * padding, priority and CONTINUATION gives the same callbacks whole, split at
 * every byte boundary and one byte at a time; bytes the capture missed cost
 * only what they cover; a parser that lost frame boundaries (or started mid
 * connection) finds them again at a syscall that starts a frame.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/http2.h"
#include "../h2_wire.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct log {
	char text[8192];
	size_t len;
	int lost, resynced;
};

static void logf_(struct log *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	l->len += (size_t)vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	if (l->len >= sizeof(l->text))
		l->len = sizeof(l->text) - 1;
}

static void on_block(void *ctx, const struct h2_block *b)
{
	struct log *l = ctx;

	if (b->lost)
		logf_(l, "block s=%u es=%d LOST|", b->stream, b->end_stream);
	else
		logf_(l, "block s=%u p=%u es=%d '%.*s' ts=%llu-%llu|", b->stream, b->promised,
		      b->end_stream, (int)b->len, (const char *)b->block,
		      (unsigned long long)b->begin_ts, (unsigned long long)b->end_ts);
}

static void on_data(void *ctx, uint32_t stream, uint64_t bytes, bool end_stream, uint64_t ts)
{
	logf_(ctx, "data s=%u n=%llu es=%d ts=%llu|", stream, (unsigned long long)bytes, end_stream,
	      (unsigned long long)ts);
}

static void on_rst(void *ctx, uint32_t stream, uint32_t code, uint64_t ts)
{
	(void)ts;
	logf_(ctx, "rst s=%u code=%u|", stream, code);
}

static void on_goaway(void *ctx, uint32_t last, uint32_t code, uint64_t ts)
{
	(void)ts;
	logf_(ctx, "goaway last=%u code=%u|", last, code);
}

static void on_setting(void *ctx, uint16_t id, uint32_t value)
{
	logf_(ctx, "set %u=%u|", id, value);
}

static void on_sync(void *ctx, bool resync)
{
	struct log *l = ctx;

	if (resync)
		l->resynced++;
	else
		l->lost++;
	logf_(l, "%s|", resync ? "RESYNC" : "LOST");
}

static const struct h2_callbacks cbs = {
	.on_block = on_block,
	.on_data = on_data,
	.on_rst_stream = on_rst,
	.on_goaway = on_goaway,
	.on_setting = on_setting,
	.on_sync = on_sync,
};

/* Appends one frame to buf at *n. */
static void frame(uint8_t *buf, size_t *n, uint8_t type, uint8_t flags, uint32_t stream,
		  const void *payload, size_t len)
{
	uint8_t *b = buf + *n;

	h2_wire_header(b, len, type, flags, stream);
	if (len)
		memcpy(b + 9, payload, len);
	*n += 9 + len;
}

/* A client→server direction: every frame type, padding and priority fields,
 * a block in three frames. */
static size_t conversation(uint8_t *buf)
{
	size_t n = 0;
	/* SETTINGS: HEADER_TABLE_SIZE=256, MAX_FRAME_SIZE=32768 */
	static const uint8_t settings[] = { 0, 1, 0, 0, 1, 0, 0, 5, 0, 0, 0x80, 0 };
	/* PADDED|PRIORITY: pad length 3, dependency 0 + weight, fragment, padding */
	static const uint8_t prio_hdrs[] = { 3, 0, 0, 0, 0, 16, 'a', 'b', 'c', 0, 0, 0 };
	/* PADDED DATA: pad length 2, 5 bytes, 2 padding bytes */
	static const uint8_t padded_data[] = { 2, 'h', 'e', 'l', 'l', 'o', 0, 0 };
	static const uint8_t rst[] = { 0, 0, 0, 8 };
	static const uint8_t goaway[] = { 0, 0, 0, 5, 0, 0, 0, 0, 'd', 'b', 'g' };
	static const uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t window[] = { 0, 0, 0x10, 0 };
	static const uint8_t promise[] = { 1, 0, 0, 0, 2, 'p', 'p', 0 };

	memcpy(buf, PREFACE, 24);
	n = 24;
	frame(buf, &n, H2_SETTINGS, 0, 0, settings, sizeof(settings));
	frame(buf, &n, H2_HEADERS, H2_F_END_HEADERS | H2_F_PADDED | H2_F_PRIORITY, 1, prio_hdrs,
	      sizeof(prio_hdrs));
	frame(buf, &n, H2_DATA, H2_F_PADDED | H2_F_END_STREAM, 1, padded_data, sizeof(padded_data));
	frame(buf, &n, H2_HEADERS, H2_F_END_STREAM, 3, "one,", 4);
	frame(buf, &n, H2_CONTINUATION, 0, 3, "two,", 4);
	frame(buf, &n, H2_CONTINUATION, H2_F_END_HEADERS, 3, "three", 5);
	frame(buf, &n, H2_WINDOW_UPDATE, 0, 0, window, sizeof(window));
	frame(buf, &n, H2_PING, 0, 0, ping, sizeof(ping));
	frame(buf, &n, H2_SETTINGS, 1, 0, NULL, 0); /* ACK */
	frame(buf, &n, H2_PUSH_PROMISE, H2_F_END_HEADERS | H2_F_PADDED, 1, promise,
	      sizeof(promise));
	frame(buf, &n, H2_DATA, H2_F_END_STREAM, 5, NULL, 0);
	frame(buf, &n, 0xfa, 0, 0, "unknown type", 12); /* §5.5: ignored */
	frame(buf, &n, H2_RST_STREAM, 0, 3, rst, sizeof(rst));
	frame(buf, &n, H2_GOAWAY, 0, 0, goaway, sizeof(goaway));
	return n;
}

static const char *const want_all = "set 1=256|set 5=32768|"
				    "block s=1 p=0 es=0 'abc' ts=1-1|"
				    "data s=1 n=5 es=1 ts=1|"
				    "block s=3 p=0 es=1 'one,two,three' ts=1-1|"
				    "block s=1 p=2 es=0 'pp' ts=1-1|"
				    "data s=5 n=0 es=1 ts=1|"
				    "rst s=3 code=8|"
				    "goaway last=5 code=0|";

static void feed(struct h2_parser *p, const uint8_t *d, size_t n, uint64_t ts, struct log *l)
{
	h2_parser_feed(p, d, n, n, ts, &cbs, l);
}

static void test_whole_conversation(void **state)
{
	uint8_t buf[1024];
	size_t n = conversation(buf);
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	h2_parser_init(&p, true);
	feed(&p, buf, n, 1, &l);
	assert_string_equal(l.text, want_all);
	assert_true(p.saw_preface);
	assert_int_equal(p.frames, 14);
	h2_parser_free(&p);
}

/* Split at every boundary: same frames; timestamps say which feed ended what. */
static void test_split_at_every_byte(void **state)
{
	uint8_t buf[1024];
	size_t n = conversation(buf);

	(void)state;
	for (size_t cut = 1; cut < n; cut++) {
		struct h2_parser p;
		struct log l = { 0 };
		char *a, *b;

		h2_parser_init(&p, true);
		feed(&p, buf, cut, 1, &l);
		feed(&p, buf + cut, n - cut, 1, &l);
		a = l.text;
		b = (char *)want_all;
		if (strcmp(a, b))
			fail_msg("split at %zu: %s", cut, a);
		h2_parser_free(&p);
	}
	{
		struct h2_parser p;
		struct log l = { 0 };

		h2_parser_init(&p, true);
		for (size_t i = 0; i < n; i++)
			feed(&p, buf + i, 1, 1, &l);
		assert_string_equal(l.text, want_all);
		h2_parser_free(&p);
	}
}

/* A header block's timestamps: from the feed that carried the HEADERS frame's
 * first byte to the one that completed the block. */
static void test_block_timestamps(void **state)
{
	uint8_t buf[256];
	size_t n = 0;
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	frame(buf, &n, H2_HEADERS, 0, 1, "ab", 2);
	frame(buf, &n, H2_CONTINUATION, H2_F_END_HEADERS, 1, "cd", 2);
	h2_parser_init(&p, true);
	feed(&p, buf, 3, 10, &l);
	feed(&p, buf + 3, 12, 20, &l);
	feed(&p, buf + 15, n - 15, 30, &l);
	assert_string_equal(l.text, "block s=1 p=0 es=0 'abcd' ts=10-30|");
	h2_parser_free(&p);
}

/* Unseen bytes inside DATA only count: frames after them are parsed. */
static void test_gap_inside_data(void **state)
{
	uint8_t buf[70000];
	size_t n = 0, head;
	struct h2_parser p;
	struct log l = { 0 };
	static uint8_t big[60000];

	(void)state;
	frame(buf, &n, H2_DATA, 0, 1, big, sizeof(big));
	head = n - sizeof(big);
	frame(buf, &n, H2_HEADERS, H2_F_END_HEADERS | H2_F_END_STREAM, 1, "trailer", 7);
	h2_parser_init(&p, true);
	/* The syscall wrote it all; 100 bytes were captured. */
	h2_parser_feed(&p, buf, 100, head + sizeof(big), 1, &cbs, &l);
	feed(&p, buf + head + sizeof(big), n - head - sizeof(big), 2, &l);
	assert_string_equal(l.text,
			    "data s=1 n=60000 es=0 ts=1|block s=1 p=0 es=1 'trailer' ts=2-2|");
	assert_int_equal(l.lost, 0);
	h2_parser_free(&p);
}

/* Unseen bytes inside a header block cost that block, nothing else. */
static void test_gap_inside_headers(void **state)
{
	uint8_t buf[256];
	size_t n = 0;
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	frame(buf, &n, H2_HEADERS, H2_F_END_HEADERS, 1, "0123456789", 10);
	frame(buf, &n, H2_DATA, H2_F_END_STREAM, 1, "x", 1);
	h2_parser_init(&p, true);
	h2_parser_feed(&p, buf, 12, 19, 1, &cbs, &l);
	feed(&p, buf + 19, n - 19, 2, &l);
	assert_string_equal(l.text, "block s=1 es=0 LOST|data s=1 n=1 es=1 ts=2|");
	h2_parser_free(&p);
}

/* Unseen bytes past a frame's end: boundaries are lost until a feed starts
 * with a plausible frame; a feed that does not is skipped. */
static void test_gap_across_frames_then_resync(void **state)
{
	uint8_t buf[256], next[64];
	size_t n = 0, m = 0;
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	frame(buf, &n, H2_DATA, 0, 1, "abcdef", 6);
	frame(buf, &n, H2_HEADERS, H2_F_END_HEADERS, 3, "hdr", 3);
	h2_parser_init(&p, true);
	h2_parser_feed(&p, buf, 12, n, 1, &cbs, &l); /* the HEADERS frame unseen */
	assert_string_equal(l.text, "data s=1 n=6 es=0 ts=1|LOST|");
	/* Mid-frame bytes: not a frame header. */
	feed(&p, (const uint8_t *)"\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a", 10, 2, &l);
	assert_int_equal(l.resynced, 0);
	frame(next, &m, H2_HEADERS, H2_F_END_HEADERS | H2_F_END_STREAM, 5, "ok", 2);
	feed(&p, next, m, 3, &l);
	assert_string_equal(l.text,
			    "data s=1 n=6 es=0 ts=1|LOST|RESYNC|block s=5 p=0 es=1 'ok' ts=3-3|");
	h2_parser_free(&p);
}

/* A connection already under way: the parser waits for a frame boundary. */
static void test_late_start(void **state)
{
	uint8_t buf[256];
	size_t n = 0;
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	frame(buf, &n, H2_DATA, H2_F_END_STREAM, 7, "tail", 4);
	h2_parser_init(&p, false);
	feed(&p, buf + 5, n - 5, 1, &l); /* starts mid-header */
	assert_string_equal(l.text, "");
	feed(&p, buf, n, 2, &l);
	assert_string_equal(l.text, "RESYNC|data s=7 n=4 es=1 ts=2|");
	assert_false(p.saw_preface);
	h2_parser_free(&p);
}

/* Bytes that are not HTTP/2 at a direction's start. */
static void test_not_http2(void **state)
{
	const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	h2_parser_init(&p, true);
	feed(&p, (const uint8_t *)req, strlen(req), 1, &l);
	assert_string_equal(l.text, "LOST|");
	h2_parser_free(&p);

	/* A preface that goes wrong half way. */
	h2_parser_init(&p, true);
	memset(&l, 0, sizeof(l));
	feed(&p, (const uint8_t *)"PRI * HTTP/1.1\r\n", 16, 1, &l);
	assert_string_equal(l.text, "LOST|");
	h2_parser_free(&p);
}

/* Protocol errors that cost a header block: padding longer than the frame, a
 * block interrupted by another frame. */
static void test_broken_blocks(void **state)
{
	uint8_t buf[256];
	size_t n = 0;
	struct h2_parser p;
	struct log l = { 0 };
	static const uint8_t bad_pad[] = { 9, 'a', 'b' };

	(void)state;
	frame(buf, &n, H2_HEADERS, H2_F_END_HEADERS | H2_F_PADDED, 1, bad_pad, sizeof(bad_pad));
	frame(buf, &n, H2_HEADERS, 0, 3, "x", 1);
	frame(buf, &n, H2_DATA, 0, 3, "y", 1);
	frame(buf, &n, H2_CONTINUATION, H2_F_END_HEADERS, 3, "z", 1);
	h2_parser_init(&p, true);
	feed(&p, buf, n, 1, &l);
	assert_string_equal(l.text, "block s=1 es=0 LOST|block s=3 es=0 LOST|data s=3 n=1 es=0 "
				    "ts=1|");
	h2_parser_free(&p);
}

/* Found by fuzz_http2 (UBSan): a HEADERS frame with no payload ends an empty
 * block, which is delivered (empty) rather than touched. */
static void test_empty_block(void **state)
{
	uint8_t buf[64];
	size_t n = 0;
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	frame(buf, &n, H2_HEADERS, H2_F_END_HEADERS, 1, NULL, 0);
	frame(buf, &n, H2_HEADERS, 0, 3, NULL, 0);
	frame(buf, &n, H2_CONTINUATION, H2_F_END_HEADERS, 3, NULL, 0);
	h2_parser_init(&p, true);
	feed(&p, buf, n, 1, &l);
	assert_string_equal(l.text, "block s=1 p=0 es=0 '' ts=1-1|block s=3 p=0 es=0 '' ts=1-1|");
	h2_parser_free(&p);
}

/* The server's side starts with its SETTINGS, the client's with the preface. */
static void test_direction_start(void **state)
{
	uint8_t buf[64];
	size_t n = 0;
	struct h2_parser p;
	struct log l = { 0 };

	(void)state;
	frame(buf, &n, H2_SETTINGS, 0, 0, NULL, 0);
	h2_parser_init(&p, true);
	feed(&p, buf, n, 1, &l);
	assert_true(p.first_settings);
	assert_false(p.saw_preface);
	h2_parser_free(&p);
}

static void test_plausible_headers(void **state)
{
	uint8_t b[9] = { 0, 0, 4, H2_WINDOW_UPDATE, 0, 0, 0, 0, 0 };

	(void)state;
	assert_true(h2_frame_plausible(b, 16384));
	b[2] = 5; /* WINDOW_UPDATE is 4 bytes */
	assert_false(h2_frame_plausible(b, 16384));
	b[2] = 0;
	b[3] = H2_SETTINGS;
	b[4] = 1;
	assert_true(h2_frame_plausible(b, 16384)); /* SETTINGS ACK */
	b[8] = 1;
	assert_false(h2_frame_plausible(b, 16384)); /* on a stream */
	b[3] = H2_DATA;
	b[4] = 0;
	b[1] = 0x40;
	b[2] = 1;
	assert_false(h2_frame_plausible(b, 16384)); /* 16385 > max */
	assert_true(h2_frame_plausible(b, 1 << 20));
	b[5] = 0x80;
	assert_false(h2_frame_plausible(b, 1 << 20)); /* reserved bit */
	b[5] = 0;
	b[3] = 0x10;
	assert_false(h2_frame_plausible(b, 1 << 20)); /* unknown type */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_conversation),
		cmocka_unit_test(test_split_at_every_byte),
		cmocka_unit_test(test_block_timestamps),
		cmocka_unit_test(test_gap_inside_data),
		cmocka_unit_test(test_gap_inside_headers),
		cmocka_unit_test(test_gap_across_frames_then_resync),
		cmocka_unit_test(test_late_start),
		cmocka_unit_test(test_not_http2),
		cmocka_unit_test(test_broken_blocks),
		cmocka_unit_test(test_empty_block),
		cmocka_unit_test(test_direction_start),
		cmocka_unit_test(test_plausible_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
