/* SPDX-License-Identifier: MIT */
/* The BPF side's lifecycle: open → settings → load → attach → poll → destroy. */
#ifndef SONDE_TRACER_H
#define SONDE_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde_event.h"

struct tracer_opts {
	uint32_t capture_bytes; /* payload prefix per syscall */
	uint32_t kernel_conns;	/* entries of the kernel connection map */
	uint32_t ringbuf_bytes; /* power of two */
	bool filter_pid;	/* only pids added with tracer_add_pid */
	bool filter_cgroup;	/* only cgroups added with tracer_add_cgroup */
	const char *comm;	/* only threads with this name, or NULL */
	bool follow_children;	/* add children of filtered pids */
	bool tls;		/* load the TLS uprobes (see tracer_start_tls) */
	bool tls_all;		/* hook the TLS libraries of every process, filters or not */
	/* Put the request-context script into traced Node.js processes (see
	 * nodejs/node_inject.h; started by tracer_start_node). */
	bool node_context;
	bool verbose; /* show libbpf's messages (verifier log) */
	/* Logs (bpf/logs.bpf.h): writes to fd 1 and 2 as SONDE_EV_LOG events. */
	bool logs;
	const char *const *log_comms; /* only processes with these names; NULL: all traced */
	size_t nlog_comms;
	uint32_t log_rate;	 /* bytes a process may log per second */
	uint32_t log_burst;	 /* ... at once */
	uint32_t log_copy_bytes; /* copied per write at most (a multiple of SONDE_MAX_CAPTURE) */
};

/* Called for every ring buffer record; return non-zero to stop the poll. */
typedef int (*tracer_event_fn)(void *ctx, const void *data, size_t size);

struct tracer;
struct bpf_object;
struct tls_attach;
struct bpf_program;

/* On failure returns NULL with errno set, after logging one line saying why. */
struct tracer *tracer_open(const struct tracer_opts *opts, tracer_event_fn fn, void *ctx);
void tracer_close(struct tracer *t);
int tracer_add_pid(struct tracer *t, uint32_t pid);
int tracer_add_cgroup(struct tracer *t, uint64_t cgroup_id);
/* Waits up to timeout_ms for events and consumes all that are pending.
 * Returns the number consumed or -errno. */
int tracer_poll(struct tracer *t, int timeout_ms);
/* With opts.tls: finds the TLS libraries of the selected processes and hooks
 * them; processes started later are hooked as they exec. Call once the pid
 * and cgroup filters are in. */
void tracer_start_tls(struct tracer *t);
/* With opts.node_context: looks for the traced Node.js processes running
 * now; those started later are looked at as they exec. Call once the pid and
 * cgroup filters are in. */
void tracer_start_node(struct tracer *t);

struct node_inject_stats;
/* What the Node.js injector did, and the SONDE_EV_LINK events that came
 * from injected processes' sentinels. False when opts.node_context is off. */
bool tracer_node_stats(const struct tracer *t, struct node_inject_stats *out, uint64_t *links);
/* What is hooked (tls/tls_attach.h), or NULL when TLS is off. */
const struct tls_attach *tracer_tls(const struct tracer *t);
/* The function a TLS uprobe program hooks ("SSL_read"…), or NULL for others. */
const char *tracer_uprobe_func(struct tracer *t, const struct bpf_program *prog);
/* The loaded BPF object, for reading program statistics (prog_stats.c). */
struct bpf_object *tracer_bpf_object(struct tracer *t);
/* Whether the ring buffer is at most a quarter full: events can wait there a
 * little longer (the exporter's wait for room). A void * for a callback. */
bool tracer_ring_has_room(void *tracer);
/* Kernel-side counters summed over CPUs (enum sonde_counter). */
void tracer_counters(struct tracer *t, uint64_t out[SONDE_CNT__MAX]);

#endif /* SONDE_TRACER_H */
