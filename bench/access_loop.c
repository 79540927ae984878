// SPDX-License-Identifier: MIT
/*
 * What the Node.js sentinel tracepoint (sys_enter_access, bpf/node_context.bpf.h)
 * costs a process that is not Node.js: access() on an ordinary path, N times,
 * and the mean time per call. bench/node_access.py runs it with the tracepoint
 * attached and not, and reads the program's own run time (bpf_stats).
 *
 * usage: access_loop N [PATH] — prints "ns_per_call <float>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *path = argc > 2 ? argv[2] : "/etc/hostname";
	struct timespec a, b;

	if (n <= 0) {
		fprintf(stderr, "usage: access_loop N [PATH]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		(void)!access(path, F_OK);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_call %.1f\n",
	       ((b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
