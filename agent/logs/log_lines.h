/* SPDX-License-Identifier: MIT */
/*
 * Lines out of one output stream (a process's stdout or stderr), as its
 * writes come: a line written in several writes is one line; a write of
 * several lines is several; a line's continuation — a stack trace's indented
 * lines, "Traceback (most recent call last):", "Caused by: …", Python's
 * closing "ValueError: …" — joins the record it follows when it comes within
 * a short window. A record (a line and its continuations) longer than the cap
 * is cut there (the rest until the line's end is dropped) and marked so;
 * binary output (NUL bytes, or many control bytes or bad UTF-8), a whole
 * write or a line, is skipped; empty lines
 * make no record. Each record keeps the time and the request context of the
 * write that began it.
 *
 * Which request a record belongs to is never guessed: a line or continuation
 * only joins what the same writer wrote in the same request (another
 * writer's bytes in the middle of a line end it there), and a write that may
 * carry other requests' lines — a block-buffered stream's flush, made by
 * whichever thread filled the buffer — gives its records no request: a write
 * of several records, and every write of a stream once one of its writes
 * ended in the middle of a line after a line end (stdio's or Python's
 * buffer, flushed full). Pure code: times are the kernel's monotonic ns.
 */
#ifndef SONDE_LOG_LINES_H
#define SONDE_LOG_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/linker.h"

struct log_lines_stats {
	uint64_t lines;	      /* complete lines taken (continuations included) */
	uint64_t records;     /* records handed out */
	uint64_t cut;	      /* records cut at the cap, or missing bytes */
	uint64_t binary;      /* bytes skipped as binary (whole writes, or lines) */
	uint64_t lost;	      /* bytes written that never reached the agent */
	uint64_t joined;      /* continuation lines joined to their record */
	uint64_t unfinished;  /* lines without an end sent after a wait */
	uint64_t interleaved; /* lines ended early: another writer's or request's bytes came */
	uint64_t unlinked;    /* records written in a request, sent without it: their
			       * write may hold other requests' lines */
	uint64_t buffered;    /* streams found block-buffered */
};

/* What a write carried, for the stream. */
struct log_chunk {
	const uint8_t *data;
	uint32_t captured;
	uint64_t total;	     /* bytes it stands for (the rest were not copied) */
	uint64_t stream_pos; /* its first byte's position, from 1; 0 unknown */
	uint64_t ts;	     /* kernel monotonic */
	uint64_t time_ns;    /* wall clock */
	uint64_t writer;     /* the execution unit that wrote it (thread, goroutine) */
	enum linker_ctx_state ctx_state;
	struct linker_ctx ctx;
};

/* A record handed out: body is bytes as written (not yet valid UTF-8),
 * lines joined with '\n', no line end. */
struct log_line_record {
	const char *body;
	size_t len;
	bool cut;
	uint64_t ts, time_ns;
	enum linker_ctx_state ctx_state;
	struct linker_ctx ctx;
};

typedef void (*log_record_fn)(void *ctx, const struct log_line_record *r);

/* Where a line being assembled began. */
struct log_start {
	uint64_t ts, time_ns;
	uint64_t writer;
	uint64_t write_seq; /* which of the stream's writes */
	bool unlinked;	    /* its write may hold other requests' lines */
	enum linker_ctx_state ctx_state;
	struct linker_ctx ctx;
};

/*
 * One stream. buf (2 * max + 2 bytes, the caller's) holds the pending record
 * [0, rec_len) and the line being written after it, at rec_len + 1.
 */
struct log_stream {
	char *buf;
	uint32_t max; /* the record cap */
	uint32_t rec_len, part_len;
	bool has_rec, has_part;
	bool rec_cut, part_cut; /* cut at the cap, or bytes lost */
	bool part_skip;		/* past the cap: the line's bytes are dropped to its end */
	bool in_traceback;	/* the record holds a Python traceback */
	bool buffered;		/* a write ended mid-line after a line end: block-buffered */
	uint64_t write_seq;	/* writes fed */
	uint64_t rec_last_ts;	/* when its last line ended */
	uint64_t next_pos;	/* where the next write should start; 0 unknown */
	uint64_t missing;	/* bytes of gaps counted lost that may still come */
	struct log_start rec, part;
};

struct log_lines_opts {
	uint32_t max;	  /* record cap in bytes */
	uint64_t join_ns; /* a continuation joins a record whose last line ended this recently */
	uint64_t wait_ns; /* a line without its end is sent after this long */
	log_record_fn out;
	void *out_ctx;
	struct log_lines_stats *stats;
};

/* The room a stream's buf needs for a cap of max bytes. */
#define LOG_STREAM_BUF(max) (2 * (size_t)(max) + 2)

void log_stream_init(struct log_stream *s, char *buf, uint32_t max);
void log_stream_feed(struct log_stream *s, const struct log_chunk *c,
		     const struct log_lines_opts *o);
/* Sends what waited long enough (now: kernel monotonic). complete: the
 * pending record now, whatever the window (its process's request ended);
 * all: also a line without its end (the stream is going away). */
void log_stream_tick(struct log_stream *s, uint64_t now, bool complete, bool all,
		     const struct log_lines_opts *o);
/* Whether the stream holds nothing. */
bool log_stream_idle(const struct log_stream *s);

/* Whether a line continues the record before it (pure heuristics, exposed
 * for tests). in_traceback: the record is a Python traceback so far. */
bool log_line_continues(const char *line, size_t len, bool in_traceback);
/* Whether a line is binary rather than text: a NUL byte, or more than four
 * and more than an eighth of its bytes control bytes or bad UTF-8. */
bool log_line_binary(const char *line, size_t len);

#endif /* SONDE_LOG_LINES_H */
