// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Syscall-tracepoint capture of TCP payloads. Only sys_exit hooks are used for
 * data: the arguments are read back from the task's saved user registers
 * (bpf_task_pt_regs), so one tracepoint per syscall is enough and the entry
 * path of every other process stays untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "sonde_event.h"
#include "maps.bpf.h"
#include "filter.bpf.h"
#include "sock.bpf.h"
#include "classify.bpf.h"
#include "capture.bpf.h"
#include "tls.bpf.h"
#include "node_context.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define EINPROGRESS 115
#define MSG_PEEK    2
/* A socket whose first payloads never classify is given up on after this many.
 * Sockets found already open may be in the middle of a body: they get more
 * chances to reach a message boundary. */
#define CLASSIFY_ATTEMPTS      3
#define CLASSIFY_ATTEMPTS_LATE 255
/* Payloads after an HTTP/1.1 101 that may show HTTP/2 (h2c) before the
 * connection is left as HTTP/1 (a WebSocket, say). */
#define UPGRADE_ATTEMPTS 3

/* A BTF pointer: PT_REGS_PARMn_SYSCALL reads from it are plain (probe-mem)
 * loads, not helper calls. */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* The cheap checks first: a failed syscall or a process filtered out costs
 * no register reads and no map lookup beyond the filter's own. */
static __always_inline bool exit_wanted(long ret)
{
	return ret > 0 && task_is_traced(bpf_get_current_pid_tgid() >> 32);
}

/* A followed socket whose protocol is known: its events go to the agent. */
static __always_inline bool conn_is_classified(const struct sonde_conn_state *st)
{
	return st->is_socket && st->proto != SONDE_PROTO_UNKNOWN &&
	       st->proto != SONDE_PROTO_IGNORED;
}

static __always_inline void fill_hdr(struct sonde_event_hdr *h, __u32 type, __u64 pid_tgid,
				     __u32 fd, __u64 gen)
{
	h->type = type;
	h->tgid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->fd = fd;
	h->ts_ns = bpf_ktime_get_ns();
	h->conn_gen = gen;
}

/* Says where a traced client connects from, before any byte of it moves. */
static __always_inline void announce_connect(struct sonde_conn_key *key,
					     struct sonde_conn_state *st, __u64 pid_tgid)
{
	struct sonde_conn_open ev = {};

	fill_hdr(&ev.hdr, SONDE_EV_CONN_CONNECT, pid_tgid, key->fd, st->gen);
	sock_addresses((struct sock *)st->sk, &ev);
	ev.role = SONDE_ROLE_CLIENT;
	submit(&ev, sizeof(ev), wakeup_flag());
}

/* Records a socket fd the process just accepted or connected. */
static __always_inline void track_new_socket(__u32 fd, __u8 role)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct sonde_conn_state st = {};

	if (!task_is_traced(key.tgid))
		return;
	st.sk = (__u64)fd_to_tcp_sock(fd);
	st.is_socket = st.sk != 0;
	if (st.is_socket) {
		st.gen = next_gen();
		st.role = role;
		st.attempts = CLASSIFY_ATTEMPTS;
		/* sonde's own requests to a Node.js inspector are not the
		 * application's: they make no spans. */
		if (role == SONDE_ROLE_SERVER &&
		    node_inspector_conn(key.tgid, (struct sock *)st.sk))
			st.proto = SONDE_PROTO_IGNORED;
	}
	if (bpf_map_update_elem(&conns, &key, &st, BPF_ANY))
		count(SONDE_CNT_CONN_MAP_FULL);
	if (st.is_socket && role == SONDE_ROLE_CLIENT)
		announce_connect(&key, &st, pid_tgid);
}

/* Looks the fd up, learning about it on first sight (sockets opened before
 * the agent started, or inherited). NULL: not a followed socket. */
