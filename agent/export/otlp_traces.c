/* SPDX-License-Identifier: MIT */
/*
 * Spans → ExportTraceServiceRequest, written straight from the spans with
 * pb_writer.h rather than through a protobuf-c message tree: each span into
 * its own bytes (otlp_encode_span), then those into one request grouped by
 * process (otlp_assemble_traces). The tree cost an allocation per field and
 * protobuf-c sized every nested message again at each level, most of the
 * agent's CPU per exported span. The bytes are
 * the ones protobuf-c produced for the same spans (tests/unit compare them):
 * fields in field-number order, proto3 defaults (zero, empty) left out,
 * oneof members and sub-messages written when set even if empty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp_encode.h"
#include "otlp_trace.pb-c.h"
#include "export/pb_writer.h"
#include "spans/span_attrs.h"

/* Field numbers: otlp-proto/otlp_trace.proto and otlp-proto/otlp_common.proto. */
enum {
	REQUEST_RESOURCE_SPANS = 1,

	RESOURCE_SPANS_RESOURCE = 1,
	RESOURCE_SPANS_SCOPE_SPANS = 2,

	SCOPE_SPANS_SCOPE = 1,
	SCOPE_SPANS_SPANS = 2,

	SPAN_TRACE_ID = 1,
	SPAN_SPAN_ID = 2,
	SPAN_PARENT_SPAN_ID = 4,
	SPAN_NAME = 5,
	SPAN_KIND = 6,
	SPAN_START_TIME = 7,
	SPAN_END_TIME = 8,
	SPAN_ATTRIBUTES = 9,
	SPAN_STATUS = 15,
	SPAN_FLAGS = 16,

	STATUS_CODE = 3,

	RESOURCE_ATTRIBUTES = 1,

	SCOPE_NAME = 1,
	SCOPE_VERSION = 2,

	KEY_VALUE_KEY = 1,
	KEY_VALUE_VALUE = 2,

	ANY_VALUE_STRING = 1,
	ANY_VALUE_BOOL = 2,
	ANY_VALUE_INT = 3,
};

/* Expected length widths (pb_open): right for any realistic batch. */
#define SPAN_LEN_WIDTH	   2 /* 128 B .. 16 KiB */
#define RESOURCE_LEN_WIDTH 2
#define GROUP_LEN_WIDTH	   3   /* 16 KiB .. 2 MiB of spans per process */
#define SPAN_SIZE_GUESS	   640 /* bytes, for the first allocation */

/* The span name's room: a method and a route each byte of which may become
 * U+FFFD (3 bytes), or a gRPC path (the same). */
#define NAME_MAX_LEN \
	(SPAN_METHOD_LEN + 1 + 3 * (SPAN_TARGET_LEN > ROUTE_LEN ? SPAN_TARGET_LEN : ROUTE_LEN))

/*
 * One KeyValue as field `field` of its parent, with its AnyValue: the sizes
 * are known up front, so the lengths are written directly. value_field is the
 * AnyValue member's field: a string member carries str[0..slen), an integer or
 * bool member num. Inlined: each caller's constant member folds away most of
 * it (a tenth of the encoder's instructions).
 */
static inline __attribute__((always_inline)) void put_kv(struct pb_writer *w, uint32_t field,
							 const char *key, size_t klen,
							 uint32_t value_field, const char *str,
							 size_t slen, uint64_t num)
{
	size_t any, kv;
	uint8_t *p;

	if (value_field == ANY_VALUE_STRING)
		any = 1 + pb_varint_size(slen) + slen;
	else
		any = 1 + pb_varint_size(num);
	/* proto3: an empty key is the default and is left out. */
	kv = (klen ? 1 + pb_varint_size(klen) + klen : 0) + 1 + pb_varint_size(any) + any;
	if (!pb_room(w, 2 + pb_varint_size(kv) + kv))
		return;
	p = w->buf + w->len;
	p = pb_put_varint(p, pb_tag(field, PB_LEN));
	p = pb_put_varint(p, kv);
	if (klen)
		p = pb_put_bytes(p, KEY_VALUE_KEY, key, klen);
	p = pb_put_varint(p, pb_tag(KEY_VALUE_VALUE, PB_LEN));
	p = pb_put_varint(p, any);
	if (value_field == ANY_VALUE_STRING) {
		p = pb_put_bytes(p, ANY_VALUE_STRING, str, slen);
	} else {
		p = pb_put_varint(p, pb_tag(value_field, PB_VARINT));
		p = pb_put_varint(p, num);
	}
	w->len = (size_t)(p - w->buf);
}

