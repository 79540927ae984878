/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "cli/output.h"
#include "core/clock.h"
#include "host/proc.h"

/* A formatted log line waiting for its span's. */
struct output_log {
	uint8_t span_id[8];
	uint64_t arrived; /* wall clock ns */
	char text[];
};

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

/* Prints the waiting log lines of span_id (NULL: those that waited past
 * `before`, or all of them with before 0). */
static void release_logs(struct output *o, const uint8_t *span_id, uint64_t before)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < o->nwaiting; i++) {
		struct output_log *l = o->waiting[i];
		bool go = span_id ? !memcmp(l->span_id, span_id, 8)
				  : !before || l->arrived + OUTPUT_LOGS_WAIT_NS <= before;

		if (!go) {
			o->waiting[kept++] = l;
			continue;
		}
		write_text(o, l->text);
		free(l);
	}
	o->nwaiting = kept;
}

static struct output_comm *comm_of(struct output *o, uint32_t pid)
{
	struct output_comm *c;

	for (uint32_t i = 0; i < OUTPUT_COMMS; i++)
		if (o->comms[i].pid == pid)
			return &o->comms[i];
	c = &o->comms[o->next_comm++ % OUTPUT_COMMS];
	c->pid = pid;
	c->reads_us = o->out_pipe && proc_fd_pipe(pid, 0) == o->out_pipe;
	if (proc_comm(pid, c->comm, sizeof(c->comm)))
		snprintf(c->comm, sizeof(c->comm), "?");
	return c;
}

const char *output_comm(struct output *o, uint32_t pid)
{
	return comm_of(o, pid)->comm;
}

void output_log(void *ctx, const struct log_record *r)
{
	struct output *o = ctx;
	const struct output_comm *pc = comm_of(o, r->tgid);
	const char *comm = pc->comm;
	struct strbuf sb = { 0 };
	struct output_log *l;

	if (pc->reads_us) {
		o->logs_of_reader++;
		return;
	}
	o->logs++;
	if (o->format == OUTPUT_JSON) {
		static char line[3 * 65536 + 4096];

		if (format_log_json(r, comm, line, sizeof(line)) < 0) {
			o->write_errors++;
			return;
		}
		write_text(o, line);
		write_text(o, "\n");
		return;
	}
	if (o->tree) {
		tree_add_log(o->tree, r, comm, &sb);
		write_trees(o, &sb);
		return;
	}
	format_log_text(&sb, r, comm, 2, true);
	if (sb.failed || !r->in_request) {
		write_trees(o, &sb);
		return;
	}
	/* Under its span's line, which comes when the request ends. */
	if (o->nwaiting == OUTPUT_LOGS_WAITING) {
		write_text(o, o->waiting[0]->text);
		free(o->waiting[0]);
		memmove(o->waiting, o->waiting + 1, --o->nwaiting * sizeof(o->waiting[0]));
	}
	l = malloc(sizeof(*l) + sb.len + 1);
	if (!l) {
		write_trees(o, &sb);
		return;
	}
	memcpy(l->span_id, r->ctx.span_id, 8);
	l->arrived = clock_real_now();
	memcpy(l->text, sb.buf, sb.len + 1);
	o->waiting[o->nwaiting++] = l;
	strbuf_free(&sb);
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
	if (o->nwaiting)
		release_logs(o, sp->span_id, 0);
}

void output_flush(struct output *o)
{
	if (o->tree) {
		struct strbuf sb = { 0 };

		tree_expire(o->tree, clock_real_now(), false, &sb);
		write_trees(o, &sb);
	}
	if (o->nwaiting)
		release_logs(o, NULL, clock_real_now());
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
	release_logs(o, NULL, 0);
	output_flush(o);
}
