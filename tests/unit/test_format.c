/* SPDX-License-Identifier: MIT */
/* What a user reads: the console line and the JSON object of a span. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/format.h"
#include "spans/span_attrs.h"
#include "util/json.h"

static struct span sample(enum span_kind kind)
{
	struct span s = { 0 };

	s.kind = kind;
	s.pid = 4242;
	strcpy(s.comm, "nginx");
	s.start_ns = 1764000000123456789ull;
	s.end_ns = s.start_ns + 1234567;
	strcpy(s.method, "POST");
	strcpy(s.target, "/api/orders?id=5&x=%20");
	s.status = 201;
	s.version_minor = 1;
	s.request_body_bytes = 42;
	s.response_body_bytes = 7;
	s.local.family = AF_INET;
	s.local.port = 8080;
	inet_pton(AF_INET, "127.0.0.1", s.local.addr);
	s.peer.family = AF_INET6;
	s.peer.port = 51000;
	inet_pton(AF_INET6, "::ffff:10.0.0.9", s.peer.addr);
	strcpy(s.host, "shop.example:8443");
	strcpy(s.user_agent, "curl/7.88.1");
	return s;
}

static void test_json_server_span(void **state)
{
	struct span s = sample(SPAN_SERVER);
	char buf[4096];

	(void)state;
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"kind\":\"server\""));
	assert_non_null(strstr(buf, "\"name\":\"POST\""));
	assert_non_null(strstr(buf, "\"time\":\"2025-11-24T16:00:00.123456789Z\""));
	assert_non_null(strstr(buf, "\"duration_ns\":1234567"));
	assert_non_null(strstr(buf, "\"process.pid\":4242"));
	assert_non_null(strstr(buf, "\"process.executable.name\":\"nginx\""));
	assert_non_null(strstr(buf, "\"http.request.method\":\"POST\""));
	assert_non_null(strstr(buf, "\"url.path\":\"/api/orders\""));
	assert_non_null(strstr(buf, "\"url.query\":\"id=5&x=%20\""));
	assert_non_null(strstr(buf, "\"http.response.status_code\":201"));
	assert_non_null(strstr(buf, "\"network.protocol.version\":\"1.1\""));
	assert_non_null(strstr(buf, "\"server.address\":\"shop.example\""));
	assert_non_null(strstr(buf, "\"server.port\":8443"));
	/* IPv4-mapped IPv6 peers are shown as IPv4 */
	assert_non_null(strstr(buf, "\"client.address\":\"10.0.0.9\""));
	assert_non_null(strstr(buf, "\"client.port\":51000"));
	assert_non_null(strstr(buf, "\"http.request.body.size\":42"));
	assert_non_null(strstr(buf, "\"http.response.body.size\":7"));
	assert_non_null(strstr(buf, "\"user_agent.original\":\"curl/7.88.1\""));
	assert_null(strstr(buf, "error.type"));
	assert_int_equal(buf[0], '{');
	assert_int_equal(buf[strlen(buf) - 1], '}');
}

static void test_json_client_error_span(void **state)
{
	struct span s = sample(SPAN_CLIENT);
	char buf[4096];

	(void)state;
	s.status = 404;
	s.host[0] = '\0';
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"kind\":\"client\""));
	assert_non_null(strstr(buf, "\"error.type\":\"404\""));
	/* no Host: the server is the connected peer */
	assert_non_null(strstr(buf, "\"server.address\":\"10.0.0.9\""));
	assert_non_null(strstr(buf, "\"server.port\":51000"));
	assert_null(strstr(buf, "client.address"));

	s.status = 0;
	s.flags = SPAN_F_NO_RESPONSE;
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"error.type\":\"no_response\""));
	assert_null(strstr(buf, "http.response.status_code"));
}

static void test_json_escapes_hostile_bytes(void **state)
{
	struct span s = sample(SPAN_SERVER);
	char buf[4096];

	(void)state;
	strcpy(s.target, "/a\"b\\c\x01\xff\xc3\xa9");
	strcpy(s.user_agent, "evil\r\n{\"kind\":1}");
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"url.path\":\"/a\\\"b\\\\c\\u0001\xef\xbf\xbd\xc3\xa9\""));
	assert_non_null(
		strstr(buf, "\"user_agent.original\":\"evil\\u000d\\u000a{\\\"kind\\\":1}\""));
}

static void test_json_overflow_reported(void **state)
{
	struct span s = sample(SPAN_SERVER);
	char buf[64];

	(void)state;
	assert_int_equal(format_span_json(&s, true, buf, sizeof(buf)), -1);
	assert_true(strlen(buf) < sizeof(buf));
}

