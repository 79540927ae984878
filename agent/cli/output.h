/* SPDX-License-Identifier: MIT */
/* Where `sonde trace` puts spans: a stream, line by line, flushed per span. */
#ifndef SONDE_OUTPUT_H
#define SONDE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "spans/span.h"
#include "cli/summary.h"
#include "cli/tree.h"

enum output_format {
	OUTPUT_TEXT = 0,
	OUTPUT_JSON = 1,
};

struct output {
	enum output_format format;
	bool with_query; /* query strings shown: capture.query decides, as for OTLP */
	FILE *stream;
	struct summary *summary; /* may be NULL */
	struct tree *tree;	 /* --tree: traces as trees instead of lines; may be NULL */
	uint64_t spans;
	uint64_t write_errors;
	bool closed; /* the reader went away (EPIPE): nothing more can be shown */
};

/* span_out_fn for ingest: prints the span and adds it to the summary. */
void output_span(void *ctx, const struct span *sp);
/* Called after every batch of events (at least every poll interval), so a
 * piped reader sees each span within 100 ms without a write per span. */
void output_flush(struct output *o);
/* --tree: prints the traces still waiting for their root (at exit). */
void output_finish(struct output *o);

#endif /* SONDE_OUTPUT_H */
