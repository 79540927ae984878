/* SPDX-License-Identifier: MIT */
/* W3C traceparent parsing, new span ids and the OpenTelemetry samplers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "spans/trace_context.h"

/* The example of W3C Trace Context, section 3.2.2.7 */
#define TP_TRACE  "4bf92f3577b34da6a3ce929d0e0e4736"
#define TP_PARENT "00f067aa0ba902b7"

static const uint8_t tp_trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
static const uint8_t tp_parent[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
static const uint8_t zero8[8];

static void test_parse_spec_example(void **state)
{
	struct traceparent tp;

	(void)state;
	assert_int_equal(traceparent_parse("00-" TP_TRACE "-" TP_PARENT "-01", &tp), 0);
	assert_memory_equal(tp.trace_id, tp_trace, 16);
	assert_memory_equal(tp.parent_id, tp_parent, 8);
	assert_int_equal(tp.flags, 0x01);

	assert_int_equal(traceparent_parse("00-" TP_TRACE "-" TP_PARENT "-00", &tp), 0);
	assert_int_equal(tp.flags, 0x00);
	/* unknown flag bits are carried, not refused */
	assert_int_equal(traceparent_parse("00-" TP_TRACE "-" TP_PARENT "-09", &tp), 0);
	assert_int_equal(tp.flags, 0x09);
}

static void test_parse_rejects_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"00",
		/* all-zero trace id, all-zero parent id */
		"00-00000000000000000000000000000000-" TP_PARENT "-01",
		"00-" TP_TRACE "-0000000000000000-01",
		/* version ff is forbidden */
		"ff-" TP_TRACE "-" TP_PARENT "-01",
		/* upper-case hex */
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-" TP_PARENT "-01",
		"00-" TP_TRACE "-00F067AA0BA902B7-01",
		"0A-" TP_TRACE "-" TP_PARENT "-01",
		"00-" TP_TRACE "-" TP_PARENT "-0A",
		/* wrong lengths */
		"00-" TP_TRACE "-" TP_PARENT "-1",
		"00-4bf92f3577b34da6a3ce929d0e0e473-" TP_PARENT "-01",
		"00-" TP_TRACE "-00f067aa0ba902b-01",
		"0-" TP_TRACE "-" TP_PARENT "-01",
		/* wrong separators */
		"00_" TP_TRACE "-" TP_PARENT "-01",
		"00-" TP_TRACE "_" TP_PARENT "-01",
		"00-" TP_TRACE "-" TP_PARENT "_01",
		"00 " TP_TRACE " " TP_PARENT " 01",
		/* not hex */
		"00-4bf92f3577b34da6a3ce929d0e0e473g-" TP_PARENT "-01",
		"00-" TP_TRACE "-" TP_PARENT "-0x",
		/* version 00 has exactly four fields */
		"00-" TP_TRACE "-" TP_PARENT "-01-extra",
		"00-" TP_TRACE "-" TP_PARENT "-01-",
		/* later versions may append fields, but only after a dash */
		"01-" TP_TRACE "-" TP_PARENT "-01extra",
	};
	struct traceparent tp;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (traceparent_parse(bad[i], &tp) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
}

static void test_parse_future_version(void **state)
{
	struct traceparent tp;

	(void)state;
	/* W3C Trace Context 4.3: parse a higher version as version 00 */
	assert_int_equal(traceparent_parse("01-" TP_TRACE "-" TP_PARENT "-01-extra", &tp), 0);
	assert_memory_equal(tp.trace_id, tp_trace, 16);
	assert_memory_equal(tp.parent_id, tp_parent, 8);
	assert_int_equal(tp.flags, 0x01);
	assert_int_equal(traceparent_parse("cc-" TP_TRACE "-" TP_PARENT "-00", &tp), 0);
	assert_int_equal(tp.flags, 0x00);
}

/* A span as the linker hands it out: continuing a caller's traceparent, or
 * the root of a new trace. */
static struct span span_from(const char *traceparent, uint64_t seed)
{
	struct span sp;
	struct traceparent tp;
	struct id_rng rng;
	uint64_t v;