static __always_inline struct sonde_conn_state *conn_lookup(struct sonde_conn_key *key)
{
	struct sonde_conn_state *st = bpf_map_lookup_elem(&conns, key);
	struct sonde_conn_state fresh = {};

	if (st)
		return st->is_socket && st->proto != SONDE_PROTO_IGNORED ? st : NULL;
	fresh.sk = (__u64)fd_to_tcp_sock(key->fd);
	fresh.is_socket = fresh.sk != 0;
	if (fresh.is_socket) {
		fresh.gen = next_gen();
		fresh.attempts = CLASSIFY_ATTEMPTS_LATE;
		fresh.late = 1;
	}
	if (bpf_map_update_elem(&conns, key, &fresh, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&conns, key))
		count(SONDE_CNT_CONN_MAP_FULL);
	if (!fresh.is_socket)
		return NULL;
	return bpf_map_lookup_elem(&conns, key);
}

static __always_inline void emit_conn_open(struct sonde_conn_key *key, struct sonde_conn_state *st,
					   __u64 pid_tgid, __u64 ts)
{
	struct sonde_conn_open ev = {};
	struct sock *sk = fd_to_tcp_sock(key->fd);

	fill_hdr(&ev.hdr, SONDE_EV_CONN_OPEN, pid_tgid, key->fd, st->gen);
	/* Not later than the data it comes before (the kept first bytes, or a
	 * TLS write stamped at the call's entry): the agent may order events by
	 * time. */
	if (st->head_len)
		ev.hdr.ts_ns = st->head_ts;
	else if (ts)
		ev.hdr.ts_ns = ts;
	if (sk)
		sock_addresses(sk, &ev);
	ev.role = st->role;
	ev.proto = st->proto;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	submit(&ev, sizeof(ev), wakeup_flag());
}

/* CLASSIFY_BYTES of the payload at off, from the buffer or the first iovec: an
 * unclassified socket costs an 8-byte read per syscall, not a capture. */
static __always_inline bool read_head(const void *ubuf, const struct iovec *uiov, __s64 ret,
				      __u64 off, __u8 head[CLASSIFY_BYTES])
{
	struct iovec iov0;

	if (ret < CLASSIFY_BYTES || off > ret - CLASSIFY_BYTES)
		return false;
	if (!ubuf && uiov) {
		if (bpf_probe_read_user(&iov0, sizeof(iov0), uiov) ||
		    iov0.iov_len < off + CLASSIFY_BYTES)
			return false;
		ubuf = iov0.iov_base;
	}
	return ubuf && !bpf_probe_read_user(head, CLASSIFY_BYTES, (const __u8 *)ubuf + off);
}

/*
 * A socket found open is taken for HTTP/2 on a frame header only with a
 * second sign: the frame ends exactly where the syscall does, or another
 * plausible frame header follows it. One 8-byte look-alike is too common
 * among binary protocols with a length prefix. head holds the first
 * CLASSIFY_BYTES. Returns 1 when confirmed.
 *
 * A global function, checked once by the verifier: inlined, its branches
 * multiplied the paths of every data hook sevenfold.
 */
__noinline int h2_confirm(__u64 ubuf, __u64 uiov, __s64 ret, __u64 head)
{
	__u8 b[CLASSIFY_BYTES], more[CLASSIFY_BYTES] = {};
	__u64 next;

	__builtin_memcpy(b, &head, sizeof(b));
	if (h2_shape(b) != H2_FRAME)
		return 1;
	next = 9 + ((__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2]);
	if (next == ret)
		return 1;
	return read_head((const void *)ubuf, (const struct iovec *)uiov, ret, next, more) &&
	       h2_shape(more) != H2_NONE && more[3] != 9 /* not a CONTINUATION of nothing */;
}

/*
 * A socket found open is taken for PostgreSQL on a typed frontend message
 * only with a second sign, as for HTTP/2: the message ends exactly where the
 * syscall does, or another plausible frontend message follows it (a client
 * writes Bind, Execute, Sync together), or a Sync ends the syscall. head
 * holds the first CLASSIFY_BYTES. Returns 1 when confirmed. Global, for
 * the verifier's sake (see h2_confirm).
 */
