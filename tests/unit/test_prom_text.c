/* SPDX-License-Identifier: MIT */
/* What a Prometheus scrape of /metrics reads, line by line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "export/prom_text.h"

#define MS 1000000ull

static struct resource *proc(uint32_t pid, const char *service)
{
	char env[64];
	int n = snprintf(env, sizeof(env), "OTEL_SERVICE_NAME=%s", service);

	return resource_new(pid, "app", "node-1", env, (size_t)n + 1, NULL, "test");
}

static void record(struct metrics *m, struct resource *res, enum span_kind kind, uint16_t status,
		   const char *route, uint64_t dur_ns, const char *host)
{
	struct span s = { 0 };

	s.kind = kind;
	strcpy(s.method, "GET");
	strcpy(s.target, route);
	snprintf(s.host, sizeof(s.host), "%s", host ? host : "");
	s.status = status;
	s.start_ns = 1764000000000000000ull;
	s.end_ns = s.start_ns + dur_ns;
	s.response_body_bytes = 100;
	metrics_record(m, res, &s, route);
}

static void assert_has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("missing:\n%s\nin:\n%s", want, text);
}

static void assert_lacks(const char *text, const char *what)
{
	if (strstr(text, what))
		fail_msg("unexpected '%s' in:\n%s", what, text);
}

static int occurrences(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

/* Each line is a comment or a sample of one of our families: a label value
 * with a raw newline would start a line with something else. */
static void assert_lines_well_formed(const char *text)
{
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');

		assert_non_null(end);
		if (strncmp(line, "# HELP ", 7) && strncmp(line, "# TYPE ", 7) &&
		    strncmp(line, "http_", 5) && strncmp(line, "rpc_", 4) &&
		    strncmp(line, "db_", 3) && strncmp(line, "sonde_", 6))
			fail_msg("bad line: %.*s", (int)(end - line), line);
		line = end + 1;
	}
}

#define SHOP_LABELS                                                                              \
	"service_name=\"shop\",service_instance_id=\"node-1:1234\",http_request_method=\"GET\"," \
	"http_response_status_code=\"200\",http_route=\"/items/{id}\",url_scheme=\"http\","      \
	"network_protocol_name=\"http\",network_protocol_version=\"1.0\""

static void test_server_histogram_lines(void **state)
{
	struct resource *res = proc(1234, "shop");
	struct metrics *m = metrics_new(100);
	struct strbuf sb = { 0 };

	(void)state;
	/* 2^-8 s, 0.25 s, 0.5 s, 16 s: exact in binary, so the sum prints exactly */
	record(m, res, SPAN_SERVER, 200, "/items/{id}", 3906250, "shop:8080");
	record(m, res, SPAN_SERVER, 200, "/items/{id}", 250 * MS, NULL);
	record(m, res, SPAN_SERVER, 200, "/items/{id}", 500 * MS, NULL);
	record(m, res, SPAN_SERVER, 200, "/items/{id}", 16000 * MS, NULL);
	prom_render(&sb, m, NULL, 0);
	assert_false(sb.failed);
	assert_int_equal(strlen(sb.buf), sb.len);
	assert_lines_well_formed(sb.buf);

	assert_has(sb.buf, "# HELP http_server_request_duration_seconds Duration of HTTP server "
			   "requests.\n"
			   "# TYPE http_server_request_duration_seconds histogram\n");
	/* cumulative, in bound order */
	assert_has(sb.buf,
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.005\"} 1\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.01\"} 1\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.025\"} 1\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.05\"} 1\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.075\"} 1\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.1\"} 1\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.25\"} 2\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.5\"} 3\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"0.75\"} 3\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"1\"} 3\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"2.5\"} 3\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"5\"} 3\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"7.5\"} 3\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"10\"} 3\n"
		   "http_server_request_duration_seconds_bucket{" SHOP_LABELS ",le=\"+Inf\"} 4\n"
		   "http_server_request_duration_seconds_sum{" SHOP_LABELS "} 16.75390625\n"
		   "http_server_request_duration_seconds_count{" SHOP_LABELS "} 4\n");
	/* body sizes in bytes, OpenTelemetry's default bounds */
	assert_has(sb.buf, "# TYPE http_server_request_body_size_bytes histogram\n");
	assert_has(sb.buf,
		   "http_server_request_body_size_bytes_bucket{" SHOP_LABELS ",le=\"0\"} 4\n");
	assert_has(sb.buf,
		   "http_server_response_body_size_bytes_bucket{" SHOP_LABELS ",le=\"75\"} 0\n"
		   "http_server_response_body_size_bytes_bucket{" SHOP_LABELS ",le=\"100\"} 4\n");
	assert_has(sb.buf,
		   "http_server_response_body_size_bytes_bucket{" SHOP_LABELS ",le=\"10000\"} 4\n"
		   "http_server_response_body_size_bytes_bucket{" SHOP_LABELS ",le=\"+Inf\"} 4\n"
		   "http_server_response_body_size_bytes_sum{" SHOP_LABELS "} 400\n"
		   "http_server_response_body_size_bytes_count{" SHOP_LABELS "} 4\n");
	/* the Host is not a server label */
	assert_lacks(sb.buf, "server_address");
	/* no client traffic, no client families */
	assert_lacks(sb.buf, "http_client_");
	assert_int_equal(occurrences(sb.buf, "# TYPE "), 3);
	strbuf_free(&sb);
	metrics_free(m);
	resource_put(res);
}

