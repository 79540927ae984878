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
};

typedef void (*span_out_fn)(void *ctx, const struct span *sp);

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
