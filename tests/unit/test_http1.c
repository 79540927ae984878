/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/1 parser on its own: every message of a corpus fed whole, split at
 * every byte boundary and one byte at a time must give the same messages;
 * captures cut short, garbage and oversized heads must give the documented
 * results and never a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http1/http1.h"

/* What the callbacks saw, as text: easy to compare and to read in a failure. */
struct log {
	char text[8192];
	size_t len;
	int heads;
	int ends;
	uint64_t last_begin_ts;
	uint64_t last_end_ts;
	uint32_t last_flags;
	uint64_t last_body;
	bool last_truncated;
	int on_head_return; /* what on_head answers for responses */
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

static int on_head(void *ctx, const struct http1_head *h)
{
	struct log *l = ctx;

	l->heads++;
	l->last_begin_ts = h->begin_ts;
	l->last_truncated = h->truncated;
	if (h->kind == HTTP1_REQUEST)
		logf_(l, "REQ %.*s %.*s 1.%u", (int)h->method.len, h->method.ptr,
		      (int)h->target.len, h->target.ptr, h->version_minor);
	else
		logf_(l, "RESP %u 1.%u", h->status, h->version_minor);
	logf_(l, " host=%.*s ua=%.*s tp=%.*s ct=%.*s cl=%lld%s%s%s%s%s hb=%u|", (int)h->host.len,
	      h->host.ptr, (int)h->user_agent.len, h->user_agent.ptr, (int)h->traceparent.len,
	      h->traceparent.ptr, (int)h->content_type.len, h->content_type.ptr,
	      (long long)h->content_length, h->chunked ? " chunked" : "",
	      h->connection_close ? " close" : "", h->upgrade ? " upgrade" : "",
	      h->expect_continue ? " expect" : "", h->truncated ? " TRUNC" : "", h->head_bytes);
	return h->kind == HTTP1_RESPONSE ? l->on_head_return : 0;
}

static void on_end(void *ctx, const struct http1_end *e)
{
	struct log *l = ctx;

	l->ends++;
	l->last_end_ts = e->end_ts;
	l->last_flags = e->flags;
	l->last_body = e->body_bytes;
	logf_(l, "END body=%llu flags=%u|", (unsigned long long)e->body_bytes, e->flags);
}

static const struct http1_callbacks cbs = { .on_head = on_head, .on_end = on_end };

static int feed(struct http1_parser *p, struct log *l, const char *data, size_t len, uint64_t total,
		uint64_t ts)
{
	return http1_parser_feed(p, (const uint8_t *)data, len, total, ts, &cbs, l);
}

struct sample {
	const char *name;
	enum http1_kind kind;
	const char *bytes;
	int head_return;    /* on_head's answer for responses */
	const char *expect; /* the log */
};

static const struct sample corpus[] = {
	{ "get", HTTP1_REQUEST,
	  "GET /a?b=1 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: t/1\r\n"
	  "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n",
	  0,
	  "REQ GET /a?b=1 1.1 host=shop.example ua=t/1 "
	  "tp=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ct= cl=-1 hb=130|"
	  "END body=0 flags=0|" },
	{ "post with length", HTTP1_REQUEST,
	  "POST /up HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
	  0, "REQ POST /up 1.1 host= ua= tp= ct=text/plain cl=11 hb=67|END body=11 flags=0|" },
	{ "chunked with extensions and trailers", HTTP1_RESPONSE,
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	  "5;name=val\r\nhello\r\n"
	  "A\r\n0123456789\r\n"
	  "0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n",
	  0, "RESP 200 1.1 host= ua= tp= ct= cl=-1 chunked hb=53|END body=67 flags=0|" },
	{ "head response has no body", HTTP1_RESPONSE,
	  "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", HTTP1_HEAD_NO_BODY,
	  "RESP 200 1.1 host= ua= tp= ct= cl=500 hb=40|END body=0 flags=0|" },
	{ "204 and 304", HTTP1_RESPONSE,
	  "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"
	  "HTTP/1.1 304 Not Modified\r\n\r\n",
	  0,
	  "RESP 204 1.1 host= ua= tp= ct= cl=9 hb=46|END body=0 flags=0|"
	  "RESP 304 1.1 host= ua= tp= ct= cl=-1 hb=29|END body=0 flags=0|" },
	{ "100-continue then 200", HTTP1_RESPONSE,
	  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0,
	  "RESP 100 1.1 host= ua= tp= ct= cl=-1 hb=25|END body=0 flags=0|"
	  "RESP 200 1.1 host= ua= tp= ct= cl=2 hb=38|END body=2 flags=0|" },
	{ "101 upgrade then other bytes", HTTP1_RESPONSE,
	  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	  "\x81\x05hello garbage HTTP/1.1 200 OK\r\n\r\n",
	  0, "RESP 101 1.1 host= ua= tp= ct= cl=-1 upgrade hb=77|END body=0 flags=0|" },
	{ "pipelined requests", HTTP1_REQUEST,
	  "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nDELETE /2 HTTP/1.1\r\nHost: h\r\n\r\n"
	  "PUT /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
	  0,
	  "REQ GET /1 1.1 host=h ua= tp= ct= cl=-1 hb=28|END body=0 flags=0|"
	  "REQ DELETE /2 1.1 host=h ua= tp= ct= cl=-1 hb=31|END body=0 flags=0|"
	  "REQ PUT /3 1.1 host=h ua= tp= ct= cl=3 expect hb=69|END body=3 flags=0|" },
	{ "LF line endings", HTTP1_RESPONSE,
	  "HTTP/1.0 404 Not Found\nContent-Length: 3\nConnection: close\n\nnah", 0,
	  "RESP 404 1.0 host= ua= tp= ct= cl=3 close hb=60|END body=3 flags=0|" },
	{ "empty lines before a request", HTTP1_REQUEST, "\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n", 0,
	  "REQ OPTIONS * 1.1 host= ua= tp= ct= cl=-1 hb=22|END body=0 flags=0|" },
	{ "repeated equal content-length", HTTP1_REQUEST,
	  "PATCH /x HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nxy", 0,
	  "REQ PATCH /x 1.1 host= ua= tp= ct= cl=2 hb=59|END body=2 flags=0|" },
	{ "field names in any case; look-alikes ignored", HTTP1_REQUEST,
	  "GET / HTTP/1.1\r\nHOST: a\r\nuSeR-aGeNt: u\r\nTraceParent: t\r\nCONTENT-TYPE: c\r\n"
	  "Hosts: no\r\nX-Host: no\r\nContent-Length2: 9\r\nContent-LENGTH: 1\r\n"
	  "HOS\xd4: no\r\nContent_Length: 7\r\n" /* 'T' | 0x80, '_' for '-' */
	  "Connection: CLOSE\r\nEXPECT: 100-Continue\r\n\r\nx",
	  0, "REQ GET / 1.1 host=a ua=u tp=t ct=c cl=1 close expect hb=207|END body=1 flags=0|" },
	/* More lines than the parser notes while looking for a head's end. */
	{ "forty-odd header lines", HTTP1_REQUEST,
	  "POST /many HTTP/1.1\r\n"
	  "X-Filler-00: 0\r\nX-Filler-01: 1\r\nX-Filler-02: 2\r\nX-Filler-03: 3\r\n"
	  "X-Filler-04: 4\r\nX-Filler-05: 5\r\nX-Filler-06: 6\r\nX-Filler-07: 7\r\n"
	  "X-Filler-08: 8\r\nX-Filler-09: 9\r\nX-Filler-10: 10\r\nX-Filler-11: 11\r\n"
	  "X-Filler-12: 12\r\nX-Filler-13: 13\r\nX-Filler-14: 14\r\nX-Filler-15: 15\r\n"
	  "X-Filler-16: 16\r\nX-Filler-17: 17\r\nX-Filler-18: 18\r\nX-Filler-19: 19\r\n"
	  "X-Filler-20: 20\r\nX-Filler-21: 21\r\nX-Filler-22: 22\r\nX-Filler-23: 23\r\n"
	  "X-Filler-24: 24\r\nX-Filler-25: 25\r\nX-Filler-26: 26\r\nX-Filler-27: 27\r\n"
	  "X-Filler-28: 28\r\nX-Filler-29: 29\r\nX-Filler-30: 30\r\nX-Filler-31: 31\r\n"
	  "X-Filler-32: 32\r\nX-Filler-33: 33\r\nX-Filler-34: 34\r\nX-Filler-35: 35\r\n"
	  "X-Filler-36: 36\r\nX-Filler-37: 37\r\nX-Filler-38: 38\r\nX-Filler-39: 39\r\n"
	  "Host: late\r\nContent-Length: 3\r\n\r\nabc",
	  0, "REQ POST /many 1.1 host=late ua= tp= ct= cl=3 hb=724|END body=3 flags=0|" },
};

static void run_whole(const struct sample *s, struct log *l)
{
	struct http1_parser p;

	memset(l, 0, sizeof(*l));
	l->on_head_return = s->head_return;
	http1_parser_init(&p, s->kind);
	assert_int_equal(feed(&p, l, s->bytes, strlen(s->bytes), strlen(s->bytes), 1), 0);
	http1_parser_free(&p);
}

static void test_corpus_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		struct log l;

