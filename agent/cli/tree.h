/* SPDX-License-Identifier: MIT */
/*
 * `sonde trace --tree`: each finished trace as an indented tree of its spans
 * with their durations — "locate" in a terminal. Spans arrive children first
 * (a server span ends after the calls it made); they wait here, grouped by
 * trace, until the trace's root ends: a span with no parent, or whose parent
 * is another node's (a caller's traceparent). A client span and the server
 * span at the other end of the same call, both traced here, share one line
 * with both durations. Bounded: spans whose root never comes are printed as
 * a tree of their own after a while (counted). Pure: renders into a buffer.
 */
#ifndef SONDE_TREE_H
#define SONDE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/prom_text.h"
#include "logs/logs.h"
#include "spans/span.h"

/* Spans kept while their trace's root has not ended. */
#define TREE_MAX_SPANS 1024
/* How long a span waits for its root before it is printed without it. */
#define TREE_WAIT_NS (5 * 1000000000ull)
/* Log records kept while their trace has not been printed. */
#define TREE_MAX_LOGS 1024

struct tree_stats {
	uint64_t traces;
	uint64_t rootless;   /* trees printed without their root (it never ended here,
			    * or more than TREE_MAX_SPANS spans waited) */
	uint64_t logs_alone; /* log records printed on their own: their trace was
			      * printed already, or never came */
};

struct tree_node;
struct tree_log;

struct tree {
	struct tree_node *nodes; /* TREE_MAX_SPANS, a free list and a wait list */
	struct tree_node *free, *oldest, *newest;
	uint32_t count;
	struct tree_log *logs, *logs_tail; /* waiting, oldest first */
	uint32_t nlogs;
	bool with_query; /* query strings shown (capture.query) */
	struct tree_stats stats;
};

int tree_init(struct tree *t, bool with_query);
void tree_free(struct tree *t);

/* Adds a finished span; when it completes a trace, the trace's tree is
 * appended to out. */
void tree_add(struct tree *t, const struct span *sp, struct strbuf *out);

/* A log record (comm: its process's name): printed under its span when its
 * trace is printed; at once, on its own line, when written outside any
 * request. */
void tree_add_log(struct tree *t, const struct log_record *r, const char *comm, struct strbuf *out);

/* Prints the trees whose spans waited past TREE_WAIT_NS (all of them with
 * force, at exit). now: wall clock ns, as span times are. */
void tree_expire(struct tree *t, uint64_t now, bool force, struct strbuf *out);

#endif /* SONDE_TREE_H */
