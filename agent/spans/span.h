/* SPDX-License-Identifier: MIT */
/* A finished request/response exchange, as every output sees it. */
#ifndef SONDE_SPAN_H
#define SONDE_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAN_METHOD_LEN	     16
#define SPAN_TARGET_LEN	     512
#define SPAN_HOST_LEN	     256
#define SPAN_UA_LEN	     256
#define SPAN_TRACEPARENT_LEN 64
#define SPAN_COMM_LEN	     16
/* Database spans (struct span_db). The query buffer bounds the db.query.text
 * cap a user can set: 2 KiB, which is also the default. */
#define SPAN_DB_QUERY_LEN      2049
#define SPAN_DB_OPERATION_LEN  32
#define SPAN_DB_COLLECTION_LEN 128
#define SPAN_DB_NAMESPACE_LEN  128
#define SPAN_DB_STATUS_LEN     16

enum span_kind {
	SPAN_SERVER = 0,
	SPAN_CLIENT = 1,
};

enum span_flags {
	SPAN_F_HEAD_TRUNCATED = 1u << 0,     /* capture ended inside a message head */
	SPAN_F_LOST_SYNC = 1u << 1,	     /* body framing lost: size and end are estimates */
	SPAN_F_TARGET_TRUNCATED = 1u << 2,   /* target longer than SPAN_TARGET_LEN - 1 */
	SPAN_F_NO_RESPONSE = 1u << 3,	     /* connection ended before a response */
	SPAN_F_TLS = 1u << 4,		     /* seen as plaintext through a TLS library */
	SPAN_F_GRPC = 1u << 5,		     /* a gRPC call (content-type application/grpc) */
	SPAN_F_GRPC_STATUS = 1u << 6,	     /* grpc_status holds the call's status */
	SPAN_F_STATUS_UNKNOWN = 1u << 7,     /* a response came, its status could not be decoded */
	SPAN_F_RESET = 1u << 8,		     /* HTTP/2 stream reset (RST_STREAM, GOAWAY) */
	SPAN_F_DB = 1u << 9,		     /* a database command: the db fields hold it */
	SPAN_F_DB_ERROR = 1u << 10,	     /* the database answered with an error */
	SPAN_F_QUERY_TRUNCATED = 1u << 11,   /* db.query.text was cut at the cap */
	SPAN_F_TRACE_FROM_HEADER = 1u << 12, /* its trace came with a traceparent:
					      * trace_flags are the caller's */
};

/* db.system.name values (OpenTelemetry database semantic conventions). */
enum span_db_system {
	SPAN_DB_NONE = 0,
	SPAN_DB_POSTGRESQL,
	SPAN_DB_MYSQL,
	SPAN_DB_MARIADB,
	SPAN_DB_REDIS,
};

/* A database command (with SPAN_F_DB). Strings are NUL-terminated; "" when
 * unknown. The query text is already what may be exported: sanitised (or
 * raw, or empty) as configured, never with bound parameter values. */
struct span_db {
	uint8_t system;				 /* enum span_db_system */
	char operation[SPAN_DB_OPERATION_LEN];	 /* db.operation.name */
	char collection[SPAN_DB_COLLECTION_LEN]; /* db.collection.name */
	char name_space[SPAN_DB_NAMESPACE_LEN];	 /* db.namespace */
	char status_code[SPAN_DB_STATUS_LEN];	 /* db.response.status_code */
	int64_t returned_rows;			 /* -1 when the protocol did not tell */
	char query[SPAN_DB_QUERY_LEN];		 /* db.query.text */
};

/* How a span's parent was found (docs/ARCHITECTURE.md, "Request context"). */
enum span_link {
	SPAN_LINK_ROOT = 0,   /* none: the span starts a trace */
	SPAN_LINK_HEADER,     /* the caller's traceparent header */
	SPAN_LINK_CONNECTION, /* the client span at the other end of the connection */
	SPAN_LINK_THREAD,     /* the thread that made the call serves that request */
	SPAN_LINK_GOROUTINE,  /* so does the goroutine */
	SPAN_LINK_SPAWN,      /* a goroutine started by the one serving the request */
	SPAN_LINK_HANDOFF,    /* the caller handed the call to a writer (Go net/http) */
	SPAN_LINK_ASYNC,      /* the request's asynchronous context (Node.js) */
	SPAN_LINK__COUNT,
};

/* Where an exchange starts, the same number at both ends of a connection, so
 * that a server span finds the client span of the same request. */
enum span_exchange_kind {
	SPAN_EXCHANGE_NONE = 0,
	SPAN_EXCHANGE_TCP_SEQ,	  /* TCP sequence number of the request's first byte */
	SPAN_EXCHANGE_TLS_RECORD, /* ... of the TLS record that carries it */
	SPAN_EXCHANGE_H2_STREAM,  /* HTTP/2 stream id */
};

