/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sonde.skel.h"
#include "core/clock.h"
#include "util/log.h"
#include "host/mounts.h"
#include "host/tracepoints.h"
#include "host/proc.h"
#include "k8s/cgroup_path.h"
#include "core/reorder.h"
#include "core/ring_reader.h"
#include "tls/tls_attach.h"
#include "nodejs/node_inject.h"
#include "core/tracer.h"

/* Events handled per tracer_poll() at most: while producers keep producing,
 * an overloaded agent must still get back to its loop (signals, --duration,
 * output flushes). */
#define POLL_BUDGET 8192
/* With TLS uprobes, events are put back in timestamp order (TLS writes are
 * stamped at the call's entry and reach the ring at its return); those stamped
 * less than this before the poll wait for the next one, in case an earlier
 * one is still on its way. */
#define REORDER_HOLD_NS 20000000ull
/* Pending TLS library rescans are looked at no more often than this. */
#define TLS_TICK_NS 10000000ull

struct tracer {
	struct sonde_bpf *skel;
	/* Reads the ring buffer's mapped pages (see ring_reader.h): the consumer
	 * page (at ring.consumer_pos), and the producer page followed by the data
	 * area twice (at ring.producer_pos). NULL positions: unmapped. */
	struct ring_reader ring;
	size_t page;  /* the system's page size, each position's mapping */
	int epoll_fd; /* waits for the ring's wake-ups */
	uint64_t ring_size;
	tracer_event_fn fn;
	void *ctx;
	struct tracer_opts opts;
	struct tls_attach *tls; /* NULL when TLS is off */
	struct reorder reorder; /* used with TLS */
	uint64_t next_tls_tick; /* CLOCK_MONOTONIC ns */
	/* Node.js request context (opts.node_context): the injector, and on its
	 * thread only, the sentinel tracepoint (attached with the first process
	 * injected) and the SIGUSR1 handler iterator. */
	struct node_inject *node;
	struct bpf_link *node_access_link;
	struct bpf_link *node_iter_link;
	uint64_t node_links; /* SONDE_EV_LINK events from sentinels */
	bool debug_links;    /* SONDE_DEBUG_LINKS: one line per link on stderr */
};

