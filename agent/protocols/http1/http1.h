/* SPDX-License-Identifier: MIT */
/*
 * Incremental HTTP/1.x parser for one direction of one connection.
 *
 * Pure: bytes in, callbacks out; no I/O, no globals. It is fed what the
 * kernel captured of each syscall: a prefix of `captured` bytes out of the
 * `total` bytes the syscall moved. Bytes past the prefix are never seen, so
 * body framing is tracked by counting (Content-Length, chunk sizes) and, when
 * the framing itself falls in an unseen gap, the parser says so (lost sync)
 * and re-synchronises on the next chunk that starts with a start line.
 *
 * Memory per parser is a few dozen bytes while idle; a buffer is allocated only
 * while a message head spans several syscalls, and freed when it completes.
 */
#ifndef SONDE_PROTO_HTTP1_H
#define SONDE_PROTO_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest message head (start line + headers) kept across syscalls. A longer
 * head is handled as truncated. */
#define HTTP1_MAX_HEAD 16384

enum http1_kind {
	HTTP1_REQUEST = 0,
	HTTP1_RESPONSE = 1,
};

/* A view into bytes owned by the parser or the caller; not NUL-terminated.
 * Valid only during the callback that receives it. */
struct http1_str {
	const char *ptr;
	size_t len;
};

struct http1_head {
	enum http1_kind kind;
	uint8_t version_minor;	 /* HTTP/1.<minor> */
	struct http1_str method; /* requests */
	struct http1_str target; /* requests: request-target as sent */
	uint16_t status;	 /* responses */
	/* Header values with surrounding whitespace removed; len 0 if absent. */
	struct http1_str host;
	struct http1_str user_agent;
	struct http1_str traceparent;
	struct http1_str content_type;
	int64_t content_length; /* -1 if absent or invalid */
	bool chunked;		/* Transfer-Encoding ends in chunked */
	bool connection_close;	/* Connection: close */
	bool upgrade;		/* Upgrade header present */
	bool upgrade_h2c;	/* Upgrade lists h2c: HTTP/2 over cleartext (RFC 7540 §3.2) */
	bool expect_continue;	/* Expect: 100-continue */
	/* The capture ended inside the head: fields after the cut are missing and
	 * the body framing is unknown. */
	bool truncated;
	uint32_t head_bytes; /* bytes of start line and headers, CRLFs included,
			      * when known (not truncated) */
	uint64_t begin_ts;   /* ts of the feed that carried the first byte */
	/* Where the first byte sits in the TCP stream (enum span_exchange_kind;
	 * 0: unknown), from the feed_seq the caller gave the parser. */
	uint32_t begin_seq;
	uint8_t begin_seq_kind;
};

enum http1_end_flags {
	HTTP1_END_CLOSE_DELIMITED = 1u << 0, /* body ran until the connection closed */
	HTTP1_END_LOST_SYNC = 1u << 1,	     /* framing was lost; sizes are estimates */
	HTTP1_END_ABORTED = 1u << 2,	     /* connection closed before the message ended */
	HTTP1_END_FLUSHED = 1u << 3,	     /* ended by http1_parser_flush() */
};

struct http1_end {
	uint64_t body_bytes; /* wire bytes after the head (chunk framing included) */
	uint64_t end_ts;     /* ts of the feed that carried the last byte */
	uint32_t flags;	     /* enum http1_end_flags */
};

/* Returned by on_head for a response whose request means it has no body. */
#define HTTP1_HEAD_NO_BODY 1
/* Returned by on_head for a response that switches the connection to another
 * protocol (CONNECT 2xx); the parser then ignores all further bytes. */
#define HTTP1_HEAD_TUNNEL 2

struct http1_callbacks {
	/* A complete head was parsed (or a truncated one, see head->truncated).
	 * For responses the return value may be HTTP1_HEAD_NO_BODY (the request
	 * was HEAD) or HTTP1_HEAD_TUNNEL; otherwise 0. */
	int (*on_head)(void *ctx, const struct http1_head *head);
	/* The message whose head was last reported has ended. */
	void (*on_end)(void *ctx, const struct http1_end *end);
};

