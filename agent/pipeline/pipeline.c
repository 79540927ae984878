/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli/format.h"
#include "core/clock.h"
#include "util/log.h"
#include "pipeline/pipeline.h"

#define MAX_PROCESSES	  4096 /* resources cached at once */
#define MAX_SERVICES	  1024 /* services with their own route set */
#define QUEUE_DEADLINE_MS 5000
#define HELD_ITEMS	  1024 /* spans and log records waiting for their pod's metadata */
/* The health list: the agent's own figures, the logs', every protocol's. */
#define HEALTH_MAX (64 + PROTOCOLS_MAX * PROTOCOL_COUNTERS_MAX)

static struct held_item *held_at(struct pipeline *p, uint32_t i);
static void held_free(struct held_item *h);

int pipeline_init(struct pipeline *p, const struct sonde_config *cfg, struct k8s_meta *k8s,
		  bool (*may_wait)(void *ctx), void *may_wait_ctx)
{
	struct exporter_opts eo = { 0 };

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->start_ns = clock_real_now();
	p->sampler = (struct sampler){ .kind = cfg->sampler, .ratio = cfg->sampler_arg };
	p->console = (struct output){ .format = OUTPUT_TEXT,
				      .stream = stdout,
				      .with_query = cfg->capture_query };
	pthread_mutex_init(&p->metrics_lock, NULL);
	atomic_store(&p->last_loop_mono, clock_mono_now());

	p->k8s = k8s;
	p->resources =
		resource_cache_new(MAX_PROCESSES, &cfg->resource_attributes, k8s_meta_lookup(k8s));
	p->routes = route_registry_new(cfg->route_limit, MAX_SERVICES);
	p->metrics = metrics_new(cfg->metric_series_limit);
	if (k8s && cfg->k8s_metadata_wait_ms) {
		p->held_cap = HELD_ITEMS;
		p->held = calloc(p->held_cap, sizeof(*p->held));
	}
	if (!p->resources || !p->routes || !p->metrics || (p->held_cap && !p->held)) {
		log_error("out of memory");
		pipeline_destroy(p);
		return -ENOMEM;
	}
	if (cfg->traces_exporter == TRACES_EXPORTER_OTLP)
		eo.traces = &cfg->traces_target;
	if (cfg->metrics_exporter == METRICS_EXPORTER_OTLP)
		eo.metrics = &cfg->metrics_target;
	if (cfg->logs_exporter == LOGS_EXPORTER_OTLP && cfg->logs_enabled)
		eo.logs = &cfg->logs_target;
	if (eo.traces || eo.metrics || eo.logs) {
		eo.queue_size = cfg->bsp_max_queue_size;
		eo.batch_size = cfg->bsp_max_export_batch_size;
		eo.batch_delay_ms = cfg->bsp_schedule_delay_ms;
		eo.with_query = cfg->capture_query;
		eo.logs_queue_size = cfg->blrp_max_queue_size;
		eo.logs_batch_size = cfg->blrp_max_export_batch_size;
		eo.logs_batch_delay_ms = cfg->blrp_schedule_delay_ms;
		eo.may_wait = may_wait;
		eo.may_wait_ctx = may_wait_ctx;
		p->exporter = exporter_start(&eo);
		if (!p->exporter) {
			pipeline_destroy(p);
			return -EINVAL;
		}
	}
	return 0;
}

void pipeline_destroy(struct pipeline *p)
{
	exporter_stop(p->exporter, QUEUE_DEADLINE_MS, NULL);
	p->exporter = NULL;
	/* What is still held here is not sent: the exporter is gone already
	 * (cmd_run releases it before it stops the exporter). */
	for (uint32_t i = 0; i < p->held_count; i++)
		held_free(held_at(p, i));
	p->held_count = 0;
	free(p->held);
	p->held = NULL;
	metrics_free(p->metrics);
	route_registry_free(p->routes);
	resource_cache_free(p->resources);
	pthread_mutex_destroy(&p->metrics_lock);
	p->metrics = NULL;
	p->routes = NULL;
	p->resources = NULL;
}

