/* SPDX-License-Identifier: MIT */
/*
 * Spans and metrics → OTLP protobuf bytes: ExportTraceServiceRequest written
 * in one pass by pb_writer.c (spans are the hot path), ExportMetricsServiceRequest
 * through protobuf-c messages generated from the files in proto/ (once per
 * interval). Field numbers are those of the proto/ files. Pure code.
 */
#ifndef SONDE_OTLP_ENCODE_H
#define SONDE_OTLP_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "resource.h"
#include "route.h"
#include "span.h"
#include "trace_context.h"

/* A span on its way to the collector, as it sits in the export queue. */
struct export_span {
	struct span span;
	struct resource *res; /* holds a reference */
	struct trace_ids ids;
	char route[ROUTE_LEN];
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

/*
 * Encodes every series of m (cumulative histograms, grouped by resource) and
 * the agent's health metrics under `self`, stamped `now_ns` (wall clock).
 * agent_start_ns is the start of the health counters.
 */
int otlp_encode_metrics(const struct metrics *m, const struct health_metric *health, size_t nhealth,
			struct resource *self, uint64_t agent_start_ns, uint64_t now_ns,
			uint8_t **out, size_t *outlen);

#endif /* SONDE_OTLP_ENCODE_H */
