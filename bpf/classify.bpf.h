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

/* Role implied by who sends what: the side that reads a request serves it. */
static __always_inline __u8 role_from_shape(enum msg_shape shape, __u8 dir)
{
	bool request = shape == SHAPE_REQUEST;
	bool ingress = dir == SONDE_DIR_INGRESS;

	return request == ingress ? SONDE_ROLE_SERVER : SONDE_ROLE_CLIENT;
}

/* Sets *proto and, when still unknown, *role. Returns false if the bytes
 * belong to no protocol sonde parses. */
static __always_inline bool classify(const __u8 *b, __u32 len, __u8 dir, __u8 *proto, __u8 *role)
{
	enum msg_shape shape = http1_shape(b, len);

	if (shape == SHAPE_NONE)
		return false;
	*proto = SONDE_PROTO_HTTP1;
	if (*role == SONDE_ROLE_UNKNOWN)
		*role = role_from_shape(shape, dir);
	return true;
}

#endif /* SONDE_CLASSIFY_BPF_H */