__noinline int pg_confirm(__u64 ubuf, __u64 uiov, __s64 ret, __u64 head)
{
	__u8 b[CLASSIFY_BYTES], more[CLASSIFY_BYTES] = {};
	__u64 next;

	__builtin_memcpy(b, &head, sizeof(b));
	if (pg_shape(b, true) != PG_FRONTEND)
		return 1;
	next = 1 + (__u64)pg_be32(b + 1);
	if (next == ret)
		return 1;
	if (next + 5 == ret)
		return read_head((const void *)ubuf, (const struct iovec *)uiov, ret,
				 ret - CLASSIFY_BYTES, more) &&
		       more[3] == 'S' && pg_be32(more + 4) == 4;
	return read_head((const void *)ubuf, (const struct iovec *)uiov, ret, next, more) &&
	       pg_frontend_header(more);
}

/* Stream position of a payload's first byte, counting from 1. Not atomic: an
 * HTTP/2 or HTTP/1 peer never has two syscalls move bytes in one direction of
 * a socket at once (frames and messages would interleave). */
static __always_inline __u64 take_position(struct sonde_conn_state *st, __u8 dir, __s64 ret)
{
	__u64 *moved = &st->moved[dir & 1];
	__u64 pos = *moved + 1;

	*moved += ret;
	return pos;
}

/* TCP sequence number of the first of the ret bytes a syscall just moved:
 * written ones end at write_seq, read ones at copied_seq. The same number at
 * both ends of the connection, which is how a server's request finds the
 * client's (agent/core/linker.c). 0 with *kind NONE when unknown. */
static __always_inline __u32 moved_seq(const struct sonde_conn_state *st, __u8 dir, __s64 ret,
				       __u8 *kind)
{
	struct tcp_sock *tp = (struct tcp_sock *)st->sk;
	__u32 end;

	*kind = SONDE_SEQ_NONE;
	if (!tp || st->tls) /* TLS plaintext is not what the TCP stream carries */
		return 0;
	end = dir == SONDE_DIR_EGRESS ? BPF_CORE_READ(tp, write_seq)
				      : BPF_CORE_READ(tp, copied_seq);
	*kind = SONDE_SEQ_TCP;
	return end - (__u32)ret;
}

/* Up to CLASSIFY_BYTES of the payload's start (fewer when the syscall moved
 * fewer), zero-padded. Returns how many were read. */
static __always_inline __u32 read_prefix(const void *ubuf, const struct iovec *uiov, __s64 ret,
					 __u8 out[CLASSIFY_BYTES])
{
	struct iovec iov0;
	__u64 n = ret < CLASSIFY_BYTES ? (__u64)ret : CLASSIFY_BYTES;

	if (!ubuf && uiov) {
		if (bpf_probe_read_user(&iov0, sizeof(iov0), uiov))
			return 0;
		if (iov0.iov_len < n)
			n = iov0.iov_len;
		ubuf = iov0.iov_base;
	}
	if (!ubuf || !n)
		return 0;
	/* Either the constant or a masked value: the verifier loses a bound
	 * checked on another copy of the register. */
	if (n >= CLASSIFY_BYTES) {
		if (bpf_probe_read_user(out, CLASSIFY_BYTES, ubuf))
			return 0;
		return CLASSIFY_BYTES;
	}
	n &= CLASSIFY_BYTES - 1;
	if (bpf_probe_read_user(out, n, ubuf))
		return 0;
	return n;
}

/* The bytes kept from earlier short payloads, then this payload's, as the
 * classifier's view of the connection's first bytes. Shifts, not indexes: the
 * verifier accepts no variable offset into the stack. Little-endian byte
 * order: the first byte is the lowest. */
static __always_inline __u64 join_head(const struct sonde_conn_state *st, __u64 cur)
{
	__u32 kept = st->head_len & 7;
	__u64 head = 0;

	__builtin_memcpy(&head, st->head, SONDE_HEAD_KEPT);
	head &= (1ULL << (kept * 8)) - 1;
	return head | cur << (kept * 8);
}