		run_whole(&corpus[i], &l);
		if (strcmp(l.text, corpus[i].expect))
			fail_msg("%s:\n got  %s\n want %s", corpus[i].name, l.text,
				 corpus[i].expect);
	}
}

static void test_corpus_split_at_every_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		const struct sample *s = &corpus[i];
		size_t len = strlen(s->bytes);

		for (size_t cut = 1; cut < len; cut++) {
			struct http1_parser p;
			struct log l = { .on_head_return = s->head_return };

			http1_parser_init(&p, s->kind);
			assert_int_equal(feed(&p, &l, s->bytes, cut, cut, 1), 0);
			assert_int_equal(feed(&p, &l, s->bytes + cut, len - cut, len - cut, 2), 0);
			http1_parser_free(&p);
			if (strcmp(l.text, s->expect))
				fail_msg("%s cut at %zu:\n got  %s\n want %s", s->name, cut, l.text,
					 s->expect);
		}
	}
}

static void test_corpus_one_byte_at_a_time(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		const struct sample *s = &corpus[i];
		size_t len = strlen(s->bytes);
		struct http1_parser p;
		struct log l = { .on_head_return = s->head_return };

		http1_parser_init(&p, s->kind);
		for (size_t k = 0; k < len; k++)
			assert_int_equal(feed(&p, &l, s->bytes + k, 1, 1, k + 1), 0);
		http1_parser_free(&p);
		if (strcmp(l.text, s->expect))
			fail_msg("%s byte by byte:\n got  %s\n want %s", s->name, l.text,
				 s->expect);
	}
}