/* Metrics, sampling and export of one span with its resource. */
static void span_out(struct pipeline *p, const struct span *sp, struct resource *res)
{
	struct trace_ids ids;
	char route[ROUTE_LEN];
	const char *admitted;

	/* gRPC paths name a method already, database commands have none: no
	 * route to template or admit. */
	if (sp->flags & (SPAN_F_GRPC | SPAN_F_DB)) {
		admitted = "";
	} else {
		route_template(sp->target, span_path_len(sp), route, sizeof(route));
		admitted = route_registry_admit(p->routes, res->service_name, route);
	}

	/* The sampler first: a span that is exported becomes its bucket's
	 * exemplar, the link from the metric to its trace. */
	if (p->cfg->traces_exporter == TRACES_EXPORTER_OTLP)
		trace_ids_for(&ids, sp, &p->sampler);
	pthread_mutex_lock(&p->metrics_lock);
	metrics_record_sampled(p->metrics, res, sp, admitted,
			       p->cfg->traces_exporter == TRACES_EXPORTER_OTLP && ids.sampled);
	pthread_mutex_unlock(&p->metrics_lock);

	switch (p->cfg->traces_exporter) {
	case TRACES_EXPORTER_CONSOLE:
		output_span(&p->console, sp);
		return;
	case TRACES_EXPORTER_OTLP:
		break;
	default:
		return;
	}
	if (!ids.sampled) {
		p->unsampled++;
		return;
	}
	exporter_offer_span(p->exporter, sp, res, &ids, admitted);
}

static struct held_item *held_at(struct pipeline *p, uint32_t i)
{
	return &p->held[(p->held_head + i) % p->held_cap];
}

static void held_free(struct held_item *h)
{
	if (h->is_log)
		free((char *)h->log.body);
	resource_put(h->res);
}

/* A slot to hold a span or log record of res in, when res's pod is not known
 * yet and its wait is not over (counted when the hold is full); NULL: send it
 * on now. The wait runs from when the process was first seen, so a pod that
 * never appears costs one wait, not one per span. */
static struct held_item *hold_slot(struct pipeline *p, struct resource *res, uint64_t *unresolved)
{
	uint64_t deadline = res->created_mono + p->cfg->k8s_metadata_wait_ms * 1000000ull;
	struct held_item *h;

	if (!res->k8s_pending || !p->held || clock_mono_now() >= deadline)
		return NULL;
	if (p->held_count == p->held_cap) {
		(*unresolved)++;
		return NULL;
	}
	h = held_at(p, p->held_count++);
	h->res = res;
	resource_get(res);
	h->deadline = deadline;
	return h;
}

static void log_out(struct pipeline *p, const struct log_record *r, struct resource *res)
{
	p->logs_out += exporter_offer_log(p->exporter, r, res, clock_real_now());
}

void pipeline_span(void *ctx, const struct span *sp)
{
	struct pipeline *p = ctx;
	struct resource *res = resource_cache_get(p->resources, sp->pid, sp->comm);
	struct held_item *h;

	p->spans++;
	if (!res)
		return;
	h = hold_slot(p, res, &p->spans_unresolved);
	if (h) {
		h->is_log = false;
		h->span = *sp;
		p->spans_held++;
		return;
	}
	span_out(p, sp, res);
}

void pipeline_release_held(struct pipeline *p, uint64_t now_mono, bool force)
{
	uint32_t kept = 0, n = p->held_count;

	/* In arrival order; those still waiting are packed to the front. */
	for (uint32_t i = 0; i < n; i++) {
		struct held_item *h = held_at(p, i);
		struct resource *known = resource_cache_resolve(p->resources, h->res), *res = known;

		if (!known && !force && now_mono < h->deadline) {
			if (kept != i)
				memcpy(held_at(p, kept), h, sizeof(*h));
			kept++;
			continue;
		}
		if (!known)
			res = h->res;
		if (h->is_log) {
			p->logs_unresolved += !known;
			log_out(p, &h->log, res);
		} else {
			p->spans_unresolved += !known;
			span_out(p, &h->span, res);
		}
		resource_put(known);
		held_free(h);
	}
	p->held_count = kept;
}