static bool libbpf_verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings include the verifier log: long, and only useful with -v. */
	if (!libbpf_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void note_link(struct tracer *t, const struct sonde_link *l)
{
	if (l->kind == SONDE_LINK_SERVER_FD)
		t->node_links++;
	if (t->debug_links)
		fprintf(stderr,
			"sonde: link pid %u tid %u fd %u gen %llu kind %u server_fd %u unit %llu\n",
			l->hdr.tgid, l->hdr.tid, l->hdr.fd, (unsigned long long)l->hdr.conn_gen,
			l->kind, l->server_fd, (unsigned long long)l->unit);
}

static int dispatch(void *ctx, const void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct sonde_event_hdr *h = data;
	int err;

	if (size >= sizeof(struct sonde_link) && h->type == SONDE_EV_LINK)
		note_link(t, data);
	err = t->fn(t->ctx, data, size);
	if (size >= sizeof(*h) && h->type == SONDE_EV_PROC_EXIT) {
		if (t->tls)
			tls_attach_exit(t->tls, h->tgid);
		if (t->node)
			node_inject_exit(t->node, h->tgid);
	}
	return err;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct sonde_event_hdr *h = data;

	/* Process lifecycle events also drive the TLS uprobes and the Node.js
	 * injector; exec is theirs alone. */
	if (size >= sizeof(*h) && h->type == SONDE_EV_PROC_EXEC) {
		if (t->tls)
			tls_attach_exec(t->tls, h->tgid, clock_mono_now());
		if (t->node)
			node_inject_exec(t->node, h->tgid);
		return 0;
	}
	/* Without TLS nothing is stamped out of ring order. With it, syscall
	 * payloads pass while nothing is held (on a host without TLS traffic,
	 * nearly always), saving a copy and a sort each. */
	if (t->tls && !reorder_can_skip(&t->reorder, data, size))
		return reorder_push(&t->reorder, data, size);
	return dispatch(t, data, size);
}

/* The program of each enum tls_prog. */
static struct bpf_program *tls_prog(struct sonde_bpf *skel, int which)
{
	struct bpf_program *const progs[TLS_PROG__MAX] = {
		[TLS_PROG_SSL_READ] = skel->progs.ssl_read,
		[TLS_PROG_SSL_READ_RET] = skel->progs.ssl_read_ret,
		[TLS_PROG_SSL_READ_EX] = skel->progs.ssl_read_ex,
		[TLS_PROG_SSL_READ_EX_RET] = skel->progs.ssl_read_ex_ret,
		[TLS_PROG_SSL_WRITE] = skel->progs.ssl_write,
		[TLS_PROG_SSL_WRITE_RET] = skel->progs.ssl_write_ret,
		[TLS_PROG_SSL_WRITE_EX] = skel->progs.ssl_write_ex,
		[TLS_PROG_SSL_WRITE_EX_RET] = skel->progs.ssl_write_ex_ret,
		[TLS_PROG_SSL_SET_FD] = skel->progs.ssl_set_fd,
		[TLS_PROG_GO_ENTER] = skel->progs.go_tls_enter,
		[TLS_PROG_GO_READ_RET] = skel->progs.go_tls_read_ret,
		[TLS_PROG_GO_WRITE_RET] = skel->progs.go_tls_write_ret,
	};

	return progs[which];
}

/* The BPF filters' choice, made in userspace for processes already running
 * (the start-up scan for TLS libraries). */
static bool pid_selected(void *ctx, uint32_t pid)
{
	struct tracer *t = ctx;
	const struct tracer_opts *o = &t->opts;
	char comm[SONDE_COMM_LEN], text[8192], path[PATH_MAX], root[256];
	const char *cgroup;
	size_t cgroup_len;
	ssize_t n;
	uint64_t cg;
	uint8_t one;

	if (pid == (uint32_t)getpid())
		return false;
	if (o->tls_all || (!o->filter_pid && !o->filter_cgroup && !o->comm))
		return true;
	if (o->filter_pid &&
	    !bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.filter_pids), &pid, &one))
		return true;
	if (o->comm && !proc_comm(pid, comm, sizeof(comm)) && !strcmp(comm, o->comm))
		return true;
	if (!o->filter_cgroup || mounts_cgroup2_path(root, sizeof(root)))
		return false;
	n = proc_read_cgroup(pid, text, sizeof(text));
	if (n <= 0 || !cgroup_v2_path(text, (size_t)n, &cgroup, &cgroup_len))
		return false;
	snprintf(path, sizeof(path), "%s%.*s", root, (int)cgroup_len, cgroup);
	return !proc_cgroup_id(path, &cg) &&
	       !bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.filter_cgroups), &cg, &one);
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
	if (o->ringbuf_bytes) {
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
		/* The agent must be woken well before a smaller ring fills. */
		if (skel->rodata->targ_wakeup_bytes > o->ringbuf_bytes / 4)
			skel->rodata->targ_wakeup_bytes = o->ringbuf_bytes / 4;
	}
	skel->rodata->targ_logs = o->logs;
	skel->rodata->targ_logs_comm = o->logs && o->nlog_comms;
	skel->rodata->targ_log_rate = o->log_rate;
	skel->rodata->targ_log_burst = o->log_burst;
	if (o->log_copy_bytes)
		skel->rodata->targ_log_events =
			(o->log_copy_bytes + SONDE_MAX_CAPTURE - 1) / SONDE_MAX_CAPTURE;
	/* Forks only matter when following a command's children. */
	bpf_program__set_autoload(skel->progs.sched_process_fork, o->follow_children);
	skel->rodata->targ_tls = o->tls;
	for (int i = 0; i < TLS_PROG__MAX; i++)
		bpf_program__set_autoload(tls_prog(skel, i), o->tls);
	bpf_program__set_autoload(skel->progs.sched_process_exec, o->tls || o->node_context);
	/* Node.js: attached by the injector's thread when it needs them. */
	skel->rodata->targ_node_context = o->node_context;
	bpf_program__set_autoload(skel->progs.node_access, o->node_context);
	bpf_program__set_autoload(skel->progs.node_faccessat, o->node_context);
	bpf_program__set_autoload(skel->progs.node_sigusr1, o->node_context);
	bpf_program__set_autoattach(skel->progs.node_access, false);
	bpf_program__set_autoattach(skel->progs.node_faccessat, false);
	bpf_program__set_autoattach(skel->progs.node_sigusr1, false);
}

