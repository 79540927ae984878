/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL matcher (frontend/backend protocol 3): the messages a client
 * sends first, which have no type byte — an int32 length and an int32 code:
 * StartupMessage (protocol 3.x), SSLRequest, GSSENCRequest, CancelRequest.
 * Eight bytes are exactly those two fields. The side that writes one is the
 * client.
 *
 * A connection found already open shows a typed frontend message instead (a
 * type letter, then an int32 length): taken only with a second sign
 * (pg_confirm in sonde.bpf.c), since five bytes of a letter and a length
 * are common in binary data.
 */
#ifndef SONDE_PROTO_POSTGRES_BPF_H
#define SONDE_PROTO_POSTGRES_BPF_H

#include "protocols/match.bpf.h"

#define PG_SSL_CODE	   80877103
#define PG_GSSENC_CODE	   80877104
#define PG_CANCEL_CODE	   80877102
#define PG_STARTUP_MAX_LEN 10000

enum pg_shape {
	PG_NONE = 0,
	PG_STARTUP,  /* the start-up family: a connection's first message */
	PG_SSL,	     /* SSLRequest or GSSENCRequest: TLS may follow the answer */
	PG_FRONTEND, /* a typed frontend message header, as far as 8 bytes show */
};

static __always_inline __u32 pg_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

/* Whether a typed frontend message header is plausible: a type a client
 * sends and a length its format allows (the length counts itself). */
static __always_inline bool pg_frontend_header(const __u8 *b)
{
	__u32 len = pg_be32(b + 1);

	switch (b[0]) {
	case 'Q': /* Query */
	case 'P': /* Parse */
	case 'B': /* Bind */
	case 'F': /* FunctionCall */
	case 'd': /* CopyData */
	case 'p': /* PasswordMessage and its kin */
		return len >= 5 && len < (1u << 30);
	case 'D': /* Describe */
	case 'C': /* Close */
	case 'E': /* Execute */
		return len >= 6 && len <= 1024;
	case 'S': /* Sync */
	case 'H': /* Flush */
	case 'X': /* Terminate */
	case 'c': /* CopyDone */
		return len == 4;
	}
	return false;
}

static __always_inline enum pg_shape pg_shape(const __u8 *b, bool late)
{
	__u32 len = pg_be32(b), code = pg_be32(b + 4);

	if (len == 8 && (code == PG_SSL_CODE || code == PG_GSSENC_CODE))
		return PG_SSL;
	if (len == 16 && code == PG_CANCEL_CODE)
		return PG_STARTUP;
	/* Protocol 3.x; "user" is required, so there is at least one parameter. */
	if ((code >> 16) == 3 && len > 8 && len <= PG_STARTUP_MAX_LEN)
		return PG_STARTUP;
	if (late && pg_frontend_header(b))
		return PG_FRONTEND;
	return PG_NONE;
}

/* PostgreSQL from a connection's first bytes, or mid-stream when late. */
static __always_inline bool classify_postgres(const __u8 *b, __u8 dir, bool late, __u8 *role)
{
	if (pg_shape(b, late) == PG_NONE)
		return false;
	/* Every shape is a frontend message: its writer is the client. */
	if (*role == SONDE_ROLE_UNKNOWN)
		*role = dir == SONDE_DIR_EGRESS ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER;
	return true;
}

#endif /* SONDE_PROTO_POSTGRES_BPF_H */