void pipeline_log(void *ctx, const struct log_record *r)
{
	struct pipeline *p = ctx;
	struct held_item *h;
	struct resource *res;
	char *body;

	if (p->cfg->logs_exporter == LOGS_EXPORTER_CONSOLE) {
		struct strbuf sb = { 0 };

		format_log_text(&sb, r, output_comm(&p->console, r->tgid), 2, true);
		if (sb.buf)
			fputs(sb.buf, p->console.stream);
		strbuf_free(&sb);
		p->logs_out++;
		return;
	}
	if (!p->exporter)
		return;
	/* The process's resource, as its spans have it: a pod's record waits
	 * for its metadata as spans do. */
	res = resource_cache_get(p->resources, r->tgid, output_comm(&p->console, r->tgid));
	if (!res)
		return;
	h = hold_slot(p, res, &p->logs_unresolved);
	body = h ? malloc(r->len ? r->len : 1) : NULL;
	if (h && !body) { /* no memory to hold it: it goes now, slot given back */
		p->held_count--;
		resource_put(h->res);
		p->logs_unresolved++;
		h = NULL;
	}
	if (h) {
		memcpy(body, r->body, r->len);
		h->is_log = true;
		h->log = *r;
		h->log.body = body;
		p->logs_held++;
		return;
	}
	log_out(p, r, res);
}

void pipeline_exit(void *ctx, uint32_t tgid, uint64_t ts_mono)
{
	struct pipeline *p = ctx;

	/* Under the lock: metrics_expire reads the exited flag. */
	pthread_mutex_lock(&p->metrics_lock);
	resource_cache_exit(p->resources, tgid, ts_mono);
	pthread_mutex_unlock(&p->metrics_lock);
}

void pipeline_publish(struct pipeline *p, const struct ingest *ig,
		      const uint64_t counters[SONDE_CNT__MAX])
{
	uint64_t events_lost = counters[SONDE_CNT_RB_FULL];
	struct logs_stats logs = { 0 };

	uint64_t now = clock_mono_now();
	/* Series of processes gone for two export intervals (at least a minute)
	 * have been exported and scraped: drop them so memory does not grow with
	 * process churn. */
	uint64_t grace = 2ull * p->cfg->metric_export_interval_ms * 1000000ull;

	if (grace < 60000000000ull)
		grace = 60000000000ull;
	const struct linker_stats *ls = &ig->linker.stats;
	uint64_t links = 0;

	for (int i = SPAN_LINK_ROOT + 1; i < SPAN_LINK__COUNT; i++)
		links += ls->links[i];
	if (p->logs)
		logs_get_stats(p->logs, &logs);
	pthread_mutex_lock(&p->metrics_lock);
	p->health = (struct pipeline_health){
		.events = ig->stats.events,
		.events_lost = events_lost,
		.parse_errors = protocols_parse_errors(&ig->protocols),
		.spans = p->spans,
		.spans_unsampled = p->unsampled,
		.conns_evicted = ig->stats.conns_evicted,
		.routes_overflowed = route_registry_overflows(p->routes),
		.bytes_uncaptured = ig->stats.bytes_total - ig->stats.bytes_captured,
		.resources_evicted = resource_cache_evicted(p->resources),
		.links = links,
		.links_roots_expected = ls->roots_expected,
		.links_no_request = ls->roots_no_request,
		.links_unlinked_event_loop = ls->unlinked_event_loop,
		.links_held = ls->held,
		.links_evicted = ls->evicted,
		.k8s_spans_held = p->spans_held,
		.k8s_spans_unresolved = p->spans_unresolved,
		.k8s_logs_held = p->logs_held,
		.k8s_logs_unresolved = p->logs_unresolved,
		.logs = logs,
		.logs_kernel_limited = counters[SONDE_CNT_LOG_LIMITED],
	};
	for (size_t i = 0; i < PROTOCOLS_MAX; i++) {
		const struct protocol *proto = protocol_at(i);

		if (proto)
			p->health.nprotocol += protocol_counters(
				&ig->protocols, proto, p->health.protocol + p->health.nprotocol);
	}
	if (now > grace)
		metrics_expire(p->metrics, now - grace);
	pthread_mutex_unlock(&p->metrics_lock);
	atomic_store(&p->last_loop_mono, now);
	if (p->exporter) {
		char line[512];

		if (exporter_drop_report(p->exporter, now, line, sizeof(line)))
			log_warn("%s", line);
	}
}

