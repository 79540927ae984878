/* SPDX-License-Identifier: MIT */
/*
 * The only contract between the BPF programs and the agent: the events the
 * kernel side pushes into the ring buffer and the settings and maps the agent
 * fills before load. Fixed-width types and explicit padding only, so both
 * compilers agree on every offset.
 */
#ifndef SONDE_EVENT_H
#define SONDE_EVENT_H

#ifdef __bpf__
/* vmlinux.h already provides __u8 … __u64 */
#else
#include <linux/types.h>
#endif

/* Upper bound for the payload prefix copied per syscall; the runtime value
 * (targ_capture_bytes) is at most this. A power of two so BPF can mask. */
#define SONDE_MAX_CAPTURE     8192
#define SONDE_DEFAULT_CAPTURE 1024
#define SONDE_COMM_LEN	      16

enum sonde_event_type {
	SONDE_EV_CONN_OPEN = 1, /* a followed connection was classified */
	SONDE_EV_DATA = 2,	/* bytes read or written on a followed connection */
	SONDE_EV_CONN_CLOSE = 3,
	SONDE_EV_PROC_EXIT = 4,
	SONDE_EV_PROC_EXEC = 5,	 /* a traced process ran execve: look for TLS libraries in it */
	SONDE_EV_LINK = 6,	 /* a runtime hook says whose request a client call is */
	SONDE_EV_UNIT_SPAWN = 7, /* an execution unit started another (Go: `go f()`) */
	/* A traced process connected a TCP socket (struct sonde_conn_open, proto
	 * unknown yet): its address tells a server here that its caller is traced
	 * and the request's client side will be reported (core/linker.c). */
	SONDE_EV_CONN_CONNECT = 8,
	/* A traced process wrote to its stdout or stderr (hdr.fd 1 or 2), whatever
	 * they are but a TCP socket: a struct sonde_data (dir egress, stream_pos
	 * counting that fd's bytes) whose payload is application output, made
	 * into log records by agent/logs/ (docs/ARCHITECTURE.md, "Logs"). */
	SONDE_EV_LOG = 9,
};

enum sonde_dir {
	SONDE_DIR_INGRESS = 0, /* read by the traced process */
	SONDE_DIR_EGRESS = 1,  /* written by the traced process */
};

enum sonde_role {
	SONDE_ROLE_UNKNOWN = 0,
	SONDE_ROLE_SERVER = 1, /* accepted socket, or inferred from the first payload */
	SONDE_ROLE_CLIENT = 2, /* connected socket, or inferred */
};

/* Protocols the kernel classifier can recognise. Adding one: a value here, a
 * matcher in bpf/protocols/, a line in agent/protocols/registry.c
 * (docs/ARCHITECTURE.md, "How to add a protocol"). */
enum sonde_proto {
	SONDE_PROTO_UNKNOWN = 0,
	SONDE_PROTO_HTTP1 = 1,
	SONDE_PROTO_HTTP2 = 2, /* h2c, or h2 over TLS */
	SONDE_PROTO_POSTGRES = 3,
	SONDE_PROTO_MYSQL = 4, /* MySQL and MariaDB */
	SONDE_PROTO_REDIS = 5,
	SONDE_PROTO__COUNT,
	SONDE_PROTO_IGNORED = 255, /* decided: never produce events */
};

enum sonde_syscall {
	SONDE_SYS_READ = 1,
	SONDE_SYS_WRITE,
	SONDE_SYS_READV,
	SONDE_SYS_WRITEV,
	SONDE_SYS_RECVFROM,
	SONDE_SYS_SENDTO,
	SONDE_SYS_RECVMSG,
	SONDE_SYS_SENDMSG,
	SONDE_SYS_SENDFILE,
	/* Plaintext from TLS libraries (uprobes, issue 5): the payload is what the
	 * application read or wrote, the fd is the socket underneath. */
	SONDE_SYS_TLS_READ,
	SONDE_SYS_TLS_WRITE,
};

struct sonde_event_hdr {
	__u32 type; /* enum sonde_event_type */
	__u32 tgid; /* process id */
	__u32 tid;  /* thread id */
	__u32 fd;
	__u64 ts_ns;	/* bpf_ktime_get_ns() at syscall exit */
	__u64 conn_gen; /* unique per connection; changes when the fd is reused */
};
_Static_assert(sizeof(struct sonde_event_hdr) == 32, "sonde_event_hdr layout");

