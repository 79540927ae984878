/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a ceiling, kept NUL-terminated so that text in it
 * can be used as a string: HTTP bodies, watch lines, a plugin's output. */
#ifndef SONDE_UTIL_BYTE_BUF_H
#define SONDE_UTIL_BYTE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct byte_buf {
	char *data; /* NULL until the first append; free() it */
	size_t len, cap;
	size_t max;   /* the most it may hold, set by the user */
	bool too_big; /* an append was refused for going over max */
};

/* Appends n bytes. 0, -EMSGSIZE (over max: nothing appended, too_big set) or
 * -ENOMEM. */
int byte_buf_add(struct byte_buf *b, const void *data, size_t n);

#endif /* SONDE_UTIL_BYTE_BUF_H */
