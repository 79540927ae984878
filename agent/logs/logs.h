/* SPDX-License-Identifier: MIT */
/*
 * What traced processes write to stdout and stderr, as log records
 * (docs/ARCHITECTURE.md, "Logs"): one line assembler per (process, fd)
 * (logs/log_lines.h), each record's severity (logs/log_severity.h) and body
 * made valid UTF-8, a per-process limit of records a second, and the request
 * each record was written in. A record whose trace is not settled yet (a
 * server on the way waits for its client's side) waits, bounded, until it is.
 * Every table is bounded and what it drops is counted. Pure code: times are
 * the kernel's monotonic ns; the linker is reached through a callback.
 */
#ifndef SONDE_LOGS_H
#define SONDE_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ingest.h"
#include "logs/log_lines.h"
#include "logs/log_severity.h"

#define LOGS_DEFAULT_MAX_LINE 8192
#define LOGS_DEFAULT_RATE     1000 /* records a second per process */
#define LOGS_DEFAULT_STREAMS  512
#define LOGS_JOIN_NS	      (100 * 1000000ull)  /* continuation window */
#define LOGS_WAIT_NS	      (1000 * 1000000ull) /* a line without its end */
#define LOGS_HELD_MAX	      256

/* A log record, as every output sees it. */
struct log_record {
	uint32_t tgid, fd; /* fd 1: stdout, 2: stderr */
	uint64_t ts;	   /* kernel monotonic: the write that began it */
	uint64_t time_ns;  /* the same, wall clock */
	const char *body;  /* valid UTF-8, lines joined with '\n' */
	size_t len;
	bool cut; /* longer than the cap, or bytes missing */
	struct log_severity severity;
	bool in_request; /* ctx holds the request it was written in */
	struct linker_ctx ctx;
};

typedef void (*log_out_fn)(void *ctx, const struct log_record *r);
typedef enum linker_ctx_state (*log_resolve_fn)(void *ctx, const uint8_t span_id[8],
						struct linker_ctx *out);

struct logs_opts {
	uint32_t max_line;	   /* record cap in bytes (0: LOGS_DEFAULT_MAX_LINE) */
	uint32_t rate;		   /* records a second per process, 0: no limit */
	uint32_t max_streams;	   /* 0: LOGS_DEFAULT_STREAMS */
	uint64_t join_ns, wait_ns; /* 0: the defaults above */
	log_resolve_fn resolve;	   /* linker_context_of() */
	void *resolve_ctx;
	log_out_fn out;
	void *out_ctx;
};

struct logs_stats {
	struct log_lines_stats lines;
	uint64_t writes;       /* log writes (events) */
	uint64_t bytes;	       /* bytes they stood for */
	uint64_t records;      /* records handed out */
	uint64_t in_request;   /* ... of which written while serving a request */
	uint64_t rate_limited; /* records dropped by the per-process limit */
	uint64_t
		streams_evicted; /* streams dropped from the full table (their pending lines sent) */
	uint64_t held;		 /* records that waited for their trace */
	uint64_t held_full;	 /* ... sent on before it was known: the hold was full */
};

struct logs;

/* NULL when out of memory. */
struct logs *logs_new(const struct logs_opts *o);
/* Sends everything pending, then frees. NULL-safe. */
void logs_free(struct logs *lg);

/* ingest's hooks (struct ingest_logs): a write; a server span of tgid ended. */
void logs_write(void *lg, const struct log_write *w);
void logs_span_end(void *lg, uint32_t tgid);
/* A process exited: its pending lines go out, its streams are forgotten. */
void logs_exit(void *lg, uint32_t tgid);
/* Sends what waited long enough; once per loop (now: kernel monotonic).
 * force: everything (at exit). */
void logs_tick(struct logs *lg, uint64_t now, bool force);

void logs_get_stats(const struct logs *lg, struct logs_stats *out);

#endif /* SONDE_LOGS_H */
