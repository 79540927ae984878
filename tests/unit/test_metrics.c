/* SPDX-License-Identifier: MIT */
/* RED metrics: which series a request lands in, and what its histograms hold. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "pipeline/metrics.h"

#define MS 1000000ull

static struct resource *proc(uint32_t pid, const char *service)
{
	char env[64];
	int n = snprintf(env, sizeof(env), "OTEL_SERVICE_NAME=%s", service);

	return resource_new(pid, "app", "node-1", env, (size_t)n + 1, NULL, "test");
}

static struct span request(enum span_kind kind, const char *method, const char *target,
			   uint16_t status, uint64_t dur_ns)
{
	struct span s = { 0 };

	s.kind = kind;
	s.pid = 1;
	snprintf(s.method, sizeof(s.method), "%s", method);
	snprintf(s.target, sizeof(s.target), "%s", target);
	s.status = status;
	s.version_minor = 1;
	s.start_ns = 1764000000000000000ull;
	s.end_ns = s.start_ns + dur_ns;
	return s;
}

static int count_series(const struct metrics *m)
{
	int n = 0;

	for (const struct series *s = metrics_first(m); s; s = s->list_next)
		n++;
	return n;
}

static const struct series *find_series(const struct metrics *m, const struct resource *res,
					enum span_kind kind, uint16_t status, const char *route)
{
	for (const struct series *s = metrics_first(m); s; s = s->list_next)
		if (s->key.res == res && s->key.kind == kind && s->key.status == status &&
		    !s->key.overflow && strcmp(s->key.route, route) == 0)
			return s;
	fail_msg("no series for status %u route %s", status, route);
	return NULL;
}

static const struct series *overflow_series(const struct metrics *m, const struct resource *res,
					    enum span_kind kind)
{
	for (const struct series *s = metrics_first(m); s; s = s->list_next)
		if (s->key.res == res && s->key.kind == kind && s->key.overflow)
			return s;
	return NULL;
}

static void test_status_splits_series(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	const struct series *ok, *bad;
	struct metrics_stats st;

	(void)state;
	for (int i = 0; i < 50; i++) {
		char target[32];
		struct span sp;

		snprintf(target, sizeof(target), "/items/%d?x=1", i);
		sp = request(SPAN_SERVER, "GET", target, i % 5 == 0 ? 500 : 200, 20 * MS);
		metrics_record(m, res, &sp, "/items/{id}");
	}
	assert_int_equal(count_series(m), 2);
	ok = find_series(m, res, SPAN_SERVER, 200, "/items/{id}");
	bad = find_series(m, res, SPAN_SERVER, 500, "/items/{id}");
	assert_int_equal(ok->duration.count, 40);
	assert_int_equal(bad->duration.count, 10);
	assert_string_equal(ok->key.method, "GET");
	assert_string_equal(ok->key.error_type, "");
	assert_string_equal(bad->key.error_type, "500");
	assert_string_equal(ok->key.server_address, "");
	assert_int_equal(ok->start_ns, 1764000000000000000ull);
	metrics_stats(m, &st);
	assert_int_equal(st.series, 2);
	assert_int_equal(st.overflowed, 0);
	metrics_free(m);
	resource_put(res);
}

static void test_client_errors_start_at_400(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	struct span sp = request(SPAN_CLIENT, "GET", "/x", 404, MS);

	(void)state;
	metrics_record(m, res, &sp, "/x");
	sp = request(SPAN_SERVER, "GET", "/x", 404, MS);
	metrics_record(m, res, &sp, "/x");
	assert_string_equal(find_series(m, res, SPAN_CLIENT, 404, "/x")->key.error_type, "404");
	assert_string_equal(find_series(m, res, SPAN_SERVER, 404, "/x")->key.error_type, "");
	metrics_free(m);
	resource_put(res);
}

static void test_duration_buckets(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	/* ns; buckets are (previous bound, bound] */
	static const uint64_t durations[] = {
		0,		/* bucket 0 */
		5 * MS,		/* exactly 0.005 s: bucket 0 */
		5 * MS + 1000,	/* just above: bucket 1 (0.01) */
		10 * MS,	/* exactly 0.01 s: bucket 1 */
		1000 * MS,	/* exactly 1 s: bucket 9 */
		10000 * MS,	/* exactly 10 s: bucket 13, the last bound */
		10000 * MS + 1, /* +Inf */
		3600000 * MS,	/* +Inf */
	};
	static const uint64_t want[DURATION_BOUNDS + 1] = {
		[0] = 2, [1] = 2, [9] = 1, [13] = 1, [14] = 2,
	};
	const struct histogram *h;
	double sum = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		struct span sp = request(SPAN_SERVER, "GET", "/d", 200, durations[i]);

		metrics_record(m, res, &sp, "/d");
		sum += (double)durations[i] / 1e9;
	}
	h = &find_series(m, res, SPAN_SERVER, 200, "/d")->duration;
	assert_int_equal(h->count, 8);
	for (int i = 0; i <= DURATION_BOUNDS; i++)
		if (h->buckets[i] != want[i])
			fail_msg("bucket %d (le %g): %llu, want %llu", i,
				 i < DURATION_BOUNDS ? metrics_duration_bounds[i] : 1.0 / 0.0,
				 (unsigned long long)h->buckets[i], (unsigned long long)want[i]);
	assert_float_equal(h->sum, sum, 1e-9);
	assert_float_equal(h->sum, 3621.020001001, 1e-6);
	assert_float_equal(h->min, 0, 0);
	assert_float_equal(h->max, 3600, 0);
	metrics_free(m);
	resource_put(res);
}

