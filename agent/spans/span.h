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

enum span_kind {
	SPAN_SERVER = 0,
	SPAN_CLIENT = 1,
};

enum span_flags {
	SPAN_F_HEAD_TRUNCATED = 1u << 0,   /* capture ended inside a message head */
	SPAN_F_LOST_SYNC = 1u << 1,	   /* body framing lost: size and end are estimates */
	SPAN_F_TARGET_TRUNCATED = 1u << 2, /* target longer than SPAN_TARGET_LEN - 1 */
	SPAN_F_NO_RESPONSE = 1u << 3,	   /* connection ended before a response */
	SPAN_F_TLS = 1u << 4,		   /* seen as plaintext through a TLS library */
	SPAN_F_GRPC = 1u << 5,		   /* a gRPC call (content-type application/grpc) */
	SPAN_F_GRPC_STATUS = 1u << 6,	   /* grpc_status holds the call's status */
	SPAN_F_STATUS_UNKNOWN = 1u << 7,   /* a response came, its status could not be decoded */
	SPAN_F_RESET = 1u << 8,		   /* HTTP/2 stream reset (RST_STREAM, GOAWAY) */
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
	char method[SPAN_METHOD_LEN];
	char target[SPAN_TARGET_LEN]; /* request-target: path and query */
	uint16_t status;	      /* 0 when there was no response */
	uint8_t version_major;	      /* 1, or 2 for HTTP/2 (0 is read as 1) */
	uint8_t version_minor;	      /* HTTP/1.<minor> */
	uint64_t request_body_bytes;
	uint64_t response_body_bytes;
	struct span_endpoint local;
	struct span_endpoint peer;
	char host[SPAN_HOST_LEN]; /* Host header, as sent */
	char user_agent[SPAN_UA_LEN];
	char traceparent[SPAN_TRACEPARENT_LEN];
	uint32_t flags;	     /* enum span_flags */
	uint32_t stream_id;  /* HTTP/2 stream; 0 for HTTP/1 */
	uint8_t grpc_status; /* with SPAN_F_GRPC_STATUS */
};

/* Error status by the semantic conventions: 5xx for servers, 4xx and 5xx for
 * clients, and any exchange without a response. gRPC calls go by their
 * status: the server-side failures for servers, any non-OK code for clients. */
bool span_is_error(const struct span *s);

/* For gRPC calls with a path of the form /package.Service/Method: the two
 * parts (views into s->target). */
bool span_rpc_parts(const struct span *s, const char **service, size_t *service_len,
		    const char **method, size_t *method_len);

/* Length of the path part of the target (up to '?' or '#'). */
size_t span_path_len(const struct span *s);

/* The query part after '?', or NULL. */
const char *span_query(const struct span *s);

/* Writes "addr" for an endpoint (IPv4-mapped IPv6 shown as IPv4). */
void span_endpoint_addr(const struct span_endpoint *e, char *buf, size_t len);

/* Splits a Host header value into host and port ("[::1]:8080", "a.example:81",
 * "a.example"). *port is 0 when absent or out of range. Returns the host length. */
size_t span_split_host(const char *host, const char **start, uint16_t *port);

#endif /* SONDE_SPAN_H */
