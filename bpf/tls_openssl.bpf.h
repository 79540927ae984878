/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL 1.1/3.x (libssl.so, or linked statically and exporting its
 * symbols): uprobes on SSL_read, SSL_read_ex, SSL_write and SSL_write_ex and
 * their returns, and SSL_set_fd. Attached per file by the agent
 * (agent/tls/tls_attach.c); none of them attaches by itself.
 */
#ifndef SONDE_TLS_OPENSSL_BPF_H
#define SONDE_TLS_OPENSSL_BPF_H

#include "tls_plaintext.bpf.h"

static __always_inline int ssl_enter(void *ssl, const void *buf, void *len_ptr, __u8 dir, __u8 sys)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call c = {
		.ssl = (__u64)ssl,
		.buf = (__u64)buf,
		.len_ptr = (__u64)len_ptr,
		.fd = -1,
		.dir = dir,
		.sys = sys,
		.ts = bpf_ktime_get_ns(),
	};

	if (!task_is_traced(pid_tgid >> 32))
		return 0;
	/* Overwrites a call whose return was never seen (a thread that left it
	 * through longjmp, or died in it). */
	bpf_map_update_elem(&tls_calls, &pid_tgid, &c, BPF_ANY);
	return 0;
}

/* The socket under c->ssl: the one the library used during this call, else
 * the one SSL_set_fd or an earlier call bound it to, else the one this
 * thread last read ciphertext from (memory BIOs: Node.js). */
static __always_inline __s32 ssl_fd(__u64 pid_tgid, const struct tls_call *c)
{
	struct tls_ssl_key k = { .tgid = pid_tgid >> 32, .ssl = c->ssl };
	struct tls_fd b = { .gen = c->gen, .fd = c->fd };
	struct tls_fd *known;

	if (c->fd < 0) {
		known = bpf_map_lookup_elem(&tls_ssl_fds, &k);
		if (known && tls_fd_current(k.tgid, known))
			return known->fd;
		known = bpf_map_lookup_elem(&tls_thread_fd, &pid_tgid);
		if (!known || !tls_fd_current(k.tgid, known))
			return -1;
		b = *known;
	}
	bpf_map_update_elem(&tls_ssl_fds, &k, &b, BPF_ANY);
	return b.fd;
}

/* ret: SSL_read/SSL_write's byte count, or SSL_*_ex's 1 for success. */
static __always_inline int ssl_return(int ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call *cp = bpf_map_lookup_elem(&tls_calls, &pid_tgid);
	struct tls_call c;
	__u64 n = 0;
	__s32 fd;

	if (!cp)
		return 0;
	c = *cp;
	bpf_map_delete_elem(&tls_calls, &pid_tgid);
	if (c.len_ptr) {
		if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)c.len_ptr))
			n = 0;
	} else if (ret > 0) {
		n = ret;
	}
	/* Even a failed call binds the SSL object: Node.js calls SSL_read in
	 * the handshake, before any plaintext. */
	fd = ssl_fd(pid_tgid, &c);
	if (!n || n > 0x7fffffff)
		return 0;
	if (fd < 0) {
		count(SONDE_CNT_TLS_NO_FD);
		return 0;
	}
	return tls_plaintext(fd, n, c.dir, c.sys, (const void *)c.buf, c.ts,
			     c.seq_known ? TLS_SEQ_KNOWN | c.seq : 0);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read, void *ssl, void *buf, int num)
{
	return ssl_enter(ssl, buf, NULL, SONDE_DIR_INGRESS, SONDE_SYS_TLS_READ);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_ret, int ret)
{
	return ssl_return(ret);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return ssl_enter(ssl, buf, readbytes, SONDE_DIR_INGRESS, SONDE_SYS_TLS_READ);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_ex_ret, int ret)
{
	return ssl_return(ret);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write, void *ssl, const void *buf, int num)
{
	return ssl_enter(ssl, buf, NULL, SONDE_DIR_EGRESS, SONDE_SYS_TLS_WRITE);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_ret, int ret)
{
	return ssl_return(ret);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	return ssl_enter(ssl, buf, written, SONDE_DIR_EGRESS, SONDE_SYS_TLS_WRITE);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_ex_ret, int ret)
{
	return ssl_return(ret);
}

/* SSL_set_fd(ssl, fd): the binding nginx, Python and most servers make. */
SEC("uprobe")
int BPF_KPROBE(ssl_set_fd, void *ssl, int fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct tls_ssl_key k = { .tgid = key.tgid, .ssl = (__u64)ssl };
	struct sonde_conn_state *st;
	struct tls_fd b = { .fd = fd };

	if (fd < 0 || !task_is_traced(key.tgid))
		return 0;
	st = bpf_map_lookup_elem(&conns, &key);
	if (!st)
		st = conn_lookup(&key);
	if (!st || !st->is_socket)
		return 0;
	b.gen = st->gen;
	bpf_map_update_elem(&tls_ssl_fds, &k, &b, BPF_ANY);
	return 0;
}

#endif /* SONDE_TLS_OPENSSL_BPF_H */
