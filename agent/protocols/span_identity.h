/* SPDX-License-Identifier: MIT */
/*
 * What the core gives a span when its exchange begins (struct span_sink's
 * begin: its span id, trace and parent), kept by a session in place of the
 * whole span while the request waits for its answer, and put back into the
 * span it finally emits. Forty bytes instead of a struct span per request in
 * flight: a pipelined database connection has hundreds.
 */
#ifndef SONDE_SPAN_IDENTITY_H
#define SONDE_SPAN_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/protocol.h"
#include "spans/span.h"

struct span_identity {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8];
	uint8_t link;	     /* enum span_link */
	uint8_t trace_flags; /* W3C flags */
	bool begun;	     /* the rest is set */
	uint32_t flags;	     /* the span flags begin set (SPAN_F_TRACE_FROM_HEADER) */
};

/* The exchange sp describes began: the sink gives it its identity (when it
 * has a begin), kept in id. */
void span_identity_begin(struct span_identity *id, struct span *sp, const struct span_sink *sink);

/* Puts a kept identity into the span about to be emitted. */
void span_identity_apply(struct span *sp, const struct span_identity *id);

#endif /* SONDE_SPAN_IDENTITY_H */
