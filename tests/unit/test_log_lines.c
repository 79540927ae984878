/* SPDX-License-Identifier: MIT */
/*
 * Output streams into log records as a user would read them: lines split
 * across writes, many lines in one write, stack traces joined to their line,
 * a line past the cap, binary output, bytes that never came, the window, and
 * the request each record keeps (never another thread's or request's, none
 * through a buffer's flush); then the whole module (logs.c): severity,
 * UTF-8, the per-process limit, a record waiting for its trace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs/log_lines.h"
#include "logs/logs.h"

#define MS 1000000ull

struct got {
	char body[64][9000];
	size_t len[64];
	bool cut[64];
	uint64_t ts[64];
	uint8_t span[64][8];
	bool in_request[64];
	uint8_t severity[64];
	char severity_text[64][16];
	int n;
};

static void collect(void *ctx, const struct log_line_record *r)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	assert_true(r->len < sizeof(g->body[0]));
	memcpy(g->body[g->n], r->body, r->len);
	g->body[g->n][r->len] = '\0';
	g->len[g->n] = r->len;
	g->cut[g->n] = r->cut;
	g->ts[g->n] = r->ts;
	memcpy(g->span[g->n], r->ctx.span_id, 8);
	g->n++;
}

struct fixture {
	struct log_stream s;
	char buf[LOG_STREAM_BUF(8192)];
	struct log_lines_stats stats;
	struct log_lines_opts o;
	struct got got;
	uint64_t pos;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	log_stream_init(&f->s, f->buf, 8192);
	f->o = (struct log_lines_opts){ .max = 8192,
					.join_ns = 100 * MS,
					.wait_ns = 1000 * MS,
					.out = collect,
					.out_ctx = &f->got,
					.stats = &f->stats };
	f->pos = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* One write of text at time ms by thread writer, in the request whose span
 * id starts with span (0: none). */
static void write_by(struct fixture *f, const char *text, uint64_t ms, uint8_t span,
		     uint64_t writer)
{
	struct log_chunk c = { .data = (const uint8_t *)text,
			       .captured = (uint32_t)strlen(text),
			       .total = strlen(text),
			       .stream_pos = f->pos,
			       .ts = ms * MS,
			       .time_ns = 1700000000000000000ull + ms * MS,
			       .writer = writer,
			       .ctx_state = span ? LINKER_CTX_FINAL : LINKER_CTX_NONE };

	c.ctx.span_id[0] = span;
	f->pos += c.total;
	log_stream_feed(&f->s, &c, &f->o);
}

/* The same by the thread serving that request (a thread per request). */
static void write_at(struct fixture *f, const char *text, uint64_t ms, uint8_t span)
{
	write_by(f, text, ms, span, 100 + span);
}

static void tick(struct fixture *f, uint64_t ms)
{
	log_stream_tick(&f->s, ms * MS, false, false, &f->o);
}

static void test_line_in_several_writes_is_one_record(void **state)
{
	struct fixture *f = *state;

	write_at(f, "level=warn msg=\"slow ", 1, 7);
	write_at(f, "query\" table=orders", 2, 7);
	write_at(f, " duration_ms=34\n", 3, 7);
	assert_int_equal(f->got.n, 0); /* it may still get continuation lines */
	tick(f, 50);
	assert_int_equal(f->got.n, 0);
	tick(f, 104);
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.body[0],
			    "level=warn msg=\"slow query\" table=orders duration_ms=34");
	/* The write that began it says when and in which request. */
	assert_int_equal(f->got.ts[0], 1 * MS);
	assert_int_equal(f->got.span[0][0], 7);
	assert_int_equal(f->stats.lines, 1);
}

static void test_many_lines_in_one_write(void **state)
{
	struct fixture *f = *state;

	write_at(f, "one\ntwo\r\nthree\n\nfour\n", 1, 0);
	tick(f, 200);
	assert_int_equal(f->got.n, 4);
	assert_string_equal(f->got.body[0], "one");
	assert_string_equal(f->got.body[1], "two");
	assert_string_equal(f->got.body[2], "three");
	assert_string_equal(f->got.body[3], "four");
	assert_int_equal(f->stats.records, 4);
}

