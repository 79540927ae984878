/* SPDX-License-Identifier: MIT */
/*
 * Node.js request context (agent/nodejs/, docs/ARCHITECTURE.md "Node.js"):
 * - the access() of the sentinel paths that the script sonde injects passes
 *   (bpf/node_sentinel.h), turned into SONDE_EV_LINK events;
 * - the SIGUSR1 handler of a process, read before the agent sends the signal
 *   that opens the inspector (a task iterator: nothing in /proc says where a
 *   signal handler is).
 * Loaded when the agent injects Node.js processes (tracer_opts.node_context);
 * the access tracepoint (one of the two below) is attached only once the
 * first process is injected, so hosts without Node.js never run it.
 */
#ifndef SONDE_NODE_CONTEXT_BPF_H
#define SONDE_NODE_CONTEXT_BPF_H

#include "maps.bpf.h"
#include "sock.bpf.h"
#include "node_sentinel.h"

#define NODE_MAX_PROCS 4096
#define SIGUSR1_NR     10

/* Whether the programs below are loaded (tracer_opts.node_context). */
const volatile bool targ_node_context = false;

/* The processes the script is or is being injected into: only their
 * sentinels count, and every other process's access() ends at this lookup.
 * The value: the port of the inspector sonde is talking to in that process,
 * while it does (0 otherwise), so that those connections make no spans. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NODE_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} node_pids SEC(".maps");

/* Whether sk, just accepted by tgid, is sonde's own connection to its
 * inspector: one lookup per accept, only with Node.js injection on. */
static __always_inline bool node_inspector_conn(__u32 tgid, struct sock *sk)
{
	__u32 *port;

	if (!targ_node_context)
		return false;
	port = bpf_map_lookup_elem(&node_pids, &tgid);
	return port && *port && *port == BPF_CORE_READ(sk, __sk_common.skc_num);
}

static __always_inline int node_sentinel(const char *upath)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_conn_key key = { .tgid = pid_tgid >> 32 };
	unsigned char path[NODE_SENTINEL_READ] = {};
	struct sonde_conn_state *st;
	struct sonde_link ev = {};
	__u32 in_fd, out_fd;

	if (!bpf_map_lookup_elem(&node_pids, &key.tgid))
		return 0;
	if (bpf_probe_read_user_str(path, sizeof(path), upath) < 0 ||
	    node_sentinel_parse(path, &in_fd, &out_fd))
		return 0;
	key.fd = out_fd;
	st = bpf_map_lookup_elem(&conns, &key);
	ev.hdr.type = SONDE_EV_LINK;
	ev.hdr.tgid = key.tgid;
	ev.hdr.tid = (__u32)pid_tgid;
	ev.hdr.fd = out_fd;
	ev.hdr.ts_ns = bpf_ktime_get_ns();
	ev.hdr.conn_gen = st && st->is_socket ? st->gen : 0;
	ev.kind = SONDE_LINK_SERVER_FD;
	ev.server_fd = in_fd;
	submit(&ev, sizeof(ev), wakeup_flag());
	return 0;
}

/* access(path, mode): Node.js's fs.existsSync goes through libuv's
 * uv_fs_access, and glibc and musl make it the access syscall where there is
 * one (x86_64). */
SEC("tracepoint/syscalls/sys_enter_access")
int node_access(struct trace_event_raw_sys_enter *ctx)
{
	return node_sentinel((const char *)ctx->args[0]);
}

/* Where there is no access syscall (arm64) the C library calls
 * faccessat(AT_FDCWD, path, mode): attached instead of node_access there. */
SEC("tracepoint/syscalls/sys_enter_faccessat")
int node_faccessat(struct trace_event_raw_sys_enter *ctx)
{
	return node_sentinel((const char *)ctx->args[1]);
}

/* The thread group whose SIGUSR1 handler node_sigusr1 reports; set by the
 * agent before each read of the iterator. */
__u32 node_sig_tgid;

struct node_sigaction {
	__u64 handler; /* user address; 0: SIG_DFL, 1: SIG_IGN */
	__u64 flags;   /* SA_* */
};

SEC("iter/task")
int node_sigusr1(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct node_sigaction out;

	if (!task || task->pid != node_sig_tgid || task->tgid != node_sig_tgid)
		return 0;
	/* Signal handlers are the thread group's (sighand is shared). */
	out.handler = (__u64)BPF_CORE_READ(task, sighand, action[SIGUSR1_NR - 1].sa.sa_handler);
	out.flags = BPF_CORE_READ(task, sighand, action[SIGUSR1_NR - 1].sa.sa_flags);
	bpf_seq_write(ctx->meta->seq, &out, sizeof(out));
	return 0;
}

#endif /* SONDE_NODE_CONTEXT_BPF_H */
