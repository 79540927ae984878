/* SPDX-License-Identifier: MIT */
/*
 * Protocol classification from the first bytes of a connection. Only decides
 * which parser the agent should use; parsing happens in userspace. To add a
 * protocol: a matcher below, a case in classify(), a value in enum sonde_proto.
 */
#ifndef SONDE_CLASSIFY_BPF_H
#define SONDE_CLASSIFY_BPF_H

#include "sonde_event.h"

/* Bytes the classifier looks at. */
#define CLASSIFY_BYTES 8

enum msg_shape {
	SHAPE_NONE = 0,
	SHAPE_REQUEST = 1,
	SHAPE_RESPONSE = 2,
};

static __always_inline bool starts_with4(const __u8 *b, char c0, char c1, char c2, char c3)
{
	return b[0] == c0 && b[1] == c1 && b[2] == c2 && b[3] == c3;
}

/* HTTP/1.x: a request line starts with a method and a space (RFC 9110 §9),
 * a status line with "HTTP/1.". Eight bytes are enough to tell. */
static __always_inline enum msg_shape http1_shape(const __u8 *b, __u32 len)
{
	if (len < CLASSIFY_BYTES)
		return SHAPE_NONE;
	if (starts_with4(b, 'H', 'T', 'T', 'P') && b[4] == '/' && b[5] == '1' && b[6] == '.')
		return SHAPE_RESPONSE;
	if (starts_with4(b, 'G', 'E', 'T', ' ') || starts_with4(b, 'P', 'U', 'T', ' '))
		return SHAPE_REQUEST;
	if (starts_with4(b, 'P', 'O', 'S', 'T') && b[4] == ' ')
		return SHAPE_REQUEST;
	if (starts_with4(b, 'H', 'E', 'A', 'D') && b[4] == ' ')
		return SHAPE_REQUEST;
	if (starts_with4(b, 'P', 'A', 'T', 'C') && b[4] == 'H' && b[5] == ' ')
		return SHAPE_REQUEST;
	if (starts_with4(b, 'D', 'E', 'L', 'E') && b[4] == 'T' && b[5] == 'E' && b[6] == ' ')
		return SHAPE_REQUEST;
	if (starts_with4(b, 'O', 'P', 'T', 'I') && b[4] == 'O' && b[5] == 'N' && b[6] == 'S')
		return SHAPE_REQUEST;
	if (starts_with4(b, 'C', 'O', 'N', 'N') && b[4] == 'E' && b[5] == 'C' && b[6] == 'T')
		return SHAPE_REQUEST;
	if (starts_with4(b, 'T', 'R', 'A', 'C') && b[4] == 'E' && b[5] == ' ')
		return SHAPE_REQUEST;
	return SHAPE_NONE;
}

/* HTTP/2 (RFC 9113), from 8 bytes: the client connection preface (§3.4),
 * a SETTINGS frame header (the server's preface, or either side's first
 * frame), or for a connection found already open any frame header a peer could
 * send. Frame headers are 9 bytes: the last byte of the stream id is unseen. */
enum h2_shape {
	H2_NONE = 0,
	H2_PREFACE,  /* "PRI * HT": written by the client */
	H2_SETTINGS, /* a non-ACK SETTINGS frame */
	H2_FRAME,    /* another plausible frame header */
};

static __always_inline enum h2_shape h2_shape(const __u8 *b)
{
	__u32 len = (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
	bool stream0 = b[5] == 0 && b[6] == 0 && b[7] == 0; /* as far as seen */
	__u8 type = b[3], flags = b[4];

	if (starts_with4(b, 'P', 'R', 'I', ' ') && starts_with4(b + 4, '*', ' ', 'H', 'T'))
		return H2_PREFACE;
	/* Reserved bit unset; no larger than the default SETTINGS_MAX_FRAME_SIZE. */
	if ((b[5] & 0x80) || len > 16384)
		return H2_NONE;
	switch (type) {
	case 0: /* DATA */
		return flags & ~0x09 ? H2_NONE : H2_FRAME;
	case 1: /* HEADERS */
		return flags & ~0x2d ? H2_NONE : H2_FRAME;
	case 3: /* RST_STREAM */
		return len == 4 && !flags ? H2_FRAME : H2_NONE;
	case 4: /* SETTINGS */
		if (!stream0 || len % 6)
			return H2_NONE;
		if (flags == 0)
			return H2_SETTINGS;
		return flags == 1 && len == 0 ? H2_FRAME : H2_NONE;
	case 6: /* PING */
		return stream0 && len == 8 && flags <= 1 ? H2_FRAME : H2_NONE;
	case 7: /* GOAWAY */
		return stream0 && len >= 8 && !flags ? H2_FRAME : H2_NONE;
	case 8: /* WINDOW_UPDATE */
		return len == 4 && !flags ? H2_FRAME : H2_NONE;
	}
	return H2_NONE;
}

/* Role implied by who sends what: the side that reads a request serves it. */
static __always_inline __u8 role_from_shape(enum msg_shape shape, __u8 dir)
{
	bool request = shape == SHAPE_REQUEST;
	bool ingress = dir == SONDE_DIR_INGRESS;

	return request == ingress ? SONDE_ROLE_SERVER : SONDE_ROLE_CLIENT;
}

/* HTTP/2 from its first bytes; mid_stream also accepts any frame (a
 * connection found already open, or one that just switched from HTTP/1.1). */
static __always_inline bool classify_h2(const __u8 *b, __u8 dir, bool mid_stream, __u8 *role)
{
	enum h2_shape shape = h2_shape(b);

	if (shape == H2_NONE || (shape == H2_FRAME && !mid_stream))
		return false;
	/* Only the preface tells who is who: the client writes it. */
	if (shape == H2_PREFACE && *role == SONDE_ROLE_UNKNOWN)
		*role = dir == SONDE_DIR_EGRESS ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER;
	return true;
}

/* Sets *proto and, when still unknown, *role. Returns false if the bytes
 * belong to no protocol sonde parses. late: the socket was found already open,
 * possibly in the middle of an HTTP/2 connection. */
static __always_inline bool classify(const __u8 *b, __u32 len, __u8 dir, bool late, __u8 *proto,
				     __u8 *role)
{
	enum msg_shape shape = http1_shape(b, len);

	if (len < CLASSIFY_BYTES)
		return false;
	if (shape == SHAPE_NONE) {
		if (!classify_h2(b, dir, late, role))
			return false;
		*proto = SONDE_PROTO_HTTP2;
		return true;
	}
	*proto = SONDE_PROTO_HTTP1;
	if (*role == SONDE_ROLE_UNKNOWN)
		*role = role_from_shape(shape, dir);
	return true;
}

/* "HTTP/1.1 101": a response switching protocols (to h2c, or a WebSocket). */
static __always_inline bool is_switching_response(const __u8 *b)
{
	return starts_with4(b, 'H', 'T', 'T', 'P') && starts_with4(b + 4, '/', '1', '.', '1') &&
	       starts_with4(b + 8, ' ', '1', '0', '1');
}

#endif /* SONDE_CLASSIFY_BPF_H */
