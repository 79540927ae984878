/* SPDX-License-Identifier: MIT */
/*
 * Log records → ExportLogsServiceRequest: the bytes sonde's writer produces
 * (agent/export/otlp_traces.c, encoded_log_encode and otlp_assemble_logs) are
 * exactly those protobuf-c produces for the same records from the messages of
 * otlp-proto/otlp_logs.proto, for short and long bodies, with and without
 * severity, request context and the truncated mark, grouped by process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/arena.h"
#include "export/otlp_common.h"
#include "export/otlp_encode.h"
#include "otlp_logs.pb-c.h"

typedef Opentelemetry__Proto__Logs__V1__ExportLogsServiceRequest logs_request;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs resource_logs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs scope_logs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord log_record_pb;

#define OBSERVED 1796671000123456789ull
#define NRECS	 6

struct sample {
	struct log_record rec;
	struct resource *res;
	char body[20000];
};

/* The reference: protobuf-c messages built field by field, then packed. */
static void reference(struct sample *s, size_t n, uint8_t **out, size_t *len)
{
	struct arena a = { 0 };
	logs_request req = OPENTELEMETRY__PROTO__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	resource_logs **rl = arena_alloc(&a, sizeof(*rl) * n);
	bool done[NRECS] = { 0 };

	assert_non_null(rl);
	for (size_t i = 0; i < n; i++) {
		resource_logs *r;
		scope_logs *sl;

		if (done[i])
			continue;
		r = arena_alloc(&a, sizeof(*r));
		sl = arena_alloc(&a, sizeof(*sl));
		assert_true(r && sl);
		opentelemetry__proto__logs__v1__resource_logs__init(r);
		opentelemetry__proto__logs__v1__scope_logs__init(sl);
		r->resource = otlp_resource_of(&a, s[i].res);
		sl->scope = otlp_scope_sonde(&a);
		sl->log_records = arena_alloc(&a, sizeof(*sl->log_records) * n);
		for (size_t j = i; j < n; j++) {
			const struct log_record *lr = &s[j].rec;
			log_record_pb *p;
			Opentelemetry__Proto__Common__V1__AnyValue *body;

			if (done[j] || s[j].res != s[i].res)
				continue;
			done[j] = true;
			p = arena_alloc(&a, sizeof(*p));
			body = arena_alloc(&a, sizeof(*body));
			assert_true(p && body);
			opentelemetry__proto__logs__v1__log_record__init(p);
			opentelemetry__proto__common__v1__any_value__init(body);
			p->time_unix_nano = lr->time_ns;
			p->observed_time_unix_nano = OBSERVED;
			p->severity_number = lr->severity.number;
			p->severity_text = (char *)lr->severity.text;
			body->value_case =
				OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
			body->string_value = arena_alloc(&a, lr->len + 1);
			memcpy(body->string_value, lr->body, lr->len);
			body->string_value[lr->len] = '\0';
			p->body = body;
			p->attributes = arena_alloc(&a, sizeof(*p->attributes) * 2);
			p->attributes[p->n_attributes++] =
				otlp_kv_str(&a, "log.iostream", lr->fd == 2 ? "stderr" : "stdout");
			if (lr->cut)
				p->attributes[p->n_attributes++] =
					otlp_kv_bool(&a, "sonde.truncated", true);
			if (lr->in_request) {
				p->trace_id.data = (uint8_t *)lr->ctx.trace_id;
				p->trace_id.len = 16;
				p->span_id.data = (uint8_t *)lr->ctx.span_id;
				p->span_id.len = 8;
			}
			sl->log_records[sl->n_log_records++] = p;
		}
		r->scope_logs = arena_alloc(&a, sizeof(*r->scope_logs));
		r->scope_logs[0] = sl;
		r->n_scope_logs = 1;
		rl[req.n_resource_logs++] = r;
	}
	req.resource_logs = rl;
	assert_false(a.failed);
	*len = opentelemetry__proto__logs__v1__export_logs_service_request__get_packed_size(&req);
	*out = malloc(*len);
	assert_non_null(*out);
	opentelemetry__proto__logs__v1__export_logs_service_request__pack(&req, *out);
	arena_free(&a);
}

static void fill(struct sample *s, struct resource *res, uint32_t fd, const char *text,
		 size_t repeat, uint8_t sev, const char *sev_text, bool in_request, bool cut)
{
	size_t n = strlen(text);

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < repeat; i++)
		memcpy(s->body + i * n, text, n);
	s->rec.body = s->body;
	s->rec.len = n * repeat;
	s->rec.tgid = 42;
	s->rec.fd = fd;
	s->rec.time_ns = 1796671000000000000ull + repeat;
	s->rec.severity.number = sev;
	snprintf(s->rec.severity.text, sizeof(s->rec.severity.text), "%s", sev_text);
	s->rec.in_request = in_request;
	s->rec.cut = cut;
	for (int i = 0; i < 16; i++)
		s->rec.ctx.trace_id[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 8; i++)
		s->rec.ctx.span_id[i] = (uint8_t)(0x10 + i);
	s->res = res;
}

static void test_same_bytes_as_protobuf_c(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=shop\0OTEL_RESOURCE_ATTRIBUTES=team=caf\xe9";
	static struct sample s[NRECS];
	static struct encoded_span enc[NRECS];
	struct resource *shop =
		resource_new(100, "python3", "node-1", env, sizeof(env), NULL, "test");
	struct resource *other = resource_new(200, "node", "node-1", NULL, 0, NULL, "test");
	uint8_t *got, *want;
	size_t got_len, want_len;

	(void)state;
	assert_true(shop && other);
	fill(&s[0], shop, 2, "WARNING:root:slow query for customer 7", 1, 13, "WARNING", true,
	     false);
	fill(&s[1], other, 1, "plain line", 1, 0, "", false, false);
	fill(&s[2], shop, 1, "{\"level\":\"error\",\"msg\":\"x\"}", 1, 17, "error", true, true);
	/* Bodies whose lengths need 2 and 3 bytes (and the length guess misses). */
	fill(&s[3], other, 2, "0123456789", 1500, 0, "", true, false);
	fill(&s[4], shop, 1, "caf\xc3\xa9 \xef\xbf\xbd ", 60, 9, "INFO", false, false);
	fill(&s[5], shop, 1, "", 1, 0, "", false, false);
	for (int i = 0; i < NRECS; i++)
		assert_int_equal(encoded_log_encode(&enc[i], s[i].res, &s[i].rec, OBSERVED), 0);
	assert_int_equal(otlp_assemble_logs(enc, NRECS, &got, &got_len), 0);
	reference(s, NRECS, &want, &want_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, got_len);

	/* And protobuf-c reads it back: two processes, in queue order. */
	Opentelemetry__Proto__Logs__V1__ExportLogsServiceRequest *r =
		opentelemetry__proto__logs__v1__export_logs_service_request__unpack(NULL, got_len,
										    got);
	assert_non_null(r);
	assert_int_equal(r->n_resource_logs, 2);
	assert_int_equal(r->resource_logs[0]->scope_logs[0]->n_log_records, 4);
	assert_string_equal(r->resource_logs[0]->scope_logs[0]->log_records[0]->body->string_value,
			    "WARNING:root:slow query for customer 7");
	assert_int_equal(r->resource_logs[1]->scope_logs[0]->log_records[1]->body->string_value[0],
			 '0');
	opentelemetry__proto__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
	for (int i = 0; i < NRECS; i++)
		encoded_span_free(&enc[i]);
	free(got);
	free(want);
	resource_put(shop);
	resource_put(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_as_protobuf_c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