/* Addresses in network byte order; IPv4 uses the first 4 bytes. */
struct sonde_conn_open {
	struct sonde_event_hdr hdr;
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u16 local_port;  /* host byte order */
	__u16 remote_port; /* host byte order */
	__u16 family;	   /* AF_INET or AF_INET6 */
	__u8 role;	   /* enum sonde_role */
	__u8 proto;	   /* enum sonde_proto */
	char comm[SONDE_COMM_LEN];
};
_Static_assert(sizeof(struct sonde_conn_open) == 88, "sonde_conn_open layout");

/*
 * Bytes a syscall moved on a followed connection. HTTP/2 connections are
 * copied in full: a syscall larger than SONDE_MAX_CAPTURE becomes several
 * events in order, each `total` covering its own bytes (the last one also the
 * bytes left uncopied), all with the syscall's timestamp. A PostgreSQL
 * syscall (plain buffer) larger than the capture becomes two: its prefix,
 * `total` up to where the second starts, then its last bytes in full.
 */
struct sonde_data {
	struct sonde_event_hdr hdr;
	__s64 total;	/* bytes this event stands for: the syscall's return value */
	__u32 captured; /* bytes of payload that follow, <= total */
	__u8 dir;	/* enum sonde_dir */
	__u8 syscall;	/* enum sonde_syscall */
	__u8 role;	/* enum sonde_role, as the kernel knows it */
	__u8 proto;	/* enum sonde_proto */
	/* Where this event's first byte sits in its direction of the connection,
	 * counting from 1 (0: not counted). A jump shows events that were lost. */
	__u64 stream_pos;
	/* The execution unit of the process that made the call, when it is not
	 * the thread (hdr.tid): a Go goroutine id with SONDE_UNIT_GOROUTINE. */
	__u64 unit;
	/* Where the first byte sits in the TCP stream (enum sonde_seq_kind): the
	 * same number at both ends of a connection, so the server's read of a
	 * request finds the client's write of it (docs/ARCHITECTURE.md, "Request
	 * context"). */
	__u32 seq;
	__u8 seq_kind;	/* enum sonde_seq_kind */
	__u8 unit_kind; /* enum sonde_unit_kind */
	__u16 pad;
	/* followed by `captured` bytes of payload */
};
_Static_assert(sizeof(struct sonde_data) == 72, "sonde_data layout");

enum sonde_unit_kind {
	SONDE_UNIT_THREAD = 0,	  /* hdr.tid */
	SONDE_UNIT_GOROUTINE = 1, /* unit: the goroutine id (runtime.g.goid) */
};

enum sonde_seq_kind {
	SONDE_SEQ_NONE = 0,
	SONDE_SEQ_TCP = 1,	  /* seq: TCP sequence number of the event's first byte */
	SONDE_SEQ_TLS_RECORD = 2, /* seq: TCP sequence number of the TLS record that
				   * carries the event's first plaintext byte */
};

/*
 * A runtime hook's word on whose request a client call is, for runtimes where
 * the writer of a call is not the execution unit serving the request: the
 * next request written on connection hdr.fd (hdr.conn_gen, or 0 when it is
 * not followed yet) of process hdr.tgid is a child of the request below.
 */
struct sonde_link {
	struct sonde_event_hdr hdr;
	__u64 unit;	 /* SONDE_LINK_UNIT: the unit whose current request it is */
	__u32 server_fd; /* SONDE_LINK_SERVER_FD: the request in flight on this fd,
			  * or SONDE_LINK_NO_REQUEST */
	__u8 kind;	 /* enum sonde_link_kind */
	__u8 unit_kind;	 /* enum sonde_unit_kind, with SONDE_LINK_UNIT */
	__u16 pad;
};
_Static_assert(sizeof(struct sonde_link) == 48, "sonde_link layout");
/* server_fd of a call the hook knows to be made outside any request (after
 * its request's response, or from no request at all): a root by design. */
#define SONDE_LINK_NO_REQUEST 0xffffffffu

