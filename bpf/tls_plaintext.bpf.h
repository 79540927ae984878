/* SPDX-License-Identifier: MIT */
/*
 * Plaintext read or written through a TLS library, from its uprobes, into the
 * same event path as the syscall hooks: same (tgid, fd) connection, same
 * classification, same capture. Included at the end of sonde.bpf.c, whose
 * helpers it uses.
 */
#ifndef SONDE_TLS_PLAINTEXT_BPF_H
#define SONDE_TLS_PLAINTEXT_BPF_H

#include "tls.bpf.h"

/* True while fd still is the connection it was when the binding was made. */
static __always_inline bool tls_fd_current(__u32 tgid, const struct tls_fd *b)
{
	struct sonde_conn_key key = { .tgid = tgid, .fd = b->fd };
	struct sonde_conn_state *st = bpf_map_lookup_elem(&conns, &key);

	return st && st->is_socket && st->gen == b->gen;
}

/*
 * n bytes of plaintext at buf, read (SONDE_SYS_TLS_READ) or written on the
 * TLS connection over socket fd, by a call that began at entry_ts; tls_seq
 * says where its records start on the wire when known (handle_data_ts).
 *
 * Writes are stamped with the call's entry, reads with its return: a return
 * probe can run long after the bytes moved (a Go writer goroutine descheduled
 * after its syscall while another goroutine already read the answer), and
 * the agent orders events by time, so a request must never look later than
 * its response.
 */
static __always_inline int tls_plaintext(__u32 fd, __s64 n, __u8 dir, __u8 sys, const void *buf,
					 __u64 entry_ts, __u64 tls_seq)
{
	struct sonde_conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct sonde_conn_state *st = bpf_map_lookup_elem(&conns, &key);

	if (!st)
		st = conn_lookup(&key);
	if (!st || !st->is_socket)
		return 0;
	if (!st->tls) {
		/* Known now to be TLS: its ciphertext may have been given up on as
		 * an unknown protocol before the plaintext was seen. */
		st->tls = 1;
		if (st->proto == SONDE_PROTO_IGNORED) {
			st->proto = SONDE_PROTO_UNKNOWN;
			st->attempts = CLASSIFY_ATTEMPTS_LATE;
		}
	}
	return handle_data_ts(fd, n, dir, sys, buf, NULL, 0, dir == SONDE_DIR_EGRESS ? entry_ts : 0,
			      tls_seq, false);
}

#endif /* SONDE_TLS_PLAINTEXT_BPF_H */