static void test_body_size_buckets(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	static const uint64_t sizes[] = { 0, 1, 5, 6, 10000, 10001, 1 << 20 };
	const struct series *s;
	struct span sp;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sp = request(SPAN_SERVER, "POST", "/up", 201, MS);
		sp.request_body_bytes = sizes[i];
		sp.response_body_bytes = 2 * sizes[i];
		metrics_record(m, res, &sp, "/up");
	}
	s = find_series(m, res, SPAN_SERVER, 201, "/up");
	/* bounds 0, 5, 10, ... 10000 */
	assert_int_equal(s->req_size.count, 7);
	assert_int_equal(s->req_size.buckets[0], 1);
	assert_int_equal(s->req_size.buckets[1], 2);
	assert_int_equal(s->req_size.buckets[2], 1);
	assert_int_equal(s->req_size.buckets[14], 1);
	assert_int_equal(s->req_size.buckets[15], 2);
	assert_float_equal(s->req_size.sum, 0 + 1 + 5 + 6 + 10000 + 10001 + 1048576, 0);
	assert_float_equal(s->req_size.min, 0, 0);
	assert_float_equal(s->req_size.max, 1048576, 0);
	assert_int_equal(s->resp_size.count, 7);
	assert_int_equal(s->resp_size.buckets[0], 1);
	assert_int_equal(s->resp_size.buckets[1], 1); /* 2 */
	assert_int_equal(s->resp_size.buckets[2], 1); /* 10 */
	assert_int_equal(s->resp_size.buckets[3], 1); /* 12 */
	assert_int_equal(s->resp_size.buckets[15], 3);
	assert_float_equal(s->resp_size.max, 2097152, 0);
	metrics_free(m);
	resource_put(res);
}

static void test_no_response(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	struct span sp = request(SPAN_CLIENT, "GET", "/slow", 0, 30000 * MS);
	const struct series *s;

	(void)state;
	sp.flags = SPAN_F_NO_RESPONSE;
	sp.request_body_bytes = 3;
	strcpy(sp.host, "api.internal");
	metrics_record(m, res, &sp, "/slow");
	s = find_series(m, res, SPAN_CLIENT, 0, "/slow");
	assert_string_equal(s->key.error_type, "no_response");
	assert_int_equal(s->duration.count, 1);
	assert_int_equal(s->duration.buckets[DURATION_BOUNDS], 1);
	assert_int_equal(s->req_size.count, 1);
	/* no response, no response size */
	assert_int_equal(s->resp_size.count, 0);
	metrics_free(m);
	resource_put(res);
}