static void test_java_stack_trace_joins_its_line(void **state)
{
	struct fixture *f = *state;

	write_at(f, "12:00:00.123 [main] ERROR c.e.Shop - checkout failed\n", 1, 3);
	write_at(f, "java.lang.IllegalStateException: no stock\n", 2, 3);
	write_at(f, "\tat c.e.Shop.checkout(Shop.java:42)\n", 3, 3);
	write_at(f, "Caused by: java.io.IOException: closed\n", 4, 3);
	write_at(f, "\t... 3 more\n", 5, 3);
	write_at(f, "12:00:00.200 [main] INFO c.e.Shop - next\n", 6, 3);
	tick(f, 300);
	assert_int_equal(f->got.n, 2);
	assert_string_equal(f->got.body[0], "12:00:00.123 [main] ERROR c.e.Shop - checkout failed\n"
					    "java.lang.IllegalStateException: no stock\n"
					    "\tat c.e.Shop.checkout(Shop.java:42)\n"
					    "Caused by: java.io.IOException: closed\n"
					    "\t... 3 more");
	assert_string_equal(f->got.body[1], "12:00:00.200 [main] INFO c.e.Shop - next");
}

static void test_python_traceback_is_one_record(void **state)
{
	struct fixture *f = *state;

	write_at(f,
		 "ERROR:root:payment failed\n"
		 "Traceback (most recent call last):\n"
		 "  File \"shop.py\", line 12, in pay\n"
		 "    charge()\n"
		 "ZeroDivisionError: division by zero\n"
		 "INFO:root:next request\n",
		 1, 5);
	tick(f, 300);
	assert_int_equal(f->got.n, 2);
	assert_string_equal(f->got.body[0], "ERROR:root:payment failed\n"
					    "Traceback (most recent call last):\n"
					    "  File \"shop.py\", line 12, in pay\n"
					    "    charge()\n"
					    "ZeroDivisionError: division by zero");
	assert_string_equal(f->got.body[1], "INFO:root:next request");
	assert_int_equal(f->stats.joined, 4);
}

static void test_continuation_after_the_window_is_its_own_record(void **state)
{
	struct fixture *f = *state;

	write_at(f, "started\n", 1, 0);
	write_at(f, "  indented, but 150 ms later\n", 151, 0);
	tick(f, 400);
	assert_int_equal(f->got.n, 2);
	assert_string_equal(f->got.body[1], "  indented, but 150 ms later");
}

static void test_long_line_is_cut_and_counted(void **state)
{
	struct fixture *f = *state;
	static char big[100 * 1024 + 2];

	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	/* 100 KiB in pieces of 10 KiB, then the next line. */
	for (size_t off = 0; off < sizeof(big) - 1; off += 10240) {
		char piece[10241];
		size_t n = sizeof(big) - 1 - off < 10240 ? sizeof(big) - 1 - off : 10240;

		memcpy(piece, big + off, n);
		piece[n] = '\0';
		write_at(f, piece, 1, 0);
	}
	write_at(f, "after\n", 2, 0);
	tick(f, 300);
	assert_int_equal(f->got.n, 2);
	assert_int_equal(f->got.len[0], 8192);
	assert_true(f->got.cut[0]);
	assert_string_equal(f->got.body[1], "after");
	assert_false(f->got.cut[1]);
	assert_int_equal(f->stats.cut, 1);
}

static void test_binary_output_is_skipped(void **state)
{
	struct fixture *f = *state;
	uint8_t bin[4096];
	struct log_chunk c = { .data = bin, .captured = sizeof(bin), .total = sizeof(bin) };

	srand(7);
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)rand();
	bin[sizeof(bin) - 1] = '\n';
	c.stream_pos = f->pos;
	f->pos += sizeof(bin);
	log_stream_feed(&f->s, &c, &f->o);
	write_at(f, "text again\n", 2, 0);
	tick(f, 300);
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.body[0], "text again");
	assert_int_equal(f->stats.binary, sizeof(bin));
	assert_true(log_line_binary("a\0b", 3));
	assert_false(log_line_binary("\x1b[31mERROR\x1b[0m caf\xc3\xa9\t", 18));
	assert_false(log_line_binary("bad \xff\xfe bytes", 12)); /* text, made valid later */
	assert_true(log_line_binary("\x01\x02\x03\x04\x05xyz", 8));
}

static void test_missing_bytes_cut_the_line(void **state)
{
	struct fixture *f = *state;

	write_at(f, "first half of a line ", 1, 0);
	f->pos += 500; /* a write that never arrived */
	write_at(f, "end\nwhole\n", 2, 0);
	tick(f, 300);
	assert_int_equal(f->got.n, 3);
	assert_string_equal(f->got.body[0], "first half of a line ");
	assert_true(f->got.cut[0]);
	assert_string_equal(f->got.body[1], "end");
	assert_string_equal(f->got.body[2], "whole");
	assert_int_equal(f->stats.lost, 500);
}

