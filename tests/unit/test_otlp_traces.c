/* SPDX-License-Identifier: MIT */
/*
 * The one-pass span encoder (otlp_traces.c over pb_writer.c) against the
 * protobuf-c encoder it replaced, kept here as the reference: for many varied
 * spans both must give the same bytes, and the same fields once decoded with
 * the protobuf-c generated unpacker. Also the writer's length back-patching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "export/otlp_common.h"
#include "export/otlp_encode.h"
#include "otlp_trace.pb-c.h"
#include "export/pb_writer.h"
#include "spans/route.h"

typedef Opentelemetry__Proto__Trace__V1__ExportTraceServiceRequest trace_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span otlp_span;
typedef Opentelemetry__Proto__Trace__V1__Status otlp_status;

/* --- The reference: the protobuf-c encoder as it was (commit 1d1c431). --- */

static otlp_kv *ref_kv_attr(struct arena *a, const struct attr *at)
{
	char *str;

	switch (at->type) {
	case ATTR_INT:
		return otlp_kv_int(a, at->key, at->num);
	case ATTR_BOOL:
		return otlp_kv_bool(a, at->key, at->num != 0);
	case ATTR_STR:
	default:
		/* at->str need not end in a NUL: str_len says where it ends. */
		str = arena_alloc(a, at->str_len + 1);
		if (str)
			memcpy(str, at->str, at->str_len);
		return otlp_kv_str(a, at->key, str);
	}
}

static char *ref_span_name(struct arena *a, const struct export_span *es)
{
	/* A method that could not be decoded is named HTTP (the conventions). */
	const char *m = es->span.method[0] ? es->span.method : "HTTP";
	size_t ml = strlen(m), rl = strlen(es->route);
	const char *svc, *method;
	size_t svc_len, method_len;
	char *name;

	if (span_rpc_parts(&es->span, &svc, &svc_len, &method, &method_len)) {
		size_t n = svc_len + 1 + method_len;

		name = arena_alloc(a, 3 * n + 1);
		if (name)
			utf8_sanitize(name, 3 * n + 1, svc, n);
		return name;
	}
	name = arena_alloc(a, ml + 3 * rl + 2);
	if (!name)
		return NULL;
	memcpy(name, m, ml);
	name[ml] = '\0';
	if (rl) {
		name[ml] = ' ';
		utf8_sanitize(name + ml + 1, 3 * rl + 1, es->route, rl);
	}
	return name;
}

static otlp_span *ref_encode_span(struct arena *a, const struct export_span *es, bool with_query)
{
	otlp_span *s = arena_alloc(a, sizeof(*s));
	otlp_status *st = arena_alloc(a, sizeof(*st));
	struct span_attrs *attrs = malloc(sizeof(*attrs));
	otlp_kv **kvs = arena_alloc(a, sizeof(*kvs) * SPAN_ATTRS_MAX);

	if (!s || !st || !attrs || !kvs) {
		free(attrs);
		a->failed = 1;
		return NULL;
	}
	opentelemetry__proto__trace__v1__span__init(s);
	opentelemetry__proto__trace__v1__status__init(st);
	s->trace_id.data = (uint8_t *)es->ids.trace_id;
	s->trace_id.len = sizeof(es->ids.trace_id);
	s->span_id.data = (uint8_t *)es->ids.span_id;
	s->span_id.len = sizeof(es->ids.span_id);
	if (es->ids.has_parent) {
		s->parent_span_id.data = (uint8_t *)es->ids.parent_span_id;
		s->parent_span_id.len = sizeof(es->ids.parent_span_id);
	}
	s->flags = (es->ids.sampled ? 0x01u : 0) | 0x100u | (es->ids.remote_parent ? 0x200u : 0);
	s->name = ref_span_name(a, es);
	s->kind = es->span.kind == SPAN_SERVER
			  ? OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER
			  : OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
	s->start_time_unix_nano = es->span.start_ns;
	s->end_time_unix_nano = es->span.end_ns;

	span_attrs_build(attrs, &es->span, es->route[0] ? es->route : NULL,
			 with_query ? SPAN_ATTRS_QUERY : 0);
	for (int i = 0; i < attrs->n; i++) {
		otlp_kv *kv = ref_kv_attr(a, &attrs->items[i]);

		if (kv)
			kvs[s->n_attributes++] = kv;
	}
	s->attributes = kvs;
	free(attrs);
	if (span_is_error(&es->span))
		st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
	s->status = st;
	return s;
}