struct span_endpoint {
	uint16_t family; /* AF_INET, AF_INET6, or 0 when unknown */
	uint16_t port;
	uint8_t addr[16]; /* network byte order */
};

struct span {
	enum span_kind kind;
	uint32_t pid;
	char comm[SPAN_COMM_LEN];
	uint64_t start_ns; /* wall clock, ns since the Unix epoch */
	uint64_t end_ns;
	uint16_t status;       /* 0 when there was no response */
	uint8_t version_major; /* 1, or 2 for HTTP/2 (0 is read as 1) */
	uint8_t version_minor; /* HTTP/1.<minor> */
	uint64_t request_body_bytes;
	uint64_t response_body_bytes;
	struct span_endpoint local;
	struct span_endpoint peer;
	uint32_t flags;	     /* enum span_flags */
	uint32_t stream_id;  /* HTTP/2 stream; 0 for HTTP/1 */
	uint8_t grpc_status; /* with SPAN_F_GRPC_STATUS */
	/* Identity, from core/linker.c: set when the exchange begins (span_id)
	 * and when it is handed out (trace_id, parent_span_id). */
	uint8_t link;	       /* enum span_link */
	uint8_t trace_flags;   /* W3C flags of a traceparent parent */
	uint8_t exchange_kind; /* enum span_exchange_kind */
	uint32_t exchange;     /* with exchange_kind */
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* zero for a root */
	/* What the protocol says of the exchange: HTTP's request head, or a
	 * database command (SPAN_F_DB); never both, so they share the room. */
	union {
		struct {
			char method[SPAN_METHOD_LEN];
			char target[SPAN_TARGET_LEN]; /* request-target: path and query */
			char host[SPAN_HOST_LEN];     /* Host header, as sent */
			char user_agent[SPAN_UA_LEN];
			char traceparent[SPAN_TRACEPARENT_LEN];
		};
		struct span_db db;
	};
};

/* Error status by the semantic conventions: 5xx for servers, 4xx and 5xx for
 * clients, and any exchange without a response. gRPC calls go by their
 * status: the server-side failures for servers, any non-OK code for clients. */
bool span_is_error(const struct span *s);

/* For gRPC calls with a path of the form /package.Service/Method: the two
 * parts (views into s->target). */
bool span_rpc_parts(const struct span *s, const char **service, size_t *service_len,
		    const char **method, size_t *method_len);

/* A database span's name (the conventions' {db.operation.name}
 * {db.collection.name}, the operation alone, or the system): written to buf,
 * cut to fit; returns its length. */
#define SPAN_DB_NAME_LEN (SPAN_DB_OPERATION_LEN + SPAN_DB_COLLECTION_LEN)
size_t span_db_name(const struct span *s, char *buf, size_t len);

/* db.system.name: "postgresql", "mysql", "mariadb", "redis". */
const char *span_db_system_name(uint8_t system);

/* Length of the path part of the target (up to '?' or '#'); 0 for database
 * spans. */
size_t span_path_len(const struct span *s);

/* The query part after '?', or NULL (always for database spans). */
const char *span_query(const struct span *s);

/* Text from traffic into a span field: made valid UTF-8 here, once, so every
 * output gets valid text (bad bytes become U+FFFD), cut at a character to fit
 * cap. Returns whether it was cut. */
bool span_set_text(char *dst, size_t cap, const char *src, size_t n);

/* http.request.method: the method, or "_OTHER" when it could not be decoded
 * (the HTTP conventions' value for an unknown method). */
const char *span_method(const struct span *s);

/* Whether s[0..n) is an HTTP token (RFC 9110 §5.6.2), as a method must be. */
bool span_is_token(const char *s, size_t n);

/* n bytes as lowercase hex into out (2n + 1 bytes). */
void span_hex(const uint8_t *b, size_t n, char *out);

/* "root", "header", "connection", "thread", "goroutine", "spawn", "handoff",
 * "async": how the span's parent was found (sonde.link). */
const char *span_link_name(uint8_t link);

/* Whether the span has a parent (its parent span id is not zero). */
bool span_has_parent(const struct span *s);

/* Writes "addr" for an endpoint (IPv4-mapped IPv6 shown as IPv4). */
void span_endpoint_addr(const struct span_endpoint *e, char *buf, size_t len);

/* Splits a Host header value into host and port ("[::1]:8080", "a.example:81",
 * "a.example"). *port is 0 when absent or out of range. Returns the host length. */
size_t span_split_host(const char *host, const char **start, uint16_t *port);

#endif /* SONDE_SPAN_H */
