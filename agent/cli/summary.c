/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "util/json.h"
#include "cli/summary.h"

/*
 * Latency histogram: microseconds, exact below 64 µs, then 64 sub-buckets per
 * power of two (at most 1.6% relative error) up to 2^32 µs (71 minutes).
 * 1728 four-byte counters: under 7 KiB per endpoint.
 */
#define SUB_BITS     6
#define SUB_COUNT    (1u << SUB_BITS)
#define MAX_EXP	     31
#define NBUCKETS     (SUB_COUNT + (MAX_EXP - SUB_BITS + 1) * SUB_COUNT)
#define PATH_MAX_LEN 256

struct endpoint {
	struct endpoint *next; /* hash chain */
	enum span_kind kind;
	char method[SPAN_METHOD_LEN];
	char path[PATH_MAX_LEN];
	uint64_t count;
	uint64_t errors;
	uint64_t min_ns;
	uint64_t max_ns;
	uint32_t buckets[NBUCKETS];
};

struct summary {
	struct endpoint **table;
	size_t nbuckets;
	size_t count;
	size_t max;
	struct endpoint *other; /* rows past max */
	size_t folded;
};

static unsigned bucket_of(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned e;

	if (us < SUB_COUNT)
		return (unsigned)us;
	e = 63 - (unsigned)__builtin_clzll(us);
	if (e > MAX_EXP)
		return NBUCKETS - 1;
	return SUB_COUNT + (e - SUB_BITS) * SUB_COUNT +
	       (unsigned)((us >> (e - SUB_BITS)) - SUB_COUNT);
}

/* Middle of a bucket, in ns. */
static uint64_t bucket_value(unsigned b)
{
	unsigned e, sub;
	uint64_t low, width;

	if (b < SUB_COUNT)
		return (uint64_t)b * 1000 + 500;
	e = (b - SUB_COUNT) / SUB_COUNT + SUB_BITS;
	sub = (b - SUB_COUNT) % SUB_COUNT;
	low = (uint64_t)(SUB_COUNT + sub) << (e - SUB_BITS);
	width = 1ull << (e - SUB_BITS);
	return (low * 1000) + width * 500;
}

static uint64_t percentile(const struct endpoint *e, double q)
{
	uint64_t rank = (uint64_t)(q * (double)e->count + 0.999999);
	uint64_t seen = 0, v;

	if (!e->count)
		return 0;
	if (rank < 1)
		rank = 1;
	for (unsigned b = 0; b < NBUCKETS; b++) {
		seen += e->buckets[b];
		if (seen >= rank) {
			v = bucket_value(b);
			if (v < e->min_ns)
				v = e->min_ns;
			if (v > e->max_ns)
				v = e->max_ns;
			return v;
		}
	}
	return e->max_ns;
}

static size_t hash_key(enum span_kind kind, const char *method, const char *path, size_t plen)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kind; /* FNV-1a */

	for (const char *c = method; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	h = (h ^ ' ') * 1099511628211ull;
	for (size_t i = 0; i < plen; i++)
		h = (h ^ (uint8_t)path[i]) * 1099511628211ull;
	return (size_t)h;
}

struct summary *summary_new(size_t max_endpoints)
{
	struct summary *s = calloc(1, sizeof(*s));
	size_t n = 64;

	if (!s)
		return NULL;
	while (n < max_endpoints * 2)
		n <<= 1;
	s->table = calloc(n, sizeof(*s->table));
	if (!s->table) {
		free(s);
		return NULL;
	}
	s->nbuckets = n;
	s->max = max_endpoints;
	return s;
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct endpoint *e = s->table[i];

		while (e) {
			struct endpoint *next = e->next;

			free(e);
			e = next;
		}
	}
	free(s->other);
	free(s->table);
	free(s);
}

static struct endpoint *new_endpoint(enum span_kind kind, const char *method, const char *path,
				     size_t plen)
{
	struct endpoint *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	snprintf(e->method, sizeof(e->method), "%s", method);
	if (plen >= sizeof(e->path))
		plen = sizeof(e->path) - 1;
	memcpy(e->path, path, plen);
	e->min_ns = UINT64_MAX;
	return e;
}

static struct endpoint *find(const struct summary *s, enum span_kind kind, const char *method,
			     const char *path, size_t plen, size_t *slot)
{
	struct endpoint *e;

	if (plen >= PATH_MAX_LEN)
		plen = PATH_MAX_LEN - 1;
	*slot = hash_key(kind, method, path, plen) & (s->nbuckets - 1);
	for (e = s->table[*slot]; e; e = e->next)
		if (e->kind == kind && !strcmp(e->method, method) && strlen(e->path) == plen &&
		    !memcmp(e->path, path, plen))
			return e;
	return NULL;
}

