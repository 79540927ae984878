/* SPDX-License-Identifier: MIT */
/*
 * TLS sockets as the syscall hooks see them. Their payloads are TLS records:
 * the syscall path must neither classify nor emit them (the plaintext comes
 * from uprobes on the TLS library, bpf/tls_openssl.bpf.h and tls_go.bpf.h),
 * but it tells which socket an SSL call belongs to:
 *   - OpenSSL with a socket BIO reads and writes the socket itself, on the
 *     calling thread, during SSL_read/SSL_write;
 *   - libraries with memory BIOs (Node.js) read the ciphertext first and call
 *     SSL_read right after, on the same thread.
 */
#ifndef SONDE_TLS_BPF_H
#define SONDE_TLS_BPF_H

#include "maps.bpf.h"
#include "sock.bpf.h"

/* Set by the agent when it attaches TLS uprobes. Off: none of this is loaded. */
const volatile bool targ_tls = false;

/* An SSL_read/SSL_write call in progress on a thread. */
struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 len_ptr; /* SSL_*_ex: where the byte count is written; 0 otherwise */
	__u64 gen;     /* of the socket the library used during the call */
	__u64 ts;      /* when the call began */
	__s32 fd;      /* that socket, or -1 */
	__u8 dir;      /* enum sonde_dir */
	__u8 sys;      /* SONDE_SYS_TLS_READ or _WRITE */
	__u8 seq_known;
	__u8 pad;
	/* TCP sequence number of the first record the call read or wrote on the
	 * socket in its own direction: where its plaintext starts on the wire,
	 * for the other end of the connection (core/linker.c). */
	__u32 seq;
	__u32 pad2;
};

/* Which socket an SSL object works on, learnt from SSL_set_fd or from the
 * syscalls of a call. gen tells a binding to a since closed fd from one to
 * the connection now using the same number. */
struct tls_ssl_key {
	__u32 tgid;
	__u32 pad;
	__u64 ssl;
};

struct tls_fd {
	__u64 gen;
	__s32 fd;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tls_ssl_key);
	__type(value, struct tls_fd);
} tls_ssl_fds SEC(".maps");

/* The TLS socket each thread last read outside an SSL call. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct tls_fd);
} tls_thread_fd SEC(".maps");

/* A TLS record header (RFC 8446 §5.1): content type change_cipher_spec (20)
 * to heartbeat (24), legacy version 3.0 to 3.4, length at most 2^14 + 2048. */
static __always_inline bool tls_record(const __u8 *b)
{
	__u16 len = (__u16)b[3] << 8 | b[4];

	return b[0] >= 20 && b[0] <= 24 && b[1] == 3 && b[2] <= 4 && len > 0 && len <= 16384 + 2048;
}

/* Whether a payload starts with a TLS record: 5 bytes, from a buffer or the
 * first iovec. */
static __always_inline bool tls_detect(const void *ubuf, const struct iovec *uiov, __s64 ret)
{
	__u8 head[5] = {};
	struct iovec iov0;

	if (ret < (__s64)sizeof(head))
		return false;
	if (!ubuf && uiov) {
		if (bpf_probe_read_user(&iov0, sizeof(iov0), uiov) || iov0.iov_len < sizeof(head))
			return false;
		ubuf = iov0.iov_base;
	}
	if (!ubuf || bpf_probe_read_user(head, sizeof(head), ubuf))
		return false;
	return tls_record(head);
}

/* Tells an SSL call in progress on this thread which socket it uses, and
 * where on the wire its records start; outside a call, remembers the socket
 * a thread read ciphertext from. */
static __always_inline void tls_note_syscall(__u64 pid_tgid, __u32 fd,
					     const struct sonde_conn_state *st, __u8 dir, __s64 ret)
{
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &pid_tgid);
	struct tls_fd last = { .gen = st->gen, .fd = fd };

	if (c) {
		c->fd = fd;
		c->gen = st->gen;
		if (!c->seq_known && c->dir == dir && st->sk) {
			c->seq = tcp_seq_end(st->sk, dir) - (__u32)ret;
			c->seq_known = 1;
		}
	} else if (dir == SONDE_DIR_INGRESS) {
		bpf_map_update_elem(&tls_thread_fd, &pid_tgid, &last, BPF_ANY);
	}
}

/* Where a TLS record may begin: a connection's first bytes; PostgreSQL's
 * after SSLRequest (8 bytes) and its answer 'S' (1): the client's
 * ClientHello comes next (a PostgreSQL message never starts with a byte a
 * TLS record can, 20 to 24); MySQL's after the server's greeting and the
 * client's SSLRequest packet, within the handshake's first bytes (a greeting
 * is about 100 bytes: a bound well past it, and far below any query phase).
 * Counted as plaintext, the ciphertext would also shift the byte positions
 * of what follows. */
#define MYSQL_TLS_WITHIN 1024
static __always_inline bool may_start_tls(const struct sonde_conn_state *st)
{
	__u64 moved = st->moved[0] + st->moved[1];

	return st->proto == SONDE_PROTO_UNKNOWN ||
	       (st->proto == SONDE_PROTO_POSTGRES && moved <= 9) ||
	       (st->proto == SONDE_PROTO_MYSQL && moved <= MYSQL_TLS_WITHIN);
}

/*
 * For the syscall path: true when this payload is TLS ciphertext, which is
 * then not to be classified or emitted. A socket is marked TLS by its first
 * record, or by the uprobes when they see its plaintext. Plaintext sockets
 * already classified cost two loads.
 */
static __always_inline bool tls_ciphertext(struct sonde_conn_state *st, __u64 pid_tgid, __u32 fd,
					   __u8 dir, const void *ubuf, const struct iovec *uiov,
					   __s64 ret)
{
	if (!targ_tls)
		return false;
	if (!st->tls) {
		if (!may_start_tls(st) || !tls_detect(ubuf, uiov, ret))
			return false;
		st->tls = 1;
	}
	tls_note_syscall(pid_tgid, fd, st, dir, ret);
	return true;
}

#endif /* SONDE_TLS_BPF_H */
