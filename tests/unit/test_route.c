/* SPDX-License-Identifier: MIT */
/* http.route templates and the per-service bound on distinct routes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "spans/route.h"

static void assert_template(const char *path, const char *want)
{
	char out[ROUTE_LEN];
	size_t n = route_template(path, strlen(path), out, sizeof(out));

	if (strcmp(out, want) != 0)
		fail_msg("template of '%s': got '%s', want '%s'", path, out, want);
	assert_int_equal(n, strlen(want));
}

static void test_identifiers_become_id(void **state)
{
	(void)state;
	assert_template("/users/123/orders/9f3c2a1b", "/users/{id}/orders/{id}");
	assert_template("/items/7", "/items/{id}");
	assert_template("/orders/550e8400-e29b-41d4-a716-446655440000/lines", "/orders/{id}/lines");
	assert_template("/blobs/deadbeef01", "/blobs/{id}");
	assert_template("/commits/0123456789abcdef0123456789abcdef01234567", "/commits/{id}");
	/* base62 / ULID-style tokens */
	assert_template("/s/aZ3kQ9xL2mP7vB4n", "/s/{id}");
	assert_template("/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/events/{id}");
}

static void test_words_stay(void **state)
{
	(void)state;
	assert_template("/api/v1/users", "/api/v1/users");
	assert_template("/auth/2fa/verify", "/auth/2fa/verify");
	assert_template("/h2/oauth2/healthz", "/h2/oauth2/healthz");
	/* too short to be a hex id */
	assert_template("/c/9f3c2a1", "/c/9f3c2a1");
	assert_template("/c/cafe", "/c/cafe");
	assert_template("/user-settings/notification_preferences",
			"/user-settings/notification_preferences");
	assert_template("/static/app.min.js", "/static/app.min.js");
}

/* Credentials and personal data in paths never reach http.route, span names
 * or metric labels. */
static void test_credentials_become_templates(void **state)
{
	(void)state;
	/* hex of 8+ characters, digits or not (the README's rule) */
	assert_template("/c/deadbeef", "/c/{id}");
	assert_template("/c/DeadBeefCafe", "/c/{id}");
	assert_template("/auth/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl/me",
			"/auth/{token}/me");
	assert_template("/v1/keys/sk_live_51H8abcDEF0123456789xyz", "/v1/keys/{token}");
	assert_template("/hooks/ghp_0123456789abcdefABCDEF0123456789abcd", "/hooks/{token}");
	assert_template("/aws/AKIAIOSFODNN7EXAMPLE", "/aws/{token}");
	assert_template("/users/jane.doe@example.com/cart", "/users/{email}/cart");
	assert_template("/users/jane.doe%40example.com", "/users/{email}");
	/* matrix parameters keep their names, never their values */
	assert_template("/cart;jsessionid=ABCDEFGHIJKLMNOP", "/cart;jsessionid={id}");
	assert_template("/cart;jsessionid=abc;lang=en/items",
			"/cart;jsessionid={id};lang={id}/items");
	assert_template("/42;v=1", "/{id};v={id}");
}

static void test_odd_paths(void **state)
{
	char out[ROUTE_LEN];

	(void)state;
	assert_template("/", "/");
	assert_template("/users/", "/users/");
	assert_template("/users/123/", "/users/{id}/");
	assert_template("//", "//");
	assert_template("/a//42", "/a//{id}");
	/* OPTIONS * and targets that are not origin-form get no real template */
	assert_template("*", "*");
	assert_template("http://example.com/x/1", "/");
	assert_int_equal(route_template("", 0, out, sizeof(out)), 1);
	assert_string_equal(out, "/");
	/* the caller passes the path length: the query is not part of it */
	assert_int_equal(route_template("/items/42?x=1", 9, out, sizeof(out)), 11);
	assert_string_equal(out, "/items/{id}");
}

static void test_truncation_stays_in_bounds(void **state)
{
	char buf[32], path[2 * ROUTE_LEN];
	size_t n;

	(void)state;
	for (size_t outlen = 1; outlen <= 12; outlen++) {
		const char *want = "/users/{id}/orders";

		memset(buf, 'X', sizeof(buf));
		n = route_template("/users/123/orders", 17, buf, outlen);
		assert_int_equal(n, outlen - 1);
		assert_int_equal(buf[outlen - 1], '\0');
		assert_memory_equal(buf, want, outlen - 1);
		for (size_t i = outlen; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'X');
	}
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(route_template("/users", 6, buf, 0), 0);
	assert_int_equal(buf[0], 'X');
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(route_template("*", 1, buf, 1), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');

	/* a path longer than a route */
	memset(path, 0, sizeof(path));
	for (size_t i = 0; i + 6 < sizeof(path); i += 6)
		memcpy(path + i, "/abcde", 6);
	n = route_template(path, strlen(path), buf, sizeof(buf));
	assert_int_equal(n, sizeof(buf) - 1);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, path, sizeof(buf) - 1);
}