static int ref_encode_traces(const struct export_span *spans, size_t n, bool with_query,
			     uint8_t **out, size_t *outlen)
{
	struct arena a = { 0 };
	trace_request req = OPENTELEMETRY__PROTO__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	resource_spans **rs = arena_alloc(&a, sizeof(*rs) * (n ? n : 1));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	int err = -ENOMEM;

	*out = NULL;
	if (!rs || !done)
		goto out;
	for (size_t i = 0; i < n; i++) {
		resource_spans *r;
		scope_spans *ss;
		size_t count = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < n; j++)
			count += spans[j].res == spans[i].res && !done[j];
		r = arena_alloc(&a, sizeof(*r));
		ss = arena_alloc(&a, sizeof(*ss));
		if (!r || !ss)
			goto out;
		opentelemetry__proto__trace__v1__resource_spans__init(r);
		opentelemetry__proto__trace__v1__scope_spans__init(ss);
		r->resource = otlp_resource_of(&a, spans[i].res);
		ss->scope = otlp_scope_sonde(&a);
		ss->spans = arena_alloc(&a, sizeof(*ss->spans) * count);
		if (!r->resource || !ss->scope || !ss->spans)
			goto out;
		for (size_t j = i; j < n; j++) {
			if (done[j] || spans[j].res != spans[i].res)
				continue;
			done[j] = true;
			ss->spans[ss->n_spans] = ref_encode_span(&a, &spans[j], with_query);
			if (!ss->spans[ss->n_spans])
				goto out;
			ss->n_spans++;
		}
		r->scope_spans = arena_alloc(&a, sizeof(*r->scope_spans));
		if (!r->scope_spans)
			goto out;
		r->scope_spans[0] = ss;
		r->n_scope_spans = 1;
		rs[req.n_resource_spans++] = r;
	}
	req.resource_spans = rs;
	if (a.failed)
		goto out;
	*outlen = opentelemetry__proto__trace__v1__export_trace_service_request__get_packed_size(
		&req);
	*out = malloc(*outlen ? *outlen : 1);
	if (!*out)
		goto out;
	opentelemetry__proto__trace__v1__export_trace_service_request__pack(&req, *out);
	err = 0;
out:
	free(done);
	arena_free(&a);
	return err;
}

/* --- Decoded trees, compared field by field --- */

static bool utf8_valid(const char *s)
{
	char buf[8192];
	size_t n = strlen(s);

	/* Sanitizing valid UTF-8 changes nothing. */
	assert_true(n < sizeof(buf));
	return utf8_sanitize(buf, sizeof(buf), s, n) == n && memcmp(buf, s, n) == 0;
}

static void assert_str_same(const char *got, const char *want)
{
	assert_non_null(got);
	assert_non_null(want);
	assert_string_equal(got, want);
	/* What the collector (and the OpenTelemetry JS decoder) insists on. */
	assert_true(utf8_valid(got));
}

static void assert_bytes_same(ProtobufCBinaryData got, ProtobufCBinaryData want)
{
	assert_int_equal(got.len, want.len);
	if (got.len)
		assert_memory_equal(got.data, want.data, got.len);
}

static void assert_kvs_same(otlp_kv **got, size_t ngot, otlp_kv **want, size_t nwant)
{
	assert_int_equal(ngot, nwant);
	for (size_t i = 0; i < ngot; i++) {
		const otlp_any *g = got[i]->value, *w = want[i]->value;

		assert_str_same(got[i]->key, want[i]->key);
		assert_non_null(g);
		assert_non_null(w);
		assert_int_equal(g->value_case, w->value_case);
		switch (g->value_case) {
		case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
			assert_str_same(g->string_value, w->string_value);
			break;
		case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
			assert_int_equal(g->int_value, w->int_value);
			break;
		case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
			assert_int_equal(g->bool_value, w->bool_value);
			break;
		default:
			fail_msg("attribute %s: unexpected value case %d", got[i]->key,
				 g->value_case);
		}
	}
}

