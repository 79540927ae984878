// SPDX-License-Identifier: MIT
/*
 * The CPU-matched control of `make bench`: burns the CPU that the agent and
 * the OTLP sink used in a full-tracing run, in bursts of the same length and
 * rate, and does nothing else. Run beside the hooks-only floor, it shows what
 * any process using that much CPU that way costs nginx and wrk on the same
 * two cores, apart from what sonde's BPF programs add inside the syscalls.
 *
 * usage: cpu_burn BURST_US:PERIOD_US ... — one thread per pattern; each spins
 * for BURST_US of its own CPU time (so that being preempted does not shorten
 * a burst), then sleeps until PERIOD_US after the burst began. Runs until
 * SIGTERM or SIGINT, then prints the bursts each thread completed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 8
#define NS_PER_S    1000000000L

struct pattern {
	long burst_ns, period_ns;
	long bursts;
};

static volatile sig_atomic_t stopping;

static long clock_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * NS_PER_S + t.tv_nsec;
}

static void *burn(void *arg)
{
	struct pattern *p = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stopping) {
		long until = clock_ns(CLOCK_THREAD_CPUTIME_ID) + p->burst_ns;

		while (!stopping && clock_ns(CLOCK_THREAD_CPUTIME_ID) < until)
			;
		p->bursts++;
		next.tv_nsec += p->period_ns;
		next.tv_sec += next.tv_nsec / NS_PER_S;
		next.tv_nsec %= NS_PER_S;
		/* An overrun burst starts the next one at once, as a backlog would. */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	struct pattern patterns[MAX_THREADS];
	pthread_t threads[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_stop };
	int n = argc - 1;

	if (n < 1 || n > MAX_THREADS) {
		fprintf(stderr, "usage: cpu_burn BURST_US:PERIOD_US ... (1 to %d)\n", MAX_THREADS);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		double burst_us, period_us;
		char end;

		if (sscanf(argv[i + 1], "%lf:%lf%c", &burst_us, &period_us, &end) != 2 ||
		    burst_us <= 0 || period_us < burst_us) {
			fprintf(stderr, "cpu_burn: bad pattern '%s' (BURST_US:PERIOD_US)\n",
				argv[i + 1]);
			return 2;
		}
		patterns[i] =
			(struct pattern){ (long)(burst_us * 1e3), (long)(period_us * 1e3), 0 };
	}
	/* Before the threads exist, so that they inherit the handlers. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (int i = 0; i < n; i++)
		if (pthread_create(&threads[i], NULL, burn, &patterns[i])) {
			fprintf(stderr, "cpu_burn: cannot start a thread\n");
			return 1;
		}
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < n; i++)
		printf("%s%ld", i ? " " : "", patterns[i].bursts);
	printf("\n");
	return 0;
}