static void test_timestamps(void **state)
{
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	http1_parser_init(&p, HTTP1_RESPONSE);
	feed(&p, &l, "HTTP/1.1 200 OK\r\nConte", 22, 22, 100);
	feed(&p, &l, "nt-Length: 4\r\n\r\nab", 18, 18, 200);
	assert_int_equal(l.heads, 1);
	assert_int_equal(l.last_begin_ts, 100);
	assert_int_equal(l.ends, 0);
	feed(&p, &l, "cd", 2, 2, 300);
	assert_int_equal(l.ends, 1);
	assert_int_equal(l.last_end_ts, 300);
	assert_int_equal(l.last_body, 4);
	http1_parser_free(&p);
}

static void test_capture_gap_in_length_body_is_exact(void **state)
{
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	http1_parser_init(&p, HTTP1_RESPONSE);
	/* the syscall moved the head and 50,000 body bytes; 10 were captured */
	feed(&p, &l, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789",
	     strlen(head) + 10, strlen(head) + 50000, 1);
	assert_int_equal(l.ends, 0);
	feed(&p, &l, "xxxx", 4, 50000, 2);
	assert_int_equal(l.ends, 1);
	assert_int_equal(l.last_body, 100000);
	assert_int_equal(l.last_flags, 0);
	assert_int_equal(l.last_end_ts, 2);
	/* framing is intact: the next response parses normally */
	feed(&p, &l, "HTTP/1.1 204 No Content\r\n\r\n", 27, 27, 3);
	assert_int_equal(l.heads, 2);
	assert_int_equal(l.ends, 2);
	assert_int_equal(l.last_flags, 0);
	http1_parser_free(&p);
}

