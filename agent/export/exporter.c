/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "export/exporter.h"
#include "util/log.h"
#include "export/otlp_transport.h"
#include "spans/trace_context.h"

/*
 * A queue of encoded items (spans, log records) with its own transport:
 * one producer (the main thread) and one consumer (the exporter thread),
 * without the lock. Free-running counters: slot i % size; tail - head items
 * are queued. The main thread fills the slot at tail, then publishes it by
 * storing tail (release); the exporter thread reads the slots from head, then
 * gives them back by storing head. A mutex taken for every span, with the
 * span's copy from a scratch buffer into its slot, was ~8% of the main
 * thread's perf samples; with the span encoded straight into the slot and no
 * lock, the main thread took 4.6% less per request at 10,000 req/s (6
 * alternated runs).
 */
struct export_queue {
	const char *what; /* "spans", "log records": for warnings */
	struct otlp_transport *transport;
	int (*assemble)(const struct encoded_span *items, size_t n, uint8_t **out, size_t *len);
	uint32_t size, batch_size, batch_delay_ms;
	struct encoded_span *ring;
	uint64_t head;	      /* written by the exporter thread */
	uint64_t tail;	      /* written by the main thread */
	uint64_t oldest_mono; /* guarded by lock: when the oldest queued item arrived */

	/* Main thread only: references to one resource taken ahead for the
	 * items offered next (see take_ref()), and whether the last offer found
	 * no room. */
	struct resource *credit_res;
	uint32_t credit;
	bool was_full;
	/* The main thread's counters, written by it alone without the lock
	 * (bump()). */
	uint64_t queued_total, dropped_full;
	/* Guarded by lock. */
	uint64_t exported, dropped_failed;
};

struct exporter {
	struct exporter_opts opts;
	struct otlp_transport *metrics;
	struct export_queue spans, logs;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t room; /* the exporter thread gave slots back */
	pthread_t thread;
	bool stopping;
	uint64_t stop_deadline_mono; /* after it, queued work is dropped */

	bool sends_ok; /* guarded by lock: the last export request succeeded (or none was sent) */

	/* Latest metrics snapshot not yet sent, guarded by lock. */
	uint8_t *metrics_body;
	size_t metrics_len;

	struct exporter_stats stats; /* guarded by lock */
	struct id_rng jitter;	     /* exporter thread only */
	uint64_t last_warn_mono;     /* exporter thread only: warnings are rate-limited */
	uint64_t unwarned;	     /* failures since the last warning */

	/* Main thread only: what exporter_drop_report() said last, and when. */
	uint64_t reported_full, reported_failed, report_mono;
};

#define WARN_INTERVAL_NS (60 * 1000000000ull)
/* Longest the main thread waits for room in a full queue. Meanwhile events
 * wait in the ring buffer; the wait also ends once it is a quarter full. */
#define ROOM_WAIT_NS (50 * 1000000ull)
/* The ring buffer's room is looked at this often during that wait. */
#define ROOM_CHECK_NS (2 * 1000000ull)

static uint64_t ms_to_ns(uint64_t ms)
{
	return ms * 1000000ull;
}

/* Items in the queue, as either thread sees it. */
static uint32_t queued(struct export_queue *q)
{
	return (uint32_t)(__atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) -
			  __atomic_load_n(&q->head, __ATOMIC_ACQUIRE));
}

