/* SPDX-License-Identifier: MIT */
/*
 * What a collector's answer means for the exporter: done, try again (and when),
 * or give up. Pure: otlp_transport.c gathers the status, headers and the start
 * of the body; the rules are here (OTLP specification, "Failures" and
 * "Throttling", for OTLP/HTTP and OTLP/gRPC).
 */
#ifndef SONDE_OTLP_RESPONSE_H
#define SONDE_OTLP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum export_result {
	EXPORT_OK = 0,
	EXPORT_RETRY, /* connection failure, timeout, HTTP 429/502/503/504, gRPC
		       * UNAVAILABLE/RESOURCE_EXHAUSTED (and the others the OTLP
		       * specification calls retryable) */
	EXPORT_FAIL,  /* anything else: retrying would not help */
};

struct export_outcome {
	enum export_result result;
	uint32_t retry_after_ms; /* from Retry-After / grpc retry info; 0 = not given */
	char detail[256];	 /* one line for logs: "HTTP 503", "connection refused", … */
};

/* OTLP leaves the cap on server-requested delays to the client; five minutes
 * keeps a misconfigured collector from parking the exporter for hours. */
#define OTLP_RETRY_AFTER_MAX_MS (5u * 60u * 1000u)

/* A collector's answer, as the transport gathered it. */
struct otlp_response {
	long http_status;
	const char *content_type; /* "" when absent */
	const char *retry_after;  /* the Retry-After value, "" when absent */
	int grpc_status;	  /* -1: no grpc-status header or trailer */
	const char *grpc_message; /* grpc-message as sent (percent-encoded), "" when absent */
	const uint8_t *body;	  /* the start of the body that was kept */
	size_t body_len;
};

/*
 * The outcome of an OTLP/HTTP (grpc false) or OTLP/gRPC answer, with a detail
 * such as "HTTP 400: <the collector's message>" or "grpc-status 14 UNAVAILABLE".
 * now: the wall clock in seconds, for a Retry-After given as a date.
 */
void otlp_response_classify(const struct otlp_response *r, bool grpc, time_t now,
			    struct export_outcome *out);

/* HTTP statuses that mean "try again later": 429, 502, 503, 504. */
bool otlp_http_retryable(long status);
/* gRPC codes the OTLP specification lists as retryable. */
bool otlp_grpc_retryable(int code);

/*
 * Retry-After (RFC 9110 10.2.3), delay-seconds or an HTTP-date, as milliseconds
 * from now, at most OTLP_RETRY_AFTER_MAX_MS; 0 when empty, not understood, or a
 * date that has passed.
 */
uint32_t otlp_retry_after_ms(const char *value, time_t now);

/* Sets out: result, delay, and the detail from fmt, with anything that would
 * garble a log line replaced by '?'. */
__attribute__((format(printf, 4, 5))) void otlp_outcome_set(struct export_outcome *out,
							    enum export_result result,
							    uint32_t retry_after_ms,
							    const char *fmt, ...);

#endif /* SONDE_OTLP_RESPONSE_H */