static void test_capture_gap_in_chunk_and_its_crlf(void **state)
{
	char buf[256];
	struct http1_parser p;
	struct log l = { 0 };
	int n;

	(void)state;
	http1_parser_init(&p, HTTP1_RESPONSE);
	feed(&p, &l, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 47, 47, 1);
	/* one write per chunk: "bb8\r\n" + 3000 bytes + "\r\n", 20 bytes captured */
	n = snprintf(buf, sizeof(buf), "bb8\r\n%015d", 0);
	feed(&p, &l, buf, (size_t)n, 5 + 3000 + 2, 2);
	feed(&p, &l, "0\r\n\r\n", 5, 5, 3);
	assert_int_equal(l.ends, 1);
	assert_int_equal(l.last_flags, 0);
	assert_int_equal(l.last_body, 5 + 3000 + 2 + 5);
	assert_int_equal(l.last_end_ts, 3);
	http1_parser_free(&p);
}

static void test_capture_gap_over_chunk_size_line_loses_sync(void **state)
{
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	http1_parser_init(&p, HTTP1_RESPONSE);
	feed(&p, &l, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 57,
	     57 + 40, 1);
	assert_int_equal(l.ends, 0);
	feed(&p, &l, "more unseen framing", 19, 500, 2);
	assert_int_equal(l.ends, 0);
	/* the next response re-synchronises and ends the lost one where it was last seen */
	feed(&p, &l, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, 38, 3);
	assert_int_equal(l.heads, 2);
	assert_int_equal(l.ends, 2);
	assert_string_equal(strstr(l.text, "END"), "END body=550 flags=2|"
						   "RESP 200 1.1 host= ua= tp= ct= cl=0 hb=38|"
						   "END body=0 flags=0|");
	http1_parser_free(&p);
}

static void test_capture_cut_inside_head(void **state)
{
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	http1_parser_init(&p, HTTP1_REQUEST);
	/* a 2000-byte head of which 40 bytes were captured */
	feed(&p, &l, "GET /very/long/path HTTP/1.1\r\nCookie: ab", 40, 2000, 1);
	assert_int_equal(l.heads, 1);
	assert_true(l.last_truncated);
	assert_non_null(strstr(l.text, "REQ GET /very/long/path 1.1"));
	assert_int_equal(l.ends, 0);
	/* a cut request line still gives method and what was seen of the target */
	http1_parser_flush(&p, &cbs, &l);
	assert_int_equal(l.ends, 1);
	assert_int_equal(l.last_flags, HTTP1_END_LOST_SYNC | HTTP1_END_FLUSHED);
	feed(&p, &l, "GET /next HTTP/1.1\r\n\r\n", 22, 22, 2);
	assert_int_equal(l.heads, 2);
	assert_int_equal(l.ends, 2);
	assert_false(l.last_truncated);

	memset(&l, 0, sizeof(l));
	http1_parser_free(&p);
	http1_parser_init(&p, HTTP1_REQUEST);
	feed(&p, &l, "GET /only-the-targ", 18, 3000, 1);
	assert_int_equal(l.heads, 1);
	assert_non_null(strstr(l.text, "REQ GET /only-the-targ 1.1"));
	http1_parser_free(&p);
}

