/* SPDX-License-Identifier: MIT */
/* Monotonic time in the units the agent's timeouts and condition waits use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"

static void test_mono_timespec(void **state)
{
	struct timespec ts;

	(void)state;
	ts = clock_mono_timespec(0);
	assert_int_equal(ts.tv_sec, 0);
	assert_int_equal(ts.tv_nsec, 0);
	ts = clock_mono_timespec(999999999ull);
	assert_int_equal(ts.tv_sec, 0);
	assert_int_equal(ts.tv_nsec, 999999999);
	ts = clock_mono_timespec(1000000000ull);
	assert_int_equal(ts.tv_sec, 1);
	assert_int_equal(ts.tv_nsec, 0);
	/* ten days of uptime and a bit: no overflow into tv_nsec */
	ts = clock_mono_timespec(864000ull * 1000000000ull + 123456789ull);
	assert_int_equal(ts.tv_sec, 864000);
	assert_int_equal(ts.tv_nsec, 123456789);
}

static void test_mono_ms_is_mono_now_in_ms(void **state)
{
	uint64_t before, ns, after;

	(void)state;
	/* The same clock: a reading in ns falls between two in ms around it. */
	before = clock_mono_ms();
	ns = clock_mono_now();
	after = clock_mono_ms();
	assert_true(before <= ns / 1000000u);
	assert_true(ns / 1000000u <= after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mono_timespec),
		cmocka_unit_test(test_mono_ms_is_mono_now_in_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
