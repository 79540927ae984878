/* SPDX-License-Identifier: MIT */
/*
 * Sends one encoded OTLP request (ExportTraceServiceRequest or
 * ExportMetricsServiceRequest bytes) to a collector over OTLP/HTTP (protobuf) or
 * OTLP/gRPC, with libcurl, and says whether it worked, may be retried, or failed
 * for good. One transport per signal; used from the exporter thread only.
 */
#ifndef SONDE_OTLP_TRANSPORT_H
#define SONDE_OTLP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "export/otlp_response.h"

enum otlp_signal {
	OTLP_SIGNAL_TRACES = 0,
	OTLP_SIGNAL_METRICS,
	OTLP_SIGNAL_LOGS,
};

struct otlp_transport;

/*
 * Initialises libcurl (curl_global_init) once per process. Call it from the main
 * thread before any other thread starts: libcurl's global init is not thread-safe
 * on every build, and it also initialises OpenSSL. Later calls, and the call
 * otlp_transport_new() makes itself, do nothing. Returns 0 or -EIO.
 */
int otlp_transport_global_init(void);

/* Returns NULL with errno set (and a log line) when libcurl cannot be set up. */
struct otlp_transport *otlp_transport_new(const struct otlp_target *target,
					  enum otlp_signal signal);
void otlp_transport_free(struct otlp_transport *t);

/* Sends body (uncompressed protobuf); compresses it when the target asks for
 * gzip. Blocks at most the target's timeout. Never crashes on any answer. */
void otlp_transport_send(struct otlp_transport *t, const uint8_t *body, size_t len,
			 struct export_outcome *out);

#endif /* SONDE_OTLP_TRANSPORT_H */