static void test_garbage_then_recovery(void **state)
{
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	http1_parser_init(&p, HTTP1_REQUEST);
	assert_int_equal(feed(&p, &l, "\x16\x03\x01\x02\x00", 5, 5, 1), -EBADMSG);
	assert_int_equal(p.errors, 1);
	assert_int_equal(feed(&p, &l, "more junk", 9, 9, 2), 0);
	assert_int_equal(l.heads, 0);
	assert_int_equal(feed(&p, &l, "GET / HTTP/1.1\r\n\r\n", 18, 18, 3), 0);
	assert_int_equal(l.heads, 1);
	assert_int_equal(l.ends, 1);

	/* a start line that is not HTTP/1 once complete */
	memset(&l, 0, sizeof(l));
	assert_int_equal(feed(&p, &l, "GET / SPDY/3\r\n\r\n", 16, 16, 4), -EBADMSG);
	assert_int_equal(l.heads, 0);
	/* responses: a bad status code */
	http1_parser_free(&p);
	http1_parser_init(&p, HTTP1_RESPONSE);
	assert_int_equal(feed(&p, &l, "HTTP/1.1 2x0 OK\r\n\r\n", 19, 19, 5), -EBADMSG);
	http1_parser_free(&p);
}

static void test_bad_content_length(void **state)
{
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	http1_parser_init(&p, HTTP1_REQUEST);
	feed(&p, &l, "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", 63,
	     63, 1);
	assert_int_equal(l.heads, 1);
	assert_non_null(strstr(l.text, "cl=-1"));
	/* framing unknown: the message is counted until the next start line */
	assert_int_equal(l.ends, 0);
	feed(&p, &l, "GET / HTTP/1.1\r\n\r\n", 18, 18, 2);
	assert_int_equal(l.ends, 2);
	assert_non_null(strstr(l.text, "END body=6 flags=2|"));
	http1_parser_free(&p);
}

static void test_head_larger_than_limit(void **state)
{
	size_t len = HTTP1_MAX_HEAD + 5000;
	char *big = malloc(len);
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	assert_non_null(big);
	memcpy(big, "GET /big HTTP/1.1\r\nX-Fill: ", 27);
	memset(big + 27, 'a', len - 27);
	http1_parser_init(&p, HTTP1_REQUEST);
	/* arrives in 1000-byte syscalls, all captured */
	for (size_t off = 0; off < len; off += 1000) {
		size_t n = len - off < 1000 ? len - off : 1000;

		assert_int_equal(feed(&p, &l, big + off, n, n, off + 1), 0);
	}
	assert_int_equal(l.heads, 1);
	assert_true(l.last_truncated);
	assert_true(p.buf_cap <= HTTP1_MAX_HEAD);
	feed(&p, &l, "GET /after HTTP/1.1\r\n\r\n", 23, 23, 99999);
	assert_int_equal(l.heads, 2);
	assert_non_null(strstr(l.text, "REQ GET /after"));
	http1_parser_free(&p);
	free(big);
}

static void test_close_ends_messages(void **state)
{
	struct http1_parser p;
	struct log l = { 0 };

	(void)state;
	/* close-delimited body */
	http1_parser_init(&p, HTTP1_RESPONSE);
	feed(&p, &l, "HTTP/1.0 200 OK\r\n\r\nsome", 23, 23, 1);
	feed(&p, &l, " more", 5, 5, 2);
	assert_int_equal(l.ends, 0);
	http1_parser_close(&p, 9, &cbs, &l);
	assert_int_equal(l.ends, 1);
	assert_int_equal(l.last_flags, HTTP1_END_CLOSE_DELIMITED);
	assert_int_equal(l.last_body, 9);
	assert_int_equal(l.last_end_ts, 2);
	/* a body cut short by the close is aborted */
	feed(&p, &l, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 42, 42, 10);
	http1_parser_close(&p, 11, &cbs, &l);
	assert_int_equal(l.ends, 2);
	assert_int_equal(l.last_flags, HTTP1_END_ABORTED);
	assert_int_equal(l.last_body, 3);
	/* nothing in flight: nothing reported */
	http1_parser_close(&p, 12, &cbs, &l);
	assert_int_equal(l.ends, 2);
	http1_parser_free(&p);
}