size_t pipeline_health_list(struct pipeline *p, struct health_metric *out, size_t max)
{
	struct exporter_stats es = { 0 };
	struct k8s_meta_health kh;
	struct metrics_stats ms;
	size_t n = 0;

	if (p->exporter)
		exporter_get_stats(p->exporter, &es);
	metrics_stats(p->metrics, &ms);
	k8s_meta_health(p->k8s, &kh);
	const struct health_metric all[] = {
		{ "sonde.events.read", "Ring buffer events read.", "{event}", false,
		  p->health.events },
		{ "sonde.events.lost",
		  "Events the kernel dropped because the ring buffer was full.", "{event}", false,
		  p->health.events_lost },
		{ "sonde.parse.errors", "Protocol parse errors.", "{error}", false,
		  p->health.parse_errors },
		{ "sonde.spans", "Spans built from traffic.", "{span}", false, p->health.spans },
		{ "sonde.spans.unsampled", "Spans the sampler did not keep.", "{span}", false,
		  p->health.spans_unsampled },
		{ "sonde.spans.exported", "Spans the collector accepted.", "{span}", false,
		  es.spans_exported },
		{ "sonde.spans.dropped", "Spans dropped: export queue full or export failed.",
		  "{span}", false, es.spans_dropped_full + es.spans_dropped_failed },
		{ "sonde.export.requests", "OTLP export requests sent.", "{request}", false,
		  es.requests },
		{ "sonde.export.failures", "OTLP export requests that failed.", "{request}", false,
		  es.request_failures },
		{ "sonde.export.queue.depth", "Spans waiting in the export queue.", "{span}", true,
		  es.queue_depth },
		{ "sonde.export.queue.waits",
		  "Times reading events paused until the export queue had room.", "{wait}", false,
		  es.queue_waits },
		{ "sonde.metric.series", "RED metric series held.", "{series}", true, ms.series },
		{ "sonde.metric.overflows", "Requests counted in an overflow series.", "{request}",
		  false, ms.overflowed },
		{ "sonde.routes.overflowed", "Requests whose route was folded past the cap.",
		  "{request}", false, p->health.routes_overflowed },
		{ "sonde.connections.evicted", "Connections dropped from a full table.",
		  "{connection}", false, p->health.conns_evicted },
		{ "sonde.bytes.uncaptured",
		  "Bytes traced calls moved that were not copied to the agent (past the capture "
		  "size, "
		  "or lost).",
		  "By", false, p->health.bytes_uncaptured },
		{ "sonde.resources.evicted",
		  "Processes dropped from the full resource cache; their series restart.",
		  "{process}", false, p->health.resources_evicted },
		{ "sonde.links",
		  "Spans given a parent (thread, goroutine, hook, connection, header).", "{span}",
		  false, p->health.links },
		{ "sonde.links.roots_expected",
		  "Spans left roots where a parent was expected and not found.", "{span}", false,
		  p->health.links_roots_expected },
		{ "sonde.links.roots_no_request",
		  "Calls a runtime hook said were made outside any request, left roots.", "{span}",
		  false, p->health.links_no_request },
		{ "sonde.links.event_loop_unlinked",
		  "Calls of threads serving several requests at once, left roots.", "{span}", false,
		  p->health.links_unlinked_event_loop },
		{ "sonde.links.held", "Spans held until the caller's side of their trace came.",
		  "{span}", false, p->health.links_held },
		{ "sonde.links.evicted", "Request contexts evicted from full tables.", "{context}",
		  false, p->health.links_evicted },
		{ "sonde.k8s.spans.held", "Spans that waited for their pod's metadata.", "{span}",
		  false, p->health.k8s_spans_held },
		{ "sonde.k8s.spans.unresolved",
		  "Spans exported without their pod's metadata (wait over or hold full).", "{span}",
		  false, p->health.k8s_spans_unresolved },
		{ "sonde.k8s.logs.held", "Log records that waited for their pod's metadata.",
		  "{record}", false, p->health.k8s_logs_held },
		{ "sonde.k8s.logs.unresolved",
		  "Log records exported without their pod's metadata (wait over or hold full).",
		  "{record}", false, p->health.k8s_logs_unresolved },
		{ "sonde.logs.records", "Log records made from traced processes' output.",
		  "{record}", false, p->health.logs.records },
		{ "sonde.logs.records.in_request",
		  "Log records written while serving a request (with its trace and span).",
		  "{record}", false, p->health.logs.in_request },
		{ "sonde.logs.records.unlinked",
		  "Log records written while serving a request, sent without its ids: their write "
		  "may hold other requests' lines (several records, or a block-buffered stream).",
		  "{record}", false, p->health.logs.lines.unlinked },
		{ "sonde.logs.streams.buffered",
		  "Output streams found block-buffered (flushed in the middle of a line).",
		  "{stream}", false, p->health.logs.lines.buffered },
		{ "sonde.logs.exported", "Log records the collector accepted.", "{record}", false,
		  es.logs_exported },
		{ "sonde.logs.dropped", "Log records dropped: export queue full or export failed.",
		  "{record}", false, es.logs_dropped_full + es.logs_dropped_failed },
		{ "sonde.logs.queue.depth", "Log records waiting in the export queue.", "{record}",
		  true, es.logs_queue_depth },
		{ "sonde.logs.rate_limited",
		  "Log records dropped by the per-process limit (logs.rate_limit).", "{record}",
		  false, p->health.logs.rate_limited },
		{ "sonde.logs.truncated",
		  "Log records cut at logs.max_line_bytes, or missing bytes.", "{record}", false,
		  p->health.logs.lines.cut },
		{ "sonde.logs.binary_bytes", "Output bytes skipped as binary.", "By", false,
		  p->health.logs.lines.binary },
		{ "sonde.logs.bytes_lost",
		  "Output bytes that never reached the agent (budget, ring buffer, copy limit).",
		  "By", false, p->health.logs.lines.lost },
		{ "sonde.logs.writes_limited",
		  "Writes to stdout or stderr the kernel did not copy: the process's byte budget "
		  "was spent.",
		  "{write}", false, p->health.logs_kernel_limited },
	};

	for (; n < max && n < sizeof(all) / sizeof(all[0]); n++)
		out[n] = all[n];
	for (size_t i = 0; i < p->health.nprotocol && n < max; i++) {
		const struct protocol_counter *c = &p->health.protocol[i];

		out[n++] =
			(struct health_metric){ c->metric, c->description, "1", false, c->value };
	}
	return n;
}

