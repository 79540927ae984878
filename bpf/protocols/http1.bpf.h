/* SPDX-License-Identifier: MIT */
/* HTTP/1.x matcher: a request line or a status line. */
#ifndef SONDE_PROTO_HTTP1_BPF_H
#define SONDE_PROTO_HTTP1_BPF_H

#include "protocols/match.bpf.h"

enum msg_shape {
	SHAPE_NONE = 0,
	SHAPE_REQUEST = 1,
	SHAPE_RESPONSE = 2,
};

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

/* Role implied by who sends what: the side that reads a request serves it. */
static __always_inline __u8 role_from_shape(enum msg_shape shape, __u8 dir)
{
	bool request = shape == SHAPE_REQUEST;
	bool ingress = dir == SONDE_DIR_INGRESS;

	return request == ingress ? SONDE_ROLE_SERVER : SONDE_ROLE_CLIENT;
}

/* "HTTP/1.1 101": a response switching protocols (to h2c, or a WebSocket). */
static __always_inline bool is_switching_response(const __u8 *b)
{
	return starts_with4(b, 'H', 'T', 'T', 'P') && starts_with4(b + 4, '/', '1', '.', '1') &&
	       starts_with4(b + 8, ' ', '1', '0', '1');
}

#endif /* SONDE_PROTO_HTTP1_BPF_H */