static void test_tunnel_stops_parsing(void **state)
{
	struct http1_parser p;
	struct log l = { .on_head_return = HTTP1_HEAD_TUNNEL };

	(void)state;
	http1_parser_init(&p, HTTP1_RESPONSE);
	feed(&p, &l, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", 43, 43, 1);
	assert_int_equal(l.heads, 1);
	assert_int_equal(l.ends, 1);
	assert_int_equal(feed(&p, &l, "HTTP/1.1 200 OK\r\n\r\n", 19, 19, 2), 0);
	assert_int_equal(l.heads, 1);
	assert_int_equal(p.errors, 0);
	http1_parser_free(&p);
}

static void test_looks_like_start(void **state)
{
	(void)state;
	assert_true(http1_looks_like_start(HTTP1_REQUEST, (const uint8_t *)"GET / ", 6));
	assert_true(http1_looks_like_start(HTTP1_REQUEST, (const uint8_t *)"DELETE /", 8));
	assert_false(http1_looks_like_start(HTTP1_REQUEST, (const uint8_t *)"GETX /", 6));
	assert_false(http1_looks_like_start(HTTP1_REQUEST, (const uint8_t *)"GE", 2));
	assert_true(http1_looks_like_start(HTTP1_RESPONSE, (const uint8_t *)"HTTP/1.1 2", 10));
	assert_false(http1_looks_like_start(HTTP1_RESPONSE, (const uint8_t *)"HTTP/2 200", 10));
}

/* Deterministic xorshift, so a failure can be replayed. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_random_input_never_crashes(void **state)
{
	uint32_t seed = 0x5eed1234;
	uint8_t buf[600];

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		struct http1_parser p;
		struct log l = { .on_head_return = (int)(rnd(&seed) % 3) };
		int feeds = (int)(rnd(&seed) % 8) + 1;

		http1_parser_init(&p, rnd(&seed) & 1 ? HTTP1_REQUEST : HTTP1_RESPONSE);
		for (int f = 0; f < feeds; f++) {
			size_t len = rnd(&seed) % sizeof(buf);
			uint64_t total = len + (rnd(&seed) % 4 == 0 ? rnd(&seed) % 100000 : 0);

			/* random bytes, sometimes seeded with pieces of real messages */
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd(&seed);
			if (len > 0 && rnd(&seed) % 2) {
				const char *src =
					corpus[rnd(&seed) % (sizeof(corpus) / sizeof(corpus[0]))]
						.bytes;
				size_t n = strlen(src), at = rnd(&seed) % len;

				if (n > len - at)
					n = len - at;
				memcpy(buf + at, src, n);
			}
			http1_parser_feed(&p, buf, len, total, (uint64_t)f, &cbs, &l);
			if (rnd(&seed) % 16 == 0)
				http1_parser_flush(&p, &cbs, &l);
		}
		http1_parser_close(&p, 99, &cbs, &l);
		assert_true(l.ends <= l.heads);
		http1_parser_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_whole),
		cmocka_unit_test(test_corpus_split_at_every_byte),
		cmocka_unit_test(test_corpus_one_byte_at_a_time),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_capture_gap_in_length_body_is_exact),
		cmocka_unit_test(test_capture_gap_in_chunk_and_its_crlf),
		cmocka_unit_test(test_capture_gap_over_chunk_size_line_loses_sync),
		cmocka_unit_test(test_capture_cut_inside_head),
		cmocka_unit_test(test_garbage_then_recovery),
		cmocka_unit_test(test_bad_content_length),
		cmocka_unit_test(test_head_larger_than_limit),
		cmocka_unit_test(test_close_ends_messages),
		cmocka_unit_test(test_tunnel_stops_parsing),
		cmocka_unit_test(test_looks_like_start),
		cmocka_unit_test(test_random_input_never_crashes),
	};

	return cmocka_run_group_tests_name("http1", tests, NULL, NULL);
}