void pipeline_push_metrics(struct pipeline *p)
{
	struct health_metric health[HEALTH_MAX];
	uint8_t *body = NULL;
	size_t len = 0, n;
	int err;

	if (!p->exporter || p->cfg->metrics_exporter != METRICS_EXPORTER_OTLP)
		return;
	pthread_mutex_lock(&p->metrics_lock);
	n = pipeline_health_list(p, health, HEALTH_MAX);
	err = otlp_encode_metrics(p->metrics, health, n, resource_cache_self(p->resources),
				  p->start_ns, clock_real_now(), &body, &len);
	pthread_mutex_unlock(&p->metrics_lock);
	if (err) {
		log_warn("cannot encode metrics: out of memory");
		return;
	}
	exporter_offer_metrics(p->exporter, body, len);
}

void pipeline_render_prom(void *ctx, struct strbuf *sb, bool openmetrics)
{
	struct pipeline *p = ctx;
	struct health_metric health[HEALTH_MAX];
	size_t n;

	pthread_mutex_lock(&p->metrics_lock);
	n = pipeline_health_list(p, health, HEALTH_MAX);
	if (openmetrics)
		prom_render_openmetrics(sb, p->metrics, health, n);
	else
		prom_render(sb, p->metrics, health, n);
	pthread_mutex_unlock(&p->metrics_lock);
}

int pipeline_healthy(void *ctx, char *why, size_t len)
{
	struct pipeline *p = ctx;
	uint64_t last = atomic_load(&p->last_loop_mono);
	uint64_t now = clock_mono_now();

	/* The event loop turns every 100 ms; 5 s without a turn means it is stuck. */
	if (now > last && now - last > 5000000000ull) {
		snprintf(why, len, "event loop stalled for %llu ms",
			 (unsigned long long)((now - last) / 1000000));
		return -1;
	}
	return 0;
}
