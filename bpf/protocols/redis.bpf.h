/* SPDX-License-Identifier: MIT */
/* Redis matcher: a command as a client sends it (RESP array of bulk strings,
 * or the inline PING that health checks send). */
#ifndef SONDE_PROTO_REDIS_BPF_H
#define SONDE_PROTO_REDIS_BPF_H

#include "protocols/match.bpf.h"

static __always_inline bool redis_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/* "*<count>\r\n$<length>": an array of 1 to 999 elements whose first is a
 * bulk string ("*3\r\n$3\r\n", "*12\r\n$3\r", "*100\r\n$5"). Replies can
 * look the same: see classify_redis(). */
static __always_inline bool redis_command_array(const __u8 *b)
{
	if (b[0] != '*' || b[1] < '1' || b[1] > '9')
		return false;
	if (b[2] == '\r')
		return b[3] == '\n' && b[4] == '$' && redis_digit(b[5]);
	if (!redis_digit(b[2]))
		return false;
	if (b[3] == '\r')
		return b[4] == '\n' && b[5] == '$' && redis_digit(b[6]);
	return redis_digit(b[3]) && b[4] == '\r' && b[5] == '\n' && b[6] == '$' &&
	       redis_digit(b[7]);
}

/* Inline "PING\r\n" or "PING <message>". */
static __always_inline bool redis_inline_ping(const __u8 *b)
{
	return starts_with4(b, 'P', 'I', 'N', 'G') &&
	       (b[4] == ' ' || (b[4] == '\r' && b[5] == '\n'));
}

/*
 * Sets *role when still unknown: the side that writes commands is the
 * client. Not for a connection found already open (late): an array written
 * may then be a server's reply, and the agent learns the role from frames
 * only one side sends.
 */
static __always_inline bool classify_redis(const __u8 *b, __u8 dir, bool late, __u8 *role)
{
	if (!redis_command_array(b) && !redis_inline_ping(b))
		return false;
	if (*role == SONDE_ROLE_UNKNOWN && !late)
		*role = dir == SONDE_DIR_EGRESS ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER;
	return true;
}

#endif /* SONDE_PROTO_REDIS_BPF_H */
