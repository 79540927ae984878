/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>

#include "util/utf8.h"

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t utf8_boundary(const char *s, size_t n)
{
	/* Back over continuation bytes to the lead byte of the last character;
	 * keep it only when all of it is inside. */
	size_t i = n;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && n - i < 3)
		i--;
	if (i == 0)
		return 0;
	if ((unsigned char)s[i - 1] >= 0xc0) {
		size_t lead = i - 1;

		return utf8_seq_len((const unsigned char *)s + lead, n - lead) == n - lead ? n
											   : lead;
	}
	return n;
}

void utf8_buf_init(struct utf8_buf *u, char *buf, size_t cap)
{
	*u = (struct utf8_buf){ .buf = buf, .cap = cap };
	if (cap)
		buf[0] = '\0';
	else
		u->cut = true;
}

/* Appends a piece known to be valid, cutting it on a character boundary. */
static bool put_valid(struct utf8_buf *u, const char *s, size_t n)
{
	size_t room = u->cap - 1 - u->len;

	if (n > room) {
		n = utf8_boundary(s, room);
		u->cut = true;
	}
	memcpy(u->buf + u->len, s, n);
	u->len += n;
	u->buf[u->len] = '\0';
	return !u->cut;
}

bool utf8_buf_put(struct utf8_buf *u, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n && !u->cut) {
		size_t run = i, k;

		/* Printable ASCII and valid sequences go in runs; a bad byte alone. */
		while (run < n && p[run] && (k = utf8_seq_len(p + run, n - run)) != 0)
			run += k;
		if (run > i) {
			put_valid(u, s + i, run - i);
			i = run;
			continue;
		}
		put_valid(u, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN);
		i++;
	}
	return !u->cut;
}

/* The end of the run of ASCII bytes other than NUL at s[i..n): those are
 * copied as they are, eight at a time where they can be read so. */
size_t utf8_ascii_run(const unsigned char *s, size_t i, size_t n)
{
	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, s + i, 8);
		/* Some byte is NUL or has its high bit set (or a false alarm
		 * past one: the byte loop below decides). */
		if (((v - 0x0101010101010101ull) | v) & 0x8080808080808080ull)
			break;
	}
	while (i < n && (unsigned)s[i] - 1u < 0x7fu)
		i++;
	return i;
}

size_t utf8_sanitize(char *dst, size_t dstlen, const char *src, size_t n)
{
	return utf8_sanitize_used(dst, dstlen, src, n, NULL);
}

size_t utf8_sanitize_used(char *dst, size_t dstlen, const char *src, size_t n, size_t *used)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (used)
		*used = 0;
	if (dstlen == 0)
		return 0;
	while (i < n) {
		size_t end = utf8_ascii_run(s, i, n), room = dstlen - 1 - o;
		size_t k, plen;
		const char *piece;

		if (end - i > room) {
			memcpy(dst + o, s + i, room);
			o += room;
			i += room;
			break;
		}
		memcpy(dst + o, s + i, end - i);
		o += end - i;
		i = end;
		if (i == n || !s[i])
			break;
		/* A multi-byte character, or a bad byte. */
		k = utf8_seq_len(s + i, n - i);
		piece = (const char *)s + i;
		plen = k;
		if (k == 0) {
			piece = "\xef\xbf\xbd"; /* U+FFFD */
			plen = 3;
			k = 1;
		}
		if (o + plen > dstlen - 1)
			break;
		memcpy(dst + o, piece, plen);
		o += plen;
		i += k;
	}
	dst[o] = '\0';
	if (used)
		*used = i;
	return o;
}
