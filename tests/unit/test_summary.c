/* SPDX-License-Identifier: MIT */
/* The exit summary: counts, errors, percentiles and the bound on endpoints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/summary.h"

static struct span make(enum span_kind kind, const char *method, const char *target,
			uint16_t status, uint64_t dur_ns)
{
	struct span s = { 0 };

	s.kind = kind;
	snprintf(s.method, sizeof(s.method), "%s", method);
	snprintf(s.target, sizeof(s.target), "%s", target);
	s.status = status;
	s.start_ns = 1000000000;
	s.end_ns = s.start_ns + dur_ns;
	return s;
}

/* within 1.6%, the histogram's resolution */
static void assert_near(uint64_t got, uint64_t want)
{
	double err = (double)got / (double)want - 1.0;

	if (err > 0.016 || err < -0.016)
		fail_msg("got %llu, want %llu", (unsigned long long)got, (unsigned long long)want);
}

static void test_percentiles_of_uniform_latencies(void **state)
{
	struct summary *s = summary_new(10);
	uint64_t count, errors, p50, p95, p99;

	(void)state;
	/* 1..1000 ms, shuffled order does not matter */
	for (uint64_t ms = 1000; ms >= 1; ms--) {
		struct span sp = make(SPAN_SERVER, "GET", "/x?id=1", 200, ms * 1000000);

		summary_add(s, &sp);
	}
	assert_true(summary_get(s, SPAN_SERVER, "GET", "/x", &count, &errors, &p50, &p95, &p99));
	assert_int_equal(count, 1000);
	assert_int_equal(errors, 0);
	assert_near(p50, 500000000);
	assert_near(p95, 950000000);
	assert_near(p99, 990000000);
	summary_free(s);
}

static void test_single_sample_is_exact(void **state)
{
	struct summary *s = summary_new(10);
	struct span sp = make(SPAN_CLIENT, "POST", "/pay", 201, 812345);
	uint64_t count, errors, p50, p95, p99;

	(void)state;
	summary_add(s, &sp);
	assert_true(summary_get(s, SPAN_CLIENT, "POST", "/pay", &count, &errors, &p50, &p95, &p99));
	assert_int_equal(p50, 812345);
	assert_int_equal(p99, 812345);
	summary_free(s);
}

static void test_errors_follow_span_kind(void **state)
{
	struct summary *s = summary_new(10);
	uint64_t count, errors, p50, p95, p99;
	struct span a = make(SPAN_SERVER, "GET", "/e", 404, 1000);
	struct span b = make(SPAN_SERVER, "GET", "/e", 503, 1000);
	struct span c = make(SPAN_CLIENT, "GET", "/e", 404, 1000);

	(void)state;
	summary_add(s, &a);
	summary_add(s, &b);
	summary_add(s, &c);
	assert_true(summary_get(s, SPAN_SERVER, "GET", "/e", &count, &errors, &p50, &p95, &p99));
	assert_int_equal(count, 2);
	assert_int_equal(errors, 1); /* 404 is not a server error */
	assert_true(summary_get(s, SPAN_CLIENT, "GET", "/e", &count, &errors, &p50, &p95, &p99));
	assert_int_equal(errors, 1); /* but it is a client error */
	summary_free(s);
}

static void test_endpoint_bound_folds_and_counts(void **state)
{
	struct summary *s = summary_new(3);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	for (int i = 0; i < 10; i++) {
		char path[32];
		struct span sp;

		snprintf(path, sizeof(path), "/user/%d", i);
		sp = make(SPAN_SERVER, "GET", path, 200, 1000000);
		summary_add(s, &sp);
	}
	assert_int_equal(summary_count(s), 4);
	assert_int_equal(summary_folded(s), 7);
	f = open_memstream(&text, &len);
	summary_print(s, f);
	fclose(f);
	assert_non_null(strstr(text, "(other)"));
	assert_non_null(strstr(text, "7 requests of endpoints past the first 3"));
	free(text);
	summary_free(s);
}

static void test_printed_table_and_json(void **state)
{
	struct summary *s = summary_new(10);
	struct span a = make(SPAN_SERVER, "GET", "/a", 200, 2000000);
	struct span b = make(SPAN_SERVER, "GET", "/b", 500, 3000000);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	summary_add(s, &a);
	summary_add(s, &a);
	summary_add(s, &b);
	f = open_memstream(&text, &len);
	summary_print(s, f);
	summary_print_json(s, f);
	fclose(f);
	/* most requests first */
	assert_true(strstr(text, "/a") < strstr(text, "/b"));
	assert_non_null(strstr(text, "2.00ms"));
	assert_non_null(strstr(text, "{\"summary\":true,\"kind\":\"server\",\"method\":\"GET\","
				     "\"path\":\"/b\",\"count\":1,\"errors\":1,\"p50_ms\":3,"));
	free(text);
	summary_free(s);

	text = NULL;
	f = open_memstream(&text, &len);
	summary_print(NULL, f);
	fclose(f);
	assert_string_equal(text, "no requests traced\n");
	free(text);
	summary_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentiles_of_uniform_latencies),
		cmocka_unit_test(test_single_sample_is_exact),
		cmocka_unit_test(test_errors_follow_span_kind),
		cmocka_unit_test(test_endpoint_bound_folds_and_counts),
		cmocka_unit_test(test_printed_table_and_json),
	};

	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