static void assert_span_same(const otlp_span *g, const otlp_span *w)
{
	assert_bytes_same(g->trace_id, w->trace_id);
	assert_bytes_same(g->span_id, w->span_id);
	assert_str_same(g->trace_state, w->trace_state);
	assert_bytes_same(g->parent_span_id, w->parent_span_id);
	assert_str_same(g->name, w->name);
	assert_int_equal(g->kind, w->kind);
	assert_int_equal(g->start_time_unix_nano, w->start_time_unix_nano);
	assert_int_equal(g->end_time_unix_nano, w->end_time_unix_nano);
	assert_kvs_same(g->attributes, g->n_attributes, w->attributes, w->n_attributes);
	assert_int_equal(g->dropped_attributes_count, w->dropped_attributes_count);
	assert_non_null(g->status);
	assert_non_null(w->status);
	assert_str_same(g->status->message, w->status->message);
	assert_int_equal(g->status->code, w->status->code);
	assert_int_equal(g->flags, w->flags);
}

static void assert_requests_same(const trace_request *g, const trace_request *w)
{
	assert_int_equal(g->n_resource_spans, w->n_resource_spans);
	for (size_t i = 0; i < g->n_resource_spans; i++) {
		const resource_spans *gr = g->resource_spans[i], *wr = w->resource_spans[i];

		assert_non_null(gr->resource);
		assert_kvs_same(gr->resource->attributes, gr->resource->n_attributes,
				wr->resource->attributes, wr->resource->n_attributes);
		assert_int_equal(gr->resource->dropped_attributes_count,
				 wr->resource->dropped_attributes_count);
		assert_str_same(gr->schema_url, wr->schema_url);
		assert_int_equal(gr->n_scope_spans, wr->n_scope_spans);
		for (size_t k = 0; k < gr->n_scope_spans; k++) {
			const scope_spans *gs = gr->scope_spans[k], *ws = wr->scope_spans[k];

			assert_non_null(gs->scope);
			assert_str_same(gs->scope->name, ws->scope->name);
			assert_str_same(gs->scope->version, ws->scope->version);
			assert_str_same(gs->schema_url, ws->schema_url);
			assert_int_equal(gs->n_spans, ws->n_spans);
			for (size_t s = 0; s < gs->n_spans; s++)
				assert_span_same(gs->spans[s], ws->spans[s]);
		}
	}
}

/*
 * Encodes spans with both encoders: the bytes must be the same, and so must
 * every decoded field. Returns the new encoder's length. The decoded request
 * is checked against the input too: the spans' ids in queue order per process.
 */
static size_t check_equivalent(const struct export_span *spans, size_t n, bool with_query)
{
	uint8_t *got, *want;
	size_t got_len, want_len, seen = 0;
	trace_request *g, *w;

	assert_int_equal(otlp_encode_traces(spans, n, with_query, &got, &got_len), 0);
	assert_int_equal(ref_encode_traces(spans, n, with_query, &want, &want_len), 0);
	assert_non_null(got);
	g = opentelemetry__proto__trace__v1__export_trace_service_request__unpack(NULL, got_len,
										  got);
	w = opentelemetry__proto__trace__v1__export_trace_service_request__unpack(NULL, want_len,
										  want);
	assert_non_null(g);
	assert_non_null(w);
	assert_requests_same(g, w);
	if (got_len != want_len || memcmp(got, want, got_len)) {
		size_t i = 0;

		while (i < got_len && i < want_len && got[i] == want[i])
			i++;
		fail_msg("%zu spans: %zu bytes against %zu, first difference at %zu", n, got_len,
			 want_len, i);
	}
	/* One ResourceSpans per process in order of first appearance, each with
	 * its spans in queue order. */
	bool *used = calloc(n ? n : 1, sizeof(*used));
	size_t group = 0;

	assert_non_null(used);
	for (size_t i = 0; i < n; i++) {
		const scope_spans *ss;
		size_t k = 0;

		if (used[i])
			continue;
		assert_true(group < g->n_resource_spans);
		assert_int_equal(g->resource_spans[group]->n_scope_spans, 1);
		ss = g->resource_spans[group]->scope_spans[0];
		assert_string_equal(ss->scope->name, "sonde");
		for (size_t j = i; j < n; j++) {
			if (used[j] || spans[j].res != spans[i].res)
				continue;
			used[j] = true;
			assert_true(k < ss->n_spans);
			assert_memory_equal(ss->spans[k]->span_id.data, spans[j].ids.span_id, 8);
			k++;
		}
		assert_int_equal(k, ss->n_spans);
		seen += k;
		group++;
	}
	free(used);
	assert_int_equal(group, g->n_resource_spans);
	assert_int_equal(seen, n);
	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(g, NULL);
	opentelemetry__proto__trace__v1__export_trace_service_request__free_unpacked(w, NULL);
	free(got);
	free(want);
	return got_len;
}

