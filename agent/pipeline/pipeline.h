/* SPDX-License-Identifier: MIT */
/*
 * What `sonde run` does with each finished span, on the main thread: find the
 * process's resource, template the route, count it in the RED metrics, decide
 * sampling and hand it to the exporter (or print it). Also the agent's health
 * figures, which the Prometheus thread and the OTLP metrics read.
 */
#ifndef SONDE_PIPELINE_H
#define SONDE_PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "export/exporter.h"
#include "k8s/k8s_meta.h"
#include "core/ingest.h"
#include "logs/logs.h"
#include "pipeline/metrics.h"
#include "cli/output.h"
#include "export/prom_text.h"
#include "host/resource.h"
#include "spans/route.h"
#include "spans/trace_context.h"

/* Counters the main thread publishes for other threads (under metrics_lock). */
struct pipeline_health {
	uint64_t events;
	uint64_t events_lost; /* kernel: ring buffer full */
	uint64_t parse_errors;
	uint64_t spans;
	uint64_t spans_unsampled;
	uint64_t conns_evicted;
	uint64_t routes_overflowed;
	uint64_t bytes_uncaptured; /* moved by traced calls, not copied to the agent */
	uint64_t resources_evicted;
	uint64_t links;			    /* spans given a parent, by any mechanism */
	uint64_t links_roots_expected;	    /* left roots where a parent was expected */
	uint64_t links_no_request;	    /* roots a hook said serve no request */
	uint64_t links_unlinked_event_loop; /* calls of event-loop threads, not linked */
	uint64_t links_held;		    /* spans held while their trace waited */
	uint64_t links_evicted;		    /* request contexts evicted from full tables */
	uint64_t k8s_spans_held;	    /* waited for their pod's metadata */
	uint64_t k8s_spans_unresolved;	    /* went out without it (wait over or hold full) */
	uint64_t k8s_logs_held;		    /* log records that waited for it */
	uint64_t k8s_logs_unresolved;	    /* ... went out without it */
	/* Every protocol's own counters (protocols/registry.h). */
	struct protocol_counter protocol[PROTOCOLS_MAX * PROTOCOL_COUNTERS_MAX];
	size_t nprotocol;
	/* Logs (agent/logs/; kernel: what the byte budget did not copy) */
	struct logs_stats logs;
	uint64_t logs_kernel_limited;
};

/* Spans and log records of processes whose pod is not known yet wait here
 * (k8s.metadata_wait) so that they and the metric series carry the pod; one
 * ring in arrival order (a request's lines before its span), bounded, oldest
 * first. */
struct held_item {
	bool is_log;
	union {
		struct span span;
		struct log_record log; /* body: a malloc'ed copy */
	};
	struct resource *res; /* the pending resource, with a reference */
	uint64_t deadline;    /* monotonic ns */
};

struct pipeline {
	const struct sonde_config *cfg;
	struct resource_cache *resources;
	struct route_registry *routes;
	struct metrics *metrics;
	pthread_mutex_t metrics_lock; /* metrics and health */
	struct pipeline_health health;
	struct exporter *exporter; /* NULL unless traces or metrics go to OTLP */
	struct output console;	   /* traces.exporter = console */
	struct sampler sampler;
	uint64_t spans, unsampled;
	struct k8s_meta *k8s;	/* NULL without Kubernetes */
	struct held_item *held; /* ring of held_cap; NULL without Kubernetes */
	uint32_t held_cap, held_head, held_count;
	uint64_t spans_held, spans_unresolved, logs_held, logs_unresolved;
	struct logs *logs;		     /* NULL unless logs are collected */
	uint64_t logs_out;		     /* records handed to their exporter */
	uint64_t start_ns;		     /* wall clock */
	atomic_uint_fast64_t last_loop_mono; /* for /healthz */
};

/* k8s may be NULL (no Kubernetes); it must outlive the pipeline. */
/* may_wait: whether a full export queue may make the event loop wait for room
 * now (tracer_ring_has_room), with its ctx; NULL: spans drop at once. */
int pipeline_init(struct pipeline *p, const struct sonde_config *cfg, struct k8s_meta *k8s,
		  bool (*may_wait)(void *ctx), void *may_wait_ctx);
void pipeline_destroy(struct pipeline *p);
/* span_out_fn */
void pipeline_span(void *ctx, const struct span *sp);
/* log_out_fn: a log record of a traced process, with its resource, to the
 * logs exporter (OTLP, or printed with console). */
void pipeline_log(void *ctx, const struct log_record *r);
/* ingest exit_out */
void pipeline_exit(void *ctx, uint32_t tgid, uint64_t ts_mono);
/* Releases held spans whose pod is now known or whose wait is over (all of
 * them with force, at exit). Call once per loop. */
void pipeline_release_held(struct pipeline *p, uint64_t now_mono, bool force);
/* Publishes the main thread's counters; call once per loop. */
void pipeline_publish(struct pipeline *p, const struct ingest *ig,
		      const uint64_t counters[SONDE_CNT__MAX]);
/* Encodes a metrics snapshot and hands it to the exporter (when pushing). */
void pipeline_push_metrics(struct pipeline *p);
/* Health metrics as a list; fills up to max and returns the count. Caller
 * holds metrics_lock. */
size_t pipeline_health_list(struct pipeline *p, struct health_metric *out, size_t max);
/* prom_render_fn and prom_health_fn */
void pipeline_render_prom(void *ctx, struct strbuf *sb, bool openmetrics);
int pipeline_healthy(void *ctx, char *why, size_t len);

#endif /* SONDE_PIPELINE_H */
