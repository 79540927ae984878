/* SPDX-License-Identifier: MIT */
/* UTF-8 validation (RFC 3629) for text that leaves the agent: OTLP and JSON
 * strings must be valid UTF-8. Pure code. */
#ifndef SONDE_UTF8_H
#define SONDE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, what a bad byte becomes. */
#define UTF8_REPLACEMENT     "\xef\xbf\xbd"
#define UTF8_REPLACEMENT_LEN 3

/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0), 0 if
 * invalid: a stray continuation byte, a sequence cut short, an overlong form,
 * a surrogate, a value past U+10FFFF. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* The longest prefix of s[0..n) that ends on a character boundary, for
 * cutting valid UTF-8 text short without splitting a character. */
size_t utf8_boundary(const char *s, size_t n);

/* Text built piece by piece into a caller's buffer, always valid UTF-8 and
 * NUL-terminated: bad bytes (and NUL) become U+FFFD; what does not fit is cut
 * on a character boundary and remembered. */
struct utf8_buf {
	char *buf;
	size_t cap; /* bytes of buf, the NUL included; > 0 */
	size_t len;
	bool cut; /* something did not fit: nothing more is taken */
};

void utf8_buf_init(struct utf8_buf *u, char *buf, size_t cap);
/* Appends s[0..n); returns false once the text is cut. */
bool utf8_buf_put(struct utf8_buf *u, const char *s, size_t n);

/* Copies src[0..n) to dst as valid UTF-8 (bad bytes become U+FFFD), cut at
 * a character boundary to fit dstlen - 1 (or at a NUL byte); returns the
 * length written. */
size_t utf8_sanitize(char *dst, size_t dstlen, const char *src, size_t n);
/* The same; *used: how many bytes of src it took (fewer than n when cut, or
 * at a NUL byte). */
size_t utf8_sanitize_used(char *dst, size_t dstlen, const char *src, size_t n, size_t *used);

/* The end of the run of ASCII bytes other than NUL at s[i..n). */
size_t utf8_ascii_run(const unsigned char *s, size_t i, size_t n);

#endif /* SONDE_UTF8_H */
