// SPDX-License-Identifier: MIT
/*
 * The export queue's back-pressure: when the queue is full, the event loop
 * waits for room only while the collector takes exports and the caller says
 * events can wait (the ring buffer has room); otherwise the span drops at
 * once. Retries wait for their backoff or Retry-After whatever else wakes the
 * exporter thread, and a stop does not wait for them. The collector here is a
 * fake transport whose sends the test answers, and which notes when each came.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "export/exporter.h"
#include "export/otlp_transport.h"
#include "host/resource.h"
#include "spans/span.h"
#include "../fake_transport.h"

/* ---- the fake collector: each send blocks until the test answers it ---- */

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cond = PTHREAD_COND_INITIALIZER;
static int sends_started, answers_given;
static enum export_result next_result = EXPORT_OK;

/* What the first sends are answered (then next_result), and when they came. */
struct fake_reply {
	enum export_result result;
	uint32_t retry_after_ms;
};
#define FAKE_MAX_SENDS 64
static const struct fake_reply *script;
static int script_len;
static uint64_t send_mono[FAKE_MAX_SENDS];

void otlp_transport_send(struct otlp_transport *t, const uint8_t *body, size_t len,
			 struct export_outcome *out)
{
	(void)t;
	(void)body;
	(void)len;
	pthread_mutex_lock(&fake_lock);
	int mine = sends_started++;

	if (mine < FAKE_MAX_SENDS)
		send_mono[mine] = clock_mono_now();
	pthread_cond_broadcast(&fake_cond);
	while (answers_given <= mine)
		pthread_cond_wait(&fake_cond, &fake_lock);
	memset(out, 0, sizeof(*out));
	out->result = next_result;
	if (mine < script_len) {
		out->result = script[mine].result;
		out->retry_after_ms = script[mine].retry_after_ms;
	}
	snprintf(out->detail, sizeof(out->detail), "fake %s",
		 out->result == EXPORT_OK ? "ok" : "failure");
	pthread_mutex_unlock(&fake_lock);
}

