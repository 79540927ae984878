/* SPDX-License-Identifier: MIT */
/*
 * RED metrics: per (process, kind, method, status, route, error, server) series,
 * histograms of duration and body sizes, cumulative since the series started;
 * gRPC calls and database commands in series of their own conventions.
 * The number of series is bounded: past the limit a request is counted in one
 * overflow series per process and kind, marked otel.metric.overflow=true (the
 * OpenTelemetry SDK's cardinality-limit convention). Pure code; the caller
 * serialises access (the Prometheus thread reads while the main thread writes).
 */
#ifndef SONDE_METRICS_H
#define SONDE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/resource.h"
#include "spans/route.h"
#include "spans/span.h"

/* Semantic-convention advice for http.*.request.duration, in seconds. */
#define DURATION_BOUNDS 14
/* OpenTelemetry SDK default boundaries, used for body sizes in bytes. */
#define SIZE_BOUNDS 15
/* rpc.*.duration is in milliseconds with the SDK default boundaries. */
#define RPC_BOUNDS 15
/* db.client.operation.duration, in seconds (the database conventions' advice). */
#define DB_BOUNDS  9
#define MAX_BOUNDS 15

extern const double metrics_duration_bounds[DURATION_BOUNDS];
extern const double metrics_size_bounds[SIZE_BOUNDS];
extern const double metrics_rpc_bounds[RPC_BOUNDS];
extern const double metrics_db_bounds[DB_BOUNDS];

struct histogram {
	uint64_t count;
	double sum, min, max;
	uint64_t buckets[MAX_BOUNDS + 1];
};

struct series_key {
	struct resource *res;
	enum span_kind kind;
	bool overflow;
	bool tls;	 /* url.scheme https */
	uint16_t status; /* 0: no response */
	uint16_t server_port;
	char method[SPAN_METHOD_LEN];
	char protocol_version[4]; /* network.protocol.version: "1.1", "2" */
	char route[ROUTE_LEN];
	char error_type[16];
	char server_address[128]; /* client series only */
	/* gRPC calls count in rpc.*.duration series instead of the HTTP ones. */
	bool rpc;
	int16_t grpc_status; /* rpc.grpc.status_code; -1 when unknown */
	char rpc_service[128];
	char rpc_method[64];
	/* Database commands count in db.client.operation.duration series. */
	bool db;
	uint8_t db_system; /* enum span_db_system */
	char db_operation[SPAN_DB_OPERATION_LEN];
	char db_collection[SPAN_DB_COLLECTION_LEN];
	char db_namespace[SPAN_DB_NAMESPACE_LEN];
};

/* A sampled span that fell in a duration bucket (the last one): the link
 * from the metric to its trace (OTLP Exemplar, OpenMetrics exemplar). */
struct exemplar {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	double value;	  /* in the histogram's unit */
	uint64_t time_ns; /* wall clock: the span's end */
};

struct series {
	struct series_key key;
	uint64_t start_ns;	    /* wall clock: when the series began counting */
	struct histogram duration;  /* seconds (HTTP, databases), milliseconds (RPC) */
	struct histogram req_size;  /* bytes */
	struct histogram resp_size; /* bytes */
	/* Per duration bucket, its last sampled span; time_ns 0: none. */
	struct exemplar exemplars[MAX_BOUNDS + 1];
	struct series *next;	  /* hash chain */
	struct series *list_next; /* creation order, for stable output */
};

struct metrics_stats {
	uint64_t series;
	uint64_t overflowed; /* requests counted in an overflow series */
	uint64_t expired;    /* series dropped after their process exited */
};

struct metrics;

struct metrics *metrics_new(uint32_t series_limit);
void metrics_free(struct metrics *m);

/* Counts one finished exchange. route may be NULL (no template). */
void metrics_record(struct metrics *m, struct resource *res, const struct span *sp,
		    const char *route);
/* The same; sampled: the span is exported, so it becomes its duration
 * bucket's exemplar (its trace and span ids). */
void metrics_record_sampled(struct metrics *m, struct resource *res, const struct span *sp,
			    const char *route, bool sampled);
/* The duration bucket of value v (buckets are (prev, bound]). */
int metrics_bucket(const double *bounds, int nbounds, double v);

/* Drops the series of processes that exited before `before_mono`. */
void metrics_expire(struct metrics *m, uint64_t before_mono);

/* Series in creation order. */
const struct series *metrics_first(const struct metrics *m);
void metrics_stats(const struct metrics *m, struct metrics_stats *out);

/* Builds the key of a span's series (exposed for tests). */
void metrics_key(struct series_key *k, struct resource *res, const struct span *sp,
		 const char *route);

#endif /* SONDE_METRICS_H */