	memset(&sp, 0, sizeof(sp));
	id_rng_seed(&rng, seed);
	v = id_rng_next(&rng);
	memcpy(sp.span_id, &v, 8);
	if (traceparent) {
		assert_int_equal(traceparent_parse(traceparent, &tp), 0);
		memcpy(sp.trace_id, tp.trace_id, 16);
		memcpy(sp.parent_span_id, tp.parent_id, 8);
		sp.trace_flags = tp.flags;
		sp.link = SPAN_LINK_HEADER;
		sp.flags |= SPAN_F_TRACE_FROM_HEADER;
	} else {
		v = id_rng_next(&rng);
		memcpy(sp.trace_id, &v, 8);
		v = id_rng_next(&rng);
		memcpy(sp.trace_id + 8, &v, 8);
	}
	return sp;
}

static void test_ids_continue_the_parent(void **state)
{
	struct sampler smp = { .kind = SAMPLER_ALWAYS_ON };
	struct span sp = span_from("00-" TP_TRACE "-" TP_PARENT "-01", 1);
	struct trace_ids ids;

	(void)state;
	trace_ids_for(&ids, &sp, &smp);
	assert_memory_equal(ids.trace_id, tp_trace, 16);
	assert_memory_equal(ids.parent_span_id, tp_parent, 8);
	assert_true(ids.has_parent);
	assert_true(ids.remote_parent);
	assert_true(ids.sampled);
	assert_memory_equal(ids.span_id, sp.span_id, 8);
	assert_memory_not_equal(ids.span_id, zero8, 8);
	assert_memory_not_equal(ids.span_id, tp_parent, 8);
}

static void test_ids_start_a_trace(void **state)
{
	struct sampler smp = { .kind = SAMPLER_ALWAYS_ON };
	static const uint8_t zero16[16];
	struct span a = span_from(NULL, 2), b = span_from(NULL, 3);
	struct trace_ids ia, ib;

	(void)state;
	trace_ids_for(&ia, &a, &smp);
	trace_ids_for(&ib, &b, &smp);
	assert_false(ia.has_parent);
	assert_false(ia.remote_parent);
	assert_memory_equal(ia.parent_span_id, zero8, 8);
	assert_memory_not_equal(ia.trace_id, zero16, 16);
	assert_memory_not_equal(ia.span_id, zero8, 8);
	assert_memory_not_equal(ia.trace_id, ib.trace_id, 16);
	assert_memory_not_equal(ia.span_id, ib.span_id, 8);
}

/* The decision for one span, with or without a parent sampled or not. */
static bool decide(enum sampler_kind kind, double ratio, const char *traceparent)
{
	struct sampler smp = { .kind = kind, .ratio = ratio };
	struct span sp = span_from(traceparent, 3);
	struct trace_ids ids;

	trace_ids_for(&ids, &sp, &smp);
	return ids.sampled;
}

#define SAMPLED	    "00-" TP_TRACE "-" TP_PARENT "-01"
#define NOT_SAMPLED "00-" TP_TRACE "-" TP_PARENT "-00"

static void test_samplers_and_parent(void **state)
{
	(void)state;
	/* the plain samplers ignore the parent's flag */
	assert_true(decide(SAMPLER_ALWAYS_ON, 0, NULL));
	assert_true(decide(SAMPLER_ALWAYS_ON, 0, NOT_SAMPLED));
	assert_false(decide(SAMPLER_ALWAYS_OFF, 0, NULL));
	assert_false(decide(SAMPLER_ALWAYS_OFF, 0, SAMPLED));

	/* parent-based samplers follow the parent ... */
	assert_true(decide(SAMPLER_PARENTBASED_ALWAYS_ON, 0, SAMPLED));
	assert_false(decide(SAMPLER_PARENTBASED_ALWAYS_ON, 0, NOT_SAMPLED));
	assert_true(decide(SAMPLER_PARENTBASED_ALWAYS_OFF, 0, SAMPLED));
	assert_false(decide(SAMPLER_PARENTBASED_ALWAYS_OFF, 0, NOT_SAMPLED));
	assert_true(decide(SAMPLER_PARENTBASED_TRACEIDRATIO, 0, SAMPLED));
	assert_false(decide(SAMPLER_PARENTBASED_TRACEIDRATIO, 1, NOT_SAMPLED));
	/* ... and make the root decision for a new trace */
	assert_true(decide(SAMPLER_PARENTBASED_ALWAYS_ON, 0, NULL));
	assert_false(decide(SAMPLER_PARENTBASED_ALWAYS_OFF, 0, NULL));
	assert_true(decide(SAMPLER_PARENTBASED_TRACEIDRATIO, 1, NULL));
	assert_false(decide(SAMPLER_PARENTBASED_TRACEIDRATIO, 0, NULL));
}

