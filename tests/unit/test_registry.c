/* SPDX-License-Identifier: MIT */
/* The registry reads each protocol's counters from its shared state by the
 * offsets the protocol declares: a wrong offset would export another
 * counter's value under this one's name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "protocols/registry.h"

static const struct protocol_counter *find(const struct protocol_counter *c, size_t n,
					   const char *metric)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].metric, metric) == 0)
			return &c[i];
	return NULL;
}

static void test_every_protocol_names_its_counters(void **state)
{
	(void)state;
	struct protocol_counter c[PROTOCOL_COUNTERS_MAX];
	struct protocols all;
	size_t nprotocols = 0;

	protocols_init(&all, NULL);
	for (size_t i = 0; i < PROTOCOLS_MAX; i++) {
		const struct protocol *p = protocol_at(i);
		char prefix[32];

		if (!p)
			continue;
		nprotocols++;
		assert_true(p->ncounters <= PROTOCOL_COUNTERS_MAX);
		assert_int_equal(protocol_counters(&all, p, c), p->ncounters);
		snprintf(prefix, sizeof(prefix), "sonde.%s.", p->name);
		for (size_t j = 0; j < p->ncounters; j++) {
			assert_memory_equal(c[j].metric, prefix, strlen(prefix));
			assert_int_equal(c[j].value, 0);
			assert_non_null(c[j].text);
			assert_non_null(c[j].description);
		}
	}
	assert_int_equal(nprotocols, 5);
	protocols_destroy(&all);
}

static void test_values_come_from_their_fields(void **state)
{
	(void)state;
	struct protocol_counter c[PROTOCOL_COUNTERS_MAX];
	struct protocols all;
	size_t n;

	protocols_init(&all, NULL);
	all.mysql.stats.spans = 7;
	all.mysql.stats.local_infile = 3;
	all.mysql.stats.parse_errors = 2;
	all.http1.stats.parse_errors = 5;
	all.redis.stats.pushes = 11;

	n = protocol_counters(&all, &mysql_protocol, c);
	assert_int_equal(find(c, n, "sonde.mysql.spans")->value, 7);
	assert_int_equal(find(c, n, "sonde.mysql.local_infile")->value, 3);
	assert_int_equal(find(c, n, "sonde.mysql.conns_server")->value, 0);
	n = protocol_counters(&all, &redis_protocol, c);
	assert_int_equal(find(c, n, "sonde.redis.pushes")->value, 11);
	assert_int_equal(find(c, n, "sonde.redis.spans")->value, 0);
	/* Only the counters marked as parse errors add up. */
	assert_int_equal(protocols_parse_errors(&all), 7);
	protocols_destroy(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_protocol_names_its_counters),
		cmocka_unit_test(test_values_come_from_their_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
