/* SPDX-License-Identifier: MIT */
/* Events handed to ingest in timestamp order, whatever order they arrived in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/reorder.h"
#include "sonde_event.h"

struct seen {
	uint64_t ts[4096];
	uint32_t fd[4096];
	size_t n;
};

static int collect(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;
	const struct sonde_event_hdr *h = data;

	assert_true(size >= sizeof(*h));
	s->ts[s->n] = h->ts_ns;
	s->fd[s->n++] = h->fd;
	return 0;
}

/* An event of a given size (the payload after the header is its fd, repeated). */
static void push(struct reorder *r, uint64_t ts, uint32_t fd, size_t extra)
{
	uint8_t buf[sizeof(struct sonde_event_hdr) + 256];
	struct sonde_event_hdr h = { .type = SONDE_EV_DATA, .fd = fd, .ts_ns = ts };

	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), (int)fd, extra);
	assert_int_equal(reorder_push(r, buf, sizeof(h) + extra), 0);
}

static void test_sorted_by_time_then_arrival(void **state)
{
	struct reorder r = { 0 };
	struct seen s = { 0 };

	(void)state;
	/* a response read (ts 30) that reached the ring before its request (ts 10) */
	push(&r, 30, 2, 100);
	push(&r, 10, 1, 5);
	push(&r, 30, 3, 0);
	push(&r, 20, 4, 200);
	assert_int_equal(reorder_flush(&r, UINT64_MAX, collect, &s), 4);
	assert_int_equal(s.ts[0], 10);
	assert_int_equal(s.ts[1], 20);
	assert_int_equal(s.fd[2], 2); /* equal stamps keep their arrival order */
	assert_int_equal(s.fd[3], 3);
	assert_int_equal(reorder_pending(&r), 0);
	reorder_free(&r);
}

static void test_recent_events_are_held(void **state)
{
	struct reorder r = { 0 };
	struct seen s = { 0 };

	(void)state;
	push(&r, 50, 5, 250);
	push(&r, 40, 4, 10);
	push(&r, 100, 10, 30);
	push(&r, 5, 1, 3);
	assert_int_equal(reorder_flush(&r, 45, collect, &s), 2);
	assert_int_equal(reorder_pending(&r), 2);
	/* a late one older than what is held still goes first */
	push(&r, 45, 6, 7);
	assert_int_equal(reorder_flush(&r, UINT64_MAX, collect, &s), 3);
	assert_int_equal(s.n, 5);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.ts[i - 1] <= s.ts[i]);
	assert_int_equal(s.fd[2], 6);
	assert_int_equal(s.fd[3], 5);
	assert_int_equal(s.fd[4], 10);
	reorder_free(&r);
}

/* What is held keeps its bytes across compactions. */
static int check_payload(void *ctx, const void *data, size_t size)
{
	const struct sonde_event_hdr *h = data;
	const uint8_t *p = (const uint8_t *)(h + 1);

	(void)ctx;
	for (size_t i = 0; i < size - sizeof(*h); i++)
		assert_int_equal(p[i], (uint8_t)h->fd);
	return 0;
}

static void test_held_payloads_intact(void **state)
{
	struct reorder r = { 0 };

	(void)state;
	for (uint32_t round = 0; round < 50; round++) {
		for (uint32_t i = 0; i < 20; i++)
			push(&r, (round * 37 + i * 101) % 1000, i + 1, (i * 13) % 256);
		reorder_flush(&r, 500, check_payload, NULL);
	}
	reorder_flush(&r, UINT64_MAX, check_payload, NULL);
	assert_int_equal(reorder_pending(&r), 0);
	reorder_free(&r);
}

/* Far from order (reversed, shuffled) and nearly in order (two interleaved
 * CPUs): the same stable order by time. fd records arrival. */
static void check_order(const uint64_t *ts, size_t n)
{
	struct reorder r = { 0 };
	static struct seen s;

	s.n = 0;
	for (size_t i = 0; i < n; i++)
		push(&r, ts[i], (uint32_t)i, i % 13);
	assert_int_equal(reorder_flush(&r, UINT64_MAX, collect, &s), n);
	for (size_t i = 1; i < n; i++) {
		assert_true(s.ts[i - 1] <= s.ts[i]);
		if (s.ts[i - 1] == s.ts[i])
			assert_true(s.fd[i - 1] < s.fd[i]);
	}
	reorder_free(&r);
}

