/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "cli/format.h"
#include "cli/output.h"

void output_span(void *ctx, const struct span *sp)
{
	struct output *o = ctx;
	char line[4096];
	int n;

	o->spans++;
	if (o->summary)
		summary_add(o->summary, sp);
	if (o->format == OUTPUT_JSON)
		n = format_span_json(sp, o->with_query, line, sizeof(line));
	else
		n = format_span_line(sp, line, sizeof(line));
	if (n < 0) {
		o->write_errors++;
		return;
	}
	if (fprintf(o->stream, "%s\n", line) < 0) {
		o->write_errors++;
		if (errno == EPIPE)
			o->closed = true;
	}
}

void output_flush(struct output *o)
{
	if (fflush(o->stream) == EOF && errno == EPIPE)
		o->closed = true;
}