void summary_add(struct summary *s, const struct span *sp)
{
	size_t plen = span_path_len(sp), slot;
	uint64_t d = sp->end_ns - sp->start_ns;
	/* gRPC calls are all POSTs: their rows say what they are instead. */
	const char *method = sp->flags & SPAN_F_GRPC ? "gRPC" : sp->method;
	const char *path = sp->target;
	char db_name[SPAN_DB_NAME_LEN];
	struct endpoint *e;

	if (!s)
		return;
	/* A database's rows: its system, and the span's name. */
	if (sp->flags & SPAN_F_DB) {
		method = span_db_system_name(sp->db.system);
		plen = span_db_name(sp, db_name, sizeof(db_name));
		path = db_name;
	}
	e = find(s, sp->kind, method, path, plen, &slot);
	if (!e && s->count < s->max) {
		e = new_endpoint(sp->kind, method, path, plen);
		if (e) {
			e->next = s->table[slot];
			s->table[slot] = e;
			s->count++;
		}
	}
	if (!e) {
		if (!s->other)
			s->other = new_endpoint(sp->kind, "*", "(other)", 7);
		if (!s->other)
			return;
		e = s->other;
		s->folded++;
	}
	e->count++;
	if (span_is_error(sp))
		e->errors++;
	if (d < e->min_ns)
		e->min_ns = d;
	if (d > e->max_ns)
		e->max_ns = d;
	e->buckets[bucket_of(d)]++;
}

size_t summary_count(const struct summary *s)
{
	return s ? s->count + (s->other ? 1 : 0) : 0;
}

size_t summary_folded(const struct summary *s)
{
	return s ? s->folded : 0;
}

bool summary_get(const struct summary *s, enum span_kind kind, const char *method, const char *path,
		 uint64_t *count, uint64_t *errors, uint64_t *p50_ns, uint64_t *p95_ns,
		 uint64_t *p99_ns)
{
	size_t slot;
	const struct endpoint *e = find(s, kind, method, path, strlen(path), &slot);

	if (!e)
		return false;
	*count = e->count;
	*errors = e->errors;
	*p50_ns = percentile(e, 0.50);
	*p95_ns = percentile(e, 0.95);
	*p99_ns = percentile(e, 0.99);
	return true;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct endpoint *x = *(const struct endpoint *const *)a;
	const struct endpoint *y = *(const struct endpoint *const *)b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* Rows sorted by count, (other) last. Caller frees. */
static const struct endpoint **sorted_rows(const struct summary *s, size_t *n)
{
	const struct endpoint **rows = calloc(summary_count(s) + 1, sizeof(*rows));
	size_t k = 0;

	if (!rows)
		return NULL;
	for (size_t i = 0; i < s->nbuckets; i++)
		for (const struct endpoint *e = s->table[i]; e; e = e->next)
			rows[k++] = e;
	qsort(rows, k, sizeof(*rows), by_count_desc);
	if (s->other)
		rows[k++] = s->other;
	*n = k;
	return rows;
}

static const char *kind_name(enum span_kind k)
{
	return k == SPAN_SERVER ? "server" : "client";
}

/* Long paths keep their start and end: "/api/v1/very…/orders/42". */
static void shorten(const char *path, char *out, size_t width)
{
	size_t len = strlen(path), head;

	if (len <= width) {
		memcpy(out, path, len + 1);
		return;
	}
	head = (width - 3) / 2;
	snprintf(out, width + 1, "%.*s...%s", (int)head, path, path + len - (width - 3 - head));
}

void summary_print(const struct summary *s, FILE *out)
{
	const struct endpoint **rows;
	size_t n = 0;

	if (!s || summary_count(s) == 0) {
		fprintf(out, "no requests traced\n");
		return;
	}
	rows = sorted_rows(s, &n);
	if (!rows)
		return;
	fprintf(out, "\n%-6s  %-7s  %-40s  %7s  %6s  %8s  %8s  %8s\n", "KIND", "METHOD", "PATH",
		"COUNT", "ERRORS", "P50", "P95", "P99");
	for (size_t i = 0; i < n; i++) {
		char path[41], p50[16], p95[16], p99[16];
		const struct endpoint *e = rows[i];

		shorten(e->path, path, 40);
		format_duration(percentile(e, 0.50), p50, sizeof(p50));
		format_duration(percentile(e, 0.95), p95, sizeof(p95));
		format_duration(percentile(e, 0.99), p99, sizeof(p99));
		fprintf(out, "%-6s  %-7s  %-40s  %7llu  %6llu  %8s  %8s  %8s\n", kind_name(e->kind),
			e->method, path, (unsigned long long)e->count,
			(unsigned long long)e->errors, p50, p95, p99);
	}
	if (s->folded)
		fprintf(out, "%zu requests of endpoints past the first %zu are in (other)\n",
			s->folded, s->max);
	free(rows);
}

void summary_print_json(const struct summary *s, FILE *out)
{
	const struct endpoint **rows;
	size_t n = 0;

	if (!s)
		return;
	rows = sorted_rows(s, &n);
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct endpoint *e = rows[i];
		struct json_buf j;
		char line[1024];

		json_begin(&j, line, sizeof(line));
		json_bool(&j, "summary", true);
		json_str(&j, "kind", e == s->other ? "other" : kind_name(e->kind));
		json_str(&j, "method", e->method);
		json_str(&j, "path", e->path);
		json_u64(&j, "count", e->count);
		json_u64(&j, "errors", e->errors);
		json_double(&j, "p50_ms", (double)percentile(e, 0.50) / 1e6);
		json_double(&j, "p95_ms", (double)percentile(e, 0.95) / 1e6);
		json_double(&j, "p99_ms", (double)percentile(e, 0.99) / 1e6);
		if (json_end(&j) > 0)
			fprintf(out, "%s\n", line);
	}
	free(rows);
}