/* Sends the kept first bytes on, ahead of the payload that completed them:
 * the agent's parsers see the connection from its first byte. */
static __always_inline void flush_head(struct sonde_conn_key *key, struct sonde_conn_state *st,
				       __u64 pid_tgid, __s64 ret)
{
	struct {
		struct sonde_data ev;
		__u8 payload[CLASSIFY_BYTES];
	} h = {};
	__u32 n = st->head_len & 7;

	fill_hdr(&h.ev.hdr, SONDE_EV_DATA, pid_tgid, key->fd, st->gen);
	h.ev.hdr.ts_ns = st->head_ts;
	h.ev.dir = st->head_dir;
	h.ev.syscall = st->head_dir == SONDE_DIR_INGRESS ? SONDE_SYS_READ : SONDE_SYS_WRITE;
	h.ev.role = st->role;
	h.ev.proto = st->proto;
	h.ev.total = n;
	h.ev.captured = n;
	/* They moved just before the ret bytes of the syscall that completed them. */
	h.ev.seq = moved_seq(st, st->head_dir, ret + n, &h.ev.seq_kind);
	__builtin_memcpy(h.payload, st->head, SONDE_HEAD_KEPT);
	h.ev.stream_pos = take_position(st, st->head_dir, n);
	st->head_len = 0;
	submit(&h, sizeof(h.ev) + n, wakeup_flag());
}

/* A payload shorter than the classifier needs: kept, up to SONDE_HEAD_KEPT
 * bytes of one direction, instead of being taken for an unknown protocol.
 * joined: join_head()'s result. Returns false when it does not fit (then it
 * is an ordinary attempt). */
static __always_inline bool keep_head(struct sonde_conn_state *st, __u64 joined, __u32 n, __u8 dir)
{
	__u32 kept = st->head_len & 7;

	if (kept + n > SONDE_HEAD_KEPT)
		return false;
	__builtin_memcpy(st->head, &joined, SONDE_HEAD_KEPT);
	if (!kept)
		st->head_ts = bpf_ktime_get_ns();
	st->head_len = kept + n;
	st->head_dir = dir;
	return true;
}

/* Decides the protocol of a socket from its payloads: a new one, or an
 * HTTP/1 connection that answered 101. Returns false when the payload is to
 * be dropped (still undecided, or given up on). */
static __always_inline bool classify_payload(struct sonde_conn_key *key,
					     struct sonde_conn_state *st, const void *ubuf,
					     const struct iovec *uiov, __s64 ret, __u8 dir,
					     __u64 pid_tgid, __u64 ts)
{
	__u8 cur[CLASSIFY_BYTES] = {}, head[CLASSIFY_BYTES] = {};
	__u8 proto = 0, role = st->role;
	__u64 joined, cur64;
	__u32 n, len;

	if (st->proto == SONDE_PROTO_HTTP1) {
		/* h2c: the client's preface or the server's SETTINGS follow the 101. */
		if (read_head(ubuf, uiov, ret, 0, head) && classify_h2(head, dir, false, &role)) {
			st->proto = SONDE_PROTO_HTTP2;
			st->upgrading = 0;
			emit_conn_open(key, st, pid_tgid, ts);
		} else {
			st->upgrading--;
		}
		return true; /* an HTTP/1 connection's bytes go to the agent either way */
	}
	n = read_prefix(ubuf, uiov, ret, cur);
	if (st->head_len && st->head_dir != dir)
		st->head_len = 0; /* the other side spoke: the kept bytes were no message head */
	__builtin_memcpy(&cur64, cur, sizeof(cur64));
	joined = join_head(st, cur64);
	__builtin_memcpy(head, &joined, sizeof(head));
	len = (st->head_len & 7) + n;
	if (len > CLASSIFY_BYTES)
		len = CLASSIFY_BYTES;
	if (!n || !classify(head, len, dir, st->late, &proto, &role) ||
	    (st->late && proto == SONDE_PROTO_HTTP2 &&
	     !h2_confirm((__u64)ubuf, (__u64)uiov, ret, *(__u64 *)head)) ||
	    (st->late && proto == SONDE_PROTO_POSTGRES &&
	     !pg_confirm((__u64)ubuf, (__u64)uiov, ret, *(__u64 *)head))) {
		if (n && len < CLASSIFY_BYTES && keep_head(st, joined, n, dir))
			return false;
		st->head_len = 0;
		if (st->attempts <= 1) {
			st->proto = SONDE_PROTO_IGNORED;
			count(SONDE_CNT_CLASSIFY_GIVEUP);
		} else {
			st->attempts--;
		}
		return false;
	}
	st->proto = proto;
	st->role = role;
	emit_conn_open(key, st, pid_tgid, ts);
	if (st->head_len)
		flush_head(key, st, pid_tgid, ret);
	return true;
}