static void put_attr(struct pb_writer *w, const struct attr *at)
{
	switch (at->type) {
	case ATTR_INT:
		put_kv(w, SPAN_ATTRIBUTES, at->key, at->key_len, ANY_VALUE_INT, NULL, 0,
		       (uint64_t)at->num);
		break;
	case ATTR_BOOL:
		put_kv(w, SPAN_ATTRIBUTES, at->key, at->key_len, ANY_VALUE_BOOL, NULL, 0,
		       at->num != 0);
		break;
	case ATTR_STR:
	default:
		put_kv(w, SPAN_ATTRIBUTES, at->key, at->key_len, ANY_VALUE_STRING, at->str,
		       at->str_len, 0);
		break;
	}
}

/* Resource attribute strings were made valid UTF-8 when the resource was built. */
static void put_resource(struct pb_writer *w, const struct resource *r)
{
	struct pb_mark m;

	if (!pb_open(w, RESOURCE_SPANS_RESOURCE, RESOURCE_LEN_WIDTH, &m))
		return;
	for (int i = 0; i < r->nattrs; i++) {
		const struct resource_attr *ra = &r->attrs[i];

		if (ra->is_int)
			put_kv(w, RESOURCE_ATTRIBUTES, ra->key, strlen(ra->key), ANY_VALUE_INT,
			       NULL, 0, (uint64_t)strtoll(ra->value, NULL, 10));
		else
			put_kv(w, RESOURCE_ATTRIBUTES, ra->key, strlen(ra->key), ANY_VALUE_STRING,
			       ra->value, strlen(ra->value), 0);
	}
	pb_close(w, &m);
}

static void put_scope(struct pb_writer *w)
{
	static const char name[] = "sonde", version[] = SONDE_VERSION;
	size_t len = 2 + sizeof(name) - 1 + (sizeof(version) > 1 ? 2 + sizeof(version) - 1 : 0);
	uint8_t *p;

	_Static_assert(sizeof(name) - 1 + sizeof(version) - 1 + 4 < 128,
		       "the scope's lengths are one byte each");
	if (!pb_room(w, 2 + len))
		return;
	p = w->buf + w->len;
	p = pb_put_varint(p, pb_tag(SCOPE_SPANS_SCOPE, PB_LEN));
	p = pb_put_varint(p, len);
	p = pb_put_bytes(p, SCOPE_NAME, name, sizeof(name) - 1);
	if (sizeof(version) > 1)
		p = pb_put_bytes(p, SCOPE_VERSION, version, sizeof(version) - 1);
	w->len = (size_t)(p - w->buf);
}

/* "GET /users/{id}": the HTTP conventions' {method} {target} with the route
 * as target; a gRPC call is "package.Service/Method" (the RPC conventions').
 * The route is templated from the raw path, so it is made valid UTF-8 here.
 * Returns the length written to name (room for NAME_MAX_LEN + 1). */
