/* SPDX-License-Identifier: MIT */
/*
 * Protocol classification from the first bytes of a connection. Only decides
 * which parser the agent should use; parsing happens in userspace. Each
 * protocol's matcher lives in bpf/protocols/<name>.bpf.h; adding one is an
 * include and a line in classify() (docs/ARCHITECTURE.md, "How to add a
 * protocol").
 */
#ifndef SONDE_CLASSIFY_BPF_H
#define SONDE_CLASSIFY_BPF_H

#include "sonde_event.h"
#include "protocols/http1.bpf.h"
#include "protocols/http2.bpf.h"
#include "protocols/postgres.bpf.h"
#include "protocols/redis.bpf.h"
#include "protocols/mysql.bpf.h"

/* Sets *proto and, when still unknown, *role. Returns false if the bytes
 * belong to no protocol sonde parses. late: the socket was found already open,
 * possibly in the middle of an HTTP/2 or PostgreSQL connection (the caller
 * asks those for a second sign). */
static __always_inline bool classify(const __u8 *b, __u32 len, __u8 dir, bool late, __u8 *proto,
				     __u8 *role)
{
	enum msg_shape shape = http1_shape(b, len);

	if (len < CLASSIFY_BYTES)
		return false;
	if (shape == SHAPE_NONE) {
		if (classify_postgres(b, dir, late, role)) {
			*proto = SONDE_PROTO_POSTGRES;
			return true;
		}
		if (classify_redis(b, dir, late, role)) {
			*proto = SONDE_PROTO_REDIS;
			return true;
		}
		if (classify_mysql(b, dir, role)) {
			*proto = SONDE_PROTO_MYSQL;
			return true;
		}
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

#endif /* SONDE_CLASSIFY_BPF_H */