/* Two threads take their positions in the output, then reach the ring
 * buffer the other way round: the later write's gap is filled when the
 * earlier one comes, and nothing is counted lost. */
static void test_writes_out_of_order_are_not_lost(void **state)
{
	struct fixture *f = *state;
	struct log_chunk a = { .data = (const uint8_t *)"from thread a\n",
			       .captured = 14,
			       .total = 14,
			       .stream_pos = 1,
			       .ts = 1 * MS,
			       .writer = 1 };
	struct log_chunk b = a;

	b.data = (const uint8_t *)"from thread b\n";
	b.stream_pos = 15;
	b.writer = 2;
	log_stream_feed(&f->s, &a, &f->o);
	f->pos = 29;
	b.stream_pos = 29; /* a third write, then the second late */
	log_stream_feed(&f->s, &b, &f->o);
	assert_int_equal(f->stats.lost, 14);
	b.stream_pos = 15;
	log_stream_feed(&f->s, &b, &f->o);
	assert_int_equal(f->stats.lost, 0);
	f->pos = 43;
	write_by(f, "in order again\n", 2, 0, 1);
	tick(f, 300);
	assert_int_equal(f->got.n, 4);
	assert_string_equal(f->got.body[3], "in order again");
	assert_int_equal(f->stats.lost, 0);
	for (int i = 0; i < 4; i++)
		assert_false(f->got.cut[i]);
}

static void test_line_without_end_goes_after_a_wait(void **state)
{
	struct fixture *f = *state;

	write_at(f, "Password: ", 1, 0);
	tick(f, 500);
	assert_int_equal(f->got.n, 0);
	tick(f, 1200);
	tick(f, 1400);
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.body[0], "Password: ");
	assert_int_equal(f->stats.unfinished, 1);
}

static void test_request_end_sends_the_record_at_once(void **state)
{
	struct fixture *f = *state;

	write_at(f, "served customer 7\npartial", 1, 0);
	log_stream_tick(&f->s, 2 * MS, true, false, &f->o);
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.body[0], "served customer 7");
	assert_false(log_stream_idle(&f->s)); /* the partial line stays */
}

/* Threads serving requests 7 and 8 write to one stderr at once: a line
 * never takes another request's bytes, nor its continuation lines. */
static void test_other_requests_bytes_are_never_joined(void **state)
{
	struct fixture *f = *state;

	write_at(f, "slow query for ", 1, 7);
	write_at(f, "customer 8\n", 2, 8); /* 7's line is not done */
	write_at(f, "customer 7\n", 3, 7);
	write_at(f, "ERROR payment failed for customer 7\n", 4, 7);
	write_at(f, "  detail of customer 8\n", 5, 8); /* indented, in time */
	write_at(f, "  at pay(shop.c:42)\n", 6, 7);
	/* Outside any request, two threads: two lines as well. */
	write_by(f, "started ", 7, 0, 1);
	write_by(f, "worker 2\n", 8, 0, 2);
	tick(f, 300);
	assert_int_equal(f->got.n, 8);
	assert_string_equal(f->got.body[0], "slow query for ");
	assert_int_equal(f->got.span[0][0], 7);
	assert_string_equal(f->got.body[1], "customer 8");
	assert_int_equal(f->got.span[1][0], 8);
	assert_string_equal(f->got.body[2], "customer 7");
	assert_int_equal(f->got.span[2][0], 7);
	assert_string_equal(f->got.body[3], "ERROR payment failed for customer 7");
	assert_int_equal(f->got.span[3][0], 7);
	assert_string_equal(f->got.body[4], "  detail of customer 8");
	assert_int_equal(f->got.span[4][0], 8);
	assert_string_equal(f->got.body[5], "  at pay(shop.c:42)");
	assert_int_equal(f->got.span[5][0], 7);
	assert_string_equal(f->got.body[6], "started ");
	assert_string_equal(f->got.body[7], "worker 2");
	assert_int_equal(f->stats.interleaved, 2);
	assert_int_equal(f->stats.joined, 0);
	assert_int_equal(f->stats.unlinked, 0);
}

/* A write of several records may be a buffer's flush of lines that other
 * threads wrote: none keeps the writer's request. One record in a write
 * (its traceback included) keeps it. */
