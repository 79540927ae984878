/* SPDX-License-Identifier: MIT */
/* gzip (RFC 1952) compression of a whole buffer with zlib, for OTLP request bodies.
 * Pure code: no I/O, no globals. */
#ifndef SONDE_GZIP_H
#define SONDE_GZIP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Compresses in[0..len) into a new buffer (*out, *outlen), which the caller frees
 * with free(). len may be 0 (the result is then an empty gzip member). Returns 0,
 * -ENOMEM, or -EIO when zlib fails; *out is NULL on error.
 */
int gzip_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);

#endif /* SONDE_GZIP_H */
