/* SPDX-License-Identifier: MIT */
/* Per-endpoint request counts, errors and latency percentiles for `sonde trace`. */
#ifndef SONDE_SUMMARY_H
#define SONDE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spans/span.h"

struct summary;

/* max_endpoints bounds memory; spans of further endpoints are folded into one
 * "(other)" row and counted. NULL on allocation failure. */
struct summary *summary_new(size_t max_endpoints);
void summary_free(struct summary *s);
void summary_add(struct summary *s, const struct span *sp);
/* A table sorted by count, or "no requests traced". */
void summary_print(const struct summary *s, FILE *out);
/* One {"summary":true,...} object per endpoint per line. */
void summary_print_json(const struct summary *s, FILE *out);
size_t summary_count(const struct summary *s);	/* rows, (other) included */
size_t summary_folded(const struct summary *s); /* spans folded into (other) */
bool summary_get(const struct summary *s, enum span_kind kind, const char *method, const char *path,
		 uint64_t *count, uint64_t *errors, uint64_t *p50_ns, uint64_t *p95_ns,
		 uint64_t *p99_ns);

#endif /* SONDE_SUMMARY_H */