static void test_write_of_several_records_has_no_request(void **state)
{
	struct fixture *f = *state;

	write_at(f, "served customer 3\nserved customer 4\nserved customer 5\n", 1, 5);
	write_at(f,
		 "ERROR:shop:failed\nTraceback (most recent call last):\n  File \"x\"\n"
		 "KeyError: 'k'\n",
		 200, 6);
	write_at(f, "served customer 7\n", 400, 7);
	tick(f, 600);
	assert_int_equal(f->got.n, 5);
	for (int i = 0; i < 3; i++)
		assert_int_equal(f->got.span[i][0], 0);
	assert_int_equal(f->got.span[3][0], 6);
	assert_int_equal(f->got.span[4][0], 7);
	assert_int_equal(f->stats.unlinked, 3);
	assert_int_equal(f->stats.buffered, 0);
}

/* A block-buffered stdout (Python's print to a pipe, stdio to a file) is
 * flushed by whichever thread fills it, in the middle of a line: from then
 * on no record of the stream keeps a request, and its lines go on across
 * the flushes of different threads. */
static void test_block_buffered_stream_has_no_request(void **state)
{
	struct fixture *f = *state;

	/* Still pending when the flush shows the buffer: it came through it. */
	write_at(f, "served customer 1\n", 1, 1);
	write_at(f, "served customer 2\nserved cust", 2, 2);
	write_at(f, "omer 3\n", 3, 3);
	write_at(f, "served customer 4\n", 300, 4);
	tick(f, 600);
	assert_int_equal(f->got.n, 4);
	assert_int_equal(f->got.span[0][0], 0);
	assert_string_equal(f->got.body[1], "served customer 2");
	assert_int_equal(f->got.span[1][0], 0);
	assert_string_equal(f->got.body[2], "served customer 3");
	assert_int_equal(f->got.span[2][0], 0);
	assert_string_equal(f->got.body[3], "served customer 4");
	assert_int_equal(f->got.span[3][0], 0);
	assert_int_equal(f->stats.buffered, 1);
	assert_int_equal(f->stats.unlinked, 4);
	assert_int_equal(f->stats.interleaved, 0);
}

static void test_continuation_rules(void **state)
{
	(void)state;
	assert_true(log_line_continues("    at x", 8, false));
	assert_true(log_line_continues("Caused by: y", 12, false));
	assert_false(log_line_continues("INFO:root:x", 11, true));
	assert_true(log_line_continues("KeyError: 'a'", 13, true));
	assert_true(log_line_continues("mod.CustomError", 15, true));
	assert_false(log_line_continues("ValueError: x", 13, false));
	assert_false(log_line_continues("Error: not found", 16, false));
	assert_true(log_line_continues("java.io.IOException: closed", 27, false));
	assert_true(log_line_continues("", 0, true));
}

/* --- logs.c --- */

struct module {
	struct got got;
	int pending_until; /* resolve says PENDING this many times */
};

static void collect_record(void *ctx, const struct log_record *r)
{
	struct got *g = &((struct module *)ctx)->got;

	assert_true(g->n < 64);
	memcpy(g->body[g->n], r->body, r->len);
	g->body[g->n][r->len] = '\0';
	g->len[g->n] = r->len;
	g->in_request[g->n] = r->in_request;
	g->severity[g->n] = r->severity.number;
	snprintf(g->severity_text[g->n], sizeof(g->severity_text[0]), "%s", r->severity.text);
	memcpy(g->span[g->n], r->ctx.span_id, 8);
	g->ts[g->n] = r->ctx.trace_id[0];
	g->n++;
}

static enum linker_ctx_state resolve(void *ctx, const uint8_t span_id[8], struct linker_ctx *out)
{
	struct module *m = ctx;

	memset(out, 0, sizeof(*out));
	memcpy(out->span_id, span_id, 8);
	out->trace_id[0] = 0xab;
	return m->pending_until-- > 0 ? LINKER_CTX_PENDING : LINKER_CTX_FINAL;
}

static struct log_write lw(uint32_t tgid, uint32_t fd, const char *text, uint64_t ms, uint64_t pos)
{
	return (struct log_write){ .tgid = tgid,
				   .tid = tgid,
				   .fd = fd,
				   .ts = ms * MS,
				   .time_ns = ms * MS,
				   .stream_pos = pos,
				   .total = strlen(text),
				   .data = (const uint8_t *)text,
				   .captured = (uint32_t)strlen(text) };
}

