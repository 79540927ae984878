/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/reorder.h"
#include "sonde_event.h"

struct reorder_ent {
	uint64_t ts;
	uint64_t seq;
	size_t off;
	size_t size;
	bool ordered; /* not a syscall's payload (see reorder.h) */
};

static bool syscall_payload(const void *data, size_t size)
{
	const struct sonde_data *ev = data;

	return size >= sizeof(*ev) &&
	       (ev->hdr.type == SONDE_EV_DATA || ev->hdr.type == SONDE_EV_LOG) &&
	       ev->syscall < SONDE_SYS_TLS_READ;
}

/* Room an event takes in the buffer: each starts 8-aligned, as its header's
 * fields need. */
static size_t padded(size_t size)
{
	return (size + 7) & ~(size_t)7;
}

int reorder_push(struct reorder *r, const void *data, size_t size)
{
	const struct sonde_event_hdr *h = data;
	size_t room = padded(size);

	if (r->len + room > r->cap) {
		size_t cap = r->cap ? r->cap : 1 << 16;
		uint8_t *b;

		while (cap < r->len + room)
			cap *= 2;
		b = realloc(r->buf, cap);
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = cap;
	}
	if (r->n == r->nmax) {
		size_t nmax = r->nmax ? 2 * r->nmax : 1024;
		struct reorder_ent *e = realloc(r->ents, nmax * sizeof(*e));

		if (!e)
			return -ENOMEM;
		r->ents = e;
		r->nmax = nmax;
	}
	memcpy(r->buf + r->len, data, size);
	r->ents[r->n++] = (struct reorder_ent){
		.ts = size >= sizeof(*h) ? h->ts_ns : 0,
		.seq = r->seq++,
		.off = r->len,
		.size = size,
		.ordered = !syscall_payload(data, size),
	};
	r->ordered += r->ents[r->n - 1].ordered;
	r->len += room;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct reorder_ent *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Events arrive almost in time order (each CPU's in order, the CPUs' within
 * microseconds of each other), so both sorts here get nearly sorted input:
 * an insertion sort costs a pass and a few moves, where qsort's merge sort
 * compares n log n times through a pointer. Input far from order goes to
 * qsort after a bounded number of moves. */
static void sort_nearly_sorted(struct reorder_ent *e, size_t n,
			       int (*cmp)(const void *, const void *))
{
	size_t moves = 0;

	for (size_t i = 1; i < n; i++) {
		struct reorder_ent x = e[i];
		size_t j = i;

		while (j > 0 && cmp(&x, &e[j - 1]) < 0 && moves < 8 * n) {
			e[j] = e[j - 1];
			j--;
			moves++;
		}
		e[j] = x;
		if (moves >= 8 * n) {
			qsort(e, n, sizeof(*e), cmp);
			return;
		}
	}
}

static int by_offset(const void *a, const void *b)
{
	const struct reorder_ent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

size_t reorder_flush(struct reorder *r, uint64_t cutoff, reorder_fn fn, void *ctx)
{
	size_t done = 0, kept = 0, len = 0;

	if (!r->n)
		return 0;
	sort_nearly_sorted(r->ents, r->n, by_time);
	while (done < r->n && r->ents[done].ts < cutoff) {
		fn(ctx, r->buf + r->ents[done].off, r->ents[done].size);
		r->ordered -= r->ents[done].ordered;
		done++;
	}
	/* Compact what is kept to the front, in buffer order so that no event
	 * is written over before it has moved. */
	sort_nearly_sorted(r->ents + done, r->n - done, by_offset);
	for (size_t i = done; i < r->n; i++) {
		struct reorder_ent e = r->ents[i];

		memmove(r->buf + len, r->buf + e.off, e.size);
		e.off = len;
		len += padded(e.size);
		r->ents[kept++] = e;
	}
	r->n = kept;
	r->len = len;
	return done;
}

size_t reorder_pending(const struct reorder *r)
{
	return r->n;
}

bool reorder_can_skip(const struct reorder *r, const void *data, size_t size)
{
	return r->n == 0 && syscall_payload(data, size);
}

size_t reorder_waiting(const struct reorder *r)
{
	return r->ordered;
}

void reorder_free(struct reorder *r)
{
	free(r->buf);
	free(r->ents);
	memset(r, 0, sizeof(*r));
}
