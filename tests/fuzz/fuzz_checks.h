/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets hold the code to, beyond "no sanitizer report": a
 * failed check aborts, which libFuzzer reports as a finding with its input.
 */
#ifndef SONDE_FUZZ_CHECKS_H
#define SONDE_FUZZ_CHECKS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs/logs.h"
#include "spans/span.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* A NUL-terminated string that fits its array. */
#define FUZZ_CHECK_STR(arr) FUZZ_CHECK(memchr((arr), '\0', sizeof(arr)) != NULL)

/* An error message: within its buffer, on one line, with no control
 * character (what it quotes can neither end the line nor drive a terminal). */
static inline void fuzz_check_error(const char *err, size_t len)
{
	FUZZ_CHECK(memchr(err, '\0', len));
	for (const unsigned char *p = (const unsigned char *)err; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
}

/* A span as a writer reads it: every string field terminated, time forward. */
static inline void fuzz_check_span(const struct span *sp)
{
	FUZZ_CHECK(sp->end_ns >= sp->start_ns);
	FUZZ_CHECK_STR(sp->comm);
	if (sp->flags & SPAN_F_DB) {
		FUZZ_CHECK_STR(sp->db.operation);
		FUZZ_CHECK_STR(sp->db.collection);
		FUZZ_CHECK_STR(sp->db.name_space);
		FUZZ_CHECK_STR(sp->db.status_code);
		FUZZ_CHECK_STR(sp->db.query);
		return;
	}
	FUZZ_CHECK_STR(sp->method);
	FUZZ_CHECK_STR(sp->target);
	FUZZ_CHECK_STR(sp->host);
	FUZZ_CHECK_STR(sp->user_agent);
	FUZZ_CHECK_STR(sp->traceparent);
	FUZZ_CHECK(span_path_len(sp) <= strlen(sp->target));
}

/* A log record as an exporter reads it: valid UTF-8 within the room its cap
 * gives (each byte may become U+FFFD), a severity OpenTelemetry defines. */
static inline void fuzz_check_log_record(const struct log_record *r, size_t cap)
{
	const unsigned char *s = (const unsigned char *)r->body;

	FUZZ_CHECK(r->len <= 3 * cap);
	for (size_t i = 0; i < r->len;) {
		size_t k = s[i] < 0x80 ? 1 : s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;

		FUZZ_CHECK(s[i] < 0x80 || (s[i] >= 0xc2 && s[i] <= 0xf4 && i + k <= r->len));
		for (size_t j = 1; j < k; j++)
			FUZZ_CHECK((s[i + j] & 0xc0) == 0x80);
		i += k;
	}
	FUZZ_CHECK(r->severity.number <= 24);
}

#endif /* SONDE_FUZZ_CHECKS_H */
