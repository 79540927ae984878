/* SPDX-License-Identifier: MIT */
/* Spans as text: one console line, or one JSON object with semantic-convention keys. */
#ifndef SONDE_FORMAT_H
#define SONDE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spans/span.h"

/* "812us", "1.23ms", "2.50s" */
void format_duration(uint64_t ns, char *buf, size_t len);

/* src as it is safe to print on a terminal: control characters (C0, DEL, C1)
 * and backslashes as escapes (\x1b, \u009b, \\). Cut to fit cap (up to 4×
 * src's length is needed); returns the length. */
size_t format_text(char *dst, size_t cap, const char *src);

/* What the span did, no newline, escaped for a terminal (the target's query
 * string only with_query): "GET /path 200", "gRPC /pkg.Svc/M OK",
 * "postgresql SELECT orders 42601". Returns the length written (cut to fit). */
int format_span_what(const struct span *sp, bool with_query, char *buf, size_t len);

/* One line, no newline: time kind process[pid] METHOD target status duration peer.
 * Returns the length written (cut to fit). */
int format_span_line(const struct span *sp, bool with_query, char *buf, size_t len);

/* One JSON object, no newline: the time, kind, name and times of the span,
 * its process, then the attributes span_attrs_build() gives the OTLP encoder
 * and the console-only ones (SPAN_ATTRS_CONSOLE); url.query when with_query.
 * Returns the length, or -1 if it did not fit. */
int format_span_json(const struct span *sp, bool with_query, char *buf, size_t len);

#endif /* SONDE_FORMAT_H */
