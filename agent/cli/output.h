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
#include "logs/logs.h"

/* Live text view: log records written in a request wait for their span's
 * line (at most this many, this long), to be printed under it. */
#define OUTPUT_LOGS_WAITING 256
#define OUTPUT_LOGS_WAIT_NS (5 * 1000000000ull)

struct output_log;

/* Process names for log records (read from /proc once per process). */
#define OUTPUT_COMMS 64
struct output_comm {
	uint32_t pid;
	bool reads_us; /* its stdin is the pipe our output goes to */
	char comm[16];
};

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
	uint64_t logs; /* log records printed */
	uint64_t write_errors;
	struct output_log *waiting[OUTPUT_LOGS_WAITING]; /* oldest first */
	uint32_t nwaiting;
	struct output_comm comms[OUTPUT_COMMS];
	uint32_t next_comm;
	/* When our output is a pipe (its inode; 0: not), the log records of
	 * the process reading it (`sonde trace --logs | jq`) are not shown:
	 * its writes would come back as records, round and round. */
	uint64_t out_pipe;
	uint64_t logs_of_reader; /* records not shown for that */
	bool closed;		 /* the reader went away (EPIPE): nothing more can be shown */
};

/* span_out_fn for ingest: prints the span and adds it to the summary. */
void output_span(void *ctx, const struct span *sp);
/* log_out_fn for logs/: prints the record (JSON at once; text under its
 * span's line, or the tree's). */
void output_log(void *ctx, const struct log_record *r);
/* The name of process pid, as records show it. */
const char *output_comm(struct output *o, uint32_t pid);

/* Called after every batch of events (at least every poll interval), so a
 * piped reader sees each span within 100 ms without a write per span. */
void output_flush(struct output *o);
/* --tree: prints the traces still waiting for their root (at exit). */
void output_finish(struct output *o);

#endif /* SONDE_OUTPUT_H */