/* --- Varied spans --- */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint32_t pick(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* Bytes 1..255, mostly the troublesome ones: invalid lead and continuation
 * bytes, truncated and overlong sequences, surrogates. */
static void odd_bytes(char *dst, size_t n)
{
	static const char *const pieces[] = {
		"\xff",
		"\xc0\xaf",
		"\xe2\x82",
		"\xed\xa0\x80",
		"\xf4\x90\x80\x80",
		"\xf0\x9f\x98\x80",
		"\xc3\xa9",
		"\xe2\x82\xac",
		"a",
		"/",
		"%",
		"\x80",
		"\xf8\x88\x80\x80",
		"7",
		"\xe9",
	};
	size_t o = 0;

	while (o < n) {
		const char *p = pieces[pick(sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);

		if (o + l > n)
			l = n - o;
		memcpy(dst + o, p, l);
		o += l;
	}
	dst[n] = '\0';
}

static const char *const methods[] = { "GET",  "POST", "PUT",	  "DELETE",  "PATCH",
				       "HEAD", "",     "OPTIONS", "PROPFIND" };
static const char *const targets[] = {
	"/",
	"/api/items/12345?limit=10",
	"/users/550e8400-e29b-41d4-a716-446655440000/orders",
	"/caf\xe9/1",
	"/\xf0\x9f\x98\x80/emoji?q=\xff",
	"*",
	"http://proxy.example/absolute",
	"/a#frag",
	"/search?q=caf\xc3\xa9&x=1&token=s3cret",
	"/\xed\xa0\x80surrogate",
	"/trunc\xe2\x82",
	"",
	"/grpc.health.v1.Health/Check",
	"/helloworld.Greeter/SayHello",
	"/caf\xe9.Svc/M\xff",
	"/bad/grpc/path",
	"/onlyservice/",
	"/login?",
};
static const char *const hosts[] = {
	"",  "shop.example:8443", "[::1]:8080", "h\xe9st", "example.com", "10.0.0.1:80", "[fe80::1",
	":9"
};
static const char *const agents[] = { "", "curl/8.0.1",
				      "Mozilla/5.0 (X11; Linux x86_64) \xe2\x98\x83",
				      "grpc-go/1.60.0", "bad\xc0\x80ua" };
static const uint16_t statuses[] = { 0, 200, 201, 204, 301, 404, 429, 499, 500, 503, 999 };

static void random_endpoint(struct span_endpoint *e)
{
	switch (pick(5)) {
	case 0:
		memset(e, 0, sizeof(*e)); /* unknown */
		return;
	case 1:
	case 2:
		e->family = AF_INET;
		for (int i = 0; i < 4; i++)
			e->addr[i] = (uint8_t)rnd();
		break;
	case 3:
		e->family = AF_INET6;
		for (int i = 0; i < 16; i++)
			e->addr[i] = (uint8_t)(pick(3) ? 0 : rnd());
		break;
	default: /* IPv4-mapped IPv6 */
		e->family = AF_INET6;
		memset(e->addr, 0, 10);
		e->addr[10] = e->addr[11] = 0xff;
		for (int i = 12; i < 16; i++)
			e->addr[i] = (uint8_t)rnd();
	}
	e->port = (uint16_t)rnd();
}

static void random_span(struct export_span *es, struct resource *const *res, size_t nres)
{
	struct span *s = &es->span;
	uint32_t shape = pick(10);

	memset(es, 0, sizeof(*es));
	s->kind = pick(2) ? SPAN_SERVER : SPAN_CLIENT;
	s->pid = 100 + pick(5);
	snprintf(s->method, sizeof(s->method), "%s",
		 methods[pick(sizeof(methods) / sizeof(methods[0]))]);
	if (shape < 2) { /* long and odd */
		odd_bytes(s->target + 1, 1 + pick(SPAN_TARGET_LEN - 2));
		s->target[0] = '/';
		s->flags |= SPAN_F_TARGET_TRUNCATED;
	} else {
		snprintf(s->target, sizeof(s->target), "%s",
			 targets[pick(sizeof(targets) / sizeof(targets[0]))]);
	}
	if (shape == 2)
		odd_bytes(s->host, 1 + pick(SPAN_HOST_LEN - 2));
	else
		snprintf(s->host, sizeof(s->host), "%s",
			 hosts[pick(sizeof(hosts) / sizeof(hosts[0]))]);
	if (shape == 3)
		odd_bytes(s->user_agent, 1 + pick(SPAN_UA_LEN - 2));
	else
		snprintf(s->user_agent, sizeof(s->user_agent), "%s",
			 agents[pick(sizeof(agents) / sizeof(agents[0]))]);
	s->status = statuses[pick(sizeof(statuses) / sizeof(statuses[0]))];
	s->version_major = (uint8_t)pick(3);
	s->version_minor = (uint8_t)(pick(4) ? pick(2) : rnd());
	s->request_body_bytes = pick(4) ? pick(100000) : rnd(); /* past INT64_MAX too */
	s->response_body_bytes = pick(4) ? pick(100000) : rnd();
	random_endpoint(&s->local);
	random_endpoint(&s->peer);
	s->start_ns = pick(20) ? 1764000000000000000ull + rnd() % 1000000000000ull : 0;
	s->end_ns = pick(20) ? s->start_ns + pick(2000000000) : 0;
	s->flags |= (uint32_t)rnd() & (SPAN_F_HEAD_TRUNCATED | SPAN_F_LOST_SYNC | SPAN_F_TLS |
				       SPAN_F_STATUS_UNKNOWN | SPAN_F_RESET);
	if (pick(8) == 0)
		s->flags |= SPAN_F_NO_RESPONSE;
	if (shape >= 7) { /* gRPC over HTTP/2 */
		s->version_major = 2;
		s->stream_id = pick(1000) * 2 + 1;
		s->flags |= SPAN_F_GRPC;
		if (pick(4))
			s->flags |= SPAN_F_GRPC_STATUS;
		s->grpc_status = (uint8_t)(pick(5) ? pick(17) : rnd());
		if (pick(3))
			snprintf(s->target, sizeof(s->target), "%s",
				 pick(2) ? "/grpc.health.v1.Health/Check" : "/pkg.v1.Svc/Do\xe9");
	}
	/* The route as the pipeline makes it, or odd bytes, or none. */
	switch (pick(4)) {
	case 0:
		break;
	case 1:
		odd_bytes(es->route, 1 + pick(ROUTE_LEN - 2));
		break;
	case 2:
		snprintf(es->route, sizeof(es->route), "%s", ROUTE_OVERFLOW);
		break;
	default:
		route_template(s->target, span_path_len(s), es->route, sizeof(es->route));
	}
	es->res = res[pick((uint32_t)nres)];
	for (int i = 0; i < 16; i++)
		es->ids.trace_id[i] = (uint8_t)rnd();
	for (int i = 0; i < 8; i++) {
		es->ids.span_id[i] = (uint8_t)rnd();
		es->ids.parent_span_id[i] = (uint8_t)rnd();
	}
	es->ids.has_parent = pick(2);
	es->ids.remote_parent = es->ids.has_parent && pick(2);
	es->ids.sampled = pick(4) != 0;
}

#define NRES 4

static void make_resources(struct resource **res)
{
	static const char env0[] =
		"OTEL_SERVICE_NAME=shop\0"
		"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,team=caf\xe9";
	static const char env1[] = "OTEL_SERVICE_NAME=caf\xe9\xff";
	static const char env3[] = "OTEL_RESOURCE_ATTRIBUTES=a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,"
				   "i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17,r=18,s=19,t=20,"
				   "u=21,v=22,w=23,x=24,y=25,z=26,aa=27,bb=28,cc=29,dd=30,ee=31";

	res[0] = resource_new(100, "nginx", "node-1", env0, sizeof(env0), NULL, "test");
	res[1] = resource_new(101, "app", "node-1", env1, sizeof(env1), NULL, "test");
	res[2] = resource_new(4000000000u, "\xe9xe",
			      "n\xf0\x9f\x98\x80"
			      "de",
			      NULL, 0, NULL, "test");
	res[3] = resource_new(103, "many", "node-1", env3, sizeof(env3), NULL, "test");
	for (int i = 0; i < NRES; i++)
		assert_non_null(res[i]);
}

static void put_resources(struct resource **res)
{
	for (int i = 0; i < NRES; i++)
		resource_put(res[i]);
}

static void test_empty_batch(void **state)
{
	struct resource *res[NRES];

	(void)state;
	make_resources(res);
	assert_int_equal(check_equivalent(NULL, 0, false), 0);
	put_resources(res);
}

/* Each of the hand-picked shapes alone, with and without url.query. */
static void test_each_shape(void **state)
{
	struct resource *res[NRES];
	struct export_span es;

	(void)state;
	make_resources(res);
	for (int i = 0; i < 2000; i++) {
		random_span(&es, res, NRES);
		check_equivalent(&es, 1, false);
		check_equivalent(&es, 1, true);
	}
	put_resources(res);
}

/* Batches of every size up to the exporter's default, processes interleaved. */
static void test_random_batches(void **state)
{
	struct resource *res[NRES];
	static struct export_span es[600];

	(void)state;
	make_resources(res);
	for (int b = 0; b < 60; b++) {
		size_t n = b < 10 ? (size_t)b : pick(600);
		size_t nres = 1 + pick(NRES);

		for (size_t i = 0; i < n; i++)
			random_span(&es[i], res, nres);
		check_equivalent(es, n, b & 1);
	}
	put_resources(res);
}

/* A process with more than 2 MiB of spans in one request: the group's length
 * takes 4 bytes, past the writer's guess, and the spans are moved. */
static void test_huge_group(void **state)
{
	struct resource *res[NRES];
	size_t n = 3000;
	struct export_span *es = calloc(n, sizeof(*es));

	(void)state;
	assert_non_null(es);
	make_resources(res);
	for (size_t i = 0; i < n; i++) {
		random_span(&es[i], res, 1);
		odd_bytes(es[i].span.user_agent, SPAN_UA_LEN - 1);
		odd_bytes(es[i].span.target + 1, SPAN_TARGET_LEN - 2);
	}
	assert_true(check_equivalent(es, n, true) > (1u << 21));
	free(es);
	put_resources(res);
}

/* A span past the queue slot's inline room is held on the heap, byte for
 * byte, and a request made of it is the reference's. */
static void test_large_span_on_heap(void **state)
{
	struct resource *res[NRES];
	struct export_span es;
	struct encoded_span enc;
	struct pb_writer w;

	(void)state;
	make_resources(res);
	random_span(&es, res, 1);
	es.span.kind = SPAN_SERVER;
	es.span.flags = 0;
	snprintf(es.span.method, sizeof(es.span.method), "GET");
	es.span.target[0] = '/';
	memset(es.span.target + 1, 'p', SPAN_TARGET_LEN - 2);
	memset(es.span.user_agent, 'u', SPAN_UA_LEN - 1);
	assert_int_equal(pb_writer_init(&w, 64), 0);
	assert_int_equal(otlp_encode_span(&w, &es.span, &es.ids, es.route, true), 0);
	assert_true(w.len > ENCODED_SPAN_INLINE);
	/* Encoded straight into the slot: it starts inline and moves. */
	assert_int_equal(encoded_span_encode(&enc, es.res, &es.span, &es.ids, es.route, true), 0);
	assert_non_null(enc.heap);
	assert_ptr_equal(enc.res, es.res);
	assert_int_equal(enc.len, w.len);
	assert_memory_equal(enc.heap, w.buf, w.len);
	check_equivalent(&es, 1, true);
	encoded_span_free(&enc);
	pb_writer_free(&w);
	put_resources(res);
}

/* The pipeline's bench span, many times: the common case, exactly. */
static void test_typical_spans(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=bench-api";
	struct resource *res =
		resource_new(4242, "nginx", "bench-host", env, sizeof(env), NULL, "bench");
	static struct export_span es[512];

	(void)state;
	for (size_t i = 0; i < 512; i++) {
		struct span *s = &es[i].span;

		memset(&es[i], 0, sizeof(es[i]));
		s->kind = SPAN_SERVER;
		snprintf(s->method, sizeof(s->method), "GET");
		snprintf(s->target, sizeof(s->target), "/api/items/%zu?limit=10", i);
		s->status = i % 10 ? 200 : 500;
		s->version_minor = 1;
		s->start_ns = 1795635721123456789ull + i * 1000000;
		s->end_ns = s->start_ns + 812000;
		s->response_body_bytes = 13;
		s->local = (struct span_endpoint){ .family = AF_INET, .port = 18080 };
		s->peer = (struct span_endpoint){ .family = AF_INET, .port = 51234 };
		memcpy(s->local.addr, "\x7f\0\0\x01", 4);
		memcpy(s->peer.addr, "\x7f\0\0\x01", 4);
		snprintf(s->host, sizeof(s->host), "127.0.0.1:18080");
		snprintf(s->user_agent, sizeof(s->user_agent), "Mozilla/5.0 bench/1.0");
		snprintf(es[i].route, sizeof(es[i].route), "/api/items/{id}");
		es[i].res = res;
		es[i].ids.trace_id[0] = 1;
		es[i].ids.span_id[0] = (uint8_t)i;
		es[i].ids.span_id[1] = (uint8_t)(i >> 8);
		es[i].ids.sampled = true;
	}
	check_equivalent(es, 512, false);
	resource_put(res);
}

/* --- The writer alone: a nested message's length, whatever the guess --- */

/* A borrowed buffer is written in place until full, then left for the heap
 * with what it held; it is never freed (ASan would catch a stack pointer). */
static void test_writer_borrowed(void **state)
{
	uint8_t mine[32], big[100]; /* a varint field asks for 20 bytes of room */
	struct pb_writer w;

	(void)state;
	memset(big, 0xab, sizeof(big));
	pb_writer_borrow(&w, mine, sizeof(mine));
	pb_varint_field(&w, 1, 150);
	assert_ptr_equal(w.buf, mine);
	assert_int_equal(w.len, 3);
	assert_memory_equal(mine, "\x08\x96\x01", 3);
	pb_bytes_field(&w, 2, big, sizeof(big));
	assert_false(w.failed);
	assert_false(w.borrowed);
	assert_ptr_not_equal(w.buf, mine);
	assert_int_equal(w.len, 3 + 2 + sizeof(big));
	assert_memory_equal(w.buf, "\x08\x96\x01\x12\x64", 5);
	assert_memory_equal(w.buf + 5, big, sizeof(big));
	pb_writer_free(&w);

	pb_writer_borrow(&w, mine, sizeof(mine));
	pb_varint_field(&w, 1, 1);
	pb_writer_free(&w); /* still borrowed: nothing to free */
}

static void test_writer_lengths(void **state)
{
	static const size_t lens[] = { 0, 1, 127, 128, 300, 16383, 16384, 70000, 2097151, 2097152 };
	uint8_t *body = malloc(2097152);

	(void)state;
	assert_non_null(body);
	for (size_t i = 0; i < 2097152; i++)
		body[i] = (uint8_t)(i * 7);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (unsigned width = 1; width <= 5; width++) {
			struct pb_writer w;
			struct pb_mark outer, inner;
			uint8_t want[32], *p;
			size_t hdr;

			assert_int_equal(pb_writer_init(&w, 1), 0);
			pb_varint_field(&w, 1, 150);
			assert_true(pb_open(&w, 2, width, &outer));
			assert_true(pb_open(&w, 3, width, &inner));
			pb_bytes_field(&w, 4, body, lens[l]);
			pb_close(&w, &inner);
			pb_fixed32_field(&w, 5, 0xdeadbeef);
			pb_close(&w, &outer);
			assert_false(w.failed);

			/* 08 96 01 | 12 len(outer) | 1a len(inner) | 22 len body | 2d ef be ad de */
			size_t blen = 1 + pb_varint_size(lens[l]) + lens[l];
			size_t ilen = blen;
			size_t olen = 1 + pb_varint_size(ilen) + ilen + 5;

			p = want;
			*p++ = 0x08;
			p = pb_put_varint(p, 150);
			*p++ = 0x12;
			p = pb_put_varint(p, olen);
			*p++ = 0x1a;
			p = pb_put_varint(p, ilen);
			*p++ = 0x22;
			p = pb_put_varint(p, lens[l]);
			hdr = (size_t)(p - want);
			assert_int_equal(w.len, hdr + lens[l] + 5);
			assert_memory_equal(w.buf, want, hdr);
			if (lens[l])
				assert_memory_equal(w.buf + hdr, body, lens[l]);
			assert_memory_equal(w.buf + hdr + lens[l], "\x2d\xef\xbe\xad\xde", 5);
			pb_writer_free(&w);
		}
	}
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_lengths),	   cmocka_unit_test(test_empty_batch),
		cmocka_unit_test(test_typical_spans),	   cmocka_unit_test(test_each_shape),
		cmocka_unit_test(test_random_batches),	   cmocka_unit_test(test_huge_group),
		cmocka_unit_test(test_large_span_on_heap), cmocka_unit_test(test_writer_borrowed),
	};

	return cmocka_run_group_tests_name("otlp_traces", tests, NULL, NULL);
}