static void test_client_families_and_errors(void **state)
{
	struct resource *res = proc(1234, "shop");
	struct metrics *m = metrics_new(100);
	struct strbuf sb = { 0 };

	(void)state;
	record(m, res, SPAN_CLIENT, 503, "/pay", 10 * MS, "pay.internal:9000");
	record(m, res, SPAN_CLIENT, 0, "/pay", 10 * MS, "pay.internal:9000");
	prom_render(&sb, m, NULL, 0);
	assert_lines_well_formed(sb.buf);
	assert_lacks(sb.buf, "http_server_");
	assert_has(sb.buf, "# TYPE http_client_request_duration_seconds histogram\n");
	assert_has(sb.buf, "http_client_request_duration_seconds_count{service_name=\"shop\","
			   "service_instance_id=\"node-1:1234\",http_request_method=\"GET\","
			   "http_response_status_code=\"503\",http_route=\"/pay\","
			   "error_type=\"503\",url_scheme=\"http\",network_protocol_name=\"http\","
			   "network_protocol_version=\"1.0\",server_address=\"pay.internal\","
			   "server_port=\"9000\"} 1\n");
	/* no response: no status code label, and no response size */
	assert_has(sb.buf, "http_client_request_duration_seconds_count{service_name=\"shop\","
			   "service_instance_id=\"node-1:1234\",http_request_method=\"GET\","
			   "http_route=\"/pay\",error_type=\"no_response\",url_scheme=\"http\","
			   "network_protocol_name=\"http\",network_protocol_version=\"1.0\","
			   "server_address=\"pay.internal\","
			   "server_port=\"9000\"} 1\n");
	assert_int_equal(occurrences(sb.buf, "http_client_response_body_size_bytes_count{"), 1);
	strbuf_free(&sb);
	metrics_free(m);
	resource_put(res);
}

static void test_label_escaping(void **state)
{
	struct resource *res = proc(1234, "say \"hi\"\\now");
	struct metrics *m = metrics_new(100);
	struct strbuf sb = { 0 };

	(void)state;
	record(m, res, SPAN_SERVER, 200, "/a\"b\\c\nd", MS, NULL);
	prom_render(&sb, m, NULL, 0);
	assert_lines_well_formed(sb.buf);
	assert_has(sb.buf, "http_server_request_duration_seconds_count{"
			   "service_name=\"say \\\"hi\\\"\\\\now\","
			   "service_instance_id=\"node-1:1234\",http_request_method=\"GET\","
			   "http_response_status_code=\"200\",http_route=\"/a\\\"b\\\\c\\nd\","
			   "url_scheme=\"http\",network_protocol_name=\"http\","
			   "network_protocol_version=\"1.0\"} 1\n");
	strbuf_free(&sb);
	metrics_free(m);
	resource_put(res);
}

