/* SPDX-License-Identifier: MIT */
/* RED series and the agent's health → ExportMetricsServiceRequest (cumulative). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp_common.h"
#include "export/otlp_encode.h"
#include "otlp_metrics.pb-c.h"

typedef Opentelemetry__Proto__Metrics__V1__ExportMetricsServiceRequest metrics_request;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric otlp_metric;
typedef Opentelemetry__Proto__Metrics__V1__Histogram otlp_histogram;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint otlp_hpoint;
typedef Opentelemetry__Proto__Metrics__V1__Sum otlp_sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge otlp_gauge;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint otlp_npoint;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar otlp_exemplar;

#define CUMULATIVE \
	OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

enum red_metric {
	RED_DURATION = 0,
	RED_REQ_SIZE,
	RED_RESP_SIZE,
	RED_RPC_DURATION, /* gRPC series only; the three above are HTTP series only */
	RED_DB_DURATION,  /* database series only (client) */
	RED__COUNT,
};

struct red_desc {
	const char *name[2]; /* [SPAN_SERVER], [SPAN_CLIENT]; NULL: no such series */
	const char *description;
	const char *unit;
};

static const struct red_desc red_descs[RED__COUNT] = {
	[RED_DURATION] = { { "http.server.request.duration", "http.client.request.duration" },
			   "Duration of HTTP requests.",
			   "s" },
	[RED_REQ_SIZE] = { { "http.server.request.body.size", "http.client.request.body.size" },
			   "Size of HTTP request bodies.",
			   "By" },
	[RED_RESP_SIZE] = { { "http.server.response.body.size", "http.client.response.body.size" },
			    "Size of HTTP response bodies.",
			    "By" },
	[RED_RPC_DURATION] = { { "rpc.server.duration", "rpc.client.duration" },
			       "Duration of RPCs.",
			       "ms" },
	[RED_DB_DURATION] = { { NULL, "db.client.operation.duration" },
			      "Duration of database client operations.",
			      "s" },
};

static const struct histogram *series_hist(const struct series *s, enum red_metric m)
{
	if (m == RED_DURATION || m == RED_RPC_DURATION || m == RED_DB_DURATION)
		return &s->duration;
	return m == RED_REQ_SIZE ? &s->req_size : &s->resp_size;
}

/* Whether metric m has a point for series s. */
static bool series_in(const struct series *s, enum red_metric m)
{
	if (s->key.db)
		return m == RED_DB_DURATION && series_hist(s, m)->count;
	return s->key.rpc == (m == RED_RPC_DURATION) && m != RED_DB_DURATION &&
	       series_hist(s, m)->count;
}

/* The RPC conventions' metric attributes. */
static otlp_kv **rpc_series_attrs(struct arena *a, const struct series_key *k, otlp_kv **kvs,
				  size_t *n)
{
	kvs[(*n)++] = otlp_kv_str(a, "rpc.system", "grpc");
	if (k->rpc_service[0]) {
		kvs[(*n)++] = otlp_kv_str(a, "rpc.service", (char *)k->rpc_service);
		kvs[(*n)++] = otlp_kv_str(a, "rpc.method", (char *)k->rpc_method);
	}
	if (k->grpc_status >= 0)
		kvs[(*n)++] = otlp_kv_int(a, "rpc.grpc.status_code", k->grpc_status);
	if (k->server_address[0]) {
		kvs[(*n)++] = otlp_kv_str(a, "server.address", (char *)k->server_address);
		kvs[(*n)++] = otlp_kv_int(a, "server.port", k->server_port);
	}
	for (size_t i = 0; i < *n; i++)
		if (!kvs[i])
			return NULL;
	return kvs;
}

