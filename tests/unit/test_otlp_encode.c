/* SPDX-License-Identifier: MIT */
/* OTLP bytes as a collector reads them: encode, then decode with protobuf-c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "export/otlp_encode.h"
#include "otlp_metrics.pb-c.h"
#include "otlp_trace.pb-c.h"

#define MS   1000000ull
#define T0   1764000000000000000ull
#define FFFD "\xef\xbf\xbd"

typedef Opentelemetry__Proto__Trace__V1__ExportTraceServiceRequest trace_request;
typedef Opentelemetry__Proto__Trace__V1__Span otlp_span;
typedef Opentelemetry__Proto__Metrics__V1__ExportMetricsServiceRequest metrics_request;
typedef Opentelemetry__Proto__Metrics__V1__Metric otlp_metric;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint otlp_hpoint;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;

#define STRING_VALUE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define INT_VALUE    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define BOOL_VALUE   OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE

static struct resource *proc(uint32_t pid, const char *env, size_t envlen)
{
	return resource_new(pid, "app", "node-1", env, envlen, NULL, "test");
}

static const otlp_any *find_kv(otlp_kv **kvs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kvs[i]->key, key) == 0)
			return kvs[i]->value;
	return NULL;
}

static void assert_kv_str(otlp_kv **kvs, size_t n, const char *key, const char *want)
{
	const otlp_any *v = find_kv(kvs, n, key);

	if (!v)
		fail_msg("no attribute %s", key);
	assert_int_equal(v->value_case, STRING_VALUE);
	assert_string_equal(v->string_value, want);
}

static void assert_kv_int(otlp_kv **kvs, size_t n, const char *key, int64_t want)
{
	const otlp_any *v = find_kv(kvs, n, key);

	if (!v)
		fail_msg("no attribute %s", key);
	assert_int_equal(v->value_case, INT_VALUE);
	assert_int_equal(v->int_value, want);
}

static void fill(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static struct export_span server_span(struct resource *res, const char *target, uint16_t status,
				      const char *route, uint8_t id)
{
	struct export_span es = { 0 };

	es.span.kind = SPAN_SERVER;
	strcpy(es.span.method, "GET");
	snprintf(es.span.target, sizeof(es.span.target), "%s", target);
	es.span.status = status;
	es.span.version_minor = 1;
	es.span.start_ns = T0;
	es.span.end_ns = T0 + 25 * MS;
	es.span.response_body_bytes = 321;
	strcpy(es.span.host, "shop.example:8443");
	es.span.local.family = AF_INET;
	es.span.local.port = 8443;
	inet_pton(AF_INET, "10.0.0.1", es.span.local.addr);
	es.span.peer.family = AF_INET;
	es.span.peer.port = 51000;
	inet_pton(AF_INET, "10.0.0.9", es.span.peer.addr);
	snprintf(es.route, sizeof(es.route), "%s", route);
	es.res = res;
	fill(es.ids.trace_id, 16, 0x10);
	fill(es.ids.span_id, 8, id);
	es.ids.sampled = true;
	return es;
}

static trace_request *encode_traces(const struct export_span *es, size_t n, bool with_query)
{
	trace_request *req;
	uint8_t *buf;
	size_t len;

	assert_int_equal(otlp_encode_traces(es, n, with_query, &buf, &len), 0);
	req = opentelemetry__proto__trace__v1__export_trace_service_request__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(req);
	return req;
}

static void test_traces_grouped_by_resource(void **state)
{
	static const char env_shop[] = "OTEL_SERVICE_NAME=shop\0"
				       "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod";
	static const char env_billing[] = "OTEL_SERVICE_NAME=billing";
	struct resource *shop = proc(100, env_shop, sizeof(env_shop));
	struct resource *billing = proc(200, env_billing, sizeof(env_billing));
	struct export_span es[3];
	static const uint8_t parent[8] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 };
	trace_request *req;
	otlp_span *s;
	otlp_kv **ra;
	size_t nra;

	(void)state;
	es[0] = server_span(shop, "/items/42", 200, "/items/{id}", 0x20);
	memcpy(es[0].ids.parent_span_id, parent, 8);
	es[0].ids.has_parent = true;
	es[0].ids.remote_parent = true;

	es[1] = server_span(billing, "/charge", 201, "/charge", 0x30);
	es[1].span.kind = SPAN_CLIENT;
	strcpy(es[1].span.method, "POST");
	es[1].ids.sampled = false;

	es[2] = server_span(shop, "/items/7", 500, "/items/{id}", 0x40);

	req = encode_traces(es, 3, false);
	assert_int_equal(req->n_resource_spans, 2);

	/* the first process, with both of its spans in queue order */
	ra = req->resource_spans[0]->resource->attributes;
	nra = req->resource_spans[0]->resource->n_attributes;
	assert_kv_str(ra, nra, "service.name", "shop");
	assert_kv_str(ra, nra, "deployment.environment", "prod");
	assert_kv_str(ra, nra, "service.instance.id", "node-1:100");
	assert_kv_str(ra, nra, "telemetry.sdk.name", "sonde");
	assert_kv_int(ra, nra, "process.pid", 100);
	assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->scope->name, "sonde");
	assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans, 2);

	s = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_string_equal(s->name, "GET /items/{id}");
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
	assert_int_equal(s->kind, 2);
	assert_int_equal(s->trace_id.len, 16);
	assert_memory_equal(s->trace_id.data, es[0].ids.trace_id, 16);
	assert_int_equal(s->span_id.len, 8);
	assert_memory_equal(s->span_id.data, es[0].ids.span_id, 8);
	assert_int_equal(s->parent_span_id.len, 8);
	assert_memory_equal(s->parent_span_id.data, parent, 8);
	/* sampled, and the parent is remote (OTLP Span.flags bits 8 and 9) */
	assert_int_equal(s->flags, 0x301);
	assert_int_equal(s->start_time_unix_nano, T0);
	assert_int_equal(s->end_time_unix_nano, T0 + 25 * MS);
	/* a 200 leaves the status unset */
	assert_int_equal(s->status->code, 0);
	assert_kv_str(s->attributes, s->n_attributes, "http.route", "/items/{id}");
	assert_kv_str(s->attributes, s->n_attributes, "http.request.method", "GET");
	assert_kv_int(s->attributes, s->n_attributes, "http.response.status_code", 200);
	assert_kv_str(s->attributes, s->n_attributes, "url.path", "/items/42");
	assert_kv_str(s->attributes, s->n_attributes, "url.scheme", "http");
	assert_kv_str(s->attributes, s->n_attributes, "server.address", "shop.example");
	assert_kv_int(s->attributes, s->n_attributes, "server.port", 8443);
	assert_kv_str(s->attributes, s->n_attributes, "client.address", "10.0.0.9");
	assert_kv_int(s->attributes, s->n_attributes, "http.response.body.size", 321);
	assert_null(find_kv(s->attributes, s->n_attributes, "error.type"));

	s = req->resource_spans[0]->scope_spans[0]->spans[1];
	assert_memory_equal(s->span_id.data, es[2].ids.span_id, 8);
	assert_int_equal(s->parent_span_id.len, 0);
	assert_int_equal(s->flags, 0x101);
	/* a 500 on a server is an error */
	assert_int_equal(s->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	assert_int_equal(s->status->code, 2);
	assert_kv_str(s->attributes, s->n_attributes, "error.type", "500");

	/* the second process */
	ra = req->resource_spans[1]->resource->attributes;
	nra = req->resource_spans[1]->resource->n_attributes;
	assert_kv_str(ra, nra, "service.name", "billing");
	assert_null(find_kv(ra, nra, "deployment.environment"));
	assert_int_equal(req->resource_spans[1]->scope_spans[0]->n_spans, 1);
	s = req->resource_spans[1]->scope_spans[0]->spans[0];
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
	assert_int_equal(s->kind, 3);
	assert_int_equal(s->flags, 0x100);
	assert_int_equal(s->status->code, 0);
	assert_kv_str(s->attributes, s->n_attributes, "http.request.method", "POST");
	assert_null(find_kv(s->attributes, s->n_attributes, "client.address"));

	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	resource_put(shop);
	resource_put(billing);
}