static int fake_sends(void)
{
	int n;

	pthread_mutex_lock(&fake_lock);
	n = sends_started;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

static void fake_reset(enum export_result result)
{
	pthread_mutex_lock(&fake_lock);
	sends_started = answers_given = 0;
	next_result = result;
	script = NULL;
	script_len = 0;
	pthread_mutex_unlock(&fake_lock);
}

static void fake_script(const struct fake_reply *replies, int n)
{
	pthread_mutex_lock(&fake_lock);
	script = replies;
	script_len = n;
	pthread_mutex_unlock(&fake_lock);
}

/* Waits until the exporter thread has started n sends. */
static void fake_wait_sends(int n)
{
	pthread_mutex_lock(&fake_lock);
	while (sends_started < n)
		pthread_cond_wait(&fake_cond, &fake_lock);
	pthread_mutex_unlock(&fake_lock);
}

/* Lets the first n sends return (and those after them wait). */
static void fake_answer(int n)
{
	pthread_mutex_lock(&fake_lock);
	answers_given = n;
	pthread_cond_broadcast(&fake_cond);
	pthread_mutex_unlock(&fake_lock);
}

static void fake_answer_all(void)
{
	fake_answer(1 << 30);
}

/* ---- the exporter under test ---- */

static bool ring_room;
static bool may_wait(void *ctx)
{
	(void)ctx;
	return ring_room;
}

static const struct otlp_target target = { 0 };

static struct exporter *start(void)
{
	struct exporter_opts o = {
		.traces = &target,
		.queue_size = 4,
		.batch_size = 2,
		.batch_delay_ms = 10000,
		.may_wait = may_wait,
		.backoff_initial_ms = 10,
		.backoff_max_ms = 10,
		.retry_max_elapsed_ms = 1, /* a failure is not retried */
	};
	struct exporter *e = exporter_start(&o);

	assert_non_null(e);
	return e;
}

static struct span one_span(void)
{
	struct span s = { 0 };

	s.kind = SPAN_SERVER;
	snprintf(s.method, sizeof(s.method), "GET");
	snprintf(s.target, sizeof(s.target), "/items/1");
	s.status = 200;
	s.version_minor = 1;
	s.start_ns = 1795635721000000000ull;
	s.end_ns = s.start_ns + 1000;
	return s;
}

static struct resource *res;
static struct span sp;
static const struct trace_ids ids = { .trace_id = { 1 }, .span_id = { 2 }, .sampled = true };

static bool offer(struct exporter *e)
{
	return exporter_offer_span(e, &sp, res, &ids, "/items/{id}");
}

/* Fills the queue while the collector holds the batch it is sent (the
 * sends-th): 2 slots go out with the batch, 4 fill the queue again. */
static void fill(struct exporter *e, int sends)
{
	assert_true(offer(e));
	assert_true(offer(e)); /* a full batch: the exporter thread takes it */
	fake_wait_sends(sends);
	for (int i = 0; i < 4; i++)
		assert_true(offer(e));
}

static struct exporter_stats stop(struct exporter *e)
{
	struct exporter_stats st;

	fake_answer_all();
	exporter_stop(e, 1000, &st);
	return st;
}

/* Answers the first send once the event loop waits for room. */
static void *answer_when_waiting(void *arg)
{
	struct exporter *e = arg;
	struct exporter_stats st;

	do {
		usleep(1000);
		exporter_get_stats(e, &st);
	} while (!st.queue_waits);
	fake_answer(1);
	return NULL;
}

static void test_full_queue_waits_for_room(void **state)
{
	struct exporter *e;
	struct exporter_stats st;
	pthread_t th;

	(void)state;
	fake_reset(EXPORT_OK);
	ring_room = true;
	e = start();
	fill(e, 1);
	/* The collector answers while the span waits; the exporter thread then
	 * takes the next batch and gives its slots back: the span goes in. */
	pthread_create(&th, NULL, answer_when_waiting, e);
	assert_true(offer(e));
	pthread_join(th, NULL);
	exporter_get_stats(e, &st);
	assert_int_equal(st.queue_waits, 1);
	assert_int_equal(st.spans_dropped_full, 0);
	st = stop(e);
	assert_int_equal(st.spans_exported, 7);
}

/* The queue is full and the span must not wait: it is dropped, counted, with
 * no wait started. Stops the exporter. */
static void assert_drops_at_once(struct exporter *e)
{
	struct exporter_stats st;

	assert_false(offer(e));
	exporter_get_stats(e, &st);
	assert_int_equal(st.queue_waits, 0);
	assert_int_equal(st.spans_dropped_full, 1);
	stop(e);
}

static void test_full_ring_drops_at_once(void **state)
{
	struct exporter *e;

	(void)state;
	fake_reset(EXPORT_OK);
	ring_room = false; /* events would have nowhere to wait */
	e = start();
	fill(e, 1);
	assert_drops_at_once(e);
}

static void test_failing_collector_gets_no_wait(void **state)
{
	struct exporter *e;
	struct exporter_stats st;

	(void)state;
	fake_reset(EXPORT_FAIL);
	ring_room = true;
	e = start();
	/* A first batch fails: the exporter now knows the collector refuses. */
	assert_true(offer(e));
	assert_true(offer(e));
	fake_wait_sends(1);
	fake_answer(1);
	for (;;) {
		exporter_get_stats(e, &st);
		if (st.spans_dropped_failed == 2)
			break;
		usleep(1000);
	}
	/* The next batch hangs in the collector; the queue fills behind it. */
	fill(e, 2);
	assert_drops_at_once(e);
}

/* Log records go through a queue of their own, batched by its own size and
 * sent with its own transport; spans and logs counted apart; a full log
 * queue drops (counted) without touching the spans'. */
static void test_logs_have_their_own_queue(void **state)
{
	struct exporter_opts o = {
		.traces = &target,
		.logs = &target,
		.queue_size = 4,
		.batch_size = 4,
		.batch_delay_ms = 10000,
		.logs_queue_size = 3,
		.logs_batch_size = 2,
		.logs_batch_delay_ms = 10000,
		.backoff_initial_ms = 10,
		.backoff_max_ms = 10,
		.retry_max_elapsed_ms = 1,
	};
	struct log_record r = { .tgid = 1, .fd = 2, .body = "slow query", .len = 10 };
	struct exporter *e;
	struct exporter_stats st;

	(void)state;
	fake_reset(EXPORT_OK);
	e = exporter_start(&o);
	assert_non_null(e);
	assert_true(offer(e));
	assert_true(exporter_offer_log(e, &r, res, 1));
	assert_true(exporter_offer_log(e, &r, res, 1)); /* a full batch of 2 goes */
	fake_wait_sends(1);
	for (int i = 0; i < 3; i++)
		assert_true(exporter_offer_log(e, &r, res, 1));
	assert_false(exporter_offer_log(e, &r, res, 1)); /* full, and no may_wait */
	exporter_get_stats(e, &st);
	assert_int_equal(st.logs_queued, 5);
	assert_int_equal(st.logs_dropped_full, 1);
	assert_int_equal(st.logs_queue_depth, 3);
	assert_int_equal(st.spans_dropped_full, 0);
	st = stop(e);
	assert_int_equal(st.logs_exported, 5);
	assert_int_equal(st.spans_exported, 1);
}

static const struct otlp_target metrics_target = { 0 };

/* An exporter of spans and metrics that retries: backoff 200 ms. */
static struct exporter *start_retrying(void)
{
	struct exporter_opts o = {
		.traces = &target,
		.metrics = &metrics_target,
		.queue_size = 4,
		.batch_size = 2,
		.batch_delay_ms = 10000,
		.backoff_initial_ms = 200,
		.backoff_max_ms = 200,
		.retry_max_elapsed_ms = 60000,
	};
	struct exporter *e = exporter_start(&o);

	assert_non_null(e);
	return e;
}

/* That exporter with a first batch (2 spans) that the collector answers
 * replies[0], then replies[1]…, then success. */
static struct exporter *start_failing(const struct fake_reply *replies, int n)
{
	struct exporter *e;

	fake_reset(EXPORT_OK);
	fake_script(replies, n);
	fake_answer_all();
	e = start_retrying();
	assert_true(offer(e));
	assert_true(offer(e));
	return e;
}

/* A batch fails twice, first with no Retry-After (backoff: 100-200 ms with
 * jitter), then with Retry-After 300 ms; meanwhile the event loop keeps
 * offering metrics snapshots and spans, each of which wakes the exporter
 * thread. Neither retry comes before its time; the new work waits, bounded
 * and counted. */
static void test_retry_waits_whatever_wakes_the_thread(void **state)
{
	static const struct fake_reply replies[] = { { EXPORT_RETRY, 0 }, { EXPORT_RETRY, 300 } };
	struct exporter *e;
	struct exporter_stats st;
	uint64_t first, second, third;

	(void)state;
	e = start_failing(replies, 2);
	for (int i = 0; fake_sends() < 3; i++) {
		uint8_t *snapshot = malloc(1);

		assert_true(i < 2000); /* 10 s: the retries never came */
		assert_non_null(snapshot);
		exporter_offer_metrics(e, snapshot, 1);
		offer(e); /* fills the queue (a batch wakes the thread), then drops */
		usleep(5000);
	}
	pthread_mutex_lock(&fake_lock);
	first = send_mono[0];
	second = send_mono[1];
	third = send_mono[2];
	pthread_mutex_unlock(&fake_lock);
	assert_true(second - first >= 100 * 1000000ull);
	assert_true(third - second >= 300 * 1000000ull);
	st = stop(e);
	assert_int_equal(st.retries, 2);
	assert_true(st.spans_dropped_full > 0);	   /* the queue of 4 stayed full */
	assert_true(st.metric_exports_failed > 0); /* snapshots replaced while waiting */
	assert_int_equal(st.spans_queued, st.spans_exported + st.spans_dropped_failed);
	assert_int_equal(st.spans_dropped_failed, 0);
}

/* That exporter once its first batch failed and waits 20 s for its retry. */
static struct exporter *start_waiting_retry(void)
{
	static const struct fake_reply replies[] = { { EXPORT_RETRY, 20000 } };
	struct exporter *e = start_failing(replies, 1);
	struct exporter_stats st;

	/* Counted under the lock the wait then releases: seen, the thread waits. */
	do {
		usleep(1000);
		exporter_get_stats(e, &st);
	} while (!st.request_failures);
	return e;
}

/* A stop while a retry is 20 s away: the batch is dropped (counted) at once,
 * without another attempt. */
static void test_stop_does_not_wait_for_a_retry(void **state)
{
	struct exporter *e;
	struct exporter_stats st;
	uint64_t t0;

	(void)state;
	e = start_waiting_retry();
	t0 = clock_mono_now();
	exporter_stop(e, 100, &st);
	assert_true(clock_mono_now() - t0 < 10 * 1000000000ull);
	assert_int_equal(fake_sends(), 1);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.spans_dropped_failed, 2);
}