/* Whether this payload is a response (written by a server, read by a client). */
static __always_inline bool is_response_dir(const struct sonde_conn_state *st, __u8 dir)
{
	return (st->role == SONDE_ROLE_SERVER) == (dir == SONDE_DIR_EGRESS);
}

/* Writes to fd 1 and 2: log output. */
#include "logs.bpf.h"

/*
 * The common path of every read/write-like syscall exit, after exit_wanted(). ubuf is a plain
 * buffer, or NULL with uiov/iovcnt describing an iovec array. ts: the event's time, 0 for now
 * (TLS writes are stamped at the call's entry, see bpf/tls_plaintext.bpf.h). tls_seq: for TLS
 * plaintext, TLS_SEQ_KNOWN | the TCP sequence number of its first record, or 0.
 */
#define TLS_SEQ_KNOWN (1ull << 32)
static __always_inline int handle_data_ts(__u32 fd, __s64 ret, __u8 dir, __u8 sys, const void *ubuf,
					  const struct iovec *uiov, __u64 iovcnt, __u64 ts,
					  __u64 tls_seq, const bool syscall)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct sonde_conn_state *st;
	struct data_scratch *s;
	__u32 zero = 0, n = 0;
	__u64 pos;

	/* Callers checked this already; repeated so the verifier knows ret is
	 * positive where it bounds the capture size. */
	if (ret <= 0)
		return 0;
	/* syscall is a constant: the TLS hooks never call log_write, whose
	 * stack on top of theirs was more than 6.1's verifier allows. */
	if (syscall && log_fd(fd, dir, sys) &&
	    log_write(fd | (__u64)sys << 32, ret, (__u64)ubuf, (__u64)uiov, iovcnt))
		return 0;
	st = conn_lookup(&key);
	if (!st)
		return 0;
	/* A TLS socket's syscalls move ciphertext: its plaintext comes from uprobes. */
	if (sys < SONDE_SYS_TLS_READ && tls_ciphertext(st, pid_tgid, fd, dir, ubuf, uiov, ret))
		return 0;
	if ((st->proto == SONDE_PROTO_UNKNOWN || st->upgrading) &&
	    !classify_payload(&key, st, ubuf, uiov, ret, dir, pid_tgid, ts))
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	fill_hdr(&s->ev.hdr, SONDE_EV_DATA, pid_tgid, fd, st->gen);
	if (ts)
		s->ev.hdr.ts_ns = ts;
	s->ev.dir = dir;
	s->ev.syscall = sys;
	s->ev.role = st->role;
	s->ev.proto = st->proto;
	s->ev.unit = 0;
	s->ev.unit_kind = SONDE_UNIT_THREAD;
	if (sys < SONDE_SYS_TLS_READ) {
		s->ev.seq = moved_seq(st, dir, ret, &s->ev.seq_kind);
	} else {
		s->ev.seq = (__u32)tls_seq;
		s->ev.seq_kind = tls_seq & TLS_SEQ_KNOWN ? SONDE_SEQ_TLS_RECORD : SONDE_SEQ_NONE;
	}
	pos = take_position(st, dir, ret);
	if (st->proto == SONDE_PROTO_HTTP2) {
		capture_h2(s, ubuf, uiov, iovcnt, ret, pos);
		return 0;
	}
	if (ubuf)
		n = capture_buf(s, ubuf, ret);
	else if (uiov)
		n = capture_iov(s, uiov, iovcnt, ret);
	s->ev.total = ret;
	s->ev.captured = n;
	s->ev.stream_pos = pos;
	if (n > SONDE_MAX_CAPTURE)
		return 0;
	if (st->proto == SONDE_PROTO_POSTGRES && ubuf && n < ret) {
		pg_send_with_tail((__u64)ubuf, ret, n);
		return 0;
	}
	/* A 101 may switch the connection to h2c: look at the next payloads. */
	if (n >= 12 && is_response_dir(st, dir) && is_switching_response(s->payload))
		st->upgrading = UPGRADE_ATTEMPTS;
	submit(s, sizeof(s->ev) + n, wakeup_flag());
	return 0;
}

