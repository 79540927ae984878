/* SPDX-License-Identifier: MIT */
/*
 * Ring buffer events → connections → protocol sessions → finished spans.
 * No BPF and no I/O here: events are plain bytes, so tests can feed their own.
 */
#ifndef SONDE_INGEST_H
#define SONDE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/conn_table.h"
#include "core/linker.h"
#include "protocols/registry.h"
#include "spans/span.h"

struct ingest_stats {
	uint64_t events;
	uint64_t malformed; /* events too short or of unknown type */
	uint64_t conn_opens;
	uint64_t conn_closes;
	uint64_t proc_exits;
	uint64_t data_events;
	uint64_t bytes_total;	       /* bytes moved by the traced syscalls */
	uint64_t bytes_captured;       /* of which were copied to the agent */
	uint64_t data_without_open;    /* connection learnt from data alone (its open was lost) */
	uint64_t conns_evicted;	       /* connection table full: least recent dropped */
	uint64_t conns_replaced;       /* fd seen with a new generation and no close: the
				      * kernel map evicted it or the close was lost */
	uint64_t spans_lost_evicted;   /* requests in flight on evicted connections */
	uint64_t session_alloc_failed; /* no memory for a protocol session: bytes ignored */
	uint64_t log_events;	       /* SONDE_EV_LOG events */
};

typedef void (*span_out_fn)(void *ctx, const struct span *sp);

/* A write a traced process made to its stdout or stderr (SONDE_EV_LOG), and
 * the request its execution unit was serving then. */
struct log_write {
	uint32_t tgid, tid, fd;
	uint64_t writer;     /* its execution unit: tid, or a goroutine id with bit 63 */
	uint64_t ts;	     /* kernel monotonic */
	uint64_t time_ns;    /* the same, wall clock */
	uint64_t stream_pos; /* its first byte's position in the fd's output, from 1 */
	uint64_t total;	     /* bytes it stands for; captured of them follow */
	const uint8_t *data;
	uint32_t captured;
	enum linker_ctx_state ctx_state;
	struct linker_ctx ctx;
};

/* Where log writes go (agent/logs/): write for each, span_end when a server
 * span of process tgid ends (its lines go out first), exit when it exited. */
struct ingest_logs {
	void (*write)(void *ctx, const struct log_write *w);
	void (*span_end)(void *ctx, uint32_t tgid);
	void (*exit)(void *ctx, uint32_t tgid);
	void *ctx;
};

struct ingest {
	struct conn_table conns;
	struct clock_offset clock;
	struct ingest_stats stats;
	struct protocols protocols; /* each protocol's counters and shared state */
	struct linker linker;	    /* trace, span and parent ids; spans go out through it */
	span_out_fn out;
	void *out_ctx;
	/* Optional: told when a process exited (after its connections closed). */
	void (*exit_out)(void *ctx, uint32_t tgid, uint64_t ts_mono);
	/* Optional: log writes (without, SONDE_EV_LOG events are only counted). */
	struct ingest_logs logs;
	/* The last log event: a write copied as several events keeps the
	 * context its first one found. */
	struct log_write last_log;
};

/* settings: what protocols are told (NULL: the defaults). */
int ingest_init(struct ingest *ig, size_t max_conns, const struct protocol_settings *settings,
		span_out_fn out, void *out_ctx);
/* Frees everything; requests still in flight are not reported. */
void ingest_destroy(struct ingest *ig);
/* Handles one ring buffer record. Returns 0, or -EINVAL for a malformed one
 * (counted, never fatal). */
int ingest_event(struct ingest *ig, const void *data, size_t size);
/* Sends on spans whose trace waited long enough (kernel monotonic now); call
 * once per loop. */
void ingest_tick(struct ingest *ig, uint64_t now);
/* Sends on every span still held (before the consumer of spans goes away). */
void ingest_flush(struct ingest *ig);

#endif /* SONDE_INGEST_H */