/* The database conventions' metric attributes. */
static otlp_kv **db_series_attrs(struct arena *a, const struct series_key *k, otlp_kv **kvs,
				 size_t *n)
{
	kvs[(*n)++] = otlp_kv_str(a, "db.system.name", (char *)span_db_system_name(k->db_system));
	if (k->db_operation[0])
		kvs[(*n)++] = otlp_kv_str(a, "db.operation.name", (char *)k->db_operation);
	if (k->db_collection[0])
		kvs[(*n)++] = otlp_kv_str(a, "db.collection.name", (char *)k->db_collection);
	if (k->db_namespace[0])
		kvs[(*n)++] = otlp_kv_str(a, "db.namespace", (char *)k->db_namespace);
	if (k->error_type[0])
		kvs[(*n)++] = otlp_kv_str(a, "error.type", (char *)k->error_type);
	if (k->server_address[0]) {
		kvs[(*n)++] = otlp_kv_str(a, "server.address", (char *)k->server_address);
		kvs[(*n)++] = otlp_kv_int(a, "server.port", k->server_port);
	}
	for (size_t i = 0; i < *n; i++)
		if (!kvs[i])
			return NULL;
	return kvs;
}

/* The metric attributes of a series (the HTTP semantic conventions' metric
 * attributes, a subset of the span's). */
static otlp_kv **series_attrs(struct arena *a, const struct series_key *k, size_t *n)
{
	otlp_kv **kvs = arena_alloc(a, sizeof(*kvs) * 10);

	*n = 0;
	if (!kvs)
		return NULL;
	if (k->overflow) {
		kvs[(*n)++] = otlp_kv_bool(a, "otel.metric.overflow", true);
		return kvs;
	}
	if (k->rpc)
		return rpc_series_attrs(a, k, kvs, n);
	if (k->db)
		return db_series_attrs(a, k, kvs, n);
	kvs[(*n)++] = otlp_kv_str(a, "http.request.method", (char *)k->method);
	if (k->status)
		kvs[(*n)++] = otlp_kv_int(a, "http.response.status_code", k->status);
	if (k->route[0])
		kvs[(*n)++] = otlp_kv_str(a, "http.route", (char *)k->route);
	if (k->error_type[0])
		kvs[(*n)++] = otlp_kv_str(a, "error.type", (char *)k->error_type);
	kvs[(*n)++] = otlp_kv_str(a, "url.scheme", k->tls ? "https" : "http");
	kvs[(*n)++] = otlp_kv_str(a, "network.protocol.name", "http");
	kvs[(*n)++] = otlp_kv_str(a, "network.protocol.version", (char *)k->protocol_version);
	if (k->server_address[0]) {
		kvs[(*n)++] = otlp_kv_str(a, "server.address", (char *)k->server_address);
		kvs[(*n)++] = otlp_kv_int(a, "server.port", k->server_port);
	}
	for (size_t i = 0; i < *n; i++)
		if (!kvs[i])
			return NULL;
	return kvs;
}

/* The duration buckets' exemplars: sampled spans, each with its trace. */
static bool add_exemplars(struct arena *a, const struct series *s, size_t nbuckets, otlp_hpoint *p)
{
	size_t n = 0;

	for (size_t i = 0; i < nbuckets; i++)
		n += s->exemplars[i].time_ns != 0;
	if (!n)
		return true;
	p->exemplars = arena_alloc(a, sizeof(*p->exemplars) * n);
	if (!p->exemplars)
		return false;
	for (size_t i = 0; i < nbuckets; i++) {
		const struct exemplar *e = &s->exemplars[i];
		otlp_exemplar *x;

		if (!e->time_ns)
			continue;
		x = arena_alloc(a, sizeof(*x));
		if (!x)
			return false;
		opentelemetry__proto__metrics__v1__exemplar__init(x);
		x->has_time_unix_nano = x->has_trace_id = x->has_span_id = true;
		x->time_unix_nano = e->time_ns;
		x->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
		x->as_double = e->value;
		x->trace_id.data = (uint8_t *)e->trace_id;
		x->trace_id.len = sizeof(e->trace_id);
		x->span_id.data = (uint8_t *)e->span_id;
		x->span_id.len = sizeof(e->span_id);
		p->exemplars[p->n_exemplars++] = x;
	}
	return true;
}