static void test_overflow_series(void **state)
{
	struct resource *res = proc(1234, "shop");
	struct metrics *m = metrics_new(1);
	struct strbuf sb = { 0 };

	(void)state;
	record(m, res, SPAN_SERVER, 200, "/a", MS, NULL);
	record(m, res, SPAN_SERVER, 200, "/b", MS, NULL);
	record(m, res, SPAN_SERVER, 404, "/c", MS, NULL);
	prom_render(&sb, m, NULL, 0);
	assert_has(sb.buf,
		   "http_server_request_duration_seconds_count{service_name=\"shop\","
		   "service_instance_id=\"node-1:1234\",otel_metric_overflow=\"true\"} 2\n");
	strbuf_free(&sb);
	metrics_free(m);
	resource_put(res);
}

static void test_health_metrics(void **state)
{
	struct metrics *m = metrics_new(10);
	struct strbuf sb = { 0 };
	const struct health_metric health[] = {
		{ "sonde.spans.dropped", "Spans dropped because the export queue was full.", "1",
		  false, 7 },
		{ "sonde.export.queue.size", "Spans waiting for export.", "1", true, 3 },
	};

	(void)state;
	prom_render(&sb, m, health, 2);
	/* nothing recorded: only the agent's health */
	assert_string_equal(sb.buf,
			    "# HELP sonde_spans_dropped_total Spans dropped because the export "
			    "queue was full.\n"
			    "# TYPE sonde_spans_dropped_total counter\n"
			    "sonde_spans_dropped_total 7\n"
			    "# HELP sonde_export_queue_size Spans waiting for export.\n"
			    "# TYPE sonde_export_queue_size gauge\n"
			    "sonde_export_queue_size 3\n");
	strbuf_free(&sb);
	metrics_free(m);
}

