/* SPDX-License-Identifier: MIT */
/*
 * Where a Go program keeps the socket of a crypto/tls.Conn:
 * c.conn (net.Conn interface) → *net.TCPConn → .fd (*net.netFD) → .pfd.Sysfd.
 * From the binary's DWARF when it has some, else from a table by Go version.
 */
#ifndef SONDE_GO_LAYOUT_H
#define SONDE_GO_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct go_tls_layout {
	uint32_t tls_conn_conn; /* crypto/tls.Conn.conn */
	uint32_t net_conn_fd;	/* net.conn.fd (net.TCPConn embeds net.conn first) */
	uint32_t netfd_pfd;	/* net.netFD.pfd */
	uint32_t pfd_sysfd;	/* internal/poll.FD.Sysfd */
};

/* From the DWARF of the ELF file at path: 0, or -ENOENT when it has none or
 * lacks one of the four fields. */
int go_layout_from_dwarf(const char *path, struct go_tls_layout *out);

/* From the table, for Go major.minor: 0, or -ENOTSUP for a version it does
 * not cover (before 1.17: no register ABI). */
int go_layout_for_version(unsigned major, unsigned minor, struct go_tls_layout *out);

#endif /* SONDE_GO_LAYOUT_H */
