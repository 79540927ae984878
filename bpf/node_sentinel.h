/* SPDX-License-Identifier: MIT */
/*
 * The path the script sonde injects into Node.js processes passes to access()
 * (agent/nodejs/node_context.js) to say which incoming connection's request a
 * write on an outgoing one belongs to:
 *
 *   /dev/null/sonde/IIIIIIII/OOOOOOOO
 *
 * IIIIIIII: the incoming (server) connection's fd, OOOOOOOO: the outgoing
 * one's, each 8 lower-case hex digits. IIIIIIII = ffffffff
 * (SONDE_LINK_NO_REQUEST): the write is made outside any request. Under
 * /dev/null nothing can exist, so the call fails with ENOTDIR and touches no
 * file. Fixed width, so the BPF side parses it
 * at constant offsets. Plain C with no BPF helper: the unit tests include it.
 */
#ifndef SONDE_NODE_SENTINEL_H
#define SONDE_NODE_SENTINEL_H

#define NODE_SENTINEL_PREFIX_LEN 16 /* "/dev/null/sonde/" */
#define NODE_SENTINEL_LEN	 (NODE_SENTINEL_PREFIX_LEN + 8 + 1 + 8)
/* Bytes read from the process: the path, its NUL, and room to see that a
 * longer one is longer. */
#define NODE_SENTINEL_READ 40

/* "/dev/null/sonde/" as two little-endian words: two compares, no loop. */
#define NODE_SENTINEL_WORD0 0x6c756e2f7665642full /* "/dev/nul" */
#define NODE_SENTINEL_WORD1 0x2f65646e6f732f6cull /* "l/sonde/" */

static __always_inline int node_sentinel_hex(const unsigned char *p, __u32 *out)
{
	__u32 v = 0;

#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < 8; i++) {
		unsigned char c = p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (__u32)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (__u32)(c - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Parses a sentinel path read into buf (NODE_SENTINEL_READ bytes, NUL
 * terminated within them or not). Returns 0 with the fds set, -1 for any
 * other path. The prefix is the first test: it is what sets sentinels apart
 * from every other path the process looks up.
 */
static __always_inline int node_sentinel_parse(const unsigned char buf[NODE_SENTINEL_READ],
					       __u32 *in_fd, __u32 *out_fd)
{
	__u64 w0, w1;

	__builtin_memcpy(&w0, buf, 8);
	__builtin_memcpy(&w1, buf + 8, 8);
	if (w0 != NODE_SENTINEL_WORD0 || w1 != NODE_SENTINEL_WORD1)
		return -1;
	if (buf[NODE_SENTINEL_PREFIX_LEN + 8] != '/' || buf[NODE_SENTINEL_LEN] != '\0')
		return -1;
	if (node_sentinel_hex(buf + NODE_SENTINEL_PREFIX_LEN, in_fd) ||
	    node_sentinel_hex(buf + NODE_SENTINEL_PREFIX_LEN + 9, out_fd))
		return -1;
	return 0;
}

#endif /* SONDE_NODE_SENTINEL_H */
