/* SPDX-License-Identifier: MIT */
/* The bounded map the linker keeps its request contexts in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/lru_map.h"

static void test_put_get_del(void **state)
{
	struct lru_map m;
	uint64_t k = 7, other = 8;
	uint32_t *v;

	(void)state;
	assert_int_equal(lru_map_init(&m, sizeof(k), sizeof(*v), 4), 0);
	assert_null(lru_map_get(&m, &k, false));
	v = lru_map_put(&m, &k, NULL);
	assert_int_equal(*v, 0); /* new values start zeroed */
	*v = 42;
	assert_int_equal(*(uint32_t *)lru_map_get(&m, &k, false), 42);
	assert_int_equal(*(uint32_t *)lru_map_put(&m, &k, NULL), 42); /* put finds it */
	assert_int_equal(m.count, 1);
	assert_false(lru_map_del(&m, &other));
	assert_true(lru_map_del(&m, &k));
	assert_null(lru_map_get(&m, &k, false));
	assert_int_equal(m.count, 0);
	lru_map_destroy(&m);
}

/* Full: the least recently used goes, counted; a get with touch saves one. */
static void test_evicts_least_recent(void **state)
{
	struct lru_map m;
	bool evicted;

	(void)state;
	assert_int_equal(lru_map_init(&m, sizeof(uint64_t), sizeof(uint64_t), 3), 0);
	for (uint64_t k = 1; k <= 3; k++) {
		*(uint64_t *)lru_map_put(&m, &k, &evicted) = k * 10;
		assert_false(evicted);
	}
	lru_map_get(&m, &(uint64_t){ 1 }, true);
	*(uint64_t *)lru_map_put(&m, &(uint64_t){ 4 }, &evicted) = 40;
	assert_true(evicted);
	assert_int_equal(m.evicted, 1);
	assert_null(lru_map_get(&m, &(uint64_t){ 2 }, false)); /* the least recent */
	assert_int_equal(*(uint64_t *)lru_map_get(&m, &(uint64_t){ 1 }, false), 10);
	assert_int_equal(*(uint64_t *)lru_map_get(&m, &(uint64_t){ 3 }, false), 30);
	assert_int_equal(*(uint64_t *)lru_map_get(&m, &(uint64_t){ 4 }, false), 40);
	/* a deleted entry's room is used again before any eviction */
	assert_true(lru_map_del(&m, &(uint64_t){ 3 }));
	lru_map_put(&m, &(uint64_t){ 5 }, &evicted);
	assert_false(evicted);
	assert_int_equal(m.count, 3);
	lru_map_destroy(&m);
}

static bool odd(void *ctx, const void *key, void *value)
{
	(void)value;
	(*(int *)ctx)++;
	return *(const uint64_t *)key & 1;
}

static void test_sweep_removes_what_it_is_told(void **state)
{
	struct lru_map m;
	int seen = 0;

	(void)state;
	assert_int_equal(lru_map_init(&m, sizeof(uint64_t), 0, 100), 0);
	for (uint64_t k = 0; k < 100; k++)
		lru_map_put(&m, &k, NULL);
	lru_map_sweep(&m, odd, &seen);
	assert_int_equal(seen, 100);
	assert_int_equal(m.count, 50);
	for (uint64_t k = 0; k < 100; k++)
		assert_int_equal(lru_map_get(&m, &k, false) != NULL, !(k & 1));
	lru_map_destroy(&m);
}

/* Many keys through a small map, against a plain array as the model. */
static void test_churn_matches_a_model(void **state)
{
	enum { CAP = 64, KEYS = 300 };
	struct lru_map m;
	uint32_t present = 0;
	uint64_t x = 88172645463325252ull;

	(void)state;
	assert_int_equal(lru_map_init(&m, sizeof(uint32_t), sizeof(uint32_t), CAP), 0);
	for (int i = 0; i < 100000; i++) {
		uint32_t k, *v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (uint32_t)(x % KEYS);
		if (x & 0x100) {
			v = lru_map_put(&m, &k, NULL);
			*v = k ^ 0x5a5a;
		} else if ((v = lru_map_get(&m, &k, true))) {
			assert_int_equal(*v, k ^ 0x5a5a);
			present++;
		}
		assert_true(m.count <= CAP);
	}
	assert_true(present > 0);
	assert_int_equal(m.count, CAP);
	lru_map_destroy(&m);
}

static void test_bad_sizes(void **state)
{
	struct lru_map m;

	(void)state;
	assert_int_equal(lru_map_init(&m, 0, 8, 4), -EINVAL);
	assert_int_equal(lru_map_init(&m, 8, 8, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_evicts_least_recent),
		cmocka_unit_test(test_sweep_removes_what_it_is_told),
		cmocka_unit_test(test_churn_matches_a_model),
		cmocka_unit_test(test_bad_sizes),
	};

	return cmocka_run_group_tests_name("lru_map", tests, NULL, NULL);
}
