/* SPDX-License-Identifier: MIT */
/* Small pieces of URL handling shared by the OTLP and Kubernetes clients. */
#ifndef SONDE_UTIL_URL_H
#define SONDE_UTIL_URL_H

#include <stddef.h>

/* The length of url without its trailing slashes: "https://h:6443/" and
 * "https://h:6443" then take the same path appended. */
size_t url_trimmed_len(const char *url);

/* %-escapes everything but RFC 3986 unreserved characters, for a query value.
 * 3 * strlen(src) + 2 bytes always hold it all; a smaller dst gets it cut
 * before the first character that no longer fits, never in an escape. */
void url_query_escape(char *dst, size_t size, const char *src);

#endif /* SONDE_UTIL_URL_H */