static void test_set_keeps_first_routes(void **state)
{
	struct route_set *rs = route_set_new(3);
	char route[32];
	const char *a;

	(void)state;
	assert_non_null(rs);
	/* the set keeps its own copy: the caller's buffer is reused */
	strcpy(route, "/a");
	a = route_set_admit(rs, route);
	strcpy(route, "/b");
	assert_string_equal(route_set_admit(rs, route), "/b");
	strcpy(route, "/c");
	assert_string_equal(route_set_admit(rs, route), "/c");
	assert_string_equal(a, "/a");
	assert_int_equal(route_set_count(rs), 3);
	assert_int_equal(route_set_overflows(rs), 0);

	assert_string_equal(route_set_admit(rs, "/d"), ROUTE_OVERFLOW);
	assert_int_equal(route_set_overflows(rs), 1);
	/* known routes are still theirs after the cap */
	assert_ptr_equal(route_set_admit(rs, "/a"), a);
	assert_string_equal(route_set_admit(rs, "/c"), "/c");
	assert_string_equal(route_set_admit(rs, "/d"), ROUTE_OVERFLOW);
	assert_string_equal(route_set_admit(rs, "/e"), ROUTE_OVERFLOW);
	assert_int_equal(route_set_overflows(rs), 3);
	assert_int_equal(route_set_count(rs), 3);
	route_set_free(rs);
	route_set_free(NULL);
}

static void test_set_at_scale(void **state)
{
	struct route_set *rs = route_set_new(1000);
	char route[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(route, sizeof(route), "/r/%d/x", i);
		assert_string_equal(route_set_admit(rs, route), route);
	}
	assert_string_equal(route_set_admit(rs, "/r/1000/x"), ROUTE_OVERFLOW);
	for (int i = 0; i < 1000; i++) {
		snprintf(route, sizeof(route), "/r/%d/x", i);
		assert_string_equal(route_set_admit(rs, route), route);
	}
	assert_int_equal(route_set_count(rs), 1000);
	assert_int_equal(route_set_overflows(rs), 1);
	route_set_free(rs);
}

static void test_set_with_no_room(void **state)
{
	struct route_set *rs = route_set_new(0);

	(void)state;
	assert_string_equal(route_set_admit(rs, "/a"), ROUTE_OVERFLOW);
	assert_int_equal(route_set_count(rs), 0);
	assert_int_equal(route_set_overflows(rs), 1);
	route_set_free(rs);
}

static void test_registry_services_are_independent(void **state)
{
	struct route_registry *rr = route_registry_new(2, 2);

	(void)state;
	assert_string_equal(route_registry_admit(rr, "shop", "/a1"), "/a1");
	assert_string_equal(route_registry_admit(rr, "shop", "/a2"), "/a2");
	assert_string_equal(route_registry_admit(rr, "shop", "/a3"), ROUTE_OVERFLOW);
	/* a full service does not take room from another */
	assert_string_equal(route_registry_admit(rr, "billing", "/b1"), "/b1");
	assert_string_equal(route_registry_admit(rr, "billing", "/a3"), "/a3");
	assert_string_equal(route_registry_admit(rr, "billing", "/b3"), ROUTE_OVERFLOW);
	assert_string_equal(route_registry_admit(rr, "shop", "/a1"), "/a1");
	assert_int_equal(route_registry_overflows(rr), 2);

	/* past max_services, the other services share one set */
	assert_string_equal(route_registry_admit(rr, "cart", "/c1"), "/c1");
	assert_string_equal(route_registry_admit(rr, "auth", "/d1"), "/d1");
	assert_string_equal(route_registry_admit(rr, "auth", "/c1"), "/c1");
	assert_string_equal(route_registry_admit(rr, "cart", "/c2"), ROUTE_OVERFLOW);
	assert_string_equal(route_registry_admit(rr, "auth", "/d2"), ROUTE_OVERFLOW);
	/* the first two keep theirs */
	assert_string_equal(route_registry_admit(rr, "shop", "/a2"), "/a2");
	assert_string_equal(route_registry_admit(rr, "billing", "/b1"), "/b1");
	assert_int_equal(route_registry_overflows(rr), 4);
	route_registry_free(rr);
	route_registry_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identifiers_become_id),
		cmocka_unit_test(test_words_stay),
		cmocka_unit_test(test_credentials_become_templates),
		cmocka_unit_test(test_odd_paths),
		cmocka_unit_test(test_truncation_stays_in_bounds),
		cmocka_unit_test(test_set_keeps_first_routes),
		cmocka_unit_test(test_set_at_scale),
		cmocka_unit_test(test_set_with_no_room),
		cmocka_unit_test(test_registry_services_are_independent),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
