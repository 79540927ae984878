/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/go_buildinfo.h"

/* "\xff Go buildinf:", then the pointer size and a flags byte; 32 bytes. */
#define MAGIC	    "\xff Go buildinf:"
#define MAGIC_LEN   14
#define HEADER_LEN  32
#define FLAG_BIG    0x1 /* pointers are big-endian */
#define FLAG_INLINE 0x2 /* Go 1.18+: the strings follow the header, length-prefixed */

static uint64_t get(const uint8_t *p, size_t n, bool big)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
	return v;
}

static int copy_version(const uint8_t *s, uint64_t n, char *out, size_t len)
{
	if (n < 3 || n >= len || memcmp(s, "go", 2))
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int go_buildinfo_version(const uint8_t *sec, size_t size, go_read_fn read_at, void *ctx, char *out,
			 size_t len)
{
	uint8_t ptr, flags, hdr[16], str[64];
	uint64_t addr, n = 0;
	bool big;

	if (size < HEADER_LEN || memcmp(sec, MAGIC, MAGIC_LEN))
		return -EINVAL;
	ptr = sec[14];
	flags = sec[15];
	big = flags & FLAG_BIG;
	if (flags & FLAG_INLINE) {
		/* uvarint length, then the bytes */
		size_t i = HEADER_LEN;

		for (unsigned shift = 0; i < size && shift < 64; shift += 7, i++) {
			n |= (uint64_t)(sec[i] & 0x7f) << shift;
			if (!(sec[i] & 0x80))
				break;
		}
		if (++i > size || n > size - i)
			return -EINVAL;
		return copy_version(sec + i, n, out, len);
	}
	/* Before 1.18: a pointer to the version's string header (data, len). */
	if ((ptr != 4 && ptr != 8) || !read_at)
		return -EINVAL;
	addr = get(sec + 16, ptr, big);
	if (read_at(ctx, addr, hdr, 2 * ptr))
		return -EINVAL;
	addr = get(hdr, ptr, big);
	n = get(hdr + ptr, ptr, big);
	if (n >= sizeof(str) || read_at(ctx, addr, str, n))
		return -EINVAL;
	return copy_version(str, n, out, len);
}

int go_version_parse(const char *v, unsigned *major, unsigned *minor)
{
	char *end;

	if (strncmp(v, "go", 2))
		return -EINVAL;
	*major = (unsigned)strtoul(v + 2, &end, 10);
	if (end == v + 2 || *end != '.')
		return -EINVAL;
	v = end + 1;
	*minor = (unsigned)strtoul(v, &end, 10);
	return end == v ? -EINVAL : 0;
}
