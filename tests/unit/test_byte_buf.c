/* SPDX-License-Identifier: MIT */
/* The bounded buffer behind API bodies, watch lines and plugin output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/byte_buf.h"

static void test_grows_and_stays_a_string(void **state)
{
	struct byte_buf b = { .max = 1 << 20 };
	char chunk[1000];

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		assert_int_equal(byte_buf_add(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(strlen(b.data), 100000);
	assert_true(b.cap > b.len);
	assert_false(b.too_big);
	free(b.data);
}

static void test_ceiling(void **state)
{
	struct byte_buf b = { .max = 10 };

	(void)state;
	assert_int_equal(byte_buf_add(&b, "0123456789", 10), 0);
	assert_string_equal(b.data, "0123456789");
	/* never more room than the ceiling and its NUL */
	assert_int_equal(b.cap, 11);
	assert_int_equal(byte_buf_add(&b, "a", 1), -EMSGSIZE);
	assert_true(b.too_big);
	/* what was there is left as it was */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	/* emptied by its user (a watch line handed on), it takes more again */
	b.len = 0;
	assert_int_equal(byte_buf_add(&b, "ab", 2), 0);
	assert_string_equal(b.data, "ab");
	free(b.data);
}

static void test_empty_append(void **state)
{
	struct byte_buf b = { .max = 4 };

	(void)state;
	assert_int_equal(byte_buf_add(&b, "", 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_stays_a_string),
		cmocka_unit_test(test_ceiling),
		cmocka_unit_test(test_empty_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
