/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "spans/trace_context.h"

/* A hex digit's value + 1; 0 for every other byte (upper case is invalid in
 * traceparent). A table, not comparisons: a traceparent has 52 digits to read
 * for every request that carries one. */
static const uint8_t hex_plus1[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int hex_val(char c)
{
	return (int)hex_plus1[(unsigned char)c] - 1;
}

static int hex_bytes(const char *s, uint8_t *out, size_t n)
{
	unsigned bad = 0, any = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned hi = hex_plus1[(unsigned char)s[2 * i]];
		unsigned lo = hex_plus1[(unsigned char)s[2 * i + 1]];

		bad |= !hi | !lo;
		out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
		any |= out[i];
	}
	return bad || !any ? -EINVAL : 0;
}

/* version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55 chars;
 * versions after 00 may append "-…" (W3C Trace Context, section 3.2). */
int traceparent_parse(const char *s, struct traceparent *tp)
{
	uint8_t version;
	size_t len = strlen(s);

	if (len < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return -EINVAL;
	if (hex_val(s[0]) < 0 || hex_val(s[1]) < 0)
		return -EINVAL;
	version = (uint8_t)(hex_val(s[0]) << 4 | hex_val(s[1]));
	if (version == 0xff || (version == 0 && len != 55) || (len > 55 && s[55] != '-'))
		return -EINVAL;
	if (hex_bytes(s + 3, tp->trace_id, 16) || hex_bytes(s + 36, tp->parent_id, 8))
		return -EINVAL;
	if (hex_val(s[53]) < 0 || hex_val(s[54]) < 0)
		return -EINVAL;
	tp->flags = (uint8_t)(hex_val(s[53]) << 4 | hex_val(s[54]));
	return 0;
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void id_rng_seed(struct id_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t id_rng_next(struct id_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* The lower 8 bytes of the trace id, read big-endian, against ratio * 2^64:
 * the W3C random trace-id flag puts its randomness there. */
bool sampler_ratio_keeps(double ratio, const uint8_t trace_id[16])
{
	uint64_t v = 0;

	if (ratio >= 1.0)
		return true;
	if (ratio <= 0.0)
		return false;
	for (int i = 8; i < 16; i++)
		v = v << 8 | trace_id[i];
	/* 2^64 as a double is exact; compare in the upper 53 bits' precision. */
	return (double)v < ratio * 18446744073709551616.0;
}

static bool root_decision(const struct sampler *smp, const uint8_t trace_id[16])
{
	switch (smp->kind) {
	case SAMPLER_ALWAYS_OFF:
	case SAMPLER_PARENTBASED_ALWAYS_OFF:
		return false;
	case SAMPLER_TRACEIDRATIO:
	case SAMPLER_PARENTBASED_TRACEIDRATIO:
		return sampler_ratio_keeps(smp->ratio, trace_id);
	case SAMPLER_ALWAYS_ON:
	case SAMPLER_PARENTBASED_ALWAYS_ON:
	default:
		return true;
	}
}

static bool parent_based(enum sampler_kind k)
{
	return k == SAMPLER_PARENTBASED_ALWAYS_ON || k == SAMPLER_PARENTBASED_ALWAYS_OFF ||
	       k == SAMPLER_PARENTBASED_TRACEIDRATIO;
}

void trace_ids_for(struct trace_ids *ids, const struct span *sp, const struct sampler *smp)
{
	static const uint8_t none[8];

	memset(ids, 0, sizeof(*ids));
	memcpy(ids->trace_id, sp->trace_id, sizeof(ids->trace_id));
	memcpy(ids->span_id, sp->span_id, sizeof(ids->span_id));
	memcpy(ids->parent_span_id, sp->parent_span_id, sizeof(ids->parent_span_id));
	ids->has_parent = memcmp(sp->parent_span_id, none, sizeof(none)) != 0;
	ids->remote_parent = sp->link == SPAN_LINK_HEADER || sp->link == SPAN_LINK_CONNECTION;
	if ((sp->flags & SPAN_F_TRACE_FROM_HEADER) && parent_based(smp->kind))
		ids->sampled = sp->trace_flags & 0x01;
	else
		ids->sampled = root_decision(smp, ids->trace_id);
}