static void test_strbuf_grows(void **state)
{
	struct strbuf sb = { 0 };
	char big[10000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_printf(&sb, "%s", "a");
	strbuf_printf(&sb, "%s", big);
	strbuf_printf(&sb, "%d", 42);
	assert_false(sb.failed);
	assert_int_equal(sb.len, 1 + sizeof(big) - 1 + 2);
	assert_int_equal(strlen(sb.buf), sb.len);
	assert_memory_equal(sb.buf + sb.len - 3, "x42", 3);
	strbuf_free(&sb);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
}

static void record_grpc(struct metrics *m, struct resource *res, enum span_kind kind,
			const char *path, int grpc_status, uint64_t dur_ns)
{
	struct span s = { 0 };

	s.kind = kind;
	strcpy(s.method, "POST");
	strcpy(s.target, path);
	s.status = 200;
	s.version_major = 2;
	s.flags = SPAN_F_GRPC | SPAN_F_GRPC_STATUS;
	s.grpc_status = (uint8_t)grpc_status;
	strcpy(s.host, "greeter:50051");
	s.start_ns = 1764000000000000000ull;
	s.end_ns = s.start_ns + dur_ns;
	metrics_record(m, res, &s, NULL);
}

/* gRPC calls: rpc_*_duration_milliseconds with the RPC labels, and nothing in
 * the HTTP families. */
static void test_rpc_histograms(void **state)
{
	struct resource *res = proc(1234, "shop");
	struct metrics *m = metrics_new(100);
	struct strbuf sb = { 0 };
	const char *labels = "service_name=\"shop\",service_instance_id=\"node-1:1234\","
			     "rpc_system=\"grpc\",rpc_service=\"grpc.health.v1.Health\","
			     "rpc_method=\"Check\",rpc_grpc_status_code=\"0\"";
	char line[512];

	(void)state;
	record_grpc(m, res, SPAN_SERVER, "/grpc.health.v1.Health/Check", 0, 3 * MS);
	record_grpc(m, res, SPAN_SERVER, "/grpc.health.v1.Health/Check", 0, 40 * MS);
	record_grpc(m, res, SPAN_SERVER, "/grpc.health.v1.Health/Check", 5, 1 * MS);
	record_grpc(m, res, SPAN_CLIENT, "/grpc.health.v1.Health/Watch", 1, 2 * MS);
	prom_render(&sb, m, NULL, 0);
	assert_false(sb.failed);
	assert_lines_well_formed(sb.buf);
	assert_has(sb.buf, "# TYPE rpc_server_duration_milliseconds histogram\n");
	snprintf(line, sizeof(line),
		 "rpc_server_duration_milliseconds_bucket{%s,le=\"0\"} 0\n"
		 "rpc_server_duration_milliseconds_bucket{%s,le=\"5\"} 1\n",
		 labels, labels);
	assert_has(sb.buf, line);
	snprintf(line, sizeof(line),
		 "rpc_server_duration_milliseconds_sum{%s} 43\n"
		 "rpc_server_duration_milliseconds_count{%s} 2\n",
		 labels, labels);
	assert_has(sb.buf, line);
	assert_has(sb.buf, "rpc_grpc_status_code=\"5\"");
	/* the client series carries the server it called */
	assert_has(sb.buf, "rpc_client_duration_milliseconds_count{service_name=\"shop\","
			   "service_instance_id=\"node-1:1234\",rpc_system=\"grpc\","
			   "rpc_service=\"grpc.health.v1.Health\",rpc_method=\"Watch\","
			   "rpc_grpc_status_code=\"1\",server_address=\"greeter\","
			   "server_port=\"50051\"} 1\n");
	assert_lacks(sb.buf, "http_");
	assert_int_equal(occurrences(sb.buf, "# TYPE "), 2);
	strbuf_free(&sb);
	metrics_free(m);
	resource_put(res);
}

static void record_db(struct metrics *m, struct resource *res, const char *op, const char *table,
		      const char *status, uint64_t dur_ns)
{
	struct span s = { 0 };

	s.kind = SPAN_CLIENT;
	s.flags = SPAN_F_DB | (status ? SPAN_F_DB_ERROR : 0);
	s.db.system = SPAN_DB_POSTGRESQL;
	snprintf(s.db.operation, sizeof(s.db.operation), "%s", op);
	snprintf(s.db.collection, sizeof(s.db.collection), "%s", table);
	snprintf(s.db.name_space, sizeof(s.db.name_space), "shop");
	snprintf(s.db.status_code, sizeof(s.db.status_code), "%s", status ? status : "");
	snprintf(s.db.query, sizeof(s.db.query), "SELECT * FROM orders WHERE id = ?");
	s.db.returned_rows = 1;
	s.peer.family = AF_INET;
	s.peer.port = 5432;
	inet_pton(AF_INET, "10.0.0.5", s.peer.addr);
	s.start_ns = 1764000000000000000ull;
	s.end_ns = s.start_ns + dur_ns;
	metrics_record(m, res, &s, NULL);
}

/* Database commands: db_client_operation_duration_seconds with the database
 * conventions' labels (never the query text), nothing in the HTTP families. */
static void test_db_histograms(void **state)
{
	struct resource *res = proc(1234, "checkout");
	struct metrics *m = metrics_new(100);
	struct strbuf sb = { 0 };
	const char *labels = "service_name=\"checkout\",service_instance_id=\"node-1:1234\","
			     "db_system_name=\"postgresql\",db_operation_name=\"SELECT\","
			     "db_collection_name=\"orders\",db_namespace=\"shop\","
			     "server_address=\"10.0.0.5\",server_port=\"5432\"";
	char line[2048];

	(void)state;
	record_db(m, res, "SELECT", "orders", NULL, 3 * MS);
	record_db(m, res, "SELECT", "orders", NULL, 40 * MS);
	record_db(m, res, "SELECT", "orders", "42601", 1 * MS);
	prom_render(&sb, m, NULL, 0);
	assert_false(sb.failed);
	assert_lines_well_formed(sb.buf);
	assert_has(sb.buf, "# TYPE db_client_operation_duration_seconds histogram\n");
	snprintf(line, sizeof(line),
		 "db_client_operation_duration_seconds_bucket{%s,le=\"0.001\"} 0\n"
		 "db_client_operation_duration_seconds_bucket{%s,le=\"0.005\"} 1\n"
		 "db_client_operation_duration_seconds_bucket{%s,le=\"0.01\"} 1\n"
		 "db_client_operation_duration_seconds_bucket{%s,le=\"0.05\"} 2\n",
		 labels, labels, labels, labels);
	assert_has(sb.buf, line);
	snprintf(line, sizeof(line), "db_client_operation_duration_seconds_count{%s} 2\n", labels);
	assert_has(sb.buf, line);
	/* the failed one is a series of its own, with error.type */
	assert_has(sb.buf, "db_namespace=\"shop\",error_type=\"42601\",server_address=");
	assert_lacks(sb.buf, "http_");
	assert_lacks(sb.buf, "WHERE");
	assert_int_equal(occurrences(sb.buf, "# TYPE "), 1);
	strbuf_free(&sb);
	metrics_free(m);
	resource_put(res);
}

/* OpenMetrics: a sampled span is its bucket's exemplar, with its trace and
 * span ids, value and time; the newest in a bucket wins; counters' families
 * lose their _total; the exposition ends in # EOF. The text format has no
 * exemplars. */
static void test_openmetrics_exemplars(void **state)
{
	struct metrics *m = metrics_new(100);
	struct resource *res = proc(10, "shop");
	struct strbuf om = { 0 }, text = { 0 };
	struct health_metric health[] = {
		{ "sonde.spans", "Spans.", "{span}", false, 7 },
		{ "sonde.export.queue.depth", "Queued.", "{span}", true, 2 },
	};
	struct span s = { 0 };

	(void)state;
	s.kind = SPAN_SERVER;
	strcpy(s.method, "GET");
	strcpy(s.target, "/cart");
	s.status = 200;
	s.start_ns = 1764000000000000000ull;
	s.end_ns = s.start_ns + 30 * MS; /* the 0.05 bucket */
	memset(s.trace_id, 0x4b, sizeof(s.trace_id));
	memset(s.span_id, 0x11, sizeof(s.span_id));
	metrics_record_sampled(m, res, &s, "/cart", true);
	memset(s.span_id, 0x22, sizeof(s.span_id)); /* the newer one in the same bucket */
	metrics_record_sampled(m, res, &s, "/cart", true);
	memset(s.span_id, 0x33, sizeof(s.span_id)); /* not sampled: no exemplar */
	s.end_ns = s.start_ns + 2 * MS;
	metrics_record_sampled(m, res, &s, "/cart", false);
	prom_render_openmetrics(&om, m, health, 2);
	prom_render(&text, m, health, 2);
	assert_false(om.failed);
	assert_has(om.buf,
		   "le=\"0.05\"} 3 # {trace_id=\"4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b\","
		   "span_id=\"2222222222222222\"} 0.029999999999999999 1764000000.030000000\n");
	assert_has(om.buf, "le=\"0.005\"} 1\n");
	assert_int_equal(occurrences(om.buf, " # {"), 1);
	assert_has(om.buf, "# TYPE sonde_spans counter\nsonde_spans_total 7\n");
	assert_has(om.buf, "# TYPE sonde_export_queue_depth gauge\nsonde_export_queue_depth 2\n");
	assert_int_equal(strcmp(om.buf + om.len - 6, "# EOF\n"), 0);
	assert_lacks(text.buf, "trace_id");
	assert_lacks(text.buf, "# EOF");
	assert_has(text.buf, "# TYPE sonde_spans_total counter\n");
	strbuf_free(&om);
	strbuf_free(&text);
	metrics_free(m);
	resource_put(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db_histograms),
		cmocka_unit_test(test_rpc_histograms),
		cmocka_unit_test(test_server_histogram_lines),
		cmocka_unit_test(test_client_families_and_errors),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_overflow_series),
		cmocka_unit_test(test_health_metrics),
		cmocka_unit_test(test_strbuf_grows),
		cmocka_unit_test(test_openmetrics_exemplars),
	};

	return cmocka_run_group_tests_name("prom_text", tests, NULL, NULL);
}
