/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sonde.skel.h"
#include "log.h"
#include "tracer.h"

/* Events handled per tracer_poll() at most. libbpf 1.1 keeps consuming while
 * producers keep producing; without a budget an overloaded agent would never
 * get back to its loop (signals, --duration, output flushes). */
#define POLL_BUDGET 8192

struct tracer {
	struct sonde_bpf *skel;
	struct ring_buffer *rb;
	tracer_event_fn fn;
	void *ctx;
	int budget;
};

static bool libbpf_verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings include the verifier log: long, and only useful with -v. */
	if (!libbpf_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	int err = t->fn(t->ctx, data, size);

	if (err)
		return err;
	/* libbpf has already consumed this sample: stopping here loses nothing. */
	return --t->budget > 0 ? 0 : -EAGAIN;
}

static void set_settings(struct sonde_bpf *skel, const struct tracer_opts *o)
{
	skel->rodata->targ_self_tgid = (uint32_t)getpid();
	if (o->capture_bytes)
		skel->rodata->targ_capture_bytes = o->capture_bytes;
	skel->rodata->targ_filter_pid = o->filter_pid;
	skel->rodata->targ_filter_cgroup = o->filter_cgroup;
	skel->rodata->targ_follow_children = o->follow_children;
	if (o->comm) {
		skel->rodata->targ_filter_comm = true;
		strncpy((char *)skel->rodata->targ_comm, o->comm, SONDE_COMM_LEN - 1);
	}
	if (o->kernel_conns)
		bpf_map__set_max_entries(skel->maps.conns, o->kernel_conns);
	if (o->ringbuf_bytes)
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
	/* Forks only matter when following a command's children. */
	bpf_program__set_autoload(skel->progs.sched_process_fork, o->follow_children);
}

struct tracer *tracer_open(const struct tracer_opts *opts, tracer_event_fn fn, void *ctx)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	libbpf_verbose = opts->verbose;
	libbpf_set_print(libbpf_log);
	t->fn = fn;
	t->ctx = ctx;

	t->skel = sonde_bpf__open();
	if (!t->skel) {
		err = -errno;
		log_error("failed to open BPF object: %s", strerror(-err));
		goto fail;
	}
	set_settings(t->skel, opts);
	err = sonde_bpf__load(t->skel);
	if (err) {
		log_error("failed to load BPF programs: %s%s", strerror(-err),
			  opts->verbose ? "" : " (run with -v to see the verifier log)");
		goto fail;
	}
	err = sonde_bpf__attach(t->skel);
	if (err) {
		log_error(
			"failed to attach BPF programs: %s (is tracefs mounted? see `sonde probe`)",
			strerror(-err));
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		err = -errno;
		log_error("failed to create ring buffer reader: %s", strerror(-err));
		goto fail;
	}
	return t;
fail:
	tracer_close(t);
	errno = -err;
	return NULL;
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	sonde_bpf__destroy(t->skel);
	free(t);
}

int tracer_add_pid(struct tracer *t, uint32_t pid)
{
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.filter_pids), &pid, &one, BPF_ANY))
		return -errno;
	return 0;
}

int tracer_add_cgroup(struct tracer *t, uint64_t cgroup_id)
{
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.filter_cgroups), &cgroup_id, &one,
				BPF_ANY))
		return -errno;
	return 0;
}

int tracer_poll(struct tracer *t, int timeout_ms)
{
	int n;

	t->budget = POLL_BUDGET;
	n = ring_buffer__poll(t->rb, timeout_ms);
	/* The kernel side only wakes us past a backlog threshold; pick up what
	 * arrived without a wake-up too. */
	if (n == 0 || n == -EINTR)
		n = ring_buffer__consume(t->rb);
	if (n == -EAGAIN)
		return POLL_BUDGET;
	return n;
}

struct bpf_object *tracer_bpf_object(struct tracer *t)
{
	return t->skel->obj;
}

void tracer_counters(struct tracer *t, uint64_t out[SONDE_CNT__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	memset(out, 0, sizeof(uint64_t) * SONDE_CNT__MAX);
	if (ncpu <= 0)
		return;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (uint32_t k = 0; k < SONDE_CNT__MAX; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.counters), &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
}