static void test_module_severity_utf8_and_streams(void **state)
{
	struct module m = { 0 };
	struct logs_opts o = { .rate = 0, .out = collect_record, .out_ctx = &m };
	struct logs *lg = logs_new(&o);
	struct log_write w;
	struct logs_stats st;

	(void)state;
	assert_non_null(lg);
	/* stdout and stderr of one process are separate streams. */
	w = lw(10, 1, "{\"level\":\"warn\",\"msg\":\"slow ", 1, 1);
	logs_write(lg, &w);
	w = lw(10, 2, "WARNING:root:bad byte \xff here\n", 2, 1);
	logs_write(lg, &w);
	w = lw(10, 1, "query\"}\n", 3, 29);
	logs_write(lg, &w);
	logs_tick(lg, 500 * MS, false);
	assert_int_equal(m.got.n, 2);
	assert_string_equal(m.got.body[0], "WARNING:root:bad byte \xef\xbf\xbd here");
	assert_int_equal(m.got.severity[0], LOG_SEV_WARN);
	assert_string_equal(m.got.severity_text[0], "WARNING");
	assert_string_equal(m.got.body[1], "{\"level\":\"warn\",\"msg\":\"slow query\"}");
	assert_int_equal(m.got.severity[1], LOG_SEV_WARN);
	assert_string_equal(m.got.severity_text[1], "warn");
	logs_get_stats(lg, &st);
	assert_int_equal(st.writes, 3);
	assert_int_equal(st.records, 2);
	logs_free(lg);
}

static void test_module_rate_limit_per_process(void **state)
{
	struct module m = { 0 };
	struct logs_opts o = { .rate = 10, .out = collect_record, .out_ctx = &m };
	struct logs *lg = logs_new(&o);
	struct logs_stats st;
	char text[1024] = "";
	uint64_t pos = 1;

	(void)state;
	assert_non_null(lg);
	for (int i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "line %d\n", i);
	/* 40 lines at once from one process: a second's worth (10) goes. */
	struct log_write w = lw(20, 1, text, 1, pos);

	logs_write(lg, &w);
	/* Another process has a budget of its own. */
	w = lw(21, 1, "other\n", 2, 1);
	logs_write(lg, &w);
	logs_tick(lg, 1000 * MS, true);
	logs_get_stats(lg, &st);
	assert_int_equal(m.got.n, 11);
	assert_int_equal(st.rate_limited, 30);
	assert_string_equal(m.got.body[10], "other");
	logs_free(lg);
}

static void test_module_record_waits_for_its_trace(void **state)
{
	struct module m = { .pending_until = 2 };
	struct logs_opts o = {
		.resolve = resolve, .resolve_ctx = &m, .out = collect_record, .out_ctx = &m
	};
	struct logs *lg = logs_new(&o);
	struct log_write w = lw(30, 1, "in request\n", 1, 1);
	struct logs_stats st;

	(void)state;
	assert_non_null(lg);
	w.ctx_state = LINKER_CTX_PENDING;
	w.ctx.span_id[0] = 0x42;
	logs_write(lg, &w);
	logs_tick(lg, 150 * MS, false); /* the record goes to the hold; still pending */
	assert_int_equal(m.got.n, 0);
	logs_tick(lg, 160 * MS, false); /* pending once more */
	assert_int_equal(m.got.n, 0);
	logs_tick(lg, 170 * MS, false); /* settled */
	assert_int_equal(m.got.n, 1);
	assert_true(m.got.in_request[0]);
	assert_int_equal(m.got.span[0][0], 0x42);
	assert_int_equal(m.got.ts[0], 0xab); /* the trace the linker settled on */
	logs_get_stats(lg, &st);
	assert_int_equal(st.held, 1);
	assert_int_equal(st.in_request, 1);
	logs_free(lg);
}

static void test_module_exit_sends_pending_lines(void **state)
{
	struct module m = { 0 };
	struct logs_opts o = { .out = collect_record, .out_ctx = &m };
	struct logs *lg = logs_new(&o);
	struct log_write w = lw(40, 2, "panic: boom\nno newline", 1, 1);

	(void)state;
	logs_write(lg, &w);
	logs_exit(lg, 40);
	assert_int_equal(m.got.n, 2);
	assert_string_equal(m.got.body[1], "no newline");
	logs_free(lg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_in_several_writes_is_one_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_lines_in_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_java_stack_trace_joins_its_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_python_traceback_is_one_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_continuation_after_the_window_is_its_own_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_is_cut_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_output_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_bytes_cut_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_out_of_order_are_not_lost, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_line_without_end_goes_after_a_wait, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_end_sends_the_record_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_requests_bytes_are_never_joined, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_of_several_records_has_no_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_block_buffered_stream_has_no_request, setup,
						teardown),
		cmocka_unit_test(test_continuation_rules),
		cmocka_unit_test(test_module_severity_utf8_and_streams),
		cmocka_unit_test(test_module_rate_limit_per_process),
		cmocka_unit_test(test_module_record_waits_for_its_trace),
		cmocka_unit_test(test_module_exit_sends_pending_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
