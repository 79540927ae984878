/* SPDX-License-Identifier: MIT */
/* Spans as text: one console line, or one JSON object with semantic-convention keys. */
#ifndef SONDE_FORMAT_H
#define SONDE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/prom_text.h"
#include "logs/logs.h"
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

/* A log record as text, appended to sb: "<indent>log 19:42:01.123456
 * python3[4242] WARN slow query (trace …/span …)", its further lines
 * indented under the first. comm: the process's name. with_ids: show the
 * request's ids (the tree view, under the span itself, does not). */
void format_log_text(struct strbuf *sb, const struct log_record *r, const char *comm, int indent,
		     bool with_ids);

/* One JSON object, no newline: {"log": body, "time", "time_unix_nano",
 * "severity_number", "severity_text", "log.iostream", "process.pid",
 * "process.executable.name", "trace_id", "span_id" (when written in a
 * request), "sonde.truncated"}. Returns the length, or -1 if it did not fit. */
int format_log_json(const struct log_record *r, const char *comm, char *buf, size_t len);

#endif /* SONDE_FORMAT_H */
