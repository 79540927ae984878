/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "util/json.h"
#include "util/utf8.h"

static void put(struct json_buf *j, const char *s, size_t n)
{
	if (j->len + n + 2 > j->cap) { /* room for the closing brace and NUL */
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void putc_(struct json_buf *j, char c)
{
	put(j, &c, 1);
}

static void put_string(struct json_buf *j, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	putc_(j, '"');
	while (i < len) {
		unsigned char c = p[i];
		char esc[8];
		size_t n = i;

		/* Plain printable ASCII, the bulk of any header, goes in one copy. */
		while (n < len && p[n] >= 0x20 && p[n] < 0x7f && p[n] != '"' && p[n] != '\\')
			n++;
		if (n > i) {
			put(j, s + i, n - i);
			i = n;
			continue;
		}
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(j, esc, 6);
			i++;
		} else if ((n = utf8_seq_len(p + i, len - i)) != 0) {
			put(j, s + i, n);
			i += n;
		} else {
			put(j, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN);
			i++;
		}
	}
	putc_(j, '"');
}

static void key(struct json_buf *j, const char *k)
{
	if (!j->first)
		putc_(j, ',');
	j->first = false;
	put_string(j, k, strlen(k));
	putc_(j, ':');
}

void json_begin(struct json_buf *j, char *buf, size_t cap)
{
	*j = (struct json_buf){ .buf = buf, .cap = cap, .first = true };
	putc_(j, '{');
}

int json_end(struct json_buf *j)
{
	if (j->len + 2 > j->cap || j->overflow) {
		j->overflow = true;
		if (j->cap)
			j->buf[j->len < j->cap ? j->len : j->cap - 1] = '\0';
		return -1;
	}
	j->buf[j->len++] = '}';
	j->buf[j->len] = '\0';
	return (int)j->len;
}

void json_strn(struct json_buf *j, const char *k, const char *val, size_t len)
{
	key(j, k);
	put_string(j, val, len);
}

void json_str(struct json_buf *j, const char *k, const char *val)
{
	json_strn(j, k, val, strlen(val));
}

/* The decimal digits of v at the end of num[24]; returns where they start.
 * By hand: snprintf showed up in profiles of busy `trace -o json` runs. */
static size_t u64_digits(char num[24], uint64_t v)
{
	size_t i = 24;

	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return i;
}

void json_u64(struct json_buf *j, const char *k, uint64_t val)
{
	char num[24];
	size_t i = u64_digits(num, val);

	key(j, k);
	put(j, num + i, sizeof(num) - i);
}

void json_i64(struct json_buf *j, const char *k, int64_t val)
{
	char num[24];
	/* the magnitude, INT64_MIN included */
	size_t i = u64_digits(num, val < 0 ? 0 - (uint64_t)val : (uint64_t)val);

	if (val < 0)
		num[--i] = '-';
	key(j, k);
	put(j, num + i, sizeof(num) - i);
}

void json_double(struct json_buf *j, const char *k, double val)
{
	char num[40];

	key(j, k);
	put(j, num, (size_t)snprintf(num, sizeof(num), "%.6g", val));
}

void json_bool(struct json_buf *j, const char *k, bool val)
{
	key(j, k);
	put(j, val ? "true" : "false", val ? 4 : 5);
}

void json_null(struct json_buf *j, const char *k)
{
	key(j, k);
	put(j, "null", 4);
}

void json_raw(struct json_buf *j, const char *k, const char *raw)
{
	key(j, k);
	put(j, raw, strlen(raw));
}