/* A counter with one writer, read by other threads: no locked instruction. */
static void bump(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* References are taken REF_CREDIT at a time and handed to the spans of the
 * same resource one by one: an atomic add per span, on a line the exporter
 * thread also writes, was ~3% of the agent's time (perf). The spare ones are
 * given back when another resource comes, or at exporter_stop(). */
#define REF_CREDIT 256

static void take_ref(struct export_queue *q, struct resource *res)
{
	if (q->credit_res != res) {
		resource_put_n(q->credit_res, q->credit);
		q->credit_res = res;
		q->credit = 0;
	}
	if (!q->credit) {
		resource_get_n(res, REF_CREDIT);
		q->credit = REF_CREDIT;
	}
	q->credit--;
}

/* Waits on cond until abs_mono or a signal; lock held. */
static void wait_cond_until(struct exporter *e, pthread_cond_t *cond, uint64_t abs_mono)
{
	struct timespec ts = clock_mono_timespec(abs_mono);

	if (abs_mono <= clock_mono_now())
		return;
	pthread_cond_timedwait(cond, &e->lock, &ts);
}

/* The exporter thread's wait for work or a deadline; lock held. */
static void wait_until(struct exporter *e, uint64_t abs_mono)
{
	wait_cond_until(e, &e->wake, abs_mono);
}

/* Lock held. Whether the queue has room, after waiting up to ROOM_WAIT_NS for
 * the exporter thread to give slots back when it is exporting fine: a burst of
 * spans (one wake-up can bring thousands) then waits instead of being
 * dropped. A collector that fails or is gone gets no wait, nor does a ring
 * buffer filling up: a collector slower than the traffic costs spans, never
 * events (and with them the RED metrics). */
static bool wait_for_room(struct exporter *e, struct export_queue *q)
{
	uint64_t now, deadline;
	bool waited = false;

	now = clock_mono_now();
	deadline = now + ROOM_WAIT_NS;
	while (queued(q) >= q->size && !e->stopping && e->sends_ok && now < deadline &&
	       e->opts.may_wait && e->opts.may_wait(e->opts.may_wait_ctx)) {
		uint64_t until = now + ROOM_CHECK_NS;

		if (!waited) /* counted as it starts: a wait is visible while it lasts */
			e->stats.queue_waits++;
		waited = true;
		wait_cond_until(e, &e->room, until < deadline ? until : deadline);
		now = clock_mono_now();
	}
	return queued(q) < q->size && !e->stopping;
}

/*
 * Asks for the cache lines of the slot the next span will be encoded into.
 * The exporter thread read them last, on the other core: written cold, each
 * of the span's lines stalled the main thread (a tenth of the thread's time,
 * perf). Fetched now, they arrive while the next span is being built. The
 * current span's length is the guess for the next one's.
 */
static void prefetch_for_write(const void *p, size_t len)
{
	for (size_t off = 0; off < len; off += 64)
		__builtin_prefetch((const char *)p + off, 1, 3);
}

/* The slot at q->tail, if it may be filled: the queue has room, or gets
 * some in time (wait_for_room) unless the last offer already found none.
 * NULL (counted) otherwise. */
static struct encoded_span *slot_for_one(struct exporter *e, struct export_queue *q)
{
	bool room;

	if (!(queued(q) < q->size && !e->stopping)) { /* the common case: no lock, no clock */
		/* A collector that falls behind costs no more waits. */
		room = !q->was_full;
		if (room) {
			pthread_mutex_lock(&e->lock);
			room = wait_for_room(e, q);
			pthread_mutex_unlock(&e->lock);
		}
		if (!room) {
			bump(&q->dropped_full);
			q->was_full = true;
			return NULL;
		}
	}
	return &q->ring[q->tail % q->size];
}

/* The item just encoded into the slot at q->tail is queued, with a
 * reference on res; or it could not be encoded (out of memory). */
static bool publish(struct exporter *e, struct export_queue *q, struct resource *res, bool encoded)
{
	uint64_t tail = q->tail; /* written by this thread only */
	struct encoded_span *slot = &q->ring[tail % q->size], *next;
	uint32_t now_queued;

	if (!encoded) {
		bump(&q->dropped_full);
		q->was_full = true;
		return false;
	}
	q->was_full = false;
	take_ref(q, res);
	if (tail == __atomic_load_n(&q->head, __ATOMIC_ACQUIRE)) {
		/* The first item of an empty queue starts the batch's clock:
		 * set before the item is visible, so the exporter thread never
		 * sees it with an older time. */
		pthread_mutex_lock(&e->lock);
		q->oldest_mono = clock_mono_now();
		pthread_mutex_unlock(&e->lock);
	}
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
	bump(&q->queued_total);
	now_queued = queued(q);
	next = &q->ring[(tail + 1) % q->size];
	/* The next item's guess for its length: this one's. An item too long
	 * for a slot goes to the heap: the slot is all. */
	prefetch_for_write(
		next, offsetof(struct encoded_span, bytes) +
			      (slot->len < sizeof(slot->bytes) ? slot->len : sizeof(slot->bytes)));
	/* The queue only grows one item at a time here, so it reaches a full
	 * batch exactly once while the exporter thread waits. Signalled under
	 * the lock: the exporter thread decides to wait holding it, so the
	 * signal cannot fall between its look at the queue and its wait. */
	if (now_queued == q->batch_size) {
		pthread_mutex_lock(&e->lock);
		pthread_cond_signal(&e->wake);
		pthread_mutex_unlock(&e->lock);
	}
	return true;
}

bool exporter_offer_span(struct exporter *e, const struct span *sp, struct resource *res,
			 const struct trace_ids *ids, const char *route)
{
	struct encoded_span *slot = slot_for_one(e, &e->spans);

	return slot && publish(e, &e->spans, res,
			       !encoded_span_encode(slot, res, sp, ids, route, e->opts.with_query));
}

bool exporter_offer_log(struct exporter *e, const struct log_record *r, struct resource *res,
			uint64_t observed_ns)
{
	struct encoded_span *slot;

	if (!e->logs.ring)
		return false;
	slot = slot_for_one(e, &e->logs);
	return slot && publish(e, &e->logs, res, !encoded_log_encode(slot, res, r, observed_ns));
}

void exporter_offer_metrics(struct exporter *e, uint8_t *body, size_t len)
{
	uint8_t *old;

	if (!e->metrics) {
		free(body);
		return;
	}
	pthread_mutex_lock(&e->lock);
	old = e->metrics_body;
	if (old)
		e->stats.metric_exports_failed++; /* superseded before it could go */
	e->metrics_body = body;
	e->metrics_len = len;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	free(old);
}

/* A collector that stays down must not flood the log: the first failure is
 * reported, then at most one line a minute with how many there were. */
static void warn_failure(struct exporter *e, const char *what, const struct export_outcome *out)
{
	uint64_t now = clock_mono_now();

	if (e->last_warn_mono && now - e->last_warn_mono < WARN_INTERVAL_NS) {
		e->unwarned++;
		return;
	}
	char more[64] = "";

	if (e->unwarned)
		snprintf(more, sizeof(more), " (and %llu more failures in the last minute)",
			 (unsigned long long)e->unwarned);
	log_warn("export of %s failed: %s%s%s", what, out->detail,
		 out->result == EXPORT_RETRY ? ", retries exhausted" : "", more);
	e->last_warn_mono = now;
	e->unwarned = 0;
}

/* Sends body, retrying retryable failures until success, a permanent failure,
 * the retry budget, or the stop deadline. Called without the lock. */
static bool send_with_retry(struct exporter *e, struct otlp_transport *t, const uint8_t *body,
			    size_t len, const char *what)
{
	uint64_t start = clock_mono_now();
	uint64_t backoff = ms_to_ns(e->opts.backoff_initial_ms);
	struct export_outcome out;

	for (;;) {
		uint64_t delay, now, due;
		bool give_up;

		otlp_transport_send(t, body, len, &out);
		pthread_mutex_lock(&e->lock);
		e->stats.requests++;
		e->sends_ok = out.result == EXPORT_OK;
		if (out.result == EXPORT_OK) {
			pthread_mutex_unlock(&e->lock);
			return true;
		}
		e->stats.request_failures++;
		snprintf(e->stats.last_error, sizeof(e->stats.last_error), "%s: %s", what,
			 out.detail);
		now = clock_mono_now();
		/* Full jitter on top of half the backoff: spreads agents that all
		 * lost the same collector. */
		delay = backoff / 2 + id_rng_next(&e->jitter) % (backoff / 2 + 1);
		if (out.retry_after_ms)
			delay = ms_to_ns(out.retry_after_ms);
		due = now + delay;
		give_up = out.result == EXPORT_FAIL ||
			  due - start > ms_to_ns(e->opts.retry_max_elapsed_ms);
		if (!give_up)
			log_debug("export of %s: %s, retrying in %llu ms", what, out.detail,
				  (unsigned long long)(delay / 1000000));
		/* The wait is woken by new work too (a metrics snapshot, a full
		 * batch), which stays queued meanwhile (bounded, counted when
		 * dropped): the retry still waits for its time. A stop ends the wait
		 * only when that time is past the stop's deadline. */
		while (!give_up && clock_mono_now() < due) {
			give_up = e->stopping && due > e->stop_deadline_mono;
			if (!give_up)
				wait_until(e, due);
		}
		if (give_up) {
			pthread_mutex_unlock(&e->lock);
			warn_failure(e, what, &out);
			return false;
		}
		e->stats.retries++;
		pthread_mutex_unlock(&e->lock);
		backoff *= 2;
		if (backoff > ms_to_ns(e->opts.backoff_max_ms))
			backoff = ms_to_ns(e->opts.backoff_max_ms);
	}
}

/* Gives n spans back: frees their bytes and drops their resource references.
 * Consecutive spans mostly share their resource: one release per run. */
static void release_spans(struct encoded_span *batch, uint32_t n)
{
	for (uint32_t i = 0, run = 1; i < n; i++, run++) {
		encoded_span_free(&batch[i]);
		if (i + 1 == n || batch[i + 1].res != batch[i].res) {
			resource_put_n(batch[i].res, run);
			run = 0;
		}
	}
}

/* Sends the n items at the queue's head, without the lock held. Their slots
 * go back to the queue as soon as the request body holds their bytes, so the
 * main thread can fill the whole queue while the request is on the network. */
static void export_batch(struct exporter *e, struct export_queue *q, uint32_t n)
{
	uint64_t head = q->head; /* written by this thread only */
	struct encoded_span *batch = &q->ring[head % q->size];
	uint8_t *body = NULL;
	size_t len = 0;
	bool built = q->assemble(batch, n, &body, &len) == 0;
	bool ok = false;

	release_spans(batch, n);
	__atomic_store_n(&q->head, head + n, __ATOMIC_RELEASE);
	pthread_mutex_lock(&e->lock);
	q->oldest_mono = clock_mono_now(); /* the rest waited at most this long */
	pthread_cond_signal(&e->room);
	pthread_mutex_unlock(&e->lock);
	if (built)
		ok = send_with_retry(e, q->transport, body, len, q->what);
	else
		log_warn("cannot encode %u %s: out of memory", n, q->what);
	free(body);
	pthread_mutex_lock(&e->lock);
	if (ok)
		q->exported += n;
	else
		q->dropped_failed += n;
	pthread_mutex_unlock(&e->lock);
}

/* Whether q has a batch to send now (lock held); *due: when it will. */
static bool batch_ready(struct exporter *e, struct export_queue *q, uint64_t now, uint64_t *due)
{
	uint32_t count = q->ring ? queued(q) : 0;
	uint64_t at = q->oldest_mono + ms_to_ns(q->batch_delay_ms);

	if (!count)
		return false;
	if (count >= q->batch_size || now >= at || e->stopping)
		return true;
	if (at < *due)
		*due = at;
	return false;
}

/* Sends one batch from q's head (lock held, and held again on return):
 * the items are read where they are, up to the ring's end; the main thread
 * only writes at the tail, and these slots stay queued until export_batch
 * has copied them. */
static void send_batch(struct exporter *e, struct export_queue *q)
{
	uint32_t count = queued(q);
	uint32_t n = count < q->batch_size ? count : q->batch_size;
	uint32_t first = (uint32_t)(q->head % q->size);

	if (n > q->size - first)
		n = q->size - first;
	pthread_mutex_unlock(&e->lock);
	export_batch(e, q, n);
	pthread_mutex_lock(&e->lock);
}

/* At the stop deadline: what is left is dropped, and counted (lock held;
 * the main thread is in exporter_stop(), the tail no longer moves). */
static void drop_queued(struct export_queue *q)
{
	uint32_t left = q->ring ? queued(q) : 0;

	q->dropped_failed += left;
	for (uint32_t i = 0; i < left; i++) {
		struct encoded_span *es = &q->ring[(q->head + i) % q->size];

		resource_put(es->res);
		encoded_span_free(es);
	}
	__atomic_store_n(&q->head, q->head + left, __ATOMIC_RELEASE);
}

static void *exporter_main(void *arg)
{
	struct exporter *e = arg;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		uint64_t now = clock_mono_now(), due = now + ms_to_ns(1000);

		if (e->stopping && now >= e->stop_deadline_mono)
			break;
		if (e->metrics_body) {
			uint8_t *body = e->metrics_body;
			size_t len = e->metrics_len;
			bool ok;

			e->metrics_body = NULL;
			pthread_mutex_unlock(&e->lock);
			ok = send_with_retry(e, e->metrics, body, len, "metrics");
			free(body);
			pthread_mutex_lock(&e->lock);
			e->stats.metric_exports += ok;
			e->stats.metric_exports_failed += !ok;
			continue;
		}
		if (batch_ready(e, &e->spans, now, &due)) {
			send_batch(e, &e->spans);
			continue;
		}
		if (batch_ready(e, &e->logs, now, &due)) {
			send_batch(e, &e->logs);
			continue;
		}
		if (e->stopping)
			break;
		wait_until(e, due);
	}
	drop_queued(&e->spans);
	drop_queued(&e->logs);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* A queue of size items sent in batches by t. Returns 0 or -ENOMEM. */
static int queue_init(struct export_queue *q, const char *what, uint32_t size, uint32_t batch,
		      uint32_t delay_ms,
		      int (*assemble)(const struct encoded_span *, size_t, uint8_t **, size_t *))
{
	q->what = what;
	q->size = size;
	q->batch_size = batch > size ? size : batch;
	q->batch_delay_ms = delay_ms;
	q->assemble = assemble;
	q->ring = calloc(size, sizeof(*q->ring));
	return q->ring ? 0 : -ENOMEM;
}

struct exporter *exporter_start(const struct exporter_opts *opts)
{
	struct exporter *e = calloc(1, sizeof(*e));
	int err = -ENOMEM;

	if (!e)
		return NULL;
	e->opts = *opts;
	if (!e->opts.backoff_initial_ms)
		e->opts.backoff_initial_ms = 1000;
	if (!e->opts.backoff_max_ms)
		e->opts.backoff_max_ms = 5000;
	if (!e->opts.retry_max_elapsed_ms)
		e->opts.retry_max_elapsed_ms = 30000;
	e->sends_ok = true;
	id_rng_seed(&e->jitter, clock_mono_now() ^ (uintptr_t)e);
	pthread_mutex_init(&e->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&e->wake, &ca);
		pthread_cond_init(&e->room, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (queue_init(&e->spans, "spans", e->opts.queue_size, e->opts.batch_size,
		       e->opts.batch_delay_ms, otlp_assemble_traces) ||
	    (opts->logs &&
	     queue_init(&e->logs, "log records", e->opts.logs_queue_size, e->opts.logs_batch_size,
			e->opts.logs_batch_delay_ms, otlp_assemble_logs)))
		goto fail;
	err = -EINVAL;
	if (opts->traces &&
	    !(e->spans.transport = otlp_transport_new(opts->traces, OTLP_SIGNAL_TRACES)))
		goto fail;
	if (opts->metrics && !(e->metrics = otlp_transport_new(opts->metrics, OTLP_SIGNAL_METRICS)))
		goto fail;
	if (opts->logs && !(e->logs.transport = otlp_transport_new(opts->logs, OTLP_SIGNAL_LOGS)))
		goto fail;
	err = -pthread_create(&e->thread, NULL, exporter_main, e);
	if (err) {
		log_error("cannot start the exporter thread: %s", strerror(-err));
		goto fail;
	}
	return e;
fail:
	otlp_transport_free(e->spans.transport);
	otlp_transport_free(e->metrics);
	otlp_transport_free(e->logs.transport);
	free(e->spans.ring);
	free(e->logs.ring);
	free(e);
	errno = -err;
	return NULL;
}

void exporter_stop(struct exporter *e, uint32_t deadline_ms, struct exporter_stats *final)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	e->stop_deadline_mono = clock_mono_now() + ms_to_ns(deadline_ms);
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	resource_put_n(e->spans.credit_res, e->spans.credit);
	resource_put_n(e->logs.credit_res, e->logs.credit);
	if (final)
		exporter_get_stats(e, final);
	otlp_transport_free(e->spans.transport);
	otlp_transport_free(e->metrics);
	otlp_transport_free(e->logs.transport);
	free(e->metrics_body);
	free(e->spans.ring);
	free(e->logs.ring);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->wake);
	pthread_cond_destroy(&e->room);
	free(e);
}

