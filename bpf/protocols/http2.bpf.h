/* SPDX-License-Identifier: MIT */
/* HTTP/2 matcher: the connection preface or a frame header. */
#ifndef SONDE_PROTO_HTTP2_BPF_H
#define SONDE_PROTO_HTTP2_BPF_H

#include "protocols/match.bpf.h"

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

#endif /* SONDE_PROTO_HTTP2_BPF_H */
