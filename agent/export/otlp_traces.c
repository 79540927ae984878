/* SPDX-License-Identifier: MIT */
/* Spans → ExportTraceServiceRequest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_common.h"
#include "otlp_encode.h"
#include "otlp_trace.pb-c.h"

typedef Opentelemetry__Proto__Trace__V1__ExportTraceServiceRequest trace_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span otlp_span;
typedef Opentelemetry__Proto__Trace__V1__Status otlp_status;

/* "GET /users/{id}": the HTTP conventions' {method} {target} with the
 * route as target. The route is templated from the raw path, so it is made
 * valid UTF-8 here (each bad byte may become 3). */
static char *span_name(struct arena *a, const struct export_span *es)
{
	size_t ml = strlen(es->span.method), rl = strlen(es->route);
	const char *svc, *method;
	size_t svc_len, method_len;
	char *name;

	/* gRPC: "package.Service/Method" (the RPC conventions' span name). */
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
	memcpy(name, es->span.method, ml);
	if (rl) {
		name[ml] = ' ';
		utf8_sanitize(name + ml + 1, 3 * rl + 1, es->route, rl);
	}
	return name;
}

static otlp_span *encode_span(struct arena *a, const struct export_span *es, bool with_query)
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
	/* W3C trace flags in the low byte; bits 8-9 say whether the parent is
	 * remote (OTLP Span.flags): a traceparent always comes from another process. */
	s->flags = (es->ids.sampled ? 0x01u : 0) | 0x100u | (es->ids.has_parent ? 0x200u : 0);
	s->name = span_name(a, es);
	s->kind = es->span.kind == SPAN_SERVER
			  ? OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER
			  : OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
	s->start_time_unix_nano = es->span.start_ns;
	s->end_time_unix_nano = es->span.end_ns;

	span_attrs_build(attrs, &es->span, es->route[0] ? es->route : NULL, with_query);
	for (int i = 0; i < attrs->n; i++) {
		otlp_kv *kv = otlp_kv_attr(a, &attrs->items[i]);

		if (kv)
			kvs[s->n_attributes++] = kv;
	}
	s->attributes = kvs;
	free(attrs);

	/* Status: ERROR for 5xx on servers, 4xx/5xx on clients; otherwise left
	 * unset, as the HTTP semantic conventions ask. */
	if (span_is_error(&es->span))
		st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
	s->status = st;
	return s;
}

int otlp_encode_traces(const struct export_span *spans, size_t n, bool with_query, uint8_t **out,
		       size_t *outlen)
{
	struct arena a = { 0 };
	trace_request req = OPENTELEMETRY__PROTO__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	resource_spans **rs = arena_alloc(&a, sizeof(*rs) * (n ? n : 1));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	int err = -ENOMEM;

	*out = NULL;
	if (!rs || !done)
		goto out;
	/* One ResourceSpans per process: gather its spans in queue order. */
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
			ss->spans[ss->n_spans] = encode_span(&a, &spans[j], with_query);
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