static __always_inline int handle_data(__u32 fd, __s64 ret, __u8 dir, __u8 sys, const void *ubuf,
				       const struct iovec *uiov, __u64 iovcnt)
{
	return handle_data_ts(fd, ret, dir, sys, ubuf, uiov, iovcnt, 0, 0, true);
}

static __always_inline int data_exit(struct trace_event_raw_sys_exit *ctx, __u8 dir, __u8 sys)
{
	struct pt_regs *regs;

	if (!exit_wanted(ctx->ret))
		return 0;
	regs = user_regs();
	return handle_data(PT_REGS_PARM1_SYSCALL(regs), ctx->ret, dir, sys,
			   (const void *)PT_REGS_PARM2_SYSCALL(regs), NULL, 0);
}

static __always_inline int iov_exit(struct trace_event_raw_sys_exit *ctx, __u8 dir, __u8 sys)
{
	struct pt_regs *regs;

	if (!exit_wanted(ctx->ret))
		return 0;
	regs = user_regs();
	return handle_data(PT_REGS_PARM1_SYSCALL(regs), ctx->ret, dir, sys, NULL,
			   (const struct iovec *)PT_REGS_PARM2_SYSCALL(regs),
			   PT_REGS_PARM3_SYSCALL(regs));
}

static __always_inline int msg_exit(struct trace_event_raw_sys_exit *ctx, __u8 dir, __u8 sys)
{
	struct user_msghdr *umsg;
	struct user_msghdr msg = {};
	struct pt_regs *regs;

	if (!exit_wanted(ctx->ret))
		return 0;
	regs = user_regs();
	if (dir == SONDE_DIR_INGRESS && (PT_REGS_PARM3_SYSCALL(regs) & MSG_PEEK))
		return 0;
	umsg = (struct user_msghdr *)PT_REGS_PARM2_SYSCALL(regs);
	if (bpf_probe_read_user(&msg, sizeof(msg), umsg))
		return 0;
	return handle_data(PT_REGS_PARM1_SYSCALL(regs), ctx->ret, dir, sys, NULL, msg.msg_iov,
			   msg.msg_iovlen);
}

SEC("tracepoint/syscalls/sys_exit_read")
int sys_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	return data_exit(ctx, SONDE_DIR_INGRESS, SONDE_SYS_READ);
}

SEC("tracepoint/syscalls/sys_exit_write")
int sys_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return data_exit(ctx, SONDE_DIR_EGRESS, SONDE_SYS_WRITE);
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int sys_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (!exit_wanted(ctx->ret))
		return 0;
	regs = user_regs();
	if (PT_REGS_PARM4_SYSCALL(regs) & MSG_PEEK)
		return 0;
	return handle_data(PT_REGS_PARM1_SYSCALL(regs), ctx->ret, SONDE_DIR_INGRESS,
			   SONDE_SYS_RECVFROM, (const void *)PT_REGS_PARM2_SYSCALL(regs), NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int sys_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return data_exit(ctx, SONDE_DIR_EGRESS, SONDE_SYS_SENDTO);
}

