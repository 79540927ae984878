/* SPDX-License-Identifier: MIT */
/* URL pieces shared by the OTLP and Kubernetes clients. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/url.h"

static void test_trailing_slashes(void **state)
{
	(void)state;
	assert_int_equal(url_trimmed_len("https://h:6443"), strlen("https://h:6443"));
	assert_int_equal(url_trimmed_len("https://h:6443/"), strlen("https://h:6443"));
	assert_int_equal(url_trimmed_len("http://gw:4318/otlp//"), strlen("http://gw:4318/otlp"));
	assert_int_equal(url_trimmed_len(""), 0);
	assert_int_equal(url_trimmed_len("///"), 0);
}

static void test_query_escape(void **state)
{
	char out[64];

	(void)state;
	/* unreserved characters stay */
	url_query_escape(out, sizeof(out), "node-1.eu_west~a");
	assert_string_equal(out, "node-1.eu_west~a");
	url_query_escape(out, sizeof(out), "a b=c&d/é");
	assert_string_equal(out, "a%20b%3Dc%26d%2F%C3%A9");
	url_query_escape(out, sizeof(out), "");
	assert_string_equal(out, "");
}

static void test_query_escape_bounds(void **state)
{
	char out[8];

	(void)state;
	/* 3 * 2 + 2 bytes hold two escaped characters */
	url_query_escape(out, sizeof(out), "&&");
	assert_string_equal(out, "%26%26");
	/* a third does not fit: cut before it, never inside an escape */
	url_query_escape(out, sizeof(out), "&&&");
	assert_string_equal(out, "%26%26");
	url_query_escape(out, 4, "abcdef");
	assert_string_equal(out, "");
	url_query_escape(out, 5, "abcdef");
	assert_string_equal(out, "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trailing_slashes),
		cmocka_unit_test(test_query_escape),
		cmocka_unit_test(test_query_escape_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
