/* SPDX-License-Identifier: MIT */
/*
 * The export pipeline: a bounded span queue and a metrics slot, drained by one
 * exporter thread that batches (size and time), encodes OTLP, sends, and
 * retries what the collector calls retryable with exponential backoff and
 * jitter, honouring Retry-After. The main thread never waits on the network:
 * offering a span encodes it straight into a free slot of the queue, which
 * the exporter thread reads without a lock (one producer, one consumer). A full
 * queue makes it wait up to 50 ms for room while exports succeed and the
 * kernel's ring buffer has room for the events meanwhile; otherwise the span
 * is dropped (counted).
 */
#ifndef SONDE_EXPORTER_H
#define SONDE_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "export/otlp_encode.h"

struct exporter_opts {
	const struct otlp_target *traces;  /* NULL: spans are not exported */
	const struct otlp_target *metrics; /* NULL: metrics are not pushed */
	const struct otlp_target *logs;	   /* NULL: log records are not exported */
	uint32_t queue_size;		   /* spans */
	uint32_t batch_size;		   /* spans per request */
	uint32_t batch_delay_ms;	   /* longest a span waits for a batch to fill */
	bool with_query;		   /* export url.query */
	uint32_t logs_queue_size, logs_batch_size, logs_batch_delay_ms; /* the same for logs */
	/* Whether the caller may wait for room in a full queue now (what it does
	 * not read meanwhile must have somewhere to wait); NULL: never wait. */
	bool (*may_wait)(void *ctx);
	void *may_wait_ctx;
	/* Retry policy; 0 picks the default (1 s, 5 s, 30 s). */
	uint32_t backoff_initial_ms, backoff_max_ms, retry_max_elapsed_ms;
};

struct exporter_stats {
	uint64_t spans_queued;
	uint64_t spans_exported;
	uint64_t spans_dropped_full;   /* the queue was full (or out of memory) */
	uint64_t spans_dropped_failed; /* the collector refused, or retries ran out */
	uint64_t queue_waits;	       /* times the main thread waited for room */
	uint64_t requests;	       /* export requests sent (both signals) */
	uint64_t request_failures;     /* requests that did not succeed, retries included */
	uint64_t retries;
	uint64_t metric_exports;
	uint64_t metric_exports_failed;
	uint64_t queue_depth;
	uint64_t logs_queued, logs_exported;
	uint64_t logs_dropped_full, logs_dropped_failed;
	uint64_t logs_queue_depth;
	char last_error[320];
};

struct exporter;

/* Starts the thread. NULL with errno set (and a log line) on failure. */
struct exporter *exporter_start(const struct exporter_opts *opts);
/* Main thread. Encodes the span (OTLP, with its ids and route), queues the
 * bytes and takes a reference on res; false when dropped (the queue is full,
 * or out of memory). */
bool exporter_offer_span(struct exporter *e, const struct span *sp, struct resource *res,
			 const struct trace_ids *ids, const char *route);
/* Main thread. Encodes the log record (OTLP LogRecord) into the log queue
 * with a reference on res, as exporter_offer_span() does; observed_ns: when
 * sonde saw it (wall clock). false when dropped, or without a logs target. */
bool exporter_offer_log(struct exporter *e, const struct log_record *r, struct resource *res,
			uint64_t observed_ns);
/* Main thread. Takes ownership of body (malloc'ed). A snapshot not yet sent is
 * replaced: cumulative metrics make the newer one enough. */
void exporter_offer_metrics(struct exporter *e, uint8_t *body, size_t len);
/* Sends what is queued, giving up after deadline_ms (a send in flight may
 * take up to its timeout more), stops the thread and frees e. The final
 * figures go to *final when it is not NULL. */
void exporter_stop(struct exporter *e, uint32_t deadline_ms, struct exporter_stats *final);
void exporter_get_stats(struct exporter *e, struct exporter_stats *out);
/* Main thread, each turn of its loop. Spans dropped are said as they are
 * dropped (during an outage the queue fills long before the retries of the
 * batch in flight run out): true, with the line for the log in buf, when
 * spans were dropped since the last line and that was a minute ago or more
 * (or there was none). */
bool exporter_drop_report(struct exporter *e, uint64_t now_mono, char *buf, size_t len);

#endif /* SONDE_EXPORTER_H */
