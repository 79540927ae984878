/* SPDX-License-Identifier: MIT */
/* A minimal JSON object writer into a caller's buffer. */
#ifndef SONDE_JSON_H
#define SONDE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_buf {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow; /* something did not fit: the text is cut */
	bool first;    /* no member written yet in the current object */
};

void json_begin(struct json_buf *j, char *buf, size_t cap);
/* Closes the object and NUL-terminates; returns the length, or -1 on overflow. */
int json_end(struct json_buf *j);
void json_str(struct json_buf *j, const char *key, const char *val);
/* Writes val[0..len) as a string; bytes that are not valid UTF-8 become U+FFFD. */
void json_strn(struct json_buf *j, const char *key, const char *val, size_t len);
void json_u64(struct json_buf *j, const char *key, uint64_t val);
void json_i64(struct json_buf *j, const char *key, int64_t val);
void json_double(struct json_buf *j, const char *key, double val);
void json_bool(struct json_buf *j, const char *key, bool val);
void json_null(struct json_buf *j, const char *key);
/* Writes raw as the value, verbatim: raw must already be valid JSON (an array
 * built from objects of other json_bufs, say); this writer has no nesting. */
void json_raw(struct json_buf *j, const char *key, const char *raw);

#endif /* SONDE_JSON_H */