bool exporter_drop_report(struct exporter *e, uint64_t now_mono, char *buf, size_t len)
{
	struct exporter_stats st;
	uint64_t full, failed;
	char since[48] = "";

	exporter_get_stats(e, &st);
	full = st.spans_dropped_full - e->reported_full;
	failed = st.spans_dropped_failed - e->reported_failed;
	if (!full && !failed)
		return false;
	if (e->report_mono && now_mono - e->report_mono < WARN_INTERVAL_NS)
		return false;
	if (e->report_mono)
		snprintf(since, sizeof(since), " in the last %llu s",
			 (unsigned long long)((now_mono - e->report_mono) / 1000000000ull));
	snprintf(buf, len,
		 "%llu span%s dropped%s (export queue full %llu, export failed %llu); last export "
		 "error: %s",
		 (unsigned long long)(full + failed), full + failed == 1 ? "" : "s", since,
		 (unsigned long long)full, (unsigned long long)failed,
		 st.last_error[0] ? st.last_error : "none");
	e->reported_full = st.spans_dropped_full;
	e->reported_failed = st.spans_dropped_failed;
	e->report_mono = now_mono;
	return true;
}

void exporter_get_stats(struct exporter *e, struct exporter_stats *out)
{
	pthread_mutex_lock(&e->lock);
	*out = e->stats;
	out->spans_queued = __atomic_load_n(&e->spans.queued_total, __ATOMIC_RELAXED);
	out->spans_dropped_full = __atomic_load_n(&e->spans.dropped_full, __ATOMIC_RELAXED);
	out->spans_exported = e->spans.exported;
	out->spans_dropped_failed = e->spans.dropped_failed;
	out->queue_depth = queued(&e->spans);
	out->logs_queued = __atomic_load_n(&e->logs.queued_total, __ATOMIC_RELAXED);
	out->logs_dropped_full = __atomic_load_n(&e->logs.dropped_full, __ATOMIC_RELAXED);
	out->logs_exported = e->logs.exported;
	out->logs_dropped_failed = e->logs.dropped_failed;
	out->logs_queue_depth = e->logs.ring ? queued(&e->logs) : 0;
	pthread_mutex_unlock(&e->lock);
}