static void test_query_only_when_asked(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=shop";
	struct resource *res = proc(100, env, sizeof(env));
	struct export_span es = server_span(res, "/login?user=ann&token=s3cret", 200, "/login", 1);
	trace_request *req;
	otlp_span *s;

	(void)state;
	req = encode_traces(&es, 1, false);
	s = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_kv_str(s->attributes, s->n_attributes, "url.path", "/login");
	assert_null(find_kv(s->attributes, s->n_attributes, "url.query"));
	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(req, NULL);

	req = encode_traces(&es, 1, true);
	s = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_kv_str(s->attributes, s->n_attributes, "url.query", "user=ann&token=s3cret");
	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	resource_put(res);
}

static void test_traces_are_valid_utf8(void **state)
{
	/* a Latin-1 service name in someone's environment */
	static const char env[] = "OTEL_SERVICE_NAME=caf\xe9";
	struct resource *res = proc(100, env, sizeof(env));
	struct export_span es[2];
	trace_request *req;
	otlp_span *s;
	otlp_kv **ra;
	size_t nra;

	(void)state;
	/* the route is templated from the raw path: "caf\xe9" is a word, it stays */
	es[0] = server_span(res, "/caf\xe9/1", 200, "/caf\xe9/{id}", 1);
	es[1] = server_span(res, "/", 200, "", 2);
	req = encode_traces(es, 2, false);
	ra = req->resource_spans[0]->resource->attributes;
	nra = req->resource_spans[0]->resource->n_attributes;
	assert_kv_str(ra, nra, "service.name", "caf" FFFD);
	s = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_string_equal(s->name, "GET /caf" FFFD "/{id}");
	assert_kv_str(s->attributes, s->n_attributes, "url.path", "/caf" FFFD "/1");
	assert_kv_str(s->attributes, s->n_attributes, "http.route", "/caf" FFFD "/{id}");
	/* no route: the name is the method alone */
	s = req->resource_spans[0]->scope_spans[0]->spans[1];
	assert_string_equal(s->name, "GET");
	assert_null(find_kv(s->attributes, s->n_attributes, "http.route"));
	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	resource_put(res);
}

