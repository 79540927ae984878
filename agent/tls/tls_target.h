/* SPDX-License-Identifier: MIT */
/*
 * What to hook in one binary for TLS plaintext: OpenSSL's SSL_read/SSL_write
 * family (libssl.so, or a program that carries OpenSSL and exports it, like
 * Node.js), or Go's crypto/tls.(*Conn).Read/Write with one uprobe per RET
 * instruction. Reads the file; attaches nothing.
 */
#ifndef SONDE_TLS_TARGET_H
#define SONDE_TLS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/go_layout.h"

enum tls_kind {
	TLS_KIND_NONE = 0,
	TLS_KIND_OPENSSL, /* libssl.so */
	TLS_KIND_OPENSSL_STATIC,
	TLS_KIND_GO,
};

/* The BPF programs a uprobe can run (bpf/tls_openssl.bpf.h, tls_go.bpf.h). */
enum tls_prog {
	TLS_PROG_SSL_READ = 0,
	TLS_PROG_SSL_READ_RET,
	TLS_PROG_SSL_READ_EX,
	TLS_PROG_SSL_READ_EX_RET,
	TLS_PROG_SSL_WRITE,
	TLS_PROG_SSL_WRITE_RET,
	TLS_PROG_SSL_WRITE_EX,
	TLS_PROG_SSL_WRITE_EX_RET,
	TLS_PROG_SSL_SET_FD,
	TLS_PROG_GO_ENTER,
	TLS_PROG_GO_READ_RET,
	TLS_PROG_GO_WRITE_RET,
	TLS_PROG__MAX,
};

/* RETs per Go function we hook at most; crypto/tls's have a handful. */
#define TLS_GO_MAX_RETS	  32
#define TLS_MAX_UPROBES	  (2 * (1 + TLS_GO_MAX_RETS) + 16)
#define TLS_FUNC_NAME_LEN 40

struct tls_uprobe {
	enum tls_prog prog;
	bool retprobe;	 /* a uretprobe (OpenSSL only) */
	uint64_t offset; /* in the file */
	char func[TLS_FUNC_NAME_LEN];
};

struct tls_target {
	enum tls_kind kind;
	struct tls_uprobe probes[TLS_MAX_UPROBES];
	size_t n;
	/* Go only */
	char go_version[32];
	struct go_tls_layout layout;
	const char *layout_source; /* "dwarf" or "go version table" */
	bool symtab;		   /* functions found in .symtab, not .gopclntab */
	uint64_t tcp_itab;	   /* address of go:itab.*net.TCPConn,net.Conn, 0: unknown */
};

/* Fills t for the ELF file at path (kind TLS_KIND_NONE: nothing to hook).
 * libssl: the file is a libssl.so. Returns 0, or -errno when the file cannot
 * be read; why gets a short reason when something was found but cannot be
 * hooked (a Go binary too old, code that does not decode). */
int tls_target_inspect(const char *path, bool libssl, struct tls_target *t, char *why,
		       size_t why_len);
/* The same for code of the architecture machine (ELF e_machine: EM_X86_64,
 * EM_AARCH64): tls_target_inspect() is this with the agent's own, since the
 * BPF programs read the registers of the architecture they were built for.
 * A file for another one has nothing to hook (why says so). */
int tls_target_inspect_machine(const char *path, bool libssl, uint16_t machine,
			       struct tls_target *t, char *why, size_t why_len);

/* "openssl", "openssl-static", "go" */
const char *tls_kind_name(enum tls_kind k);
/* The function a program hooks, for listings: "SSL_read", "crypto/tls.(*Conn).Read"… */
const char *tls_prog_func(enum tls_prog p);

#endif /* SONDE_TLS_TARGET_H */
