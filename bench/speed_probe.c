// SPDX-License-Identifier: MIT
/*
 * The host-speed probe of `make bench`: how fast this CPU runs a fixed piece
 * of work right now. On the shared VMs the bench runs on, the same code runs
 * at one speed for a while, then at about half of it (bench/micro.c: 220 and
 * 420 ns for the same encoding, minutes apart), and the guest is not told
 * (its steal time stays 0). A round whose runs saw different speeds compares
 * modes under different hosts; bench/run.py probes each CPU before and after
 * every run to tell.
 *
 * usage: speed_probe — prints the nanoseconds one unit of work took, the
 * fastest of REPEATS (the speed the host allowed, not how often the probe
 * itself was preempted).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define REPEATS 7
#define BUF	(128 * 1024) /* in L2: the agent's and nginx's working sets are too */
#define ROUNDS	8

static uint8_t buf[BUF];

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* A dependent multiply chain through the buffer (latency-bound, like
 * parsing) and copies of it (bandwidth-bound, like encoding and sends). */
static uint64_t unit(uint64_t x)
{
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < BUF; i += 64) {
			x = x * 6364136223846793005ull + 1442695040888963407ull + buf[i];
			buf[(i + (x >> 60)) % BUF] = (uint8_t)x;
		}
		memmove(buf + 64, buf, BUF - 64);
	}
	return x;
}

int main(void)
{
	long best = -1;
	uint64_t x = 1;

	unit(x); /* warm the buffer */
	for (int i = 0; i < REPEATS; i++) {
		long t0 = now_ns();

		x = unit(x);
		long t = now_ns() - t0;

		if (best < 0 || t < best)
			best = t;
	}
	printf("%ld %llu\n", best, (unsigned long long)(x & 1)); /* x: keep the work */
	return 0;
}