static void test_server_address_on_client_series_only(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	struct span sp;
	const struct series *s;

	(void)state;
	sp = request(SPAN_CLIENT, "GET", "/v1/rates", 200, MS);
	strcpy(sp.host, "rates.example.com:8443");
	metrics_record(m, res, &sp, "/v1/rates");
	s = find_series(m, res, SPAN_CLIENT, 200, "/v1/rates");
	assert_string_equal(s->key.server_address, "rates.example.com");
	assert_int_equal(s->key.server_port, 8443);

	/* without a port in Host, the port really connected to */
	sp = request(SPAN_CLIENT, "GET", "/v2/rates", 200, MS);
	strcpy(sp.host, "rates.example.com");
	sp.peer.family = AF_INET;
	sp.peer.port = 443;
	inet_pton(AF_INET, "10.1.2.3", sp.peer.addr);
	metrics_record(m, res, &sp, "/v2/rates");
	s = find_series(m, res, SPAN_CLIENT, 200, "/v2/rates");
	assert_string_equal(s->key.server_address, "rates.example.com");
	assert_int_equal(s->key.server_port, 443);

	/* two upstreams, one route: two series */
	strcpy(sp.host, "backup.example.com");
	metrics_record(m, res, &sp, "/v2/rates");
	assert_int_equal(count_series(m), 3);

	/* server series: the Host is not a label (cardinality) */
	sp = request(SPAN_SERVER, "GET", "/", 200, MS);
	strcpy(sp.host, "shop.example.com:8080");
	metrics_record(m, res, &sp, "/");
	sp = request(SPAN_SERVER, "GET", "/", 200, MS);
	strcpy(sp.host, "other.example.com");
	metrics_record(m, res, &sp, "/");
	s = find_series(m, res, SPAN_SERVER, 200, "/");
	assert_string_equal(s->key.server_address, "");
	assert_int_equal(s->key.server_port, 0);
	assert_int_equal(s->duration.count, 2);
	assert_int_equal(count_series(m), 4);
	metrics_free(m);
	resource_put(res);
}

/* Keys compare as bytes: what a reused span buffer holds past a string's end
 * must not split one series in two. */
static void test_bytes_past_method_end_ignored(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	struct span fresh = request(SPAN_SERVER, "GET", "/a", 200, MS);
	struct span reused = request(SPAN_SERVER, "DELETE", "/a", 200, MS);

	(void)state;
	memcpy(reused.method, "GET", 4); /* "GET\0TE\0..." */
	metrics_record(m, res, &fresh, "/a");
	metrics_record(m, res, &reused, "/a");
	assert_int_equal(count_series(m), 1);
	assert_int_equal(metrics_first(m)->duration.count, 2);
	assert_string_equal(metrics_first(m)->key.method, "GET");
	metrics_free(m);
	resource_put(res);
}

static void test_route_and_method_in_key(void **state)
{
	struct resource *res = proc(100, "shop");
	struct metrics *m = metrics_new(100);
	struct span sp = request(SPAN_SERVER, "GET", "/caf\xe9", 200, MS);
	struct series_key k;

	(void)state;
	/* route strings are made valid UTF-8 for OTLP */
	metrics_key(&k, res, &sp, "/caf\xe9");
	assert_string_equal(k.route, "/caf\xef\xbf\xbd");
	/* no template: no route */
	metrics_record(m, res, &sp, NULL);
	assert_string_equal(metrics_first(m)->key.route, "");
	sp = request(SPAN_SERVER, "POST", "/caf", 200, MS);
	metrics_record(m, res, &sp, NULL);
	assert_int_equal(count_series(m), 2);
	metrics_free(m);
	resource_put(res);
}