static otlp_hpoint *hist_point(struct arena *a, const struct series *s, enum red_metric m,
			       uint64_t now_ns)
{
	const struct histogram *h = series_hist(s, m);
	const double *bounds = m == RED_DURATION       ? metrics_duration_bounds
			       : m == RED_RPC_DURATION ? metrics_rpc_bounds
			       : m == RED_DB_DURATION  ? metrics_db_bounds
						       : metrics_size_bounds;
	size_t nb = m == RED_DURATION	    ? DURATION_BOUNDS
		    : m == RED_RPC_DURATION ? RPC_BOUNDS
		    : m == RED_DB_DURATION  ? DB_BOUNDS
					    : SIZE_BOUNDS;
	otlp_hpoint *p = arena_alloc(a, sizeof(*p));

	if (!p)
		return NULL;
	opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
	p->attributes = series_attrs(a, &s->key, &p->n_attributes);
	p->has_start_time_unix_nano = p->has_time_unix_nano = p->has_count = true;
	p->start_time_unix_nano = s->start_ns;
	p->time_unix_nano = now_ns > s->start_ns ? now_ns : s->start_ns;
	p->count = h->count;
	if (h->count) {
		p->has_sum = p->has_min = p->has_max = true;
		p->sum = h->sum;
		p->min = h->min;
		p->max = h->max;
	}
	p->n_explicit_bounds = nb;
	p->explicit_bounds = (double *)bounds;
	p->n_bucket_counts = nb + 1;
	p->bucket_counts = (uint64_t *)h->buckets;
	if (h == &s->duration && !add_exemplars(a, s, nb + 1, p))
		return NULL;
	return p->attributes ? p : NULL;
}

static otlp_metric *new_metric(struct arena *a, const char *name, const char *desc,
			       const char *unit)
{
	otlp_metric *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	opentelemetry__proto__metrics__v1__metric__init(m);
	m->name = (char *)name;
	m->description = (char *)desc;
	m->unit = (char *)unit;
	return m;
}

/* The RED histograms of one process: up to 8 metrics (4 per kind). */
static int encode_resource_red(struct arena *a, const struct metrics *mx,
			       const struct resource *res, uint64_t now_ns, scope_metrics *sm)
{
	sm->metrics = arena_alloc(a, sizeof(*sm->metrics) * 2 * RED__COUNT);
	if (!sm->metrics)
		return -ENOMEM;
	for (int kind = SPAN_SERVER; kind <= SPAN_CLIENT; kind++) {
		for (int m = 0; m < RED__COUNT; m++) {
			size_t npoints = 0;
			otlp_metric *om;
			otlp_histogram *oh;

			if (!red_descs[m].name[kind])
				continue;
			for (const struct series *s = metrics_first(mx); s; s = s->list_next)
				npoints += s->key.res == res &&
					   s->key.kind == (enum span_kind)kind && series_in(s, m);
			if (!npoints)
				continue;
			om = new_metric(a, red_descs[m].name[kind], red_descs[m].description,
					red_descs[m].unit);
			oh = arena_alloc(a, sizeof(*oh));
			if (!om || !oh)
				return -ENOMEM;
			opentelemetry__proto__metrics__v1__histogram__init(oh);
			oh->has_aggregation_temporality = true;
			oh->aggregation_temporality = CUMULATIVE;
			oh->data_points = arena_alloc(a, sizeof(*oh->data_points) * npoints);
			if (!oh->data_points)
				return -ENOMEM;
			for (const struct series *s = metrics_first(mx); s; s = s->list_next) {
				if (s->key.res != res || s->key.kind != (enum span_kind)kind ||
				    !series_in(s, m))
					continue;
				oh->data_points[oh->n_data_points] = hist_point(a, s, m, now_ns);
				if (!oh->data_points[oh->n_data_points++])
					return -ENOMEM;
			}
			om->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
			om->histogram = oh;
			sm->metrics[sm->n_metrics++] = om;
		}
	}
	return 0;
}