/* --- the Node.js injector's view of the BPF side (nodejs/node_inject.h) --- */

static int node_sigaction(void *ctx, uint32_t pid, uint64_t *handler, uint64_t *flags)
{
	struct tracer *t = ctx;
	uint64_t out[2];
	ssize_t n;
	int fd;

	if (!t->node_iter_link) {
		t->node_iter_link = bpf_program__attach_iter(t->skel->progs.node_sigusr1, NULL);
		if (!t->node_iter_link) {
			t->node_iter_link = NULL;
			return -errno;
		}
	}
	t->skel->bss->node_sig_tgid = pid;
	fd = bpf_iter_create(bpf_link__fd(t->node_iter_link));
	if (fd < 0)
		return -errno;
	n = read(fd, out, sizeof(out));
	close(fd);
	if (n < 0)
		return -errno;
	if (n != sizeof(out))
		return -ESRCH; /* no such thread group leader */
	*handler = out[0];
	*flags = out[1];
	return 0;
}

static int node_pid_value(struct tracer *t, uint32_t pid, uint32_t port)
{
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.node_pids), &pid, &port, BPF_ANY))
		return -errno;
	return 0;
}

static int node_quiet_port(void *ctx, uint32_t pid, uint16_t port)
{
	return node_pid_value(ctx, pid, port);
}

static int node_arm(void *ctx, uint32_t pid)
{
	struct tracer *t = ctx;

	if (!t->node_access_link) {
		/* sys_enter_access where the syscall exists, else faccessat. */
		t->node_access_link = bpf_program__attach(t->skel->progs.node_access);
		if (!t->node_access_link)
			t->node_access_link = bpf_program__attach(t->skel->progs.node_faccessat);
		if (!t->node_access_link)
			return -errno;
	}
	return node_pid_value(t, pid, 0);
}

static void node_disarm(void *ctx, uint32_t pid)
{
	struct tracer *t = ctx;

	bpf_map_delete_elem(bpf_map__fd(t->skel->maps.node_pids), &pid);
}

/* A syscall this architecture does not have is not hooked; the rest still is. */
static void skip_missing_tracepoints(struct sonde_bpf *skel)
{
	char tracefs[256], missing[512];

	if (mounts_ensure_tracefs(tracefs, sizeof(tracefs)))
		return; /* the attach will say what is wrong */
	if (tracepoints_skip_missing(skel->obj, tracefs, missing, sizeof(missing)) > 0)
		log_info("this kernel has no %s: not hooked", missing);
}

/* Maps the ring buffer (the consumer page writable: the reader's position
 * goes there) and registers it for wake-ups. Returns 0 or -errno. */
