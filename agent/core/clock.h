/* SPDX-License-Identifier: MIT */
/* Kernel monotonic timestamps (bpf_ktime_get_ns) to wall clock. */
#ifndef SONDE_CLOCK_H
#define SONDE_CLOCK_H

#include <stdint.h>
#include <time.h>

struct clock_offset {
	int64_t mono_to_real_ns; /* realtime - monotonic */
	uint64_t measured_at_mono;
};

/* Measures the offset; the smallest of a few bracketed samples wins. */
void clock_offset_measure(struct clock_offset *c);
/* Re-measures when the last measurement is older than a minute (NTP slews). */
void clock_offset_refresh(struct clock_offset *c, uint64_t now_mono);
uint64_t clock_mono_to_real(const struct clock_offset *c, uint64_t mono_ns);
uint64_t clock_mono_now(void);
/* CLOCK_MONOTONIC in milliseconds: timeouts, backoff delays, cache ages. */
uint64_t clock_mono_ms(void);
/* A CLOCK_MONOTONIC time in ns as a timespec: the deadline of a
 * pthread_cond_timedwait on a condition whose clock is CLOCK_MONOTONIC. */
struct timespec clock_mono_timespec(uint64_t mono_ns);
uint64_t clock_real_now(void);

#endif /* SONDE_CLOCK_H */