static void test_console_line(void **state)
{
	struct span s = sample(SPAN_SERVER);
	char buf[512];

	(void)state;
	assert_true(format_span_line(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "server nginx[4242] POST /api/orders?id=5&x=%20 201 1.23ms"));
	assert_non_null(strstr(buf, "<- 10.0.0.9:51000"));
	s.kind = SPAN_CLIENT;
	s.flags = SPAN_F_NO_RESPONSE;
	assert_true(format_span_line(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "no-response"));
	assert_non_null(strstr(buf, "-> 10.0.0.9:51000"));
}

/* A gRPC call reads as one: its name, rpc.* keys, its status by name. */
static void test_grpc_span(void **state)
{
	struct span s = sample(SPAN_SERVER);
	char buf[4096];

	(void)state;
	strcpy(s.target, "/grpc.health.v1.Health/Check");
	s.version_major = 2;
	s.stream_id = 3;
	s.status = 200;
	s.flags = SPAN_F_GRPC | SPAN_F_GRPC_STATUS;
	s.grpc_status = 12;
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"name\":\"grpc.health.v1.Health/Check\""));
	assert_non_null(strstr(buf, "\"rpc.system\":\"grpc\""));
	assert_non_null(strstr(buf, "\"rpc.service\":\"grpc.health.v1.Health\""));
	assert_non_null(strstr(buf, "\"rpc.method\":\"Check\""));
	assert_non_null(strstr(buf, "\"rpc.grpc.status_code\":12"));
	assert_non_null(strstr(buf, "\"network.protocol.version\":\"2\""));
	assert_non_null(strstr(buf, "\"error.type\":\"UNIMPLEMENTED\""));
	assert_non_null(strstr(buf, "\"sonde.http2.stream_id\":3"));
	assert_null(strstr(buf, "http.request.method"));
	assert_true(format_span_line(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(
		strstr(buf, "nginx[4242] gRPC /grpc.health.v1.Health/Check UNIMPLEMENTED "));
	assert_non_null(strstr(buf, " h2"));
	/* Plain HTTP/2 keeps the HTTP keys, version 2. */
	s.flags = 0;
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"name\":\"POST\""));
	assert_non_null(strstr(buf, "\"http.response.status_code\":200"));
	assert_non_null(strstr(buf, "\"network.protocol.version\":\"2\""));
	assert_null(strstr(buf, "\"rpc.system\""));
}

static void test_durations(void **state)
{
	char buf[32];

	(void)state;
	format_duration(812, buf, sizeof(buf));
	assert_string_equal(buf, "812ns");
	format_duration(812000, buf, sizeof(buf));
	assert_string_equal(buf, "812us");
	format_duration(1234567, buf, sizeof(buf));
	assert_string_equal(buf, "1.23ms");
	format_duration(2500000000ull, buf, sizeof(buf));
	assert_string_equal(buf, "2.50s");
}

/* The README's example ("sonde trace"), key for key and in its order; only
 * the attributes of span_attrs_build() follow the span's own keys. */
