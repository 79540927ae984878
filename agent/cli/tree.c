/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "cli/tree.h"

struct tree_node {
	struct span sp;
	struct tree_node *prev, *next; /* waiting, oldest first; or the free list */
};

struct tree_log {
	struct log_record rec; /* its body is the copy below */
	char comm[SPAN_COMM_LEN];
	uint64_t arrived; /* wall clock ns, as span times are */
	bool shown;
	struct tree_log *next;
	char body[]; /* rec.len bytes */
};

int tree_init(struct tree *t, bool with_query)
{
	memset(t, 0, sizeof(*t));
	t->with_query = with_query;
	t->nodes = calloc(TREE_MAX_SPANS, sizeof(*t->nodes));
	if (!t->nodes)
		return -ENOMEM;
	for (int i = 0; i < TREE_MAX_SPANS; i++) {
		t->nodes[i].next = t->free;
		t->free = &t->nodes[i];
	}
	return 0;
}

void tree_free(struct tree *t)
{
	while (t->logs) {
		struct tree_log *next = t->logs->next;

		free(t->logs);
		t->logs = next;
	}
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

static void unlink_node(struct tree *t, struct tree_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		t->oldest = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		t->newest = n->prev;
	n->next = t->free;
	t->free = n;
	t->count--;
}

static bool is_root(const struct span *sp)
{
	return !span_has_parent(sp) || sp->link == SPAN_LINK_HEADER;
}

/* One trace's spans, gathered for rendering, and the tree (its logs). */
struct trace_set {
	const struct span *spans[TREE_MAX_SPANS + 1];
	bool shown[TREE_MAX_SPANS + 1];
	int n;
	struct tree *t;
	const uint8_t *trace_id;
};

/* The log records written in span sp, under it at depth. */
static void render_logs(struct trace_set *ts, const struct span *sp, int depth, struct strbuf *out)
{
	for (struct tree_log *l = ts->t->logs; l; l = l->next) {
		if (l->shown || memcmp(l->rec.ctx.trace_id, ts->trace_id, 16) ||
		    (sp && memcmp(l->rec.ctx.span_id, sp->span_id, 8)))
			continue;
		l->shown = true;
		format_log_text(out, &l->rec, l->comm, 2 + 2 * depth, !sp);
	}
}

static void indent(struct strbuf *out, int depth)
{
	strbuf_printf(out, "%*s", 2 + 2 * depth, "");
}

/* A call's server side, when it is traced here too: the server span whose
 * parent this client span is, found at the other end of the connection. */
static int server_side(const struct trace_set *ts, int client)
{
	const struct span *c = ts->spans[client];

	if (c->kind != SPAN_CLIENT)
		return -1;
	for (int i = 0; i < ts->n; i++) {
		const struct span *s = ts->spans[i];

		if (!ts->shown[i] && s->kind == SPAN_SERVER && s->link == SPAN_LINK_CONNECTION &&
		    !memcmp(s->parent_span_id, c->span_id, sizeof(c->span_id)))
			return i;
	}
	return -1;
}

static void render(struct trace_set *ts, int i, int depth, bool with_query, struct strbuf *out);

/* The children of span i, in the order they started. */
static void render_children(struct trace_set *ts, const struct span *parent, int depth,
			    bool with_query, struct strbuf *out)
{
	for (;;) {
		int next = -1;

		for (int j = 0; j < ts->n; j++) {
			const struct span *s = ts->spans[j];

			if (ts->shown[j] ||
			    memcmp(s->parent_span_id, parent->span_id, sizeof(parent->span_id)))
				continue;
			if (next < 0 || s->start_ns < ts->spans[next]->start_ns)
				next = j;
		}
		if (next < 0)
			return;
		render(ts, next, depth, with_query, out);
	}
}

static void render(struct trace_set *ts, int i, int depth, bool with_query, struct strbuf *out)
{
	const struct span *sp = ts->spans[i];
	char what[4 * (SPAN_TARGET_LEN + SPAN_DB_NAME_LEN + 64)], dur[24], server_dur[24];
	char comm[4 * SPAN_COMM_LEN], server_comm[4 * SPAN_COMM_LEN];
	int srv;

	ts->shown[i] = true;
	srv = server_side(ts, i);
	format_span_what(sp, with_query, what, sizeof(what));
	format_duration(sp->end_ns - sp->start_ns, dur, sizeof(dur));
	format_text(comm, sizeof(comm), sp->comm);
	indent(out, depth);
	if (srv >= 0) {
		const struct span *s = ts->spans[srv];

		ts->shown[srv] = true;
		format_duration(s->end_ns - s->start_ns, server_dur, sizeof(server_dur));
		format_text(server_comm, sizeof(server_comm), s->comm);
		strbuf_printf(out, "%s  %s[%u] -> %s[%u]  client %s  server %s\n", what, comm,
			      sp->pid, server_comm, s->pid, dur, server_dur);
		render_logs(ts, sp, depth + 1, out);
		render_logs(ts, s, depth + 1, out);
		render_children(ts, s, depth + 1, with_query, out);
	} else {
		char peer[64];

		span_endpoint_addr(&sp->peer, peer, sizeof(peer));
		strbuf_printf(out, "%s  %s %s[%u] %s %s:%u  %s\n", what,
			      sp->kind == SPAN_SERVER ? "server" : "client", comm, sp->pid,
			      sp->kind == SPAN_SERVER ? "<-" : "->", peer, sp->peer.port, dur);
		render_logs(ts, sp, depth + 1, out);
	}
	render_children(ts, sp, depth + 1, with_query, out);
}

static void render_trace(struct tree *t, struct trace_set *ts, struct strbuf *out, bool rootless)
{
	char hex[33];

	t->stats.traces++;
	if (rootless)
		t->stats.rootless++;
	span_hex(ts->spans[0]->trace_id, sizeof(ts->spans[0]->trace_id), hex);
	strbuf_printf(out, "trace %s%s\n", hex, rootless ? " (its root did not end here)" : "");
	/* Roots first (the last added, when the root completed the trace), then
	 * what no span here is the parent of. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = ts->n - 1; i >= 0; i--) {
			bool top = is_root(ts->spans[i]);

			if (ts->shown[i])
				continue;
			if (!top && pass == 0)
				continue;
			if (!top) {
				bool has_parent_here = false;

				for (int j = 0; j < ts->n; j++)
					has_parent_here |= !memcmp(ts->spans[j]->span_id,
								   ts->spans[i]->parent_span_id, 8);
				if (has_parent_here)
					continue;
			}
			render(ts, i, 0, t->with_query, out);
		}
	}
	/* Lines of spans that are not in this tree (ended before, or lost). */
	render_logs(ts, NULL, 0, out);
}

/* Forgets the log records already printed. */
static void drop_shown_logs(struct tree *t)
{
	struct tree_log **pp = &t->logs;

	t->logs_tail = NULL;
	while (*pp) {
		struct tree_log *l = *pp;

		if (l->shown) {
			*pp = l->next;
			free(l);
			t->nlogs--;
			continue;
		}
		t->logs_tail = l;
		pp = &l->next;
	}
}

/* Gathers the waiting spans of trace_id (and sp, when given), renders them
 * and lets them go. */
static void flush_trace(struct tree *t, const uint8_t trace_id[16], const struct span *sp,
			struct strbuf *out, bool rootless)
{
	static struct trace_set ts; /* large: one at a time, main thread only */
	struct tree_node *n = t->oldest;

	ts.n = 0;
	ts.t = t;
	ts.trace_id = trace_id;
	while (n) {
		struct tree_node *next = n->next;

		if (!memcmp(n->sp.trace_id, trace_id, 16)) {
			ts.spans[ts.n] = &n->sp;
			ts.shown[ts.n++] = false;
		}
		n = next;
	}
	if (sp) {
		ts.spans[ts.n] = sp;
		ts.shown[ts.n++] = false;
	}
	if (ts.n)
		render_trace(t, &ts, out, rootless);
	if (ts.n && t->nlogs)
		drop_shown_logs(t);
	for (n = t->oldest; n;) {
		struct tree_node *next = n->next;

		if (!memcmp(n->sp.trace_id, trace_id, 16))
			unlink_node(t, n);
		n = next;
	}
}

void tree_add(struct tree *t, const struct span *sp, struct strbuf *out)
{
	struct tree_node *n;

	if (is_root(sp)) {
		flush_trace(t, sp->trace_id, sp, out, false);
		return;
	}
	if (!t->free) {
		/* Full: the oldest trace goes out as it is. */
		uint8_t oldest[16];

		memcpy(oldest, t->oldest->sp.trace_id, sizeof(oldest));
		flush_trace(t, oldest, NULL, out, true);
	}
	n = t->free;
	t->free = n->next;
	n->sp = *sp;
	n->next = NULL;
	n->prev = t->newest;
	if (t->newest)
		t->newest->next = n;
	else
		t->oldest = n;
	t->newest = n;
	t->count++;
}

/* A log record printed on its own line, with its request's ids. */
static void log_alone(struct tree *t, struct tree_log *l, struct strbuf *out)
{
	t->stats.logs_alone++;
	l->shown = true;
	format_log_text(out, &l->rec, l->comm, 0, true);
}

void tree_add_log(struct tree *t, const struct log_record *r, const char *comm, struct strbuf *out)
{
	struct tree_log *l;

	if (!r->in_request) {
		format_log_text(out, r, comm, 0, false);
		return;
	}
	l = malloc(sizeof(*l) + (r->len ? r->len : 1));
	if (!l) {
		t->stats.logs_alone++;
		format_log_text(out, r, comm, 0, true);
		return;
	}
	if (t->nlogs == TREE_MAX_LOGS) {
		log_alone(t, t->logs, out);
		drop_shown_logs(t);
	}
	l->rec = *r;
	memcpy(l->body, r->body, r->len);
	l->rec.body = l->body;
	snprintf(l->comm, sizeof(l->comm), "%s", comm);
	l->arrived = r->time_ns;
	l->shown = false;
	l->next = NULL;
	if (t->logs_tail)
		t->logs_tail->next = l;
	else
		t->logs = l;
	t->logs_tail = l;
	t->nlogs++;
}

/* Whether a span of the trace is waiting here. */
static bool trace_waiting(const struct tree *t, const uint8_t trace_id[16])
{
	for (const struct tree_node *n = t->oldest; n; n = n->next)
		if (!memcmp(n->sp.trace_id, trace_id, 16))
			return true;
	return false;
}

void tree_expire(struct tree *t, uint64_t now, bool force, struct strbuf *out)
{
	bool dropped = false;

	while (t->oldest && (force || t->oldest->sp.end_ns + TREE_WAIT_NS <= now)) {
		uint8_t trace[16];

		memcpy(trace, t->oldest->sp.trace_id, sizeof(trace));
		flush_trace(t, trace, NULL, out, true);
	}
	/* Lines whose trace was printed before them, or never comes. */
	for (struct tree_log *l = t->logs; l; l = l->next) {
		if (force ||
		    (l->arrived + TREE_WAIT_NS <= now && !trace_waiting(t, l->rec.ctx.trace_id))) {
			log_alone(t, l, out);
			dropped = true;
		}
	}
	if (dropped)
		drop_shown_logs(t);
}