static void test_no_spans(void **state)
{
	trace_request *req = encode_traces(NULL, 0, false);

	(void)state;
	assert_int_equal(req->n_resource_spans, 0);
	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
}

static void record(struct metrics *m, struct resource *res, enum span_kind kind, uint16_t status,
		   uint64_t dur_ns, uint64_t resp_bytes)
{
	struct span s = { 0 };

	s.kind = kind;
	strcpy(s.method, "GET");
	strcpy(s.target, "/items/1");
	strcpy(s.host, "api.example:9000");
	s.status = status;
	s.start_ns = T0;
	s.end_ns = T0 + dur_ns;
	s.response_body_bytes = resp_bytes;
	metrics_record(m, res, &s, "/items/{id}");
}

static const otlp_metric *find_metric(const metrics_request *req, size_t rm, const char *name)
{
	const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
		req->resource_metrics[rm]->scope_metrics[0];

	for (size_t i = 0; i < sm->n_metrics; i++)
		if (strcmp(sm->metrics[i]->name, name) == 0)
			return sm->metrics[i];
	return NULL;
}

static void test_metrics_histograms_and_health(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=shop";
	static const char env_self[] = "OTEL_SERVICE_NAME=sonde";
	struct resource *res = proc(100, env, sizeof(env));
	struct resource *self = proc(1, env_self, sizeof(env_self));
	struct metrics *m = metrics_new(100);
	const struct health_metric health[] = {
		{ "sonde.spans.dropped", "Spans dropped.", "{span}", false, 7 },
		{ "sonde.export.queue.size", "Spans waiting.", "{span}", true, 3 },
	};
	const uint64_t now = T0 + 60000 * MS, agent_start = T0 - 1000 * MS;
	const otlp_metric *om;
	const otlp_hpoint *p;
	metrics_request *req;
	uint8_t *buf;
	size_t len;

	(void)state;
	record(m, res, SPAN_SERVER, 200, 5 * MS, 10);	  /* bucket 0 */
	record(m, res, SPAN_SERVER, 200, 250 * MS, 10);	  /* bucket 6 */
	record(m, res, SPAN_SERVER, 200, 20000 * MS, 10); /* +Inf */
	record(m, res, SPAN_SERVER, 500, 1 * MS, 0);
	record(m, res, SPAN_CLIENT, 200, 2 * MS, 50);
	assert_int_equal(otlp_encode_metrics(m, health, 2, self, agent_start, now, &buf, &len), 0);
	req = opentelemetry__proto__metrics__v1__export_metrics_service_request__unpack(NULL, len,
											buf);
	free(buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_metrics, 2);
	assert_kv_str(req->resource_metrics[0]->resource->attributes,
		      req->resource_metrics[0]->resource->n_attributes, "service.name", "shop");
	/* 3 server and 3 client histograms */
	assert_int_equal(req->resource_metrics[0]->scope_metrics[0]->n_metrics, 6);

	om = find_metric(req, 0, "http.server.request.duration");
	assert_non_null(om);
	assert_string_equal(om->unit, "s");
	assert_int_equal(om->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
	assert_true(om->histogram->has_aggregation_temporality);
	assert_int_equal(om->histogram->aggregation_temporality, 2); /* CUMULATIVE */
	assert_int_equal(om->histogram->n_data_points, 2);
	p = om->histogram->data_points[0];
	assert_int_equal(p->n_explicit_bounds, 14);
	assert_float_equal(p->explicit_bounds[0], 0.005, 0);
	assert_float_equal(p->explicit_bounds[6], 0.25, 0);
	assert_float_equal(p->explicit_bounds[13], 10, 0);
	assert_int_equal(p->n_bucket_counts, 15);
	assert_int_equal(p->bucket_counts[0], 1);
	assert_int_equal(p->bucket_counts[6], 1);
	assert_int_equal(p->bucket_counts[14], 1);
	assert_int_equal(p->count, 3);
	assert_true(p->has_sum);
	assert_float_equal(p->sum, 20.255, 1e-9);
	assert_float_equal(p->min, 0.005, 1e-12);
	assert_float_equal(p->max, 20, 0);
	assert_int_equal(p->start_time_unix_nano, T0);
	assert_int_equal(p->time_unix_nano, now);
	assert_kv_str(p->attributes, p->n_attributes, "http.request.method", "GET");
	assert_kv_int(p->attributes, p->n_attributes, "http.response.status_code", 200);
	assert_kv_str(p->attributes, p->n_attributes, "http.route", "/items/{id}");
	assert_kv_str(p->attributes, p->n_attributes, "url.scheme", "http");
	assert_null(find_kv(p->attributes, p->n_attributes, "error.type"));
	assert_null(find_kv(p->attributes, p->n_attributes, "server.address"));
	p = om->histogram->data_points[1];
	assert_kv_int(p->attributes, p->n_attributes, "http.response.status_code", 500);
	assert_kv_str(p->attributes, p->n_attributes, "error.type", "500");
	assert_int_equal(p->count, 1);

	om = find_metric(req, 0, "http.server.response.body.size");
	assert_non_null(om);
	assert_string_equal(om->unit, "By");
	p = om->histogram->data_points[0];
	assert_int_equal(p->n_explicit_bounds, 15);
	assert_int_equal(p->n_bucket_counts, 16);
	assert_int_equal(p->bucket_counts[2], 3); /* (5, 10] */
	assert_float_equal(p->sum, 30, 0);

	om = find_metric(req, 0, "http.client.request.duration");
	assert_non_null(om);
	p = om->histogram->data_points[0];
	assert_kv_str(p->attributes, p->n_attributes, "server.address", "api.example");
	assert_kv_int(p->attributes, p->n_attributes, "server.port", 9000);

	/* the agent's own health, under its own resource */
	assert_kv_str(req->resource_metrics[1]->resource->attributes,
		      req->resource_metrics[1]->resource->n_attributes, "service.name", "sonde");
	om = find_metric(req, 1, "sonde.spans.dropped");
	assert_non_null(om);
	assert_int_equal(om->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
	assert_true(om->sum->is_monotonic);
	assert_int_equal(om->sum->aggregation_temporality, 2);
	assert_int_equal(om->sum->n_data_points, 1);
	assert_int_equal(om->sum->data_points[0]->as_int, 7);
	assert_int_equal(om->sum->data_points[0]->start_time_unix_nano, agent_start);
	assert_int_equal(om->sum->data_points[0]->time_unix_nano, now);
	om = find_metric(req, 1, "sonde.export.queue.size");
	assert_non_null(om);
	assert_int_equal(om->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
	assert_int_equal(om->gauge->data_points[0]->as_int, 3);
	assert_string_equal(om->description, "Spans waiting.");

	opentelemetry__proto__metrics__v1__export_metrics_service_request__free_unpacked(req, NULL);
	metrics_free(m);
	resource_put(res);
	resource_put(self);
}

static void test_metrics_overflow_series(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=shop";
	struct resource *res = proc(100, env, sizeof(env));
	struct metrics *m = metrics_new(1);
	const otlp_metric *om;
	metrics_request *req;
	const otlp_any *v;
	uint8_t *buf;
	size_t len;

	(void)state;
	record(m, res, SPAN_SERVER, 200, MS, 1);
	record(m, res, SPAN_SERVER, 404, MS, 1);
	record(m, res, SPAN_SERVER, 503, MS, 1);
	assert_int_equal(otlp_encode_metrics(m, NULL, 0, NULL, 0, T0, &buf, &len), 0);
	req = opentelemetry__proto__metrics__v1__export_metrics_service_request__unpack(NULL, len,
											buf);
	free(buf);
	assert_non_null(req);
	/* no health metrics: no resource for the agent */
	assert_int_equal(req->n_resource_metrics, 1);
	om = find_metric(req, 0, "http.server.request.duration");
	assert_int_equal(om->histogram->n_data_points, 2);
	v = find_kv(om->histogram->data_points[1]->attributes,
		    om->histogram->data_points[1]->n_attributes, "otel.metric.overflow");
	assert_non_null(v);
	assert_int_equal(v->value_case, BOOL_VALUE);
	assert_true(v->bool_value);
	assert_int_equal(om->histogram->data_points[1]->count, 2);
	opentelemetry__proto__metrics__v1__export_metrics_service_request__free_unpacked(req, NULL);
	metrics_free(m);
	resource_put(res);
}

static struct export_span grpc_span(struct resource *res, enum span_kind kind, int grpc_status)
{
	struct export_span es = server_span(res, "/grpc.health.v1.Health/Check", 200, "", 0x50);

	es.span.kind = kind;
	strcpy(es.span.method, "POST");
	es.span.version_major = 2;
	es.span.stream_id = 7;
	es.span.flags = SPAN_F_GRPC | SPAN_F_GRPC_STATUS;
	es.span.grpc_status = (uint8_t)grpc_status;
	return es;
}

/* A gRPC call is an RPC span: named package.Service/Method, rpc.* attributes
 * and no HTTP ones, error status only for the codes that say the server failed. */
static void test_grpc_spans(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=greeter";
	struct resource *res = proc(100, env, sizeof(env));
	struct export_span es[3];
	trace_request *req;
	otlp_span *s;

	(void)state;
	es[0] = grpc_span(res, SPAN_SERVER, 0);
	es[1] = grpc_span(res, SPAN_SERVER, 5);	 /* NOT_FOUND: the caller's problem */
	es[2] = grpc_span(res, SPAN_SERVER, 14); /* UNAVAILABLE */
	req = encode_traces(es, 3, false);
	for (int i = 0; i < 3; i++) {
		s = req->resource_spans[0]->scope_spans[0]->spans[i];
		assert_string_equal(s->name, "grpc.health.v1.Health/Check");
		assert_kv_str(s->attributes, s->n_attributes, "rpc.system", "grpc");
		assert_kv_str(s->attributes, s->n_attributes, "rpc.service",
			      "grpc.health.v1.Health");
		assert_kv_str(s->attributes, s->n_attributes, "rpc.method", "Check");
		assert_kv_int(s->attributes, s->n_attributes, "rpc.grpc.status_code",
			      es[i].span.grpc_status);
		assert_kv_str(s->attributes, s->n_attributes, "network.protocol.name", "http");
		assert_kv_str(s->attributes, s->n_attributes, "network.protocol.version", "2");
		assert_kv_str(s->attributes, s->n_attributes, "server.address", "shop.example");
		assert_kv_int(s->attributes, s->n_attributes, "server.port", 8443);
		assert_null(find_kv(s->attributes, s->n_attributes, "http.request.method"));
		assert_null(find_kv(s->attributes, s->n_attributes, "url.path"));
	}
	s = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_int_equal(s->status->code, 0);
	s = req->resource_spans[0]->scope_spans[0]->spans[1];
	assert_int_equal(s->status->code, 0);
	assert_null(find_kv(s->attributes, s->n_attributes, "error.type"));
	s = req->resource_spans[0]->scope_spans[0]->spans[2];
	assert_int_equal(s->status->code, 2); /* ERROR */
	assert_kv_str(s->attributes, s->n_attributes, "error.type", "UNAVAILABLE");
	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	resource_put(res);
}

/* rpc.server.duration / rpc.client.duration in milliseconds; gRPC calls are
 * not counted as HTTP requests. */
static void test_rpc_metrics(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=greeter";
	struct resource *res = proc(100, env, sizeof(env));
	struct metrics *m = metrics_new(100);
	struct export_span es = grpc_span(res, SPAN_SERVER, 0);
	const otlp_metric *om;
	const otlp_hpoint *p;
	metrics_request *req;
	uint8_t *buf;
	size_t len;

	(void)state;
	metrics_record(m, res, &es.span, NULL); /* 25 ms */
	es.span.kind = SPAN_CLIENT;
	es.span.grpc_status = 4;
	metrics_record(m, res, &es.span, NULL);
	assert_int_equal(otlp_encode_metrics(m, NULL, 0, res, T0, T0 + 1000 * MS, &buf, &len), 0);
	req = opentelemetry__proto__metrics__v1__export_metrics_service_request__unpack(NULL, len,
											buf);
	free(buf);
	assert_non_null(req);
	assert_int_equal(req->resource_metrics[0]->scope_metrics[0]->n_metrics, 2);
	assert_null(find_metric(req, 0, "http.server.request.duration"));
	om = find_metric(req, 0, "rpc.server.duration");
	assert_non_null(om);
	assert_string_equal(om->unit, "ms");
	p = om->histogram->data_points[0];
	assert_int_equal(p->n_explicit_bounds, 15);
	assert_float_equal(p->explicit_bounds[0], 0, 0);
	assert_float_equal(p->explicit_bounds[14], 10000, 0);
	assert_int_equal(p->bucket_counts[3], 1); /* (10, 25] ms */
	assert_float_equal(p->sum, 25, 1e-9);
	assert_kv_str(p->attributes, p->n_attributes, "rpc.system", "grpc");
	assert_kv_str(p->attributes, p->n_attributes, "rpc.service", "grpc.health.v1.Health");
	assert_kv_str(p->attributes, p->n_attributes, "rpc.method", "Check");
	assert_kv_int(p->attributes, p->n_attributes, "rpc.grpc.status_code", 0);
	assert_null(find_kv(p->attributes, p->n_attributes, "server.address"));
	om = find_metric(req, 0, "rpc.client.duration");
	assert_non_null(om);
	p = om->histogram->data_points[0];
	assert_kv_int(p->attributes, p->n_attributes, "rpc.grpc.status_code", 4);
	assert_kv_str(p->attributes, p->n_attributes, "server.address", "shop.example");
	assert_kv_int(p->attributes, p->n_attributes, "server.port", 51000);
	opentelemetry__proto__metrics__v1__export_metrics_service_request__free_unpacked(req, NULL);
	metrics_free(m);
	resource_put(res);
}

/* A sampled span is its duration bucket's OTLP Exemplar: trace and span ids,
 * value (the histogram's unit) and time; unsampled ones are not. */
static void test_exemplars(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=greeter";
	struct resource *res = proc(100, env, sizeof(env));
	struct metrics *m = metrics_new(100);
	struct export_span es = grpc_span(res, SPAN_SERVER, 0);
	const otlp_hpoint *p;
	metrics_request *req;
	uint8_t *buf;
	size_t len;

	(void)state;
	memset(es.span.trace_id, 0xab, 16);
	memset(es.span.span_id, 0xcd, 8);
	metrics_record_sampled(m, res, &es.span, NULL, true); /* 25 ms */
	es.span.end_ns += 100 * MS;
	metrics_record_sampled(m, res, &es.span, NULL, false);
	assert_int_equal(otlp_encode_metrics(m, NULL, 0, res, T0, T0 + 1000 * MS, &buf, &len), 0);
	req = opentelemetry__proto__metrics__v1__export_metrics_service_request__unpack(NULL, len,
											buf);
	free(buf);
	assert_non_null(req);
	p = find_metric(req, 0, "rpc.server.duration")->histogram->data_points[0];
	assert_int_equal(p->n_exemplars, 1);
	assert_int_equal(p->exemplars[0]->value_case,
			 OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE);
	assert_float_equal(p->exemplars[0]->as_double, 25, 1e-9);
	assert_int_equal(p->exemplars[0]->trace_id.len, 16);
	assert_int_equal(p->exemplars[0]->trace_id.data[15], 0xab);
	assert_int_equal(p->exemplars[0]->span_id.len, 8);
	assert_int_equal(p->exemplars[0]->span_id.data[0], 0xcd);
	assert_int_equal(p->exemplars[0]->time_unix_nano, es.span.end_ns - 100 * MS);
	opentelemetry__proto__metrics__v1__export_metrics_service_request__free_unpacked(req, NULL);
	metrics_free(m);
	resource_put(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grpc_spans),
		cmocka_unit_test(test_exemplars),
		cmocka_unit_test(test_rpc_metrics),
		cmocka_unit_test(test_traces_grouped_by_resource),
		cmocka_unit_test(test_query_only_when_asked),
		cmocka_unit_test(test_traces_are_valid_utf8),
		cmocka_unit_test(test_no_spans),
		cmocka_unit_test(test_metrics_histograms_and_health),
		cmocka_unit_test(test_metrics_overflow_series),
	};

	return cmocka_run_group_tests_name("otlp_encode", tests, NULL, NULL);
}
