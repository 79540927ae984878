/* SPDX-License-Identifier: MIT */
/* Reading whole files (configuration, tokens, /proc entries) with a bound. */
#ifndef SONDE_UTIL_FILE_H
#define SONDE_UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Up to size bytes of path into buf (not NUL-terminated): how many were read
 * (less than size only at the end of the file), or -errno. Interrupted reads
 * are resumed. */
ssize_t file_read_upto(const char *path, void *buf, size_t size);

/*
 * The whole of path, at most max bytes, into *buf (malloc'd, NUL-terminated,
 * free() it) and *len. Returns 0, -EFBIG when the file holds more than max
 * bytes, -EISDIR for a directory, or another -errno; *buf is NULL on failure.
 */
int file_read_all(const char *path, size_t max, char **buf, size_t *len);

#endif /* SONDE_UTIL_FILE_H */
