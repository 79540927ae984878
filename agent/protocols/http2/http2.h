/* SPDX-License-Identifier: MIT */
/*
 * Incremental HTTP/2 frame parser (RFC 9113) for one direction of one
 * connection: the client connection preface, frame headers, header blocks
 * reassembled from HEADERS (or PUSH_PROMISE) and CONTINUATION frames with
 * padding and priority fields removed, DATA lengths, RST_STREAM, GOAWAY and
 * SETTINGS.
 *
 * Pure: bytes in, callbacks out; no I/O, no globals. Like the HTTP/1 parser it
 * is fed what the kernel captured of each syscall, a prefix of `captured` out
 * of `total` bytes. Bytes that went by unseen inside a DATA payload only count;
 * anywhere else they cost the frame (a header block reported as lost) or, past
 * the frame's end, the frame boundaries: the parser then waits for a feed that
 * starts with a plausible frame header (a syscall usually starts a frame) and
 * tells the caller, whose header decompression can no longer trust its state.
 * A parser for a connection already under way starts that way too.
 */
#ifndef SONDE_PROTO_HTTP2_H
#define SONDE_PROTO_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H2_FRAME_HEADER_LEN 9
#define H2_PREFACE_LEN	    24
/* SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2). */
#define H2_DEFAULT_MAX_FRAME 16384
/* Longest header block kept for decompression; a longer one is lost. */
#define H2_MAX_BLOCK (64 * 1024)

enum h2_frame_type {
	H2_DATA = 0,
	H2_HEADERS = 1,
	H2_PRIORITY = 2,
	H2_RST_STREAM = 3,
	H2_SETTINGS = 4,
	H2_PUSH_PROMISE = 5,
	H2_PING = 6,
	H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8,
	H2_CONTINUATION = 9,
};

enum h2_flags {
	H2_F_END_STREAM = 0x1, /* DATA, HEADERS; ACK on SETTINGS and PING */
	H2_F_END_HEADERS = 0x4,
	H2_F_PADDED = 0x8,
	H2_F_PRIORITY = 0x20,
};

enum h2_settings_id {
	H2_SETTINGS_HEADER_TABLE_SIZE = 1,
	H2_SETTINGS_MAX_FRAME_SIZE = 5,
};

/* A complete header block, or what is known of one that was not fully seen. */
struct h2_block {
	uint32_t stream;
	uint32_t promised; /* PUSH_PROMISE: the stream it reserves; else 0 */
	bool end_stream;   /* HEADERS carried END_STREAM */
	bool lost;	   /* bytes of the block went unseen: block/len are not usable */
	const uint8_t *block;
	size_t len;
	uint64_t begin_ts; /* feed that carried the first byte of the HEADERS frame */
	uint64_t end_ts;   /* feed that completed the block */
};

struct h2_callbacks {
	void (*on_block)(void *ctx, const struct h2_block *b);
	/* A DATA frame ended: `bytes` of data (padding excluded). */
	void (*on_data)(void *ctx, uint32_t stream, uint64_t bytes, bool end_stream, uint64_t ts);
	void (*on_rst_stream)(void *ctx, uint32_t stream, uint32_t error_code, uint64_t ts);
	void (*on_goaway)(void *ctx, uint32_t last_stream, uint32_t error_code, uint64_t ts);
	/* One parameter of a SETTINGS frame that is not an ACK. */
	void (*on_setting)(void *ctx, uint16_t id, uint32_t value);
	/* Frame boundaries were lost (bytes unseen past a frame's end, or bytes that
	 * are not HTTP/2); blocks may have gone by unseen. Also called when the
	 * parser finds its footing again, with resync true. */
	void (*on_sync)(void *ctx, bool resync);
};

enum h2_state {
	H2_S_START = 0, /* first bytes of the direction: maybe the client preface */
	H2_S_PREFACE,	/* inside the preface */
	H2_S_HEADER,	/* reading a 9-byte frame header */
	H2_S_PAYLOAD,
	H2_S_LOST, /* frame boundaries unknown: waiting for a plausible frame */
};

struct h2_parser {
	enum h2_state state;
	uint8_t hdr[H2_FRAME_HEADER_LEN];
	uint8_t hdr_len;
	uint8_t preface_len; /* preface bytes matched so far */
	bool saw_preface;    /* this direction began with the client preface */
	bool saw_start;	     /* the first frame was in sync from the direction's start */
	bool first_settings; /* and it was a SETTINGS frame (the server's preface) */
	/* Current frame. */
	uint8_t type, flags;
	uint32_t len, stream;
	uint32_t left;	   /* payload bytes still to come */
	uint32_t pad;	   /* DATA: padding length, once its byte was seen */
	bool pad_known;	   /* DATA: the pad-length byte was seen (or there is none) */
	bool cut;	   /* bytes of this frame's payload went unseen */
	uint64_t frame_ts; /* feed that carried the frame header's first byte */
	uint8_t ctrl[64];  /* control frame payload (a prefix of it) */
	uint32_t ctrl_len;
	/* Header block in assembly. */
	bool in_block;
	bool block_lost;
	uint8_t block_type; /* H2_HEADERS or H2_PUSH_PROMISE */
	bool block_end_stream;
	uint32_t block_stream, block_promised;
	uint64_t block_ts;
	uint8_t *block;
	uint32_t block_len, block_cap;
	uint32_t max_frame; /* largest frame the receiver allows (its SETTINGS) */
	uint64_t frames;
	uint64_t sync_losses;
};

/* start: the direction is seen from its first byte (else it begins lost). */
void h2_parser_init(struct h2_parser *p, bool start);
void h2_parser_free(struct h2_parser *p);

/* One syscall's bytes: data holds the first `captured` of `total` bytes. */
void h2_parser_feed(struct h2_parser *p, const uint8_t *data, size_t captured, uint64_t total,
		    uint64_t ts, const struct h2_callbacks *cb, void *ctx);

/* Whether a frame header at b (at least 9 bytes) is one a peer could send:
 * a known type, flags and length that type allows, the stream it needs. */
bool h2_frame_plausible(const uint8_t *b, uint32_t max_frame);

/* Whether bytes begin (or, when shorter, could begin) the client preface. */
bool h2_is_preface(const uint8_t *b, size_t len);

#endif /* SONDE_PROTO_HTTP2_H */
