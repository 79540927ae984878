/* SPDX-License-Identifier: MIT */
/* What the verifier made of each BPF program sonde loads on this kernel. */
#ifndef SONDE_PROG_STATS_H
#define SONDE_PROG_STATS_H

#include <stddef.h>
#include <stdint.h>

#define PROG_STATS_MAX 64

struct prog_stat {
	char name[64];		 /* the program's name in bpf/ */
	char hook[32];		 /* tracepoint, raw_tracepoint (later kprobe, fentry…) */
	char attach[96];	 /* where: syscalls/sys_exit_read */
	uint32_t verified_insns; /* instructions the verifier walked; 0: kernel < 5.16 */
	uint32_t xlated_insns;	 /* instructions after the verifier's rewrites */
	uint32_t jited_bytes;	 /* native code size; 0 without the JIT */
};

struct prog_stats {
	struct prog_stat progs[PROG_STATS_MAX];
	size_t n;
	uint64_t verified_total;
	char tls_text[8192]; /* the TLS hooks attached meanwhile (tls_report.h) */
	char tls_json[8192];
};

/*
 * Loads and attaches every program `sonde trace` can use on this kernel, with
 * every option that adds code turned on (pid, cgroup and comm filters, following
 * children), reads each program's statistics into st, and unloads them again.
 * TLS uprobes are attached to every TLS library `sonde trace` would hook now
 * (Go programs only when a Go binary with crypto/tls is running).
 * Returns 0 or -errno, after libbpf has printed why (for a rejected program, the
 * verifier log).
 */
int prog_stats_collect(struct prog_stats *st);

#endif /* SONDE_PROG_STATS_H */
