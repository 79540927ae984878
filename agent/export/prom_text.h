/* SPDX-License-Identifier: MIT */
/*
 * The RED series and the agent's health in the Prometheus text exposition format
 * (version 0.0.4), named as the OpenTelemetry-to-Prometheus compatibility rules
 * name them: http.server.request.duration (s) → http_server_request_duration_seconds.
 * Pure code.
 */
#ifndef SONDE_PROM_TEXT_H
#define SONDE_PROM_TEXT_H

#include <stddef.h>

#include "pipeline/metrics.h"
#include "export/otlp_encode.h"

struct strbuf {
	char *buf;
	size_t len, cap;
	int failed; /* out of memory: the text is incomplete */
};

void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_free(struct strbuf *sb);

/* Appends the whole exposition to sb. */
void prom_render(struct strbuf *sb, const struct metrics *m, const struct health_metric *health,
		 size_t nhealth);

/* The same in the OpenMetrics text format (1.0.0), which Prometheus asks for
 * with Accept: application/openmetrics-text: counters named without _total
 * in their TYPE line, the duration buckets' exemplars (trace_id, span_id,
 * value, time) after their samples, and "# EOF" at the end. */
void prom_render_openmetrics(struct strbuf *sb, const struct metrics *m,
			     const struct health_metric *health, size_t nhealth);

#endif /* SONDE_PROM_TEXT_H */