/* During an outage the queue fills while the batch in flight waits for its
 * retry (issue 21, 8: the drops were logged only once its retries ran out):
 * the first drop is reported at the next turn of the loop, then at most a
 * line a minute with what was dropped since, and nothing while nothing is. */
static void test_drops_reported_as_they_happen(void **state)
{
	struct exporter *e;
	struct exporter_stats st;
	char line[512];
	uint64_t t = 1000 * 1000000000ull;

	(void)state;
	e = start_waiting_retry();
	assert_false(exporter_drop_report(e, t, line, sizeof(line)));
	for (int i = 0; i < 4; i++)
		assert_true(offer(e)); /* the queue of 4 fills behind the batch */
	for (int i = 0; i < 3; i++)
		assert_false(offer(e));
	assert_true(exporter_drop_report(e, t, line, sizeof(line)));
	assert_string_equal(line, "3 spans dropped (export queue full 3, export failed 0); last "
				  "export error: spans: fake failure");
	assert_false(offer(e));
	assert_false(exporter_drop_report(e, t + 59 * 1000000000ull, line, sizeof(line)));
	assert_true(exporter_drop_report(e, t + 60 * 1000000000ull, line, sizeof(line)));
	assert_string_equal(line, "1 span dropped in the last 60 s (export queue full 1, export "
				  "failed 0); last export error: spans: fake failure");
	assert_false(exporter_drop_report(e, t + 200 * 1000000000ull, line, sizeof(line)));
	exporter_stop(e, 100, &st);
	assert_int_equal(st.spans_dropped_full, 4);
}

int main(void)
{
	static const char env[] = "OTEL_SERVICE_NAME=test";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_queue_waits_for_room),
		cmocka_unit_test(test_logs_have_their_own_queue),
		cmocka_unit_test(test_full_ring_drops_at_once),
		cmocka_unit_test(test_failing_collector_gets_no_wait),
		cmocka_unit_test(test_retry_waits_whatever_wakes_the_thread),
		cmocka_unit_test(test_stop_does_not_wait_for_a_retry),
		cmocka_unit_test(test_drops_reported_as_they_happen),
	};
	int rc;

	res = resource_new(4242, "nginx", "host", env, sizeof(env), NULL, "test");
	sp = one_span();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	resource_put(res);
	return rc;
}
