/* SPDX-License-Identifier: MIT */
/*
 * Log lines from several threads at once come out whole: every line of stderr
 * is one message with its prefix, none cut into by another thread's. Also
 * built with ThreadSanitizer (make test-tsan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#define THREADS 4
#define LINES	2000

static void *writer(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < LINES; i++)
		log_warn("thread %ld says %s line %d", id, "a fairly long message for its", i);
	return NULL;
}

static void test_lines_stay_whole(void **state)
{
	char path[] = "/tmp/sonde-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	pthread_t t[THREADS];
	char line[256];
	int lines = 0, bad = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);

	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		long id;
		int n, end = 0;

		lines++;
		if (sscanf(line,
			   "sonde: warning: thread %ld says a fairly long message for its line "
			   "%d\n%n",
			   &id, &n, &end) != 2 ||
		    !end || line[end])
			bad++;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(bad, 0);
	assert_int_equal(lines, THREADS * LINES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_stay_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
