/* SPDX-License-Identifier: MIT */
/* From a file descriptor of the current task to its TCP socket. */
#ifndef SONDE_SOCK_BPF_H
#define SONDE_SOCK_BPF_H

#include "maps.bpf.h"

#define AF_INET	    2
#define AF_INET6    10
#define SOCK_STREAM 1
#define S_IFMT	    00170000
#define S_IFSOCK    0140000

/* current->files->fdt->fd[fd]; NULL when out of range or closed. */
static __always_inline struct file *fd_to_file(__u32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

/* The struct sock behind fd if it is an IPv4/IPv6 stream (TCP) socket. */
static __always_inline struct sock *fd_to_tcp_sock(__u32 fd)
{
	struct file *file = fd_to_file(fd);
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (!file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	return sk;
}

static __always_inline void sock_addresses(struct sock *sk, struct sonde_conn_open *ev)
{
	ev->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ev->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* Explicit sizes: the destinations are byte arrays, and BPF_CORE_READ_INTO
	 * would copy sizeof(element), one byte. */
	if (ev->family == AF_INET) {
		bpf_core_read(ev->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(ev->remote_addr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(ev->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(ev->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* Where the bytes written (write_seq) or read (copied_seq) on a TCP socket
 * end, as a TCP sequence number: the same at both ends of the connection. */
static __always_inline __u32 tcp_seq_end(__u64 sk, __u8 dir)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	return dir == SONDE_DIR_EGRESS ? BPF_CORE_READ(tp, write_seq)
				       : BPF_CORE_READ(tp, copied_seq);
}

#endif /* SONDE_SOCK_BPF_H */