static otlp_metric *health_metric(struct arena *a, const struct health_metric *h, uint64_t start_ns,
				  uint64_t now_ns)
{
	otlp_metric *om = new_metric(a, h->name, h->description, h->unit);
	otlp_npoint *p = arena_alloc(a, sizeof(*p));
	otlp_npoint **pp = arena_alloc(a, sizeof(*pp));

	if (!om || !p || !pp)
		return NULL;
	opentelemetry__proto__metrics__v1__number_data_point__init(p);
	p->has_time_unix_nano = true;
	p->time_unix_nano = now_ns;
	p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
	p->as_int = (int64_t)h->value;
	pp[0] = p;
	if (h->gauge) {
		otlp_gauge *g = arena_alloc(a, sizeof(*g));

		if (!g)
			return NULL;
		opentelemetry__proto__metrics__v1__gauge__init(g);
		g->n_data_points = 1;
		g->data_points = pp;
		om->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		om->gauge = g;
	} else {
		otlp_sum *sum = arena_alloc(a, sizeof(*sum));

		if (!sum)
			return NULL;
		opentelemetry__proto__metrics__v1__sum__init(sum);
		p->has_start_time_unix_nano = true;
		p->start_time_unix_nano = start_ns;
		sum->n_data_points = 1;
		sum->data_points = pp;
		sum->has_aggregation_temporality = sum->has_is_monotonic = true;
		sum->aggregation_temporality = CUMULATIVE;
		sum->is_monotonic = true;
		om->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		om->sum = sum;
	}
	return om;
}

static resource_metrics *new_resource_metrics(struct arena *a, const struct resource *res,
					      scope_metrics **smp)
{
	resource_metrics *rm = arena_alloc(a, sizeof(*rm));
	scope_metrics *sm = arena_alloc(a, sizeof(*sm));
	scope_metrics **sms = arena_alloc(a, sizeof(*sms));

	if (!rm || !sm || !sms)
		return NULL;
	opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
	opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
	rm->resource = otlp_resource_of(a, res);
	sm->scope = otlp_scope_sonde(a);
	sms[0] = sm;
	rm->scope_metrics = sms;
	rm->n_scope_metrics = 1;
	*smp = sm;
	return rm->resource && sm->scope ? rm : NULL;
}

int otlp_encode_metrics(const struct metrics *m, const struct health_metric *health, size_t nhealth,
			struct resource *self, uint64_t agent_start_ns, uint64_t now_ns,
			uint8_t **out, size_t *outlen)
{
	struct arena a = { 0 };
	metrics_request req =
		OPENTELEMETRY__PROTO__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	struct metrics_stats st;
	resource_metrics **rms;
	scope_metrics *sm;
	int err = -ENOMEM;

	*out = NULL;
	metrics_stats(m, &st);
	rms = arena_alloc(&a, sizeof(*rms) * (st.series + 1));
	if (!rms)
		goto out;
	/* One ResourceMetrics per process, in the order its first series appeared. */
	for (const struct series *s = metrics_first(m); s; s = s->list_next) {
		bool seen = false;
		resource_metrics *rm;

		for (const struct series *p = metrics_first(m); p != s && !seen; p = p->list_next)
			seen = p->key.res == s->key.res;
		if (seen)
			continue;
		rm = new_resource_metrics(&a, s->key.res, &sm);
		if (!rm || encode_resource_red(&a, m, s->key.res, now_ns, sm))
			goto out;
		rms[req.n_resource_metrics++] = rm;
	}
	if (nhealth) {
		resource_metrics *rm = new_resource_metrics(&a, self, &sm);

		if (!rm)
			goto out;
		sm->metrics = arena_alloc(&a, sizeof(*sm->metrics) * nhealth);
		if (!sm->metrics)
			goto out;
		for (size_t i = 0; i < nhealth; i++) {
			sm->metrics[i] = health_metric(&a, &health[i], agent_start_ns, now_ns);
			if (!sm->metrics[i])
				goto out;
		}
		sm->n_metrics = nhealth;
		rms[req.n_resource_metrics++] = rm;
	}
	req.resource_metrics = rms;
	if (a.failed)
		goto out;
	*outlen =
		opentelemetry__proto__metrics__v1__export_metrics_service_request__get_packed_size(
			&req);
	*out = malloc(*outlen ? *outlen : 1);
	if (!*out)
		goto out;
	opentelemetry__proto__metrics__v1__export_metrics_service_request__pack(&req, *out);
	err = 0;
out:
	arena_free(&a);
	return err;
}
