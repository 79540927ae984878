/* SPDX-License-Identifier: MIT */
/* Spans as text: one console line, or one JSON object with semantic-convention keys. */
#ifndef SONDE_FORMAT_H
#define SONDE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "spans/span.h"

/* "812us", "1.23ms", "2.50s" */
void format_duration(uint64_t ns, char *buf, size_t len);

/* One line, no newline: time kind process[pid] METHOD target status duration peer.
 * Returns the length written (cut to fit). */
int format_span_line(const struct span *sp, char *buf, size_t len);

/* One JSON object, no newline. Returns the length, or -1 if it did not fit. */
int format_span_json(const struct span *sp, char *buf, size_t len);

/* Splits a Host header value into host and port ("[::1]:8080", "a.example:81",
 * "a.example"). *port is 0 when absent. Returns the host length. */
size_t format_split_host(const char *host, const char **start, uint16_t *port);

#endif /* SONDE_FORMAT_H */
