/* SPDX-License-Identifier: MIT */
/*
 * A span's OpenTelemetry semantic-convention attributes, computed once and
 * shared by the OTLP encoder and the metrics (which use a subset). Strings are
 * made valid UTF-8 here because OTLP requires it. Pure code.
 */
#ifndef SONDE_SPAN_ATTRS_H
#define SONDE_SPAN_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spans/span.h"

enum attr_type {
	ATTR_STR = 0,
	ATTR_INT,
	ATTR_BOOL,
};

struct attr {
	const char *key;
	enum attr_type type;
	const char *str;
	int64_t num;	/* ATTR_INT value, or ATTR_BOOL 0/1 */
	size_t key_len; /* strlen(key) */
	size_t str_len; /* the string's length: str need not end in a NUL */
};

#define SPAN_ATTRS_MAX 24

/* The strings point into scratch, at literals, or into the span and route
 * they were built from: valid as long as those are. */
struct span_attrs {
	struct attr items[SPAN_ATTRS_MAX];
	int n;
	/* Strings copied or formatted here: room for every string field at its
	 * longest, each byte invalid (3 bytes of U+FFFD), and the addresses. */
	char scratch[4096];
	size_t used;
};

/* route: the http.route template, or NULL; query: export url.query. */
void span_attrs_build(struct span_attrs *out, const struct span *sp, const char *route,
		      bool with_query);

/* server.address and server.port: the Host the client asked for when known
 * (RFC 9110 §7.2), else the server's socket address. */
void span_server_endpoint(const struct span *sp, char *addr, size_t len, uint16_t *port);

/* error.type: the status code ("503"), the gRPC status ("UNAVAILABLE") or
 * "no_response"; "" when no error. */
void span_error_type(const struct span *sp, char *buf, size_t len);

/* s (n bytes) into buf as a C string, cut to fit len bytes (nothing when len
 * is 0). Bytes are copied as they are: see utf8_sanitize for OTLP strings.
 * Returns whether s was cut. */
bool copy_cut(char *buf, size_t len, const char *s, size_t n);

/* Copies src[0..n) to dst as valid UTF-8 (bad bytes become U+FFFD), truncated
 * at a character boundary to fit dstlen - 1; returns the length written. */
size_t utf8_sanitize(char *dst, size_t dstlen, const char *src, size_t n);

#endif /* SONDE_SPAN_ATTRS_H */
