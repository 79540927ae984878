/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "cli/tree.h"

struct tree_node {
	struct span sp;
	struct tree_node *prev, *next; /* waiting, oldest first; or the free list */
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

/* One trace's spans, gathered for rendering. */
struct trace_set {
	const struct span *spans[TREE_MAX_SPANS + 1];
	bool shown[TREE_MAX_SPANS + 1];
	int n;
};

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
		render_children(ts, s, depth + 1, with_query, out);
	} else {
		char peer[64];

		span_endpoint_addr(&sp->peer, peer, sizeof(peer));
		strbuf_printf(out, "%s  %s %s[%u] %s %s:%u  %s\n", what,
			      sp->kind == SPAN_SERVER ? "server" : "client", comm, sp->pid,
			      sp->kind == SPAN_SERVER ? "<-" : "->", peer, sp->peer.port, dur);
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
}

/* Gathers the waiting spans of trace_id (and sp, when given), renders them
 * and lets them go. */
static void flush_trace(struct tree *t, const uint8_t trace_id[16], const struct span *sp,
			struct strbuf *out, bool rootless)
{
	static struct trace_set ts; /* large: one at a time, main thread only */
	struct tree_node *n = t->oldest;

	ts.n = 0;
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

void tree_expire(struct tree *t, uint64_t now, bool force, struct strbuf *out)
{
	while (t->oldest && (force || t->oldest->sp.end_ns + TREE_WAIT_NS <= now)) {
		uint8_t trace[16];

		memcpy(trace, t->oldest->sp.trace_id, sizeof(trace));
		flush_trace(t, trace, NULL, out, true);
	}
}