static void test_series_limit_overflow(void **state)
{
	struct resource *a = proc(100, "shop");
	struct resource *b = proc(200, "billing");
	struct metrics *m = metrics_new(3);
	const char *routes[] = { "/a", "/b", "/c", "/d", "/e", "/d", "/a" };
	const struct series *ov;
	struct metrics_stats st;
	struct span sp;

	(void)state;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		sp = request(SPAN_SERVER, "GET", routes[i], 200, MS);
		metrics_record(m, a, &sp, routes[i]);
	}
	/* a series that exists keeps counting past the limit */
	assert_int_equal(find_series(m, a, SPAN_SERVER, 200, "/a")->duration.count, 2);
	ov = overflow_series(m, a, SPAN_SERVER);
	assert_non_null(ov);
	assert_int_equal(ov->duration.count, 3);
	assert_string_equal(ov->key.route, "");
	assert_string_equal(ov->key.method, "");
	metrics_stats(m, &st);
	assert_int_equal(st.overflowed, 3);
	assert_int_equal(st.series, 4);

	/* one overflow series per process and kind */
	sp = request(SPAN_CLIENT, "GET", "/f", 503, MS);
	metrics_record(m, a, &sp, "/f");
	sp = request(SPAN_CLIENT, "GET", "/g", 200, MS);
	metrics_record(m, a, &sp, "/g");
	sp = request(SPAN_SERVER, "GET", "/a", 200, MS);
	metrics_record(m, b, &sp, "/a");
	assert_int_equal(overflow_series(m, a, SPAN_CLIENT)->duration.count, 2);
	assert_int_equal(overflow_series(m, b, SPAN_SERVER)->duration.count, 1);
	assert_null(overflow_series(m, b, SPAN_CLIENT));
	assert_int_equal(overflow_series(m, a, SPAN_SERVER)->duration.count, 3);
	metrics_stats(m, &st);
	assert_int_equal(st.overflowed, 6);
	assert_int_equal(st.series, 6);
	assert_int_equal(count_series(m), 6);
	metrics_free(m);
	resource_put(a);
	resource_put(b);
}

static void test_expire_exited_processes(void **state)
{
	struct resource *gone = proc(100, "batch");
	struct resource *alive = proc(200, "shop");
	struct metrics *m = metrics_new(100);
	struct metrics_stats st;
	struct span sp;

	(void)state;
	sp = request(SPAN_SERVER, "GET", "/a", 200, MS);
	metrics_record(m, alive, &sp, "/a");
	metrics_record(m, gone, &sp, "/a");
	sp = request(SPAN_CLIENT, "GET", "/b", 200, MS);
	metrics_record(m, alive, &sp, "/b");
	metrics_record(m, gone, &sp, "/b"); /* the last series in the list */
	assert_int_equal(atomic_load(&gone->refs), 3);

	gone->exited = true;
	gone->exited_ns = 5000;
	/* exited after the cut-off: kept for one more export */
	metrics_expire(m, 5000);
	assert_int_equal(count_series(m), 4);

	metrics_expire(m, 5001);
	assert_int_equal(count_series(m), 2);
	for (const struct series *s = metrics_first(m); s; s = s->list_next)
		assert_ptr_equal(s->key.res, alive);
	metrics_stats(m, &st);
	assert_int_equal(st.series, 2);
	assert_int_equal(st.expired, 2);
	/* the series' references are given back */
	assert_int_equal(atomic_load(&gone->refs), 1);
	resource_put(gone);

	/* the list still takes new series at its end, and old ones are found */
	sp = request(SPAN_SERVER, "GET", "/c", 200, MS);
	metrics_record(m, alive, &sp, "/c");
	sp = request(SPAN_SERVER, "GET", "/a", 200, MS);
	metrics_record(m, alive, &sp, "/a");
	assert_int_equal(count_series(m), 3);
	assert_int_equal(find_series(m, alive, SPAN_SERVER, 200, "/a")->duration.count, 2);
	assert_int_equal(find_series(m, alive, SPAN_SERVER, 200, "/c")->duration.count, 1);
	metrics_free(m);
	resource_put(alive);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_splits_series),
		cmocka_unit_test(test_client_errors_start_at_400),
		cmocka_unit_test(test_duration_buckets),
		cmocka_unit_test(test_body_size_buckets),
		cmocka_unit_test(test_no_response),
		cmocka_unit_test(test_server_address_on_client_series_only),
		cmocka_unit_test(test_route_and_method_in_key),
		cmocka_unit_test(test_bytes_past_method_end_ignored),
		cmocka_unit_test(test_series_limit_overflow),
		cmocka_unit_test(test_expire_exited_processes),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
