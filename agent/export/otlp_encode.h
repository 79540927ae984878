/* SPDX-License-Identifier: MIT */
/*
 * Spans and metrics → OTLP protobuf bytes: ExportTraceServiceRequest written
 * in one pass by pb_writer.c (spans are the hot path), ExportMetricsServiceRequest
 * through protobuf-c messages generated from the files in otlp-proto/ (once per
 * interval). Field numbers are those of the otlp-proto/ files. Pure code.
 */
#ifndef SONDE_OTLP_ENCODE_H
#define SONDE_OTLP_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logs/logs.h"
#include "pipeline/metrics.h"
#include "host/resource.h"
#include "spans/route.h"
#include "spans/span.h"
#include "spans/trace_context.h"

/* A span on its way to the collector, as it sits in the export queue. */
struct export_span {
	struct span span;
	struct resource *res; /* holds a reference */
	struct trace_ids ids;
	char route[ROUTE_LEN];
};

struct pb_writer;

/*
 * A span already encoded as the Span field of a ScopeSpans (tag and length
 * included), waiting in the export queue; or a log record as the LogRecord
 * field of a ScopeLogs (the same field number). The main thread encodes it while the
 * span is in its cache; the exporter thread copies these bytes into a request
 * instead of reading a struct span written on the other core (those reads were
 * most of the exporter's time: perf, `make bench`). Small spans, nearly all of
 * them, are held inline; larger ones on the heap.
 */
#define ENCODED_SPAN_INLINE 1000
struct encoded_span {
	struct resource *res; /* the caller manages its reference */
	uint32_t len;
	uint8_t *heap; /* the bytes when they did not fit inline, else NULL */
	uint8_t bytes[ENCODED_SPAN_INLINE];
};

/* One of the agent's own health metrics. */
struct health_metric {
	const char *name; /* OpenTelemetry name, e.g. "sonde.spans.dropped" */
	const char *description;
	const char *unit;
	bool gauge; /* else a monotonic counter */
	uint64_t value;
};

/* Encodes n spans (grouped by resource). *out is malloc'ed. Returns 0 or -ENOMEM. */
int otlp_encode_traces(const struct export_span *spans, size_t n, bool with_query, uint8_t **out,
		       size_t *outlen);

/* Encodes one span into w, emptied first. route may be "" (none). Returns 0
 * or -ENOMEM. */
int otlp_encode_span(struct pb_writer *w, const struct span *sp, const struct trace_ids *ids,
		     const char *route, bool with_query);
/* Encodes the span straight into *es (inline, or on the heap when longer),
 * with res: otlp_encode_span's bytes, without a copy from a scratch buffer.
 * Returns 0 or -ENOMEM (*es is then left without bytes). */
int encoded_span_encode(struct encoded_span *es, struct resource *res, const struct span *sp,
			const struct trace_ids *ids, const char *route, bool with_query);
void encoded_span_free(struct encoded_span *es);
/* The request for n encoded spans, grouped by resource in queue order. *out is
 * malloc'ed. Returns 0 or -ENOMEM. */
int otlp_assemble_traces(const struct encoded_span *spans, size_t n, uint8_t **out, size_t *outlen);

/* A log record as a LogRecord (body, severity, times, log.iostream, its
 * request's trace and span ids), straight into *es with res. observed_ns:
 * when sonde saw it. Returns 0 or -ENOMEM. */
int encoded_log_encode(struct encoded_span *es, struct resource *res, const struct log_record *r,
		       uint64_t observed_ns);
/* The ExportLogsServiceRequest for n encoded log records, grouped by
 * resource in queue order. *out is malloc'ed. Returns 0 or -ENOMEM. */
int otlp_assemble_logs(const struct encoded_span *logs, size_t n, uint8_t **out, size_t *outlen);

/*
 * Encodes every series of m (cumulative histograms, grouped by resource) and
 * the agent's health metrics under `self`, stamped `now_ns` (wall clock).
 * agent_start_ns is the start of the health counters.
 */
int otlp_encode_metrics(const struct metrics *m, const struct health_metric *health, size_t nhealth,
			struct resource *self, uint64_t agent_start_ns, uint64_t now_ns,
			uint8_t **out, size_t *outlen);

#endif /* SONDE_OTLP_ENCODE_H */
