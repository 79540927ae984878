/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "cli/format.h"
#include "cli/output.h"
#include "core/clock.h"

static void write_text(struct output *o, const char *text)
{
	if (fputs(text, o->stream) < 0) {
		o->write_errors++;
		if (errno == EPIPE)
			o->closed = true;
	}
}

/* Trees the tree view finished, if any. */
static void write_trees(struct output *o, struct strbuf *sb)
{
	if (sb->len && !sb->failed)
		write_text(o, sb->buf);
	else if (sb->failed)
		o->write_errors++;
	strbuf_free(sb);
}

void output_span(void *ctx, const struct span *sp)
{
	struct output *o = ctx;
	char line[4096];
	int n;

	o->spans++;
	if (o->summary)
		summary_add(o->summary, sp);
	if (o->tree) {
		struct strbuf sb = { 0 };

		tree_add(o->tree, sp, &sb);
		write_trees(o, &sb);
		return;
	}
	if (o->format == OUTPUT_JSON)
		n = format_span_json(sp, o->with_query, line, sizeof(line));
	else
		n = format_span_line(sp, o->with_query, line, sizeof(line));
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
	if (o->tree) {
		struct strbuf sb = { 0 };

		tree_expire(o->tree, clock_real_now(), false, &sb);
		write_trees(o, &sb);
	}
	if (fflush(o->stream) == EOF && errno == EPIPE)
		o->closed = true;
}

void output_finish(struct output *o)
{
	if (o->tree) {
		struct strbuf sb = { 0 };

		tree_expire(o->tree, 0, true, &sb);
		write_trees(o, &sb);
	}
	output_flush(o);
}