enum http1_state {
	HTTP1_S_IDLE = 0,	 /* between messages */
	HTTP1_S_HEAD,		 /* inside a head that spans syscalls (buffered) */
	HTTP1_S_BODY_LENGTH,	 /* Content-Length body: body_left bytes to go */
	HTTP1_S_CHUNK_SIZE,	 /* reading a chunk-size line */
	HTTP1_S_CHUNK_DATA,	 /* inside chunk data: body_left bytes to go */
	HTTP1_S_CHUNK_DATA_CRLF, /* the CRLF after chunk data */
	HTTP1_S_TRAILERS,	 /* trailer section after the last chunk */
	HTTP1_S_UNTIL_CLOSE,	 /* close-delimited body */
	HTTP1_S_LOST_SYNC,	 /* framing unknown: counting bytes until a start line */
	HTTP1_S_GARBAGE,	 /* bytes are not HTTP/1: skipping until a start line */
	HTTP1_S_UPGRADED,	 /* 101 or tunnel: not HTTP/1 any more */
};

struct http1_parser {
	enum http1_kind kind;
	enum http1_state state;
	bool in_message;     /* a head was reported and its end not yet */
	uint64_t body_left;  /* bytes left in the current length or chunk */
	uint64_t body_bytes; /* wire bytes of the current body so far */
	uint64_t last_ts;    /* ts of the last feed that carried bytes of the message */
	uint64_t head_ts;    /* ts of the feed that carried the head's first byte */
	/* Set by the caller before each feed: where the feed's first byte sits
	 * in the TCP stream (kind 0: unknown). */
	uint32_t feed_seq;
	uint8_t feed_seq_kind;
	uint32_t head_seq; /* ... and the head's first byte */
	uint8_t head_seq_kind;
	char *buf; /* partial head or partial chunk line, malloc'd */
	uint32_t buf_len;
	uint32_t buf_cap;
	uint32_t errors; /* garbage or framing errors seen */
	/* In the last feed: where the bytes after a head that switched protocols
	 * (101) begin; SIZE_MAX when no switch happened in it. */
	size_t upgraded_at;
};

void http1_parser_init(struct http1_parser *p, enum http1_kind kind);
void http1_parser_free(struct http1_parser *p);

/*
 * Feeds one syscall's bytes: `data` holds the first `captured` of `total`
 * bytes. Calls cb->on_head / cb->on_end for every message that starts or ends
 * in them (pipelined messages included).
 * Returns 0, or -EBADMSG when the bytes are not HTTP/1 (the parser then skips
 * input until a chunk starts with a start line; errors is incremented).
 */
int http1_parser_feed(struct http1_parser *p, const uint8_t *data, size_t captured, uint64_t total,
		      uint64_t ts, const struct http1_callbacks *cb, void *ctx);

/* The connection closed: ends a close-delimited body (CLOSE_DELIMITED), or
 * ends an unfinished message (ABORTED). */
void http1_parser_close(struct http1_parser *p, uint64_t ts, const struct http1_callbacks *cb,
			void *ctx);

/* Ends a message whose framing was lost (LOST_SYNC state) at the last byte seen;
 * used when the other direction shows the exchange is over. No-op otherwise. */
void http1_parser_flush(struct http1_parser *p, const struct http1_callbacks *cb, void *ctx);

/* Stops parsing for good (the connection switched protocols). */
void http1_parser_upgrade(struct http1_parser *p);

/* Whether bytes look like the start of an HTTP/1 message of this kind: a known
 * method and a space for requests, "HTTP/1." for responses. Needs at least
 * the first few bytes. */
bool http1_looks_like_start(enum http1_kind kind, const uint8_t *data, size_t len);

#endif /* SONDE_PROTO_HTTP1_H */
