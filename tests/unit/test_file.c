/* SPDX-License-Identifier: MIT */
/* Reading whole files with a bound: configuration, tokens, /proc entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sonde-file-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static const char *put(const char *text, size_t len)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/f", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

static void test_read_all(void **state)
{
	const char *path = put("abc\0def", 7);
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(file_read_all(path, 7, &buf, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "abc\0def", 8); /* NUL-terminated too */
	free(buf);
	/* one byte over the bound */
	assert_int_equal(file_read_all(path, 6, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(len, 0);

	path = put("", 0);
	assert_int_equal(file_read_all(path, 16, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void test_read_all_errors(void **state)
{
	char path[128];
	char *buf = (char *)1;
	size_t len = 1;

	(void)state;
	snprintf(path, sizeof(path), "%s/absent", dir);
	assert_int_equal(file_read_all(path, 16, &buf, &len), -ENOENT);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(file_read_all(dir, 16, &buf, &len), -EISDIR);
	assert_null(buf);
}

static void test_read_upto(void **state)
{
	const char *path = put("0123456789", 10);
	char buf[16], absent[128];

	(void)state;
	memset(buf, '#', sizeof(buf));
	assert_int_equal(file_read_upto(path, buf, 4), 4);
	assert_memory_equal(buf, "0123#", 5); /* nothing written past size */
	assert_int_equal(file_read_upto(path, buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "0123456789", 10);
	snprintf(absent, sizeof(absent), "%s/absent", dir);
	assert_int_equal(file_read_upto(absent, buf, sizeof(buf)), -ENOENT);
}

static void test_read_upto_proc(void **state)
{
	char buf[4096];
	ssize_t n;

	(void)state;
	/* /proc files report no size: they are read until the end all the same */
	n = file_read_upto("/proc/self/cmdline", buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "test_file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_all_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_upto, setup, teardown),
		cmocka_unit_test(test_read_upto_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