static int open_ring(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.events);
	struct epoll_event ev = { .events = EPOLLIN };
	void *cons, *prod;

	t->page = (size_t)sysconf(_SC_PAGESIZE);
	t->ring_size = bpf_map__max_entries(t->skel->maps.events);
	cons = mmap(NULL, t->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	t->ring.consumer_pos = cons;
	prod = mmap(NULL, t->page + 2 * t->ring_size, PROT_READ, MAP_SHARED, fd, (off_t)t->page);
	if (prod == MAP_FAILED)
		return -errno;
	t->ring.producer_pos = prod;
	t->ring.data = (const uint8_t *)prod + t->page;
	t->ring.mask = t->ring_size - 1;
	t->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epoll_fd < 0 || epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

bool tracer_ring_has_room(void *tracer)
{
	struct tracer *t = tracer;

	return ring_reader_backlog(&t->ring) <= t->ring_size / 4;
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
	t->opts = *opts;
	t->epoll_fd = -1;
	/* TLS needs uprobes; without them the rest works as before. */
	if (t->opts.tls && access("/sys/bus/event_source/devices/uprobe/type", F_OK)) {
		log_warn("this kernel has no uprobes: TLS traffic is not traced");
		t->opts.tls = false;
	}

	t->skel = sonde_bpf__open();
	if (!t->skel) {
		err = -errno;
		log_error("failed to open BPF object: %s", strerror(-err));
		goto fail;
	}
	set_settings(t->skel, &t->opts);
	skip_missing_tracepoints(t->skel);
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
	if (t->opts.tls) {
		struct bpf_program *progs[TLS_PROG__MAX];

		for (int i = 0; i < TLS_PROG__MAX; i++)
			progs[i] = tls_prog(t->skel, i);
		t->tls = tls_attach_new(progs, bpf_map__fd(t->skel->maps.go_tls_offsets),
					pid_selected, t);
		if (!t->tls) {
			err = -ENOMEM;
			log_error("out of memory");
			goto fail;
		}
	}
	if (t->opts.node_context) {
		struct node_inject_ops ops = { .ctx = t,
					       .selected = pid_selected,
					       .sigaction = node_sigaction,
					       .arm = node_arm,
					       .quiet_port = node_quiet_port,
					       .disarm = node_disarm };

		t->node = node_inject_new(&ops);
		if (!t->node) {
			err = -errno;
			log_error("cannot start the Node.js injector: %s", strerror(-err));
			goto fail;
		}
	}
	t->debug_links = getenv("SONDE_DEBUG_LINKS") != NULL;
	for (size_t i = 0; t->opts.logs && i < t->opts.nlog_comms; i++) {
		char comm[SONDE_COMM_LEN] = { 0 };
		uint8_t one = 1;

		strncpy(comm, t->opts.log_comms[i], sizeof(comm) - 1);
		if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.log_comms), comm, &one,
					BPF_ANY)) {
			err = -errno;
			log_error("cannot select the logs of '%s': %s", comm, strerror(-err));
			goto fail;
		}
	}
	err = open_ring(t);
	if (err) {
		log_error("failed to map the ring buffer: %s", strerror(-err));
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
	if (t->epoll_fd >= 0)
		close(t->epoll_fd);
	if (t->ring.consumer_pos)
		munmap(t->ring.consumer_pos, t->page);
	if (t->ring.producer_pos)
		munmap((void *)t->ring.producer_pos, t->page + 2 * t->ring_size);
	/* The injector's thread first: it uses the BPF object. */
	node_inject_free(t->node);
	bpf_link__destroy(t->node_access_link);
	bpf_link__destroy(t->node_iter_link);
	reorder_free(&t->reorder);
	tls_attach_free(t->tls);
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
	struct epoll_event ev;
	int n;

	if (t->tls) {
		uint64_t now = clock_mono_now();

		/* Its rescans are due tens of milliseconds apart at the soonest. */
		if (now >= t->next_tls_tick) {
			tls_attach_tick(t->tls, now);
			t->next_tls_tick = now + TLS_TICK_NS;
		}
	}
	if (epoll_wait(t->epoll_fd, &ev, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	/* The kernel side only wakes us past a backlog threshold: after a
	 * timeout, pick up what arrived without a wake-up too. */
	n = ring_reader_consume(&t->ring, POLL_BUDGET, on_sample, t);
	if (n < 0 || !t->tls)
		return n;
	if (n > 0) {
		reorder_flush(&t->reorder, clock_mono_now() - REORDER_HOLD_NS, dispatch, t);
		/* Syscall payloads held only behind events that are now out. */
		if (!reorder_waiting(&t->reorder))
			reorder_flush(&t->reorder, UINT64_MAX, dispatch, t);
		return n;
	}
	/* Nothing new: whatever is held cannot be overtaken any more. */
	return (int)reorder_flush(&t->reorder, UINT64_MAX, dispatch, t);
}

void tracer_start_tls(struct tracer *t)
{
	if (t->tls)
		tls_attach_start(t->tls, clock_mono_now());
}

void tracer_start_node(struct tracer *t)
{
	if (t->node)
		node_inject_start(t->node);
}

bool tracer_node_stats(const struct tracer *t, struct node_inject_stats *out, uint64_t *links)
{
	if (!t->node)
		return false;
	node_inject_get_stats(t->node, out);
	*links = t->node_links;
	return true;
}

const struct tls_attach *tracer_tls(const struct tracer *t)
{
	return t->tls;
}

const char *tracer_uprobe_func(struct tracer *t, const struct bpf_program *prog)
{
	for (int i = 0; i < TLS_PROG__MAX; i++)
		if (tls_prog(t->skel, i) == prog)
			return tls_prog_func(i);
	return NULL;
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
