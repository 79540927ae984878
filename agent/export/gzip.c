/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#include "export/gzip.h"

/* 15 window bits + 16: zlib writes a gzip header and trailer instead of a zlib
 * one, which is what "Content-Encoding: gzip" and "grpc-encoding: gzip" mean. */
#define GZIP_WINDOW_BITS (15 + 16)
#define GZIP_MEM_LEVEL	 8

int gzip_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream zs = { 0 };
	uint8_t *buf = NULL;
	size_t cap;
	int zrc, err = 0;

	*out = NULL;
	*outlen = 0;
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM; /* the only way deflateInit2 fails with valid arguments */

	/* deflateBound() covers the gzip wrapper too, so one Z_FINISH pass fits; it
	 * takes a uLong, which is 64-bit wherever size_t is. */
	cap = deflateBound(&zs, len);
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}

	zs.next_in = (Bytef *)in; /* zlib's API is not const-correct; it does not write */
	zs.next_out = buf;
	/* avail_in/avail_out are 32-bit: feed buffers over 4 GiB in slices. */
	for (;;) {
		size_t in_left = len - (size_t)((const uint8_t *)zs.next_in - in);
		size_t out_left = cap - (size_t)(zs.next_out - buf);

		zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
		zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
		zrc = deflate(&zs, in_left > UINT_MAX ? Z_NO_FLUSH : Z_FINISH);
		if (zrc == Z_STREAM_END)
			break;
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			err = -EIO;
			goto cleanup;
		}
		if (out_left == 0) { /* cannot happen within deflateBound() */
			err = -EIO;
			goto cleanup;
		}
	}

	*outlen = (size_t)(zs.next_out - buf);
	*out = buf;
	buf = NULL;
cleanup:
	deflateEnd(&zs);
	free(buf);
	return err;
}
