/* SPDX-License-Identifier: MIT */
/*
 * One direction of a PostgreSQL connection cut into messages: bytes arrive
 * in pieces of any size (a message split across syscalls, many in one), some
 * not captured or never seen; each message is handed over whole, with the
 * prefix of its body the session asked to keep. Framing follows the length
 * fields, so bytes not captured inside a message are skipped exactly; when a
 * header itself is missed or implausible the stream is lost until the session
 * finds a boundary again (pg_stream_resync). Pure code.
 */
#ifndef SONDE_PG_STREAM_H
#define SONDE_PG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/postgres/pg_wire.h"

/* How the next message is framed. */
enum pg_frame {
	PG_FRAME_TYPED = 0, /* type byte, int32 length */
	PG_FRAME_STARTUP,   /* int32 length, body starting with an int32 code */
	PG_FRAME_BYTE,	    /* a single byte: the answer to SSLRequest or GSSENCRequest */
};

struct pg_msg {
	uint8_t type;	     /* 0 for the start-up family; the byte itself for PG_FRAME_BYTE */
	uint32_t len;	     /* body bytes (the length field less its own 4) */
	struct pg_body body; /* the kept prefix of the body */
	bool cut;	     /* the body is longer than kept, or kept bytes were not captured */
	uint64_t ts;	     /* when its first byte moved */
};

struct pg_stream_ops {
	enum pg_frame (*frame)(void *ctx);
	/* How many body bytes to keep of a message with this header. */
	uint32_t (*keep)(void *ctx, uint8_t type, uint32_t len);
	bool (*plausible)(uint8_t type, uint32_t len);
	void (*message)(void *ctx, const struct pg_msg *m);
};

struct pg_stream {
	uint8_t head[5];
	uint8_t head_len; /* header bytes collected */
	uint8_t head_size;
	bool in_body;
	uint8_t type;
	uint32_t body_len, body_done;
	uint32_t keep, kept;
	bool cut;
	uint64_t ts;
	uint8_t *buf;
	uint32_t cap;
	bool lost;	/* framing lost: bytes are ignored until pg_stream_resync */
	bool garbage;	/* the last loss was an implausible header, not a gap */
	uint64_t moved; /* bytes consumed while in sync */
};

/* Captured bytes. */
void pg_stream_bytes(struct pg_stream *s, const struct pg_stream_ops *ops, void *ctx,
		     const uint8_t *p, size_t n, uint64_t ts);
/* Bytes that moved but were not captured (or never seen): a message whose
 * body ends among them is handed over, marked cut. */
void pg_stream_skip(struct pg_stream *s, const struct pg_stream_ops *ops, void *ctx, uint64_t n);
/* A message boundary is here: framing starts afresh. */
void pg_stream_resync(struct pg_stream *s);
/* The stream's message in progress is dropped and framing lost. */
void pg_stream_lose(struct pg_stream *s);
/* Whether a message is partly read (its header or body). */
static inline bool pg_stream_mid_message(const struct pg_stream *s)
{
	return s->head_len || s->in_body;
}
void pg_stream_free(struct pg_stream *s);

/*
 * Whether p[0..n) starts at a message boundary: a chain of plausible typed
 * headers, the last message complete at n or running past it. *end gets where
 * the chain's last complete message ends.
 */
bool pg_chain_plausible(const uint8_t *p, size_t n, bool (*plausible)(uint8_t, uint32_t),
			size_t *end);

#endif /* SONDE_PG_STREAM_H */
