/* SPDX-License-Identifier: MIT */
/*
 * A span's OpenTelemetry semantic-convention attributes: the one mapping from
 * span fields to attribute keys, which the OTLP encoder and `sonde trace -o
 * json` both serialise (the metrics use a subset). Strings are made valid
 * UTF-8 here because OTLP requires it. Pure code.
 */
#ifndef SONDE_SPAN_ATTRS_H
#define SONDE_SPAN_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spans/span.h"
#include "util/utf8.h"

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

/* Every attribute of the fullest span is 24 (tests/unit/test_span_attrs.c):
 * room to add some without one being dropped. */
#define SPAN_ATTRS_MAX 32

/* The strings point into scratch, at literals, or into the span and route
 * they were built from: valid as long as those are. */
struct span_attrs {
	struct attr items[SPAN_ATTRS_MAX];
	int n;
	/* Strings copied or formatted here: room for every string field at its
	 * longest, each byte invalid (3 bytes of U+FFFD), and the three addresses
	 * (about 3.8 KiB in all). */
	char scratch[8192];
	size_t used;
};

/* What span_attrs_build() adds besides the attributes every output has. */
enum span_attrs_flags {
	/* url.query: OTLP with capture.query on; `sonde trace` always. */
	SPAN_ATTRS_QUERY = 1u << 0,
	/* The keys only `sonde trace` prints: network.local.address/port, the
	 * body sizes of gRPC calls, sonde.traceparent, sonde.http2.stream_id,
	 * sonde.http2.reset and sonde.truncated. */
	SPAN_ATTRS_CONSOLE = 1u << 1,
};

/* route: the http.route template, or NULL; flags: enum span_attrs_flags. */
void span_attrs_build(struct span_attrs *out, const struct span *sp, const char *route,
		      unsigned flags);

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

#endif /* SONDE_SPAN_ATTRS_H */