static void test_any_arrival_order(void **state)
{
	static uint64_t ts[4000];
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (size_t i = 0; i < 4000; i++)
		ts[i] = 4000 - i;
	check_order(ts, 4000);
	for (size_t i = 0; i < 4000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ts[i] = x % 500; /* many equal stamps */
	}
	check_order(ts, 4000);
	for (size_t i = 0; i < 4000; i++)
		ts[i] = 10 * (i / 2) + (i % 2 ? 0 : 7); /* CPU 1 a little ahead */
	check_order(ts, 4000);
}

static struct sonde_data data_event(uint8_t syscall, uint64_t ts)
{
	return (struct sonde_data){ .hdr = { .type = SONDE_EV_DATA, .ts_ns = ts },
				    .syscall = syscall };
}

/* A syscall's payload skips an empty buffer; TLS payloads, connection and
 * process events never do, and nothing skips while an event is held. */
static void test_syscall_payloads_skip_an_empty_buffer(void **state)
{
	struct reorder r = { 0 };
	struct sonde_data plain = data_event(SONDE_SYS_RECVFROM, 5);
	struct sonde_data sendfile = data_event(SONDE_SYS_SENDFILE, 5);
	struct sonde_data tls_write = data_event(SONDE_SYS_TLS_WRITE, 5);
	struct sonde_data tls_read = data_event(SONDE_SYS_TLS_READ, 5);
	struct sonde_conn_open open = { .hdr = { .type = SONDE_EV_CONN_OPEN } };
	struct sonde_conn_close close = { .hdr = { .type = SONDE_EV_CONN_CLOSE } };
	struct sonde_proc_exit exit_ev = { .hdr = { .type = SONDE_EV_PROC_EXIT } };

	(void)state;
	assert_true(reorder_can_skip(&r, &plain, sizeof(plain) + 10));
	assert_true(reorder_can_skip(&r, &sendfile, sizeof(sendfile)));
	assert_false(reorder_can_skip(&r, &tls_write, sizeof(tls_write) + 10));
	assert_false(reorder_can_skip(&r, &tls_read, sizeof(tls_read) + 10));
	assert_false(reorder_can_skip(&r, &open, sizeof(open)));
	assert_false(reorder_can_skip(&r, &close, sizeof(close)));
	assert_false(reorder_can_skip(&r, &exit_ev, sizeof(exit_ev)));
	/* too short to be a payload event: its type is not trusted */
	assert_false(reorder_can_skip(&r, &plain, sizeof(plain.hdr)));

	/* held, a connection's open makes its payloads wait behind it */
	assert_int_equal(reorder_push(&r, &open, sizeof(open)), 0);
	assert_int_equal(reorder_waiting(&r), 1);
	assert_false(reorder_can_skip(&r, &plain, sizeof(plain)));
	reorder_free(&r);
}

/* A TLS write stamped at its call's entry reaches the ring after a payload
 * stamped later: the payload waits behind it, and once it is out, nothing
 * waits any more. */
static void test_payloads_wait_only_behind_ordered_events(void **state)
{
	struct reorder r = { 0 };
	struct seen s = { 0 };
	struct sonde_data tls_write = data_event(SONDE_SYS_TLS_WRITE, 10);
	struct sonde_data plain = data_event(SONDE_SYS_WRITEV, 20);

	(void)state;
	assert_int_equal(reorder_push(&r, &tls_write, sizeof(tls_write)), 0);
	assert_false(reorder_can_skip(&r, &plain, sizeof(plain)));
	assert_int_equal(reorder_push(&r, &plain, sizeof(plain)), 0);
	assert_int_equal(reorder_waiting(&r), 1);
	assert_int_equal(reorder_flush(&r, 15, collect, &s), 1);
	assert_int_equal(s.ts[0], 10);
	/* the payload is still held, so another one must not pass it... */
	assert_int_equal(reorder_waiting(&r), 0);
	assert_int_equal(reorder_pending(&r), 1);
	assert_false(reorder_can_skip(&r, &plain, sizeof(plain)));
	/* ...until it is handed on too */
	assert_int_equal(reorder_flush(&r, UINT64_MAX, collect, &s), 1);
	assert_int_equal(s.ts[1], 20);
	assert_true(reorder_can_skip(&r, &plain, sizeof(plain)));
	reorder_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_by_time_then_arrival),
		cmocka_unit_test(test_recent_events_are_held),
		cmocka_unit_test(test_held_payloads_intact),
		cmocka_unit_test(test_any_arrival_order),
		cmocka_unit_test(test_syscall_payloads_skip_an_empty_buffer),
		cmocka_unit_test(test_payloads_wait_only_behind_ordered_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
