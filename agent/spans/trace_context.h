/* SPDX-License-Identifier: MIT */
/*
 * W3C Trace Context (traceparent) and the OpenTelemetry samplers. Pure code:
 * randomness comes from a generator the caller seeds.
 */
#ifndef SONDE_TRACE_CONTEXT_H
#define SONDE_TRACE_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "spans/span.h"

struct trace_ids {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8];
	bool has_parent;
	bool remote_parent; /* the parent is in another process (OTLP Span.flags) */
	bool sampled;	    /* the decision, and the W3C "sampled" flag sent to the collector */
};

/* A parsed traceparent: version 00 layout (later versions are read the same
 * way, as the specification asks). */
struct traceparent {
	uint8_t trace_id[16];
	uint8_t parent_id[8];
	uint8_t flags;
};

/* Returns 0, or -EINVAL when s is not a valid traceparent (wrong length or
 * characters, version ff, all-zero trace or parent id). */
int traceparent_parse(const char *s, struct traceparent *tp);

/* xoshiro256** — fast, good enough for ids; seeded once from getrandom. */
struct id_rng {
	uint64_t s[4];
};

void id_rng_seed(struct id_rng *r, uint64_t seed);
uint64_t id_rng_next(struct id_rng *r);

struct sampler {
	enum sampler_kind kind;
	double ratio;
};

/*
 * The ids a span is exported with (core/linker.c gave them) and the sampling
 * decision: parent-based samplers follow a trace that came with a
 * traceparent (its sampled flag); everything else is decided on the trace
 * id, so every span of a trace gets the same answer.
 */
void trace_ids_for(struct trace_ids *ids, const struct span *sp, const struct sampler *smp);

/* The traceidratio decision alone: deterministic in the trace id, so every
 * agent on the path of a trace decides the same. */
bool sampler_ratio_keeps(double ratio, const uint8_t trace_id[16]);

#endif /* SONDE_TRACE_CONTEXT_H */
