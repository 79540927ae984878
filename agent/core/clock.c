/* SPDX-License-Identifier: MIT */
#include <time.h>

#include "core/clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_now(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t clock_mono_ms(void)
{
	return clock_mono_now() / 1000000u;
}

struct timespec clock_mono_timespec(uint64_t mono_ns)
{
	return (struct timespec){ .tv_sec = (time_t)(mono_ns / 1000000000ull),
				  .tv_nsec = (long)(mono_ns % 1000000000ull) };
}

uint64_t clock_real_now(void)
{
	return read_ns(CLOCK_REALTIME);
}

void clock_offset_measure(struct clock_offset *c)
{
	uint64_t best_gap = UINT64_MAX;

	/* A realtime read bracketed by two monotonic reads; the tightest bracket
	 * gives the best estimate of the offset. */
	for (int i = 0; i < 5; i++) {
		uint64_t m1 = read_ns(CLOCK_MONOTONIC);
		uint64_t r = read_ns(CLOCK_REALTIME);
		uint64_t m2 = read_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			c->mono_to_real_ns = (int64_t)r - (int64_t)(m1 + (m2 - m1) / 2);
			c->measured_at_mono = m2;
		}
	}
}

void clock_offset_refresh(struct clock_offset *c, uint64_t now_mono)
{
	if (now_mono - c->measured_at_mono > 60ull * 1000000000ull)
		clock_offset_measure(c);
}

uint64_t clock_mono_to_real(const struct clock_offset *c, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + c->mono_to_real_ns);
}
