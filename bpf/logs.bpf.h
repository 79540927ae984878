/* SPDX-License-Identifier: MIT */
/*
 * Log output: what a traced process writes to its fd 1 and 2 — a terminal, a
 * pipe to a container runtime, a file, journald's socket — becomes
 * SONDE_EV_LOG events (docs/ARCHITECTURE.md, "Logs"). The application's
 * output is read, never changed. A TCP socket on fd 1 or 2 (inetd-style
 * servers) stays a connection and is never taken for logs as well; writes
 * to /dev/null are left alone (the process discards them).
 *
 * Every other write pays one compare on its fd, and nothing at all when logs
 * are off (targ_logs is a load-time constant: the verifier drops the branch).
 * Included by sonde.bpf.c after conn_lookup() and fill_hdr().
 */
#ifndef SONDE_LOGS_BPF_H
#define SONDE_LOGS_BPF_H

#include "maps.bpf.h"
#include "capture.bpf.h"
#include "sock.bpf.h"

#define S_IFCHR 0020000
/* The kernel's own dev_t of /dev/null: MKDEV(1, 3) (MINORBITS 20). */
#define DEV_NULL ((1u << 20) | 3)

/* The one check every write makes: its fd is 1 or 2, and logs are on. */
static __always_inline bool log_fd(__u32 fd, __u8 dir, __u8 sys)
{
	return targ_logs && fd - 1 < 2 && dir == SONDE_DIR_EGRESS &&
	       (sys == SONDE_SYS_WRITE || sys == SONDE_SYS_WRITEV);
}

/* What writes to file are as logs. */
static __always_inline __u8 log_fd_kind(struct file *file)
{
	struct inode *inode;

	if (!file)
		return SONDE_LOG_FD_UNKNOWN;
	inode = BPF_CORE_READ(file, f_inode);
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) == S_IFCHR &&
	    BPF_CORE_READ(inode, i_rdev) == DEV_NULL)
		return SONDE_LOG_FD_NO;
	return SONDE_LOG_FD_YES;
}

/* Whether the process (its main thread's name: threads may rename
 * themselves) is one whose logs are collected. */
static __always_inline bool log_comm_selected(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	char comm[SONDE_COMM_LEN] = {};

	if (!targ_logs_comm)
		return true;
	BPF_CORE_READ_STR_INTO(&comm, task, group_leader, comm);
	return bpf_map_lookup_elem(&log_comms, comm) != NULL;
}

/*
 * Takes cost bytes from the process's budget: targ_log_rate a second, up to
 * targ_log_burst at once. A process logging faster has its writes counted
 * (and their bytes skipped: the agent sees the gap in stream_pos), so a log
 * storm cannot fill the ring buffer the connections' events share. Threads
 * of one process may race on the bucket: it is a bound, not an account.
 */
static __always_inline bool log_budget_take(__u32 tgid, __u64 cost)
{
	struct log_budget fresh = { .tokens = targ_log_burst }, *b;
	__u64 now = bpf_ktime_get_ns(), elapsed;

	b = bpf_map_lookup_elem(&log_budgets, &tgid);
	if (!b) {
		fresh.last_ns = now;
		bpf_map_update_elem(&log_budgets, &tgid, &fresh, BPF_ANY);
		b = bpf_map_lookup_elem(&log_budgets, &tgid);
		if (!b)
			return false;
	}
	elapsed = now - b->last_ns;
	if (elapsed > 1000000000ull)
		elapsed = 1000000000ull; /* a full bucket anyway; no overflow below */
	b->tokens += elapsed * targ_log_rate / 1000000000ull;
	if (b->tokens > targ_log_burst)
		b->tokens = targ_log_burst;
	b->last_ns = now;
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}

/*
 * A write to fd 1 or 2 (log_fd() said so): sent as log output unless the fd
 * is a TCP socket. Returns 0 when the caller is to handle the write as usual
 * (a socket), 1 when it is done with. A global function, checked once by the
 * verifier with a stack of its own: inlined, the data hooks' stacks passed
 * 512 bytes. Scalars only, at most five, as global functions take: fd_sys
 * is the fd with the syscall (enum sonde_syscall) in its high half; ubuf and
 * uiov are user addresses.
 */
__noinline int log_write(__u64 fd_sys, __s64 ret, __u64 ubuf, __u64 uiov, __u64 iovcnt)
{
	__u32 fd = (__u32)fd_sys;
	__u8 sys = (__u8)(fd_sys >> 32);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct sonde_conn_state *st = bpf_map_lookup_elem(&conns, &key);
	struct data_scratch *s;
	struct file *file;
	__u64 pos, cost, copy = (__u64)targ_log_events * SONDE_MAX_CAPTURE;
	__u32 zero = 0;

	if (ret <= 0)
		return 1;
	if (!st) {
		/* First sight: conn_lookup() learns what the fd is. */
		if (conn_lookup(&key))
			return 0;
		st = bpf_map_lookup_elem(&conns, &key);
		if (!st)
			return 1;
	}
	if (st->is_socket)
		return 0;
	/* What fd 1 and 2 are can change without a close (dup2: a shell
	 * sends a builtin's stderr to /dev/null for a moment), so the open
	 * file the verdict was made for is kept (in sk, which only sockets
	 * use) and looked at again. */
	file = fd_to_file(fd);
	if ((__u64)file != st->sk) {
		st->sk = (__u64)file;
		st->role = log_fd_kind(file);
	}
	if (st->role != SONDE_LOG_FD_YES || !log_comm_selected())
		return 1;
	/* Every byte counts in the position, copied or not: a gap tells the
	 * agent that a line lost its middle. Atomic: unlike a connection's,
	 * a process's stdout is written by many threads at once. */
	pos = __sync_fetch_and_add(&st->moved[SONDE_DIR_EGRESS], ret) + 1;
	cost = (__u64)ret < copy ? (__u64)ret : copy;
	if (!log_budget_take(key.tgid, cost)) {
		count(SONDE_CNT_LOG_LIMITED);
		return 1;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 1;
	fill_hdr(&s->ev.hdr, SONDE_EV_LOG, pid_tgid, fd, 0);
	s->ev.dir = SONDE_DIR_EGRESS;
	s->ev.syscall = sys;
	s->ev.role = 0;
	s->ev.proto = 0;
	/* The goroutine of a Go process, once the data path names it (a
	 * conn_unit() on this state, as connections do). */
	s->ev.unit = 0;
	s->ev.unit_kind = SONDE_UNIT_THREAD;
	s->ev.seq = 0;
	s->ev.seq_kind = SONDE_SEQ_NONE;
	capture_walk(s, (const void *)ubuf, (const struct iovec *)uiov, iovcnt, ret, pos,
		     targ_log_events);
	return 1;
}

#endif /* SONDE_LOGS_BPF_H */
