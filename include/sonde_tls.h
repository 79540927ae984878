/* SPDX-License-Identifier: MIT */
/*
 * The TLS part of the kernel/userspace contract: what the agent writes into
 * the go_tls_offsets map for each Go binary it attaches to, at the index it
 * passes as the uprobes' attach cookie.
 */
#ifndef SONDE_TLS_H
#define SONDE_TLS_H

#ifdef __bpf__
/* vmlinux.h already provides __u8 … __u64 */
#else
#include <linux/types.h>
#endif

/* Go binaries hooked at once. */
#define GO_TLS_MAX_BINARIES 256

struct go_tls_offsets {
	__u32 conn_data; /* crypto/tls.Conn.conn (a net.Conn) + 8: the interface's data word */
	__u32 conn_fd;	 /* net.TCPConn's net.conn.fd (*net.netFD) */
	__u32 fd_sysfd;	 /* net.netFD.pfd + internal/poll.FD.Sysfd */
	__u32 pad;
	__u64 tcp_itab; /* go:itab.*net.TCPConn,net.Conn, or 0 when unknown */
};
_Static_assert(sizeof(struct go_tls_offsets) == 24, "go_tls_offsets layout");

#endif /* SONDE_TLS_H */