/* Unit `child` was started by unit `parent` of process hdr.tgid: while the
 * request `parent` serves at that moment is in flight, child's calls are its
 * children too. */
struct sonde_unit_spawn {
	struct sonde_event_hdr hdr;
	__u64 parent;
	__u64 child;
	__u8 unit_kind; /* enum sonde_unit_kind of both */
	__u8 pad[7];
};
_Static_assert(sizeof(struct sonde_unit_spawn) == 56, "sonde_unit_spawn layout");

enum sonde_link_kind {
	/* Go net/http: the caller goroutine hands the request to the
	 * connection's writer goroutine (persistConn.roundTrip). */
	SONDE_LINK_UNIT = 1,
	/* Node.js: the server connection whose request's asynchronous context
	 * made the call (AsyncLocalStorage, through the injected hook). */
	SONDE_LINK_SERVER_FD = 2,
};

struct sonde_conn_close {
	struct sonde_event_hdr hdr;
};

struct sonde_proc_exit {
	struct sonde_event_hdr hdr;
};

struct sonde_proc_exec {
	struct sonde_event_hdr hdr;
};

/* The classifier looks at a connection's first 8 bytes: up to 7 that came in
 * shorter payloads are kept in its state until the rest come. */
#define SONDE_HEAD_KEPT 7

/* Key of the kernel's connection map. */
struct sonde_conn_key {
	__u32 tgid;
	__u32 fd;
};

/* Value of the kernel's connection map. */
struct sonde_conn_state {
	__u64 gen;
	__u64 moved[2]; /* bytes per enum sonde_dir since classification (stream_pos) */
	/* enum sonde_role. For an fd that is not a TCP socket (is_socket 0):
	 * enum sonde_log_fd, whether its writes are log output. */
	__u8 role;
	__u8 proto;	/* enum sonde_proto */
	__u8 attempts;	/* classification attempts left before giving up */
	__u8 is_socket; /* 1: a TCP socket we follow; 0: not (negative cache) */
	__u8 tls;	/* 1: its syscalls move TLS records; the plaintext comes from uprobes */
	__u8 late;	/* found already open: may be classified mid-stream */
	__u8 upgrading; /* HTTP/1 after a 101: payloads left to show HTTP/2 */
	__u8 head_len;	/* bytes in head: the first payloads were too short to classify */
	/* Those first bytes (fewer than the classifier needs, all one direction),
	 * kept until enough have come to decide; then sent on before the rest. */
	__u8 head[SONDE_HEAD_KEPT];
	__u8 head_dir; /* enum sonde_dir of the bytes in head */
	__u64 head_ts; /* when the first of them moved */
	/* The kernel's struct sock, read for TCP sequence numbers (never
	 * dereferenced but through bpf_probe_read_kernel). For an fd that is
	 * not a TCP socket: the struct file its `role` was decided for. */
	__u64 sk;
};
_Static_assert(sizeof(struct sonde_conn_state) == 56, "sonde_conn_state layout");

/* What writes to an fd 1 or 2 that is not a TCP socket are (the `role` of
 * its sonde_conn_state, decided at its first write: bpf/logs.bpf.h). */
enum sonde_log_fd {
	SONDE_LOG_FD_UNKNOWN = 0,
	SONDE_LOG_FD_YES = 1, /* a terminal, a pipe, a file, a Unix socket … */
	SONDE_LOG_FD_NO = 2,  /* /dev/null: the process discards that output */
};

/* Kernel-side counters, one per-CPU slot each, summed by the agent. */
enum sonde_counter {
	SONDE_CNT_RB_FULL = 0,	   /* events lost: ring buffer full */
	SONDE_CNT_CAPTURE_FAIL,	   /* payload copy from user memory failed */
	SONDE_CNT_CLASSIFY_GIVEUP, /* sockets found to speak no known protocol */
	SONDE_CNT_CONN_MAP_FULL,   /* connection map insert failed */
	SONDE_CNT_FILTER_ADD_FAIL, /* child of a followed process not added */
	SONDE_CNT_TLS_NO_FD,	   /* TLS plaintext whose socket could not be found */
	SONDE_CNT_LOG_LIMITED,	   /* log writes not copied: the process's byte budget was spent */
	SONDE_CNT__MAX,
};

#endif /* SONDE_EVENT_H */
