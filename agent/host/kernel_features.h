/* SPDX-License-Identifier: MIT */
/* What the running kernel offers, probed at start-up. */
#ifndef SONDE_KERNEL_FEATURES_H
#define SONDE_KERNEL_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

struct sonde_features {
	bool privileged;	  /* root, or CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN */
	bool btf;		  /* /sys/kernel/btf/vmlinux */
	bool ringbuf;		  /* BPF_MAP_TYPE_RINGBUF (5.8) */
	bool tracepoint_prog;	  /* BPF_PROG_TYPE_TRACEPOINT */
	bool raw_tracepoint;	  /* BPF_PROG_TYPE_RAW_TRACEPOINT */
	bool syscall_tracepoints; /* CONFIG_FTRACE_SYSCALLS: events/syscalls/ */
	bool task_pt_regs;	  /* bpf_task_pt_regs from tracepoints (5.15) */
	bool uprobes;
	bool kprobes; /* a kprobe perf event can really be opened */
	bool fentry;  /* a fentry program can really be loaded and attached */
	bool cgroup_v2;
	char cgroup2_path[256];
	char lockdown[32];     /* none, integrity, confidentiality, or unknown */
	char tracefs[256];     /* "" when unavailable */
	char tracefs_why[256]; /* then why, in one line */
	char kernel_release[65];
	const char *hook_set; /* the hooks sonde will use */
};

/* Fills f, mounting tracefs when absent. Never fails: what cannot be known is false. */
void features_probe(struct sonde_features *f);
/* NULL when sonde can run here; else one line saying what is missing and what
 * to do, written to buf. */
const char *features_missing(const struct sonde_features *f, char *buf, size_t len);

#endif /* SONDE_KERNEL_FEATURES_H */
