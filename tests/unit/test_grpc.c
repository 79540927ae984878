/* SPDX-License-Identifier: MIT */
/* gRPC helpers: what makes a call, its service and method, its status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "protocols/http2/grpc.h"

static void test_content_type(void **state)
{
	(void)state;
	assert_true(grpc_is_content_type("application/grpc", 16));
	assert_true(grpc_is_content_type("application/grpc+proto", 22));
	assert_true(grpc_is_content_type("Application/GRPC;charset=x", 26));
	assert_false(grpc_is_content_type("application/grpc-web", 20));
	assert_false(grpc_is_content_type("application/json", 16));
	assert_false(grpc_is_content_type("application/grp", 15));
}

static void check_split(const char *path, const char *svc, const char *method)
{
	const char *s, *m;
	size_t sl, ml;

	assert_true(grpc_split_path(path, strlen(path), &s, &sl, &m, &ml));
	assert_int_equal(sl, strlen(svc));
	assert_memory_equal(s, svc, sl);
	assert_int_equal(ml, strlen(method));
	assert_memory_equal(m, method, ml);
}

static void test_split_path(void **state)
{
	const char *s, *m;
	size_t sl, ml;

	(void)state;
	check_split("/grpc.health.v1.Health/Check", "grpc.health.v1.Health", "Check");
	check_split("/Svc/M", "Svc", "M");
	assert_false(grpc_split_path("/", 1, &s, &sl, &m, &ml));
	assert_false(grpc_split_path("/a/b/c", 6, &s, &sl, &m, &ml));
	assert_false(grpc_split_path("//b", 3, &s, &sl, &m, &ml));
	assert_false(grpc_split_path("/svc/", 5, &s, &sl, &m, &ml));
	assert_false(grpc_split_path("/svc/m?x=1", 10, &s, &sl, &m, &ml));
	assert_false(grpc_split_path("svc/m", 5, &s, &sl, &m, &ml));
}

static void test_status(void **state)
{
	(void)state;
	assert_int_equal(grpc_parse_status("0", 1), 0);
	assert_int_equal(grpc_parse_status("16", 2), 16);
	assert_int_equal(grpc_parse_status("17", 2), -1);
	assert_int_equal(grpc_parse_status("", 0), -1);
	assert_int_equal(grpc_parse_status("1a", 2), -1);
	assert_string_equal(grpc_status_name(5), "NOT_FOUND");
	assert_string_equal(grpc_status_name(16), "UNAUTHENTICATED");
	assert_string_equal(grpc_status_name(99), "UNKNOWN_CODE");
	/* Server errors by the OpenTelemetry gRPC conventions. */
	for (int c = 0; c <= GRPC_STATUS_MAX; c++) {
		bool want = c == 2 || c == 4 || c == 12 || c == 13 || c == 14 || c == 15;

		assert_int_equal(grpc_status_is_server_error(c), want);
	}
	assert_int_equal(grpc_status_from_h2_error(0x8), 1);  /* CANCEL */
	assert_int_equal(grpc_status_from_h2_error(0x7), 14); /* REFUSED_STREAM */
	assert_int_equal(grpc_status_from_h2_error(0x2), 13); /* INTERNAL_ERROR */
	assert_int_equal(grpc_status_from_h2_error(0xb), 8);  /* ENHANCE_YOUR_CALM */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_split_path),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
