/* SPDX-License-Identifier: MIT */
/* Redis matcher: a command as a client sends it (RESP array of bulk strings,
 * or the inline PING that health checks send). */
#ifndef SONDE_PROTO_REDIS_BPF_H
#define SONDE_PROTO_REDIS_BPF_H

#include "protocols/match.bpf.h"

/* Byte i of the first CLASSIFY_BYTES, held in a scalar: indexing a stack
 * array under branches lets clang merge addresses the verifier refuses. */
static __always_inline __u8 redis_byte(__u64 head, int i)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return head >> (8 * i);
#else
	return head >> (56 - 8 * i);
#endif
}

static __always_inline bool redis_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/*
 * "*<count>\r\n$<length>": an array of 1 to 999 elements whose first is a
 * bulk string ("*3\r\n$3\r\n", "*12\r\n$3\r", "*100\r\n$5"); or "PING\r\n",
 * "PING <message>". A global function, checked once by the verifier rather
 * than in every data hook (see h2_confirm). Returns 1 when it matches.
 */
__noinline int redis_match(__u64 head)
{
	__u8 b0 = redis_byte(head, 0), b1 = redis_byte(head, 1), b2 = redis_byte(head, 2);
	__u8 b3 = redis_byte(head, 3), b4 = redis_byte(head, 4), b5 = redis_byte(head, 5);
	__u8 b6 = redis_byte(head, 6), b7 = redis_byte(head, 7);

	if (b0 == 'P' && b1 == 'I' && b2 == 'N' && b3 == 'G')
		return b4 == ' ' || (b4 == '\r' && b5 == '\n');
	if (b0 != '*' || b1 < '1' || b1 > '9')
		return 0;
	if (b2 == '\r')
		return b3 == '\n' && b4 == '$' && redis_digit(b5);
	if (!redis_digit(b2))
		return 0;
	if (b3 == '\r')
		return b4 == '\n' && b5 == '$' && redis_digit(b6);
	return redis_digit(b3) && b4 == '\r' && b5 == '\n' && b6 == '$' && redis_digit(b7);
}

/*
 * Sets *role when still unknown: the side that writes commands is the
 * client. Not for a connection found already open (late): an array written
 * may then be a server's reply, and the agent learns the role from frames
 * only one side sends.
 */
static __always_inline bool classify_redis(const __u8 *b, __u8 dir, bool late, __u8 *role)
{
	if (!redis_match(*(const __u64 *)b))
		return false;
	if (*role == SONDE_ROLE_UNKNOWN && !late)
		*role = dir == SONDE_DIR_EGRESS ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER;
	return true;
}

#endif /* SONDE_PROTO_REDIS_BPF_H */
