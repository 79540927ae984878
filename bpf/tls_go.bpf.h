/* SPDX-License-Identifier: MIT */
/*
 * Go crypto/tls: (*Conn).Read and (*Conn).Write, through Go's register ABI
 * (go_abi.bpf.h: x86-64 and arm64).
 * No uretprobes: they replace the return address on the goroutine stack, and
 * Go moves stacks. The agent attaches go_tls_enter at the function's entry and
 * the *_ret programs at each of its RET instructions instead. Calls are keyed
 * by goroutine, not thread: a goroutine may move between threads in a call.
 */
#ifndef SONDE_TLS_GO_BPF_H
#define SONDE_TLS_GO_BPF_H

#include "sonde_tls.h"
#include "go_abi.bpf.h"
#include "tls_plaintext.bpf.h"

struct go_call_key {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

struct go_call {
	__u64 conn;
	__u64 buf;
	__u64 cookie;
	__u64 ts; /* when the call began */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GO_TLS_MAX_BINARIES);
	__type(key, __u32);
	__type(value, struct go_tls_offsets);
} go_tls_offsets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_call_key);
	__type(value, struct go_call);
} go_tls_calls SEC(".maps");

/* c.conn.(*net.TCPConn).fd.pfd.Sysfd, or -1. */
static __always_inline __s32 go_conn_fd(__u64 conn, const struct go_tls_offsets *o)
{
	__u64 itab = 0, tcp = 0, netfd = 0;
	__s64 sysfd = -1;

	if (o->tcp_itab &&
	    (bpf_probe_read_user(&itab, sizeof(itab), (void *)(conn + o->conn_data - 8)) ||
	     itab != o->tcp_itab))
		return -1; /* not over a *net.TCPConn: the offsets below do not apply */
	if (bpf_probe_read_user(&tcp, sizeof(tcp), (void *)(conn + o->conn_data)) || !tcp)
		return -1;
	if (bpf_probe_read_user(&netfd, sizeof(netfd), (void *)(tcp + o->conn_fd)) || !netfd)
		return -1;
	if (bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(netfd + o->fd_sysfd)))
		return -1;
	return sysfd >= 0 && sysfd < (1 << 24) ? sysfd : -1;
}

/* Entry of Read(b []byte) or Write(b []byte): c, then b.ptr. A call
 * that grows its stack starts over from the entry: the same key is rewritten. */
SEC("uprobe")
int go_tls_enter(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_call_key k = { .tgid = pid_tgid >> 32, .g = GO_G(ctx) };
	struct go_call c = {
		.conn = GO_PARM1(ctx),
		.buf = GO_PARM2(ctx),
		.cookie = bpf_get_attach_cookie(ctx),
		.ts = bpf_ktime_get_ns(),
	};

	if (!task_is_traced(k.tgid))
		return 0;
	bpf_map_update_elem(&go_tls_calls, &k, &c, BPF_ANY);
	return 0;
}

/* At a RET of Read or Write: the first result is n. */
static __always_inline int go_tls_return(struct pt_regs *ctx, __u8 dir, __u8 sys)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_call_key k = { .tgid = pid_tgid >> 32, .g = GO_G(ctx) };
	struct go_call *cp = bpf_map_lookup_elem(&go_tls_calls, &k);
	struct go_tls_offsets *o;
	struct go_call c;
	__s64 n = GO_RET1(ctx);
	__u32 idx;
	__s32 fd;

	if (!cp)
		return 0;
	c = *cp;
	bpf_map_delete_elem(&go_tls_calls, &k);
	idx = c.cookie;
	o = bpf_map_lookup_elem(&go_tls_offsets, &idx);
	if (!o || n <= 0 || n > 0x7fffffff)
		return 0;
	fd = go_conn_fd(c.conn, o);
	if (fd < 0) {
		count(SONDE_CNT_TLS_NO_FD);
		return 0;
	}
	return tls_plaintext(fd, n, dir, sys, (const void *)c.buf, c.ts, 0);
}

SEC("uprobe")
int go_tls_read_ret(struct pt_regs *ctx)
{
	return go_tls_return(ctx, SONDE_DIR_INGRESS, SONDE_SYS_TLS_READ);
}

SEC("uprobe")
int go_tls_write_ret(struct pt_regs *ctx)
{
	return go_tls_return(ctx, SONDE_DIR_EGRESS, SONDE_SYS_TLS_WRITE);
}

#endif /* SONDE_TLS_GO_BPF_H */
