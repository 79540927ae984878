/* SPDX-License-Identifier: MIT */
/* MySQL/MariaDB matcher: the server speaks first, with its greeting. */
#ifndef SONDE_PROTO_MYSQL_BPF_H
#define SONDE_PROTO_MYSQL_BPF_H

#include "protocols/match.bpf.h"

/* Byte i of the first CLASSIFY_BYTES, held in a scalar (see redis_byte). */
static __always_inline __u8 mysql_byte(__u64 head, int i)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return head >> (8 * i);
#else
	return head >> (56 - 8 * i);
#endif
}

static __always_inline bool mysql_version_char(__u8 c)
{
	return (c >= '0' && c <= '9') || c == '.';
}

/*
 * Initial Handshake v10: a packet of 30 bytes to 1 KiB (3-byte little-endian
 * length), sequence id 0, protocol version 10, then the server's version as
 * text: "5.7.44", "8.0.36", "10.11.6-MariaDB", "5.5.5-10.11…". A global
 * function, checked once by the verifier (see h2_confirm). 1: a greeting.
 */
__noinline int mysql_greeting(__u64 head)
{
	__u32 len = mysql_byte(head, 0) | (__u32)mysql_byte(head, 1) << 8;
	__u8 v0 = mysql_byte(head, 5);

	if (mysql_byte(head, 2) != 0 || mysql_byte(head, 3) != 0 || mysql_byte(head, 4) != 10)
		return 0;
	return len >= 30 && len < 1024 && v0 >= '1' && v0 <= '9' &&
	       mysql_version_char(mysql_byte(head, 6)) && mysql_version_char(mysql_byte(head, 7));
}

/* The side that reads the greeting is the client. */
static __always_inline bool classify_mysql(const __u8 *b, __u8 dir, __u8 *role)
{
	if (!mysql_greeting(*(const __u64 *)b))
		return false;
	if (*role == SONDE_ROLE_UNKNOWN)
		*role = dir == SONDE_DIR_INGRESS ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER;
	return true;
}

#endif /* SONDE_PROTO_MYSQL_BPF_H */