static size_t span_name(const struct span *sp, const char *route, char *name)
{
	size_t ml, rl = strlen(route);
	const char *svc, *method;
	size_t svc_len, method_len;

	if (sp->flags & SPAN_F_DB) {
		char db[SPAN_DB_NAME_LEN];
		size_t n = span_db_name(sp, db, sizeof(db));

		return utf8_sanitize(name, NAME_MAX_LEN + 1, db, n);
	}
	/* "HTTP" for a method that could not be decoded (the HTTP conventions). */
	ml = strlen(sp->method[0] ? sp->method : "HTTP");
	if (span_rpc_parts(sp, &svc, &svc_len, &method, &method_len)) {
		size_t n = svc_len + 1 + method_len;

		return utf8_sanitize(name, 3 * n + 1, svc, n);
	}
	memcpy(name, sp->method[0] ? sp->method : "HTTP", ml);
	if (!rl)
		return ml;
	name[ml] = ' ';
	return ml + 1 + utf8_sanitize(name + ml + 1, 3 * rl + 1, route, rl);
}

static void put_span(struct pb_writer *w, const struct span *sp, const struct trace_ids *ids,
		     const char *route, bool with_query, struct span_attrs *attrs)
{
	char name[NAME_MAX_LEN + 1];
	size_t name_len = span_name(sp, route, name);
	/* W3C trace flags in the low byte; bits 8-9 say whether the parent is
	 * remote (OTLP Span.flags): in another process, or on another node. */
	uint32_t flags = (ids->sampled ? 0x01u : 0) | 0x100u | (ids->remote_parent ? 0x200u : 0);
	struct pb_mark m;
	uint8_t *p;

	if (!pb_open(w, SCOPE_SPANS_SPANS, SPAN_LEN_WIDTH, &m))
		return;
	/* The fixed part: ids, name, kind and times in one go. */
	if (!pb_room(w, 64 + name_len))
		return;
	p = w->buf + w->len;
	p = pb_put_bytes(p, SPAN_TRACE_ID, ids->trace_id, sizeof(ids->trace_id));
	p = pb_put_bytes(p, SPAN_SPAN_ID, ids->span_id, sizeof(ids->span_id));
	if (ids->has_parent)
		p = pb_put_bytes(p, SPAN_PARENT_SPAN_ID, ids->parent_span_id,
				 sizeof(ids->parent_span_id));
	if (name_len)
		p = pb_put_bytes(p, SPAN_NAME, name, name_len);
	p = pb_put_varint(p, pb_tag(SPAN_KIND, PB_VARINT));
	p = pb_put_varint(
		p, sp->kind == SPAN_SERVER
			   ? OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER
			   : OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
	if (sp->start_ns) {
		p = pb_put_varint(p, pb_tag(SPAN_START_TIME, PB_I64));
		p = pb_put_fixed(p, sp->start_ns, 8);
	}
	if (sp->end_ns) {
		p = pb_put_varint(p, pb_tag(SPAN_END_TIME, PB_I64));
		p = pb_put_fixed(p, sp->end_ns, 8);
	}
	w->len = (size_t)(p - w->buf);

	span_attrs_build(attrs, sp, route[0] ? route : NULL, with_query ? SPAN_ATTRS_QUERY : 0);
	for (int i = 0; i < attrs->n; i++)
		put_attr(w, &attrs->items[i]);

	/* Status (always present, as protobuf-c wrote it): ERROR for 5xx on
	 * servers, 4xx/5xx on clients; otherwise its code is left unset, as the
	 * HTTP semantic conventions ask. Then the flags. */
	if (!pb_room(w, 16))
		return;
	p = w->buf + w->len;
	p = pb_put_varint(p, pb_tag(SPAN_STATUS, PB_LEN));
	if (span_is_error(sp)) {
		p = pb_put_varint(p, 2);
		p = pb_put_varint(p, pb_tag(STATUS_CODE, PB_VARINT));
		p = pb_put_varint(
			p, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	} else {
		p = pb_put_varint(p, 0);
	}
	p = pb_put_varint(p, pb_tag(SPAN_FLAGS, PB_I32));
	p = pb_put_fixed(p, flags, 4);
	w->len = (size_t)(p - w->buf);
	pb_close(w, &m);
}

int otlp_encode_span(struct pb_writer *w, const struct span *sp, const struct trace_ids *ids,
		     const char *route, bool with_query)
{
	struct span_attrs attrs;

	w->len = 0;
	if (!pb_room(w, SPAN_SIZE_GUESS))
		return -ENOMEM;
	put_span(w, sp, ids, route, with_query, &attrs);
	return w->failed ? -ENOMEM : 0;
}

/* The slot's bytes after an encoder wrote into its borrowed buffer: still
 * borrowed, they are inline; else the writer moved them to the heap, and the
 * slot keeps that buffer. Returns 0 or -ENOMEM. */
static int slot_done(struct encoded_span *es, struct pb_writer *w, struct resource *res, int err)
{
	if (err) {
		pb_writer_free(w);
		return -ENOMEM;
	}
	es->heap = w->borrowed ? NULL : w->buf;
	es->res = res;
	es->len = (uint32_t)w->len;
	return 0;
}

int encoded_span_encode(struct encoded_span *es, struct resource *res, const struct span *sp,
			const struct trace_ids *ids, const char *route, bool with_query)
{
	struct pb_writer w;

	pb_writer_borrow(&w, es->bytes, sizeof(es->bytes));
	return slot_done(es, &w, res, otlp_encode_span(&w, sp, ids, route, with_query));
}

/* LogRecord field numbers: otlp-proto/otlp_logs.proto. */
enum {
	LOG_TIME = 1,
	LOG_SEVERITY_NUMBER = 2,
	LOG_SEVERITY_TEXT = 3,
	LOG_BODY = 5,
	LOG_ATTRIBUTES = 6,
	LOG_TRACE_ID = 9,
	LOG_SPAN_ID = 10,
	LOG_OBSERVED_TIME = 11,
};

int encoded_log_encode(struct encoded_span *es, struct resource *res, const struct log_record *r,
		       uint64_t observed_ns)
{
	static const char iostream[] = "log.iostream", truncated[] = "sonde.truncated";
	size_t text_len = strlen(r->severity.text);
	const char *stream = r->fd == 2 ? "stderr" : "stdout";
	struct pb_writer w;
	struct pb_mark m;
	uint8_t *p;

	pb_writer_borrow(&w, es->bytes, sizeof(es->bytes));
	/* Fields in field-number order, as protobuf-c writes them. */
	if (pb_open(&w, SCOPE_SPANS_SPANS,
		    r->len < 100     ? 1
		    : r->len < 16000 ? 2
				     : 3,
		    &m) &&
	    pb_room(&w, 64 + text_len + r->len)) {
		p = w.buf + w.len;
		if (r->time_ns) {
			p = pb_put_varint(p, pb_tag(LOG_TIME, PB_I64));
			p = pb_put_fixed(p, r->time_ns, 8);
		}
		if (r->severity.number) {
			p = pb_put_varint(p, pb_tag(LOG_SEVERITY_NUMBER, PB_VARINT));
			p = pb_put_varint(p, r->severity.number);
		}
		if (text_len)
			p = pb_put_bytes(p, LOG_SEVERITY_TEXT, r->severity.text, text_len);
		/* body: an AnyValue holding its string */
		p = pb_put_varint(p, pb_tag(LOG_BODY, PB_LEN));
		p = pb_put_varint(p, 1 + pb_varint_size(r->len) + r->len);
		p = pb_put_bytes(p, ANY_VALUE_STRING, r->body, r->len);
		w.len = (size_t)(p - w.buf);
		put_kv(&w, LOG_ATTRIBUTES, iostream, sizeof(iostream) - 1, ANY_VALUE_STRING, stream,
		       6, 0);
		if (r->cut)
			put_kv(&w, LOG_ATTRIBUTES, truncated, sizeof(truncated) - 1, ANY_VALUE_BOOL,
			       NULL, 0, 1);
		if (pb_room(&w, 48)) {
			p = w.buf + w.len;
			if (r->in_request) {
				p = pb_put_bytes(p, LOG_TRACE_ID, r->ctx.trace_id,
						 sizeof(r->ctx.trace_id));
				p = pb_put_bytes(p, LOG_SPAN_ID, r->ctx.span_id,
						 sizeof(r->ctx.span_id));
			}
			if (observed_ns) {
				p = pb_put_varint(p, pb_tag(LOG_OBSERVED_TIME, PB_I64));
				p = pb_put_fixed(p, observed_ns, 8);
			}
			w.len = (size_t)(p - w.buf);
		}
		pb_close(&w, &m);
	}
	return slot_done(es, &w, res, w.failed ? -ENOMEM : 0);
}

void encoded_span_free(struct encoded_span *es)
{
	free(es->heap);
	es->heap = NULL;
}

/* ExportTraceServiceRequest and ExportLogsServiceRequest have the same
 * shape up to the items: resource_spans/resource_logs (1) of resource (1)
 * and scope_spans/scope_logs (2) of scope (1) and spans/log_records (2). */
_Static_assert(REQUEST_RESOURCE_SPANS == 1 && RESOURCE_SPANS_RESOURCE == 1 &&
		       RESOURCE_SPANS_SCOPE_SPANS == 2 && SCOPE_SPANS_SCOPE == 1 &&
		       SCOPE_SPANS_SPANS == 2,
	       "the OTLP logs request has the traces' field numbers");

int otlp_assemble_logs(const struct encoded_span *logs, size_t n, uint8_t **out, size_t *outlen)
{
	return otlp_assemble_traces(logs, n, out, outlen);
}

int otlp_assemble_traces(const struct encoded_span *spans, size_t n, uint8_t **out, size_t *outlen)
{
	struct pb_writer w;
	bool *done = calloc(n ? n : 1, sizeof(*done));
	size_t total = 1024;

	*out = NULL;
	for (size_t i = 0; i < n; i++)
		total += spans[i].len;
	if (!done || pb_writer_init(&w, total)) {
		free(done);
		return -ENOMEM;
	}
	/* One ResourceSpans per process: its spans in queue order. */
	for (size_t i = 0; i < n && !w.failed; i++) {
		const struct resource *res = spans[i].res;
		struct pb_mark rs, ss;

		if (done[i])
			continue;
		if (!pb_open(&w, REQUEST_RESOURCE_SPANS, GROUP_LEN_WIDTH, &rs))
			break;
		put_resource(&w, res);
		if (!pb_open(&w, RESOURCE_SPANS_SCOPE_SPANS, GROUP_LEN_WIDTH, &ss))
			break;
		put_scope(&w);
		for (size_t j = i; j < n; j++) {
			const struct encoded_span *es = &spans[j];

			if (done[j] || es->res != res)
				continue;
			done[j] = true;
			if (!pb_room(&w, es->len))
				break;
			memcpy(w.buf + w.len, es->heap ? es->heap : es->bytes, es->len);
			w.len += es->len;
		}
		pb_close(&w, &ss);
		pb_close(&w, &rs);
	}
	free(done);
	if (w.failed) {
		pb_writer_free(&w);
		return -ENOMEM;
	}
	*out = w.buf;
	*outlen = w.len;
	return 0;
}

/* Each span encoded on its own into its queue slot, then assembled: the
 * exporter's path. */
int otlp_encode_traces(const struct export_span *spans, size_t n, bool with_query, uint8_t **out,
		       size_t *outlen)
{
	struct encoded_span *enc = calloc(n ? n : 1, sizeof(*enc));
	int err = -ENOMEM;
	size_t i;

	*out = NULL;
	if (!enc)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct export_span *es = &spans[i];

		if (encoded_span_encode(&enc[i], es->res, &es->span, &es->ids, es->route,
					with_query))
			break;
	}
	if (i == n)
		err = otlp_assemble_traces(enc, n, out, outlen);
	for (size_t j = 0; j < n; j++)
		encoded_span_free(&enc[j]);
	free(enc);
	return err;
}