static int sampled_of(enum sampler_kind kind, double ratio, int n)
{
	struct sampler smp = { .kind = kind, .ratio = ratio };
	struct trace_ids ids;
	int kept = 0;

	for (int i = 0; i < n; i++) {
		struct span sp = span_from(NULL, 4 + (uint64_t)i * 7919);

		trace_ids_for(&ids, &sp, &smp);
		kept += ids.sampled;
	}
	return kept;
}

static void test_traceidratio_proportions(void **state)
{
	int kept;

	(void)state;
	assert_int_equal(sampled_of(SAMPLER_TRACEIDRATIO, 0, 20000), 0);
	assert_int_equal(sampled_of(SAMPLER_TRACEIDRATIO, 1, 20000), 20000);
	kept = sampled_of(SAMPLER_TRACEIDRATIO, 0.25, 20000);
	assert_in_range(kept, 4000, 6000);
	kept = sampled_of(SAMPLER_PARENTBASED_TRACEIDRATIO, 0.25, 20000);
	assert_in_range(kept, 4000, 6000);
}

static void test_traceidratio_is_deterministic(void **state)
{
	struct sampler smp = { .kind = SAMPLER_TRACEIDRATIO, .ratio = 0.25 };
	struct traceparent tp;
	struct trace_ids ids;
	struct id_rng rng;

	(void)state;
	/* every agent on a trace's path, and every span of it, decides the same for its trace id,
	 * whatever its own generator says */
	id_rng_seed(&rng, 5);
	for (int i = 0; i < 200; i++) {
		bool first;

		memset(&tp, 0, sizeof(tp));
		for (int j = 0; j < 16; j += 8) {
			uint64_t v = id_rng_next(&rng);

			memcpy(tp.trace_id + j, &v, 8);
		}
		tp.parent_id[7] = 1;
		tp.flags = i & 1;
		first = sampler_ratio_keeps(0.25, tp.trace_id);
		/* every span of the trace, however it was linked */
		for (int k = 0; k < 3; k++) {
			struct span sp = span_from(NULL, 100 + (uint64_t)k);

			memcpy(sp.trace_id, tp.trace_id, 16);
			sp.link = k == 0   ? SPAN_LINK_HEADER
				  : k == 1 ? SPAN_LINK_THREAD
					   : SPAN_LINK_CONNECTION;
			sp.trace_flags = tp.flags;
			trace_ids_for(&ids, &sp, &smp);
			assert_int_equal(ids.sampled, first);
		}
	}
}

static void test_ratio_boundaries(void **state)
{
	uint8_t id[16] = { 0 };

	(void)state;
	/* the decision reads the lower 8 bytes, big-endian, against ratio * 2^64 */
	memset(id, 0xff, 8);
	assert_true(sampler_ratio_keeps(1e-9, id));
	assert_false(sampler_ratio_keeps(0, id));
	assert_false(sampler_ratio_keeps(-1, id));

	memset(id, 0, 8);
	memset(id + 8, 0xff, 8);
	assert_false(sampler_ratio_keeps(0.999999, id));
	assert_true(sampler_ratio_keeps(1, id));
	assert_true(sampler_ratio_keeps(2, id));

	memset(id + 8, 0, 8);
	id[8] = 0x80; /* exactly one half */
	assert_false(sampler_ratio_keeps(0.5, id));
	assert_true(sampler_ratio_keeps(0.5000001, id));
	id[8] = 0x7f;
	id[9] = 0xf0;
	assert_true(sampler_ratio_keeps(0.5, id));
	assert_false(sampler_ratio_keeps(0.499, id)); /* 0x7ff0… is 0.49976 of 2^64 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_spec_example),
		cmocka_unit_test(test_parse_rejects_invalid),
		cmocka_unit_test(test_parse_future_version),
		cmocka_unit_test(test_ids_continue_the_parent),
		cmocka_unit_test(test_ids_start_a_trace),
		cmocka_unit_test(test_samplers_and_parent),
		cmocka_unit_test(test_traceidratio_proportions),
		cmocka_unit_test(test_traceidratio_is_deterministic),
		cmocka_unit_test(test_ratio_boundaries),
	};

	return cmocka_run_group_tests_name("trace_context", tests, NULL, NULL);
}
