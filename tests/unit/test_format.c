/* SPDX-License-Identifier: MIT */
/* What a user reads: the console line and the JSON object of a span. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/format.h"
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
	assert_true(format_span_json(&s, buf, sizeof(buf)) > 0);
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
	assert_true(format_span_json(&s, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"kind\":\"client\""));
	assert_non_null(strstr(buf, "\"error.type\":\"404\""));
	/* no Host: the server is the connected peer */
	assert_non_null(strstr(buf, "\"server.address\":\"10.0.0.9\""));
	assert_non_null(strstr(buf, "\"server.port\":51000"));
	assert_null(strstr(buf, "client.address"));

	s.status = 0;
	s.flags = SPAN_F_NO_RESPONSE;
	assert_true(format_span_json(&s, buf, sizeof(buf)) > 0);
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
	assert_true(format_span_json(&s, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"url.path\":\"/a\\\"b\\\\c\\u0001\xef\xbf\xbd\xc3\xa9\""));
	assert_non_null(
		strstr(buf, "\"user_agent.original\":\"evil\\u000d\\u000a{\\\"kind\\\":1}\""));
}

static void test_json_overflow_reported(void **state)
{
	struct span s = sample(SPAN_SERVER);
	char buf[64];

	(void)state;
	assert_int_equal(format_span_json(&s, buf, sizeof(buf)), -1);
	assert_true(strlen(buf) < sizeof(buf));
}

static void test_console_line(void **state)
{
	struct span s = sample(SPAN_SERVER);
	char buf[512];

	(void)state;
	assert_true(format_span_line(&s, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "server nginx[4242] POST /api/orders?id=5&x=%20 201 1.23ms"));
	assert_non_null(strstr(buf, "<- 10.0.0.9:51000"));
	s.kind = SPAN_CLIENT;
	s.flags = SPAN_F_NO_RESPONSE;
	assert_true(format_span_line(&s, buf, sizeof(buf)) > 0);
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
	assert_true(format_span_json(&s, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"name\":\"grpc.health.v1.Health/Check\""));
	assert_non_null(strstr(buf, "\"rpc.system\":\"grpc\""));
	assert_non_null(strstr(buf, "\"rpc.service\":\"grpc.health.v1.Health\""));
	assert_non_null(strstr(buf, "\"rpc.method\":\"Check\""));
	assert_non_null(strstr(buf, "\"rpc.grpc.status_code\":12"));
	assert_non_null(strstr(buf, "\"network.protocol.version\":\"2\""));
	assert_non_null(strstr(buf, "\"error.type\":\"UNIMPLEMENTED\""));
	assert_non_null(strstr(buf, "\"sonde.http2.stream_id\":3"));
	assert_null(strstr(buf, "http.request.method"));
	assert_true(format_span_line(&s, buf, sizeof(buf)) > 0);
	assert_non_null(
		strstr(buf, "nginx[4242] gRPC /grpc.health.v1.Health/Check UNIMPLEMENTED "));
	assert_non_null(strstr(buf, " h2"));
	/* Plain HTTP/2 keeps the HTTP keys, version 2. */
	s.flags = 0;
	assert_true(format_span_json(&s, buf, sizeof(buf)) > 0);
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

static void test_split_host(void **state)
{
	const char *h;
	uint16_t port;

	(void)state;
	assert_int_equal(format_split_host("[::1]:8080", &h, &port), 3);
	assert_memory_equal(h, "::1", 3);
	assert_int_equal(port, 8080);
	assert_int_equal(format_split_host("a.example", &h, &port), 9);
	assert_int_equal(port, 0);
	assert_int_equal(format_split_host("a.example:81", &h, &port), 9);
	assert_int_equal(port, 81);
	assert_int_equal(format_split_host("a.example:65535", &h, &port), 9);
	assert_int_equal(port, 65535);
	/* Out of range or not a number: no port, rather than one wrapped. */
	assert_int_equal(format_split_host("a.example:65536", &h, &port), 9);
	assert_int_equal(port, 0);
	assert_int_equal(format_split_host("a.example:x1", &h, &port), 9);
	assert_int_equal(port, 0);
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
		cmocka_unit_test(test_split_host),
		cmocka_unit_test(test_json_raw_value),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
