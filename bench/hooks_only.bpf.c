// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The hooks-only floor for `make bench`: the programs of bpf/sonde.bpf.c, with
 * the same names on the same hooks and the same maps, whose bodies do one map
 * lookup and return. Built instead of bpf/sonde.bpf.c by
 * `make BPF_HOOKS_ONLY=1 OUTPUT=build-hooks`, it gives an agent that loads and
 * attaches exactly what sonde does but captures nothing: what the hook
 * mechanism alone costs a traced process, which sonde cannot go below.
 * A program added to bpf/sonde.bpf.c must be added here too, or the agent
 * built against this skeleton does not compile.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "sonde_event.h"
#include "sonde_tls.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* What the agent sets and fills for the TLS uprobes (bpf/tls*.bpf.h). */
const volatile bool targ_tls = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GO_TLS_MAX_BINARIES);
	__type(key, __u32);
	__type(value, struct go_tls_offsets);
} go_tls_offsets SEC(".maps");

/* The lookup every real hook starts with, keyed as it is (tgid, fd): here the
 * fd is unknown without reading registers, so 0; a miss costs the same. */
static __always_inline int one_lookup(void)
{
	struct sonde_conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32 };

	return bpf_map_lookup_elem(&conns, &key) ? 1 : 0;
}

#define HOOK(sec, name)                  \
	SEC(sec)                         \
	int name(void *ctx)              \
	{                                \
		return one_lookup() & 0; \
	}

HOOK("tracepoint/syscalls/sys_exit_read", sys_exit_read)
HOOK("tracepoint/syscalls/sys_exit_write", sys_exit_write)
HOOK("tracepoint/syscalls/sys_exit_recvfrom", sys_exit_recvfrom)
HOOK("tracepoint/syscalls/sys_exit_sendto", sys_exit_sendto)
HOOK("tracepoint/syscalls/sys_exit_readv", sys_exit_readv)
HOOK("tracepoint/syscalls/sys_exit_writev", sys_exit_writev)
HOOK("tracepoint/syscalls/sys_exit_recvmsg", sys_exit_recvmsg)
HOOK("tracepoint/syscalls/sys_exit_sendmsg", sys_exit_sendmsg)
HOOK("tracepoint/syscalls/sys_exit_sendfile64", sys_exit_sendfile)
HOOK("tracepoint/syscalls/sys_exit_accept", sys_exit_accept)
HOOK("tracepoint/syscalls/sys_exit_accept4", sys_exit_accept4)
HOOK("tracepoint/syscalls/sys_exit_connect", sys_exit_connect)
HOOK("tracepoint/syscalls/sys_enter_close", sys_enter_close)
HOOK("tracepoint/sched/sched_process_exit", sched_process_exit)
HOOK("raw_tracepoint/sched_process_fork", sched_process_fork)
HOOK("tracepoint/sched/sched_process_exec", sched_process_exec)
/* The TLS uprobes: attached by the agent to the same functions. */
HOOK("uprobe", ssl_read)
HOOK("uretprobe", ssl_read_ret)
HOOK("uprobe", ssl_read_ex)
HOOK("uretprobe", ssl_read_ex_ret)
HOOK("uprobe", ssl_write)
HOOK("uretprobe", ssl_write_ret)
HOOK("uprobe", ssl_write_ex)
HOOK("uretprobe", ssl_write_ex_ret)
HOOK("uprobe", ssl_set_fd)
HOOK("uprobe", go_tls_enter)
HOOK("uprobe", go_tls_read_ret)
HOOK("uprobe", go_tls_write_ret)
/* Node.js: the sentinel tracepoint (sys_enter_access; faccessat where there
 * is no access syscall) and the SIGUSR1 handler iterator, with their map and
 * setting (bpf/node_context.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} node_pids SEC(".maps");

const volatile bool targ_node_context = false;
__u32 node_sig_tgid;

SEC("tracepoint/syscalls/sys_enter_access")
int node_access(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&node_pids, &tgid) ? 0 : 0;
}

SEC("tracepoint/syscalls/sys_enter_faccessat")
int node_faccessat(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&node_pids, &tgid) ? 0 : 0;
}

SEC("iter/task")
int node_sigusr1(void *ctx)
{
	return node_sig_tgid & 0;
}