SEC("tracepoint/syscalls/sys_exit_readv")
int sys_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
	return iov_exit(ctx, SONDE_DIR_INGRESS, SONDE_SYS_READV);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int sys_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return iov_exit(ctx, SONDE_DIR_EGRESS, SONDE_SYS_WRITEV);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int sys_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	return msg_exit(ctx, SONDE_DIR_INGRESS, SONDE_SYS_RECVMSG);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int sys_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return msg_exit(ctx, SONDE_DIR_EGRESS, SONDE_SYS_SENDMSG);
}

/* sendfile moves body bytes from a file: no payload to capture, but the byte
 * count keeps body sizes and response end times right (nginx static files). */
SEC("tracepoint/syscalls/sys_exit_sendfile64")
int sys_exit_sendfile(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_conn_key key = { .tgid = pid_tgid >> 32 };
	struct sonde_conn_state *st;
	struct sonde_data ev = {};

	if (!exit_wanted(ctx->ret))
		return 0;
	key.fd = PT_REGS_PARM1_SYSCALL(user_regs());
	st = bpf_map_lookup_elem(&conns, &key);
	if (!st || !conn_is_classified(st))
		return 0;
	fill_hdr(&ev.hdr, SONDE_EV_DATA, pid_tgid, key.fd, st->gen);
	ev.total = ctx->ret;
	ev.stream_pos = take_position(st, SONDE_DIR_EGRESS, ctx->ret);
	ev.dir = SONDE_DIR_EGRESS;
	ev.seq = moved_seq(st, SONDE_DIR_EGRESS, ctx->ret, &ev.seq_kind);
	ev.syscall = SONDE_SYS_SENDFILE;
	ev.role = st->role;
	ev.proto = st->proto;
	submit(&ev, sizeof(ev), wakeup_flag());
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		track_new_socket(ctx->ret, SONDE_ROLE_SERVER);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		track_new_socket(ctx->ret, SONDE_ROLE_SERVER);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret == 0 || ctx->ret == -EINPROGRESS)
		track_new_socket(PT_REGS_PARM1_SYSCALL(user_regs()), SONDE_ROLE_CLIENT);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_conn_key key = { .tgid = pid_tgid >> 32, .fd = (__u32)ctx->args[0] };
	struct sonde_conn_state *st = bpf_map_lookup_elem(&conns, &key);
	struct sonde_conn_close ev = {};

	if (!st)
		return 0;
	if (conn_is_classified(st)) {
		fill_hdr(&ev.hdr, SONDE_EV_CONN_CLOSE, pid_tgid, key.fd, st->gen);
		submit(&ev, sizeof(ev), wakeup_flag());
	}
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_proc_exit ev = {};
	__u32 tgid = pid_tgid >> 32;

	/* Only the group leader's exit ends the process for our purposes. */
	if (tgid != (__u32)pid_tgid || !task_is_traced(tgid))
		return 0;
	fill_hdr(&ev.hdr, SONDE_EV_PROC_EXIT, pid_tgid, 0, 0);
	submit(&ev, sizeof(ev), BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* Follows children of traced processes (sonde trace -- COMMAND). Loaded only
 * when targ_follow_children is set. Threads share the tgid and are skipped. */
SEC("raw_tracepoint/sched_process_fork")
int sched_process_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (!targ_follow_children || child_tgid == parent)
		return 0;
	if (!bpf_map_lookup_elem(&filter_pids, &parent))
		return 0;
	if (bpf_map_update_elem(&filter_pids, &child_tgid, &one, BPF_ANY))
		count(SONDE_CNT_FILTER_ADD_FAIL);
	return 0;
}

/* TLS: uprobes on OpenSSL and Go crypto/tls, built on the helpers above. */
#include "tls_openssl.bpf.h"
#include "tls_go.bpf.h"
#include "tls_exec.bpf.h"