static void test_json_readme_example(void **state)
{
	struct span s = { 0 };
	char buf[4096];

	(void)state;
	s.kind = SPAN_SERVER;
	s.pid = 4242;
	strcpy(s.comm, "python3");
	s.start_ns = 1795635721123456789ull;
	s.end_ns = 1795635721124268789ull;
	strcpy(s.method, "GET");
	strcpy(s.target, "/api/cart/1?x=1");
	s.status = 200;
	s.version_minor = 1;
	s.response_body_bytes = 14;
	s.local.family = AF_INET;
	s.local.port = 8000;
	inet_pton(AF_INET, "127.0.0.1", s.local.addr);
	s.peer = s.local;
	s.peer.port = 51234;
	strcpy(s.user_agent, "curl/7.88.1");
	memcpy(s.trace_id, "\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16);
	memcpy(s.span_id, "\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8);
	memcpy(s.parent_span_id, "\x53\x99\x5c\x3f\x42\xcd\x8a\xd8", 8);
	s.link = SPAN_LINK_CONNECTION;
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	assert_string_equal(
		buf,
		"{\"time\":\"2026-11-25T19:42:01.123456789Z\",\"kind\":\"server\",\"name\":\"GET\","
		"\"start_time_unix_nano\":1795635721123456789,"
		"\"end_time_unix_nano\":1795635721124268789,\"duration_ns\":812000,"
		"\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":"
		"\"00f067aa0ba902b7\","
		"\"parent_span_id\":\"53995c3f42cd8ad8\",\"sonde.link\":\"connection\","
		"\"process.pid\":4242,\"process.executable.name\":\"python3\","
		"\"http.request.method\":\"GET\",\"url.path\":\"/api/cart/"
		"1\",\"url.query\":\"x=1\","
		"\"url.scheme\":\"http\",\"http.response.status_code\":200,"
		"\"network.protocol.name\":\"http\",\"network.protocol.version\":\"1.1\","
		"\"server.address\":\"127.0.0.1\",\"server.port\":8000,"
		"\"client.address\":\"127.0.0.1\",\"client.port\":51234,"
		"\"network.peer.address\":\"127.0.0.1\",\"network.peer.port\":51234,"
		"\"network.local.address\":\"127.0.0.1\",\"network.local.port\":8000,"
		"\"http.request.body.size\":0,\"http.response.body.size\":14,"
		"\"user_agent.original\":\"curl/7.88.1\"}");
	/* url.query follows the same flag as the OTLP encoder's */
	assert_true(format_span_json(&s, false, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "url.query"));
	assert_non_null(strstr(buf, "\"url.path\":\"/api/cart/1\""));
}

/* Every attribute the OTLP encoder gets is in the JSON object, with the same
 * value: the two outputs share one mapping. */
static void test_json_has_every_attribute(void **state)
{
	struct span s = sample(SPAN_CLIENT);
	struct span_attrs a;
	char buf[8192], want[1024];

	(void)state;
	s.status = 503;
	s.version_major = 2;
	s.stream_id = 5;
	s.flags = SPAN_F_TLS | SPAN_F_RESET | SPAN_F_HEAD_TRUNCATED;
	strcpy(s.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	assert_true(format_span_json(&s, true, buf, sizeof(buf)) > 0);
	span_attrs_build(&a, &s, NULL, SPAN_ATTRS_QUERY);
	assert_true(a.n >= 15);
	for (int i = 0; i < a.n; i++) {
		const struct attr *at = &a.items[i];

		if (at->type == ATTR_STR)
			snprintf(want, sizeof(want), "\"%s\":\"%.*s\"", at->key, (int)at->str_len,
				 at->str);
		else
			snprintf(want, sizeof(want), "\"%s\":%lld", at->key, (long long)at->num);
		if (!strstr(buf, want))
			fail_msg("%s not in %s", want, buf);
	}
	assert_non_null(strstr(buf, "\"sonde.traceparent\":\"00-0af7651916cd43dd8448eb211c80319c"));
	assert_non_null(strstr(buf, "\"sonde.http2.stream_id\":5,\"sonde.http2.reset\":true,"
				    "\"sonde.truncated\":true}"));
	assert_non_null(strstr(buf, "\"url.scheme\":\"https\""));
}

static void test_json_integers(void **state)
{
	char buf[128];
	struct json_buf j;

	(void)state;
	json_begin(&j, buf, sizeof(buf));
	json_i64(&j, "a", 0);
	json_i64(&j, "b", -42);
	json_i64(&j, "c", INT64_MIN);
	json_u64(&j, "d", UINT64_MAX);
	assert_true(json_end(&j) > 0);
	assert_string_equal(buf, "{\"a\":0,\"b\":-42,\"c\":-9223372036854775808,"
				 "\"d\":18446744073709551615}");
}

/* `sonde probe --programs --output json` nests an array this way. */
static void test_json_raw_value(void **state)
{
	char buf[128];
	struct json_buf j;

	(void)state;
	json_begin(&j, buf, sizeof(buf));
	json_str(&j, "kernel", "6.1");
	json_raw(&j, "programs", "[{\"name\":\"a\"},{}]");
	json_bool(&j, "ok", true);
	assert_true(json_end(&j) > 0);
	assert_string_equal(buf,
			    "{\"kernel\":\"6.1\",\"programs\":[{\"name\":\"a\"},{}],\"ok\":true}");
	json_begin(&j, buf, 16);
	json_raw(&j, "programs", "[1,2,3,4,5,6,7,8]");
	assert_int_equal(json_end(&j), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_server_span),
		cmocka_unit_test(test_json_client_error_span),
		cmocka_unit_test(test_json_escapes_hostile_bytes),
		cmocka_unit_test(test_json_overflow_reported),
		cmocka_unit_test(test_console_line),
		cmocka_unit_test(test_grpc_span),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_json_readme_example),
		cmocka_unit_test(test_json_has_every_attribute),
		cmocka_unit_test(test_json_integers),
		cmocka_unit_test(test_json_raw_value),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
